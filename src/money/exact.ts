import { InputError } from "../errors.js";

/**
 * Exact money on the scan's hot path: an amount is a BigInt of pico-units (10^-12), so sums over a
 * million findings are exact and cheap. Amounts cross every boundary (store, JSON, CSV) as decimal
 * text such as "148.92"; binary floating point never touches a sum.
 *
 * Inputs with more than 12 decimal places are rounded half-up at the 12th (a pico-dollar).
 */
export type Amount = bigint;

export const SCALE_DIGITS = 12;
const SCALE = 10n ** BigInt(SCALE_DIGITS);
export const HOURS_PER_MONTH = 730n;
export const ZERO: Amount = 0n;

const MAX_EXPONENT = 1000;
const DECIMAL = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** Parses decimal text or a finite number (taken at its shortest round-trip form, as JSON wrote it). */
export function parseAmount(value: string | number, what = "amount"): Amount {
  const text = typeof value === "number" ? numberText(value, what) : value.trim();
  const m = DECIMAL.exec(text);
  if (!m || ((m[2] ?? "") === "" && (m[3] ?? "") === "")) {
    throw new InputError(`${what}: \`${String(value)}\` is not a decimal number`);
  }
  let whole = m[2] || "0";
  let frac = m[3] ?? "";
  const exp = m[4] === undefined ? 0 : Number(m[4]);
  // Far past any amount of money, and a string that long cannot be made.
  if (Math.abs(exp) > MAX_EXPONENT)
    throw new InputError(`${what}: \`${text}\` is out of range for an amount`);
  if (exp > 0) {
    const moved = frac.padEnd(exp, "0");
    whole += moved.slice(0, exp);
    frac = moved.slice(exp);
  } else if (exp < 0) {
    const padded = whole.padStart(-exp + 1, "0");
    frac = padded.slice(padded.length + exp) + frac;
    whole = padded.slice(0, padded.length + exp);
  }
  let units = BigInt(whole) * SCALE;
  if (frac.length <= SCALE_DIGITS) {
    if (frac !== "") units += BigInt(frac.padEnd(SCALE_DIGITS, "0"));
  } else {
    units += BigInt(frac.slice(0, SCALE_DIGITS));
    if ((frac.charCodeAt(SCALE_DIGITS) ?? 48) >= 53) units += 1n;
  }
  return m[1] === "-" ? -units : units;
}

function numberText(n: number, what: string): string {
  if (!Number.isFinite(n)) throw new InputError(`${what}: ${n} is not a finite number`);
  return String(n);
}

/** Full precision decimal text without trailing zeros: 148.92, 0.0255, 12. */
export function formatAmount(a: Amount): string {
  if (a === 0n) return "0";
  const negative = a < 0n;
  const abs = negative ? -a : a;
  const whole = abs / SCALE;
  const frac = (abs % SCALE).toString().padStart(SCALE_DIGITS, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${whole}${frac === "" ? "" : `.${frac}`}`;
}

/** Rounded half-up to `places` decimals, always showing them: 148.92 → "148.92", 3 → "3.00". */
export function formatFixed(a: Amount, places = 2): string {
  const step = 10n ** BigInt(SCALE_DIGITS - places);
  const negative = a < 0n;
  const abs = negative ? -a : a;
  const rounded = (abs + step / 2n) / step;
  const unit = 10n ** BigInt(places);
  const whole = rounded / unit;
  const frac = places === 0 ? "" : `.${(rounded % unit).toString().padStart(places, "0")}`;
  return `${negative && rounded !== 0n ? "-" : ""}${whole}${frac}`;
}

/** For people: cents, thousands separators and the currency, e.g. `1,234.50 USD`. */
export function formatMoney(a: Amount, currency: string): string {
  const fixed = formatFixed(a, 2);
  const negative = fixed.startsWith("-");
  const [whole, cents] = (negative ? fixed.slice(1) : fixed).split(".") as [string, string];
  return `${negative ? "-" : ""}${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ",")}.${cents} ${currency}`;
}

/** An hourly rate over a month of 730 hours (the convention the clouds and Infracost use). */
export function monthlyFromHourly(hourly: Amount): Amount {
  return hourly * HOURS_PER_MONTH;
}

/** A monthly amount per hour, rounded half-up at the pico-unit. */
export function hourlyFromMonthly(monthly: Amount): Amount {
  return (monthly + HOURS_PER_MONTH / 2n) / HOURS_PER_MONTH;
}

/** Multiplies by a decimal factor (e.g. GB × price per GB-month), exactly, then rounds at the pico-unit. */
export function times(a: Amount, factor: string | number): Amount {
  const f = parseAmount(factor, "factor");
  const product = a * f;
  const half = product >= 0n ? SCALE / 2n : -SCALE / 2n;
  return (product + half) / SCALE;
}

/**
 * `a` × `numerator` ÷ `denominator` (a positive ratio of two amounts, as two prices), rounded half-up
 * at the pico-unit once, at the end: rounding `a` × the ratio first and multiplying after would carry
 * that rounding into the last digits (a month of 730 hours of it: 608.33333333382 for 608.3̅).
 */
export function scaled(a: Amount, numerator: Amount, denominator: Amount): Amount {
  const product = a * numerator;
  const half = denominator / 2n;
  return product >= 0n ? (product + half) / denominator : (product - half) / denominator;
}

export function maxAmount(a: Amount, b: Amount): Amount {
  return a > b ? a : b;
}
