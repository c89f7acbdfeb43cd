import { InputError } from "../errors.js";

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/**
 * The longest grace period, exception or review interval costguard takes: a hundred years. Longer is
 * a typo or a wish for "never" (which each setting spells its own way), and far enough out it is no
 * date at all.
 */
export const MAX_DURATION_DAYS = 36_500;

const UNITS: Record<string, number> = {
  m: MINUTE_MS,
  h: HOUR_MS,
  d: DAY_MS,
  w: 7 * DAY_MS,
};

/**
 * Parses a duration such as `30d`, `24h`, `90m`, `2w`, `1d12h` or `0` into milliseconds.
 * `what` names the setting in the error message. A number (YAML's `medium: 7`) is taken only as 0:
 * any other has no unit, and read as milliseconds it was a grace of 7 ms, acted on at once.
 * `underAMinute`, if given, is the message for a duration above zero and under a minute (a setting
 * that takes no 0 says what it takes instead).
 */
export function parseDuration(text: string | number, what = "duration", underAMinute?: string): number {
  if (typeof text === "number") {
    if (!Number.isFinite(text) || text < 0)
      throw new InputError(`${what} must be a non-negative duration, got ${text}`);
    if (text !== 0)
      throw new InputError(
        `${what} is the bare number ${text}: give its unit, as in ${text}d (days), ${text}h or ${text}m (only 0 goes without one)`,
      );
    return 0;
  }
  const s = text.trim();
  if (s === "0") return 0;
  const re = /(\d+(?:\.\d+)?)([mhdw])/gy;
  let total = 0;
  let matched = 0;
  // Each unit once, largest first (1d12h, not 12h1d nor 1d1d): a repeated unit is a typo.
  let last = Number.POSITIVE_INFINITY;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    const unit = UNITS[m[2]!]!;
    if (unit >= last)
      throw new InputError(`${what} must give each unit once, largest first (1d12h, 2w3d), got '${text}'`);
    last = unit;
    total += Number(m[1]) * unit;
    matched = re.lastIndex;
  }
  if (s === "" || matched !== s.length)
    throw new InputError(`${what} must look like 30d, 24h, 90m or 2w, got '${text}'`);
  // Durations here are grace periods, exceptions, reviews and ages: less than a minute is a slip.
  if (total > 0 && total < MINUTE_MS)
    throw new InputError(underAMinute ?? `${what} must be 0 or at least a minute (1m), got '${text}'`);
  return Math.round(total);
}

/** The shortest readable form of a duration: `7d`, `24h`, `1d12h`, `0`. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return "0";
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [
    ["d", DAY_MS],
    ["h", HOUR_MS],
    ["m", MINUTE_MS],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.length > 0 ? parts.join("") : "<1m";
}

/** The longest delay a Node.js timer takes (2^31 - 1 ms, ~24.8 days); longer ones fire at once. */
const TIMER_LIMIT_MS = 2_147_483_647;

/**
 * A timer's duration: `250ms`, `10s`, `5m`, `1h` (one number and unit); a bare number is in
 * `plainUnit` milliseconds. At most 24 days: Node's timers fire at once past ~24.8 days, which turned
 * a refresh every thousand years into one every millisecond.
 */
export function parseTimerDuration(text: string, plainUnit: 1 | 1000 = 1): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new InputError(`expected a duration such as 500ms, 10s, 5m or 1h, got "${text}"`);
  const unit = m[2];
  const factor =
    unit === "ms" ? 1 : unit === "s" ? 1000 : unit === "m" ? MINUTE_MS : unit === "h" ? HOUR_MS : plainUnit;
  const ms = Math.round(Number(m[1]) * factor);
  if (ms > TIMER_LIMIT_MS) throw new InputError(`at most 24 days (576h), got "${text}"`);
  return ms;
}
