/**
 * An instant typed by a person (`--at`) or read from an inventory: an ISO 8601 date (`2026-06-01`,
 * midnight UTC) or date-time (`2026-06-01T09:30`, `2026-06-01 09:30:00.5`, with `Z` or an offset such
 * as `+02:00`; none means UTC, whatever the machine's time zone). The calendar is checked:
 * `Date.parse` turns 2026-02-30 into 2 March without a word, and a what-if run on the wrong day is
 * worse than an error. Milliseconds since the epoch, or undefined when the text is not such an
 * instant. Read character by character: inventories carry one per volume, a million at a time.
 */
export function parseInstant(input: string): number | undefined {
  const text =
    input.length > 0 && (input.charCodeAt(0) <= 32 || input.charCodeAt(input.length - 1) <= 32)
      ? input.trim()
      : input;
  const n = text.length;
  if (n < 10 || text.charCodeAt(4) !== DASH || text.charCodeAt(7) !== DASH) return undefined;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  let hour = 0;
  let minute = 0;
  let second = 0;
  let ms = 0;
  let i = 10;
  if (i < n) {
    const sep = text.charCodeAt(i);
    if (sep !== UPPER_T && sep !== LOWER_T && sep !== SPACE) return undefined;
    if (n < i + 6 || text.charCodeAt(i + 3) !== COLON) return undefined;
    hour = digits(text, i + 1, 2);
    minute = digits(text, i + 4, 2);
    if (hour < 0 || hour > 23 || minute < 0 || minute > 59) return undefined;
    i += 6;
    if (i < n && text.charCodeAt(i) === COLON) {
      second = digits(text, i + 1, 2);
      if (second < 0 || second > 59) return undefined;
      i += 3;
      const dot = i < n ? text.charCodeAt(i) : 0;
      if (dot === DOT || dot === COMMA) {
        let j = i + 1;
        let scale = 100;
        while (j < n && isDigit(text.charCodeAt(j))) {
          ms += (text.charCodeAt(j) - ZERO) * scale;
          scale /= 10;
          j++;
        }
        if (j === i + 1) return undefined;
        ms = Math.floor(ms);
        i = j;
      }
    }
  }
  let offset = 0;
  if (i < n) {
    const z = text.charCodeAt(i);
    if (z === UPPER_Z || z === LOWER_Z) {
      if (i + 1 !== n) return undefined;
    } else if (z === PLUS || z === MINUS) {
      const colon = n === i + 6 && text.charCodeAt(i + 3) === COLON;
      if (!colon && n !== i + 5) return undefined;
      const zh = digits(text, i + 1, 2);
      const zm = digits(text, colon ? i + 4 : i + 3, 2);
      if (zh < 0 || zh > 23 || zm < 0 || zm > 59) return undefined;
      offset = (z === MINUS ? -1 : 1) * (zh * 60 + zm) * 60_000;
    } else return undefined;
  }
  // Date.UTC reads years 0 to 99 as 1900 to 1999: those are computed 400 years on (the Gregorian
  // calendar repeats every 400 years, 146,097 days) and moved back.
  if (year < 100)
    return Date.UTC(year + 400, month - 1, day, hour, minute, second, ms) - offset - GREGORIAN_CYCLE_MS;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offset;
}

const GREGORIAN_CYCLE_MS = 146_097 * 86_400_000;

const ZERO = 48;
const DASH = 45;
const COLON = 58;
const DOT = 46;
const COMMA = 44;
const PLUS = 43;
const MINUS = 45;
const SPACE = 32;
const UPPER_T = 84;
const LOWER_T = 116;
const UPPER_Z = 90;
const LOWER_Z = 122;

function isDigit(c: number): boolean {
  return c >= ZERO && c <= ZERO + 9;
}

/** The number `count` decimal digits at `at` spell, or -1 when they are not all digits. */
function digits(text: string, at: number, count: number): number {
  if (at + count > text.length) return -1;
  let v = 0;
  for (let k = at; k < at + count; k++) {
    const c = text.charCodeAt(k);
    if (!isDigit(c)) return -1;
    v = v * 10 + (c - ZERO);
  }
  return v;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  if (month !== 2) return DAYS[month - 1]!;
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}
