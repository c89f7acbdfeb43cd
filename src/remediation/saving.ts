import { InputError } from "../errors.js";

const SCALE_DIGITS = 12;
const SCALE = 10n ** BigInt(SCALE_DIGITS);

function toUnits(value: string | number, what: string): bigint {
  const text = typeof value === "number" ? String(value) : value.trim();
  const m = /^(-)?(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) throw new InputError(`${what}: \`${text}\` is not a decimal amount`);
  const frac = (m[3] ?? "").slice(0, SCALE_DIGITS).padEnd(SCALE_DIGITS, "0");
  const units = BigInt(m[2]!) * SCALE + BigInt(frac);
  return m[1] ? -units : units;
}

function fromUnits(units: bigint): string {
  const negative = units < 0n;
  const abs = negative ? -units : units;
  const frac = (abs % SCALE).toString().padStart(SCALE_DIGITS, "0").replace(/0+$/, "");
  return `${negative ? "-" : ""}${abs / SCALE}${frac ? `.${frac}` : ""}`;
}

/** Exact `before − after` of two monthly costs given as decimal text (or numbers as JSON wrote them). */
export function monthlySaving(before: string | number, after: string | number): string {
  return fromUnits(toUnits(before, "cost before") - toUnits(after, "cost after"));
}

/** Exact sum of decimal amounts. */
export function sumAmounts(values: readonly (string | number)[]): string {
  let total = 0n;
  for (const v of values) total += toUnits(v, "amount");
  return fromUnits(total);
}

/** Rounded half-up to cents for people, e.g. `70.08 USD`. */
export function formatMonthly(amount: string, currency: string): string {
  const units = toUnits(amount, "amount");
  const step = 10n ** BigInt(SCALE_DIGITS - 2);
  const negative = units < 0n;
  const cents = ((negative ? -units : units) + step / 2n) / step;
  const text = `${cents / 100n}.${(cents % 100n).toString().padStart(2, "0")}`;
  return `${negative && cents !== 0n ? "-" : ""}${text.replace(/\B(?=(\d{3})+(?!\d))/g, ",")} ${currency}`;
}
