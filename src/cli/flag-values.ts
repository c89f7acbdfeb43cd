import { InputError } from "../errors.js";
import { DAY_MS, MAX_DURATION_DAYS, parseDuration } from "../time/duration.js";
import { parseInstant } from "../time/instant.js";
import { parseAt } from "./clock.js";

/** A flag that takes one of a few words (`--format table`). */
export function oneOf(flag: string, value: string, allowed: readonly string[]): void {
  if (!allowed.includes(value))
    throw new InputError(
      `${flag} must be ${allowed.length > 1 ? `${allowed.slice(0, -1).join(", ")} or ${allowed.at(-1)}` : allowed[0]}, got ${value}`,
    );
}

/** The most a --limit may ask for (more than any store holds; a larger number is a typo). */
const MAX_LIMIT = 1_000_000_000;

/** A --limit: a whole number up to MAX_LIMIT, 0 for every one (as `remediate --limit 0`). */
export function limitOf(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^(0|[1-9][0-9]*)$/.test(value) || Number(value) > MAX_LIMIT)
    throw new InputError(
      `${flag} must be a whole number up to ${MAX_LIMIT.toLocaleString("en-US")} (0: every one), got ${value}`,
    );
  return Number(value) === 0 ? MAX_LIMIT : Number(value);
}

/** A time rather than an age: it starts as a date does (2026-06-01, 2026-06-01T00:00:00Z). */
export const isTime = (text: string): boolean => /^\d{4}-\d/.test(text.trim());

/**
 * A flag taking an age (counted back from `at`, an `--at` time, else `now`) or a time, as the instant
 * it stands for in ISO text (a date alone is its midnight UTC): `--resolved-before 90d`,
 * `--since 2026-06-01`.
 */
export function ageOrTime(flag: string, text: string, at: string | undefined, now?: () => Date): string {
  const wrong = () =>
    new InputError(
      `${flag} must be an age (90d, 26w, 1d12h) or a time (ISO 8601, e.g. 2026-06-01), got '${text}'`,
    );
  if (isTime(text)) {
    const t = parseInstant(text);
    if (t === undefined) throw wrong();
    if (t < 0) throw new InputError(`${flag} must be 1970 or later, got ${text}`);
    return new Date(t).toISOString();
  }
  let age: number;
  try {
    age = parseDuration(text, flag);
  } catch {
    throw wrong();
  }
  if (age > MAX_DURATION_DAYS * DAY_MS)
    throw new InputError(
      `${flag} is at most ${MAX_DURATION_DAYS.toLocaleString("en-US")} days (a hundred years), got ${text}`,
    );
  return new Date(Math.max(0, parseAt(at, now).getTime() - age)).toISOString();
}
