/**
 * An instant typed by a person (`--at`): an ISO 8601 date (`2026-06-01`, midnight UTC) or date-time
 * (`2026-06-01T09:30`, `2026-06-01 09:30:00.5`, with `Z` or an offset such as `+02:00`; none means UTC,
 * whatever the machine's time zone). The calendar is checked: `Date.parse` turns 2026-02-30 into
 * 2 March without a word, and a what-if run on the wrong day is worse than an error.
 * Milliseconds since the epoch, or undefined when the text is not such an instant.
 */
export function parseInstant(text: string): number | undefined {
  const m = INSTANT.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = "0", mi = "0", s = "0", frac = "", zone = "Z"] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offset = 0;
  if (zone !== "Z" && zone !== "z") {
    const zm = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
    const zh = Number(zm[2]);
    const zmin = Number(zm[3]);
    if (zh > 23 || zmin > 59) return undefined;
    offset = (zm[1] === "-" ? -1 : 1) * (zh * 60 + zmin) * 60_000;
  }
  const ms = frac === "" ? 0 : Math.floor(Number(`0.${frac}`) * 1000);
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offset;
}

const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?(Z|z|[+-]\d{2}:?\d{2})?$/;

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
