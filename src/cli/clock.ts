import { InputError } from "../errors.js";

/** `--at` for "what if it were this time": an ISO 8601 date or date-time; now when absent. */
export function parseAt(value: string | undefined, now: () => Date = () => new Date()): Date {
  if (value === undefined) return now();
  const text = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
  const t = Date.parse(text);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}/.test(value))
    throw new InputError(
      `--at must be an ISO 8601 date or date-time (e.g. 2026-06-01T00:00:00Z), got ${value}`,
    );
  return new Date(t);
}
