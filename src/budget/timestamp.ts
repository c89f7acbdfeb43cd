/**
 * FOCUS timestamps come as `YYYY-MM-DD HH:MM:SS` (UTC, as in the FinOps sample) or ISO 8601 with `Z`
 * (`2024-09-01T00:00:00Z`, optionally with fractional seconds). Parsed from bytes, without Date, to
 * milliseconds since the epoch; NaN when the text is neither form or names an impossible date.
 */
export function parseTimestampBytes(buf: Uint8Array, start: number, end: number): number {
  return parseTimestampInto(buf, start, end, scratch, 0) ? scratch[0]! : Number.NaN;
}

const scratch = new Float64Array(1);

/** A malformed row's message for a timestamp that is neither form (CSV and Parquet say it alike). */
export const NOT_A_TIMESTAMP = "not a timestamp (YYYY-MM-DD HH:MM:SS or YYYY-MM-DDTHH:MM:SSZ, UTC)";

/**
 * parseTimestampBytes writing the milliseconds to `out[index]` and returning whether the text is a
 * timestamp: the ingest hot path's form, since a double returned from a call is boxed (one small heap
 * object per row and timestamp), while a Float64Array holds it unboxed.
 */
export function parseTimestampInto(
  buf: Uint8Array,
  start: number,
  end: number,
  out: Float64Array,
  index: number,
): boolean {
  const len = end - start;
  if (len < 19) return false;
  const sep = buf[start + 10];
  if (
    buf[start + 4] !== 45 ||
    buf[start + 7] !== 45 ||
    (sep !== 32 && sep !== 84) ||
    buf[start + 13] !== 58 ||
    buf[start + 16] !== 58
  )
    return false;
  const year = digits(buf, start, 4);
  const month = digits(buf, start + 5, 2);
  const day = digits(buf, start + 8, 2);
  const hour = digits(buf, start + 11, 2);
  const minute = digits(buf, start + 14, 2);
  const second = digits(buf, start + 17, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return false;
  // Billing rows come grouped by day: the last valid day's epoch milliseconds are kept.
  let dayMs: number;
  if (year === lastYear && month === lastMonth && day === lastDay) dayMs = lastDayMs;
  else {
    if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
    dayMs = daysFromCivil(year, month, day) * 86_400_000;
    lastYear = year;
    lastMonth = month;
    lastDay = day;
    lastDayMs = dayMs;
  }
  let p = start + 19;
  let millis = 0;
  if (p < end && buf[p] === 46 /* . */) {
    p++;
    let scale = 100;
    const from = p;
    while (p < end && buf[p]! >= 48 && buf[p]! <= 57) {
      millis += (buf[p]! - 48) * scale;
      scale /= 10;
      p++;
    }
    if (p === from) return false;
    millis = Math.floor(millis);
  }
  if (sep === 84 /* T */) {
    // ISO form: UTC only (Z or a zero offset); local offsets would make periods ambiguous.
    if (p < end && buf[p] === 90 /* Z */) p++;
    else if (p + 6 === end && (buf[p] === 43 || buf[p] === 45) && zeroOffset(buf, p + 1)) p += 6;
    else return false;
  } else if (p < end && buf[p] === 90) p++;
  if (p !== end) return false;
  out[index] = dayMs + hour * 3_600_000 + minute * 60_000 + second * 1000 + millis;
  return true;
}

let lastYear = Number.NaN;
let lastMonth = -1;
let lastDay = -1;
let lastDayMs = 0;

export function parseTimestampText(text: string): number {
  return parseTimestampBytes(Buffer.from(text, "latin1"), 0, text.length);
}

function zeroOffset(buf: Uint8Array, p: number): boolean {
  return buf[p] === 48 && buf[p + 1] === 48 && buf[p + 2] === 58 && buf[p + 3] === 48 && buf[p + 4] === 48;
}

function digits(buf: Uint8Array, p: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = buf[p + i]! - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}
