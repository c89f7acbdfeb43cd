import { Big } from "big.js";

/**
 * Money is exact decimal arithmetic (big.js) carried as strings at every boundary: no binary
 * floating point touches an amount. Only + and × are used, which big.js computes exactly.
 */
export const HOURS_PER_MONTH = "730";
/** The currency of a limit or an amount that names none: the embedded price book's. */
export const DEFAULT_CURRENCY = "USD";

const DECIMAL = /^-?(\d+)(\.\d+)?$/;

export function isDecimalText(text: string): boolean {
  return DECIMAL.test(text.trim());
}

/**
 * A finite number as the plain decimal it is: JSON's exponent forms (1e-7, 1e21, as JSON.stringify
 * writes them) spelt out, exactly as written (`String(n)` digits, no binary expansion).
 */
export function numberAmount(n: number): string {
  return new Big(n).toFixed();
}

export function add(a: string, b: string): string {
  return new Big(a).plus(b).toFixed();
}

export function sub(a: string, b: string): string {
  return new Big(a).minus(b).toFixed();
}

export function mul(a: string, b: string): string {
  return new Big(a).times(b).toFixed();
}

export function sum(values: readonly string[]): string {
  let total = new Big(0);
  for (const v of values) total = total.plus(v);
  return total.toFixed();
}

export function compare(a: string, b: string): -1 | 0 | 1 {
  return new Big(a).cmp(b) as -1 | 0 | 1;
}

/** Hourly rate to a month of 730 hours, exactly. */
export function monthlyFromHourly(hourly: string): string {
  return mul(hourly, HOURS_PER_MONTH);
}

/** For people: rounded half-up to cents, with thousands separators (the JSON keeps every digit). */
export function formatMoney(amount: string, currency: string): string {
  const fixed = new Big(amount).round(2, Big.roundHalfUp).toFixed(2);
  const negative = fixed.startsWith("-");
  const [whole, cents] = (negative ? fixed.slice(1) : fixed).split(".");
  const grouped = whole!.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${negative ? "-" : ""}${grouped}.${cents} ${currency}`;
}

/** A signed amount for deltas: `+12.00 USD`, `-3.50 USD`. */
export function formatDelta(amount: string, currency: string): string {
  const text = formatMoney(amount, currency);
  return text.startsWith("-") || new Big(amount).eq(0) ? text : `+${text}`;
}
