import { InputError } from "../errors.js";
import { parseInstant } from "../time/instant.js";

/** `--at` for "what if it were this time": an ISO 8601 date or date-time (UTC unless it says); now when absent. */
export function parseAt(value: string | undefined, now: () => Date = () => new Date()): Date {
  if (value === undefined) return now();
  const t = parseInstant(value);
  if (t === undefined)
    throw new InputError(
      `--at must be an ISO 8601 date or date-time (e.g. 2026-06-01T00:00:00Z), got ${value}`,
    );
  return new Date(t);
}
