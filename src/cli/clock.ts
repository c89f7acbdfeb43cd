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
  // Nothing a cloud estate or its billing holds is older, and calendar arithmetic on years 0-99
  // (periods, billing days) would go wrong in JavaScript's Date.
  if (t < 0) throw new InputError(`--at must be 1970 or later, got ${value}`);
  return new Date(t);
}
