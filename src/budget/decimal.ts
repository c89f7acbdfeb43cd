import { InputError } from "../errors.js";
import { minorUnits } from "../money/currency.js";

/**
 * Exact decimal numbers as a scaled BigInt: value = units / 10^scale. Used for every money figure a
 * budget reports; the hot ingest path sums with `DecimalSums` instead and converts here at the end.
 */
export interface Decimal {
  readonly units: bigint;
  readonly scale: number;
}

const DECIMAL_TEXT = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d{1,4}))?$/;
const POW10: bigint[] = [];
export function pow10(n: number): bigint {
  let p = POW10[n];
  if (p === undefined) {
    p = 10n ** BigInt(n);
    POW10[n] = p;
  }
  return p;
}

export const ZERO: Decimal = Object.freeze({ units: 0n, scale: 0 });

/** Parses `12`, `-0.5`, `1.250` (also a finite JS number, taken at its shortest decimal form). */
export function decimal(value: string | number | bigint): Decimal {
  if (typeof value === "bigint") return { units: value, scale: 0 };
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new InputError(`not a finite number: ${value}`);
    value = numberText(value);
  }
  const m = DECIMAL_TEXT.exec(value.trim());
  if (!m || (m[2] === "" && (m[3] === undefined || m[3] === ""))) {
    throw new InputError(`not a decimal number: ${JSON.stringify(value)}`);
  }
  const frac = m[3] ?? "";
  let units = BigInt((m[2] || "0") + frac);
  let scale = frac.length - Number(m[4] ?? 0);
  if (scale < 0) {
    units *= pow10(-scale);
    scale = 0;
  }
  return normalize({ units: m[1] === "-" ? -units : units, scale });
}

/** A JS number as plain decimal text (no exponent), at its shortest round-trip form. */
export function numberText(n: number): string {
  const s = String(n);
  if (!/e/i.test(s)) return s;
  const [mant, expText] = s.split(/e/i) as [string, string];
  const exp = Number(expText);
  const neg = mant.startsWith("-");
  const [i, f = ""] = (neg ? mant.slice(1) : mant).split(".") as [string, string?];
  const digits = i + f;
  const point = i.length + exp;
  let out: string;
  if (point <= 0) out = `0.${"0".repeat(-point)}${digits}`;
  else if (point >= digits.length) out = digits + "0".repeat(point - digits.length);
  else out = `${digits.slice(0, point)}.${digits.slice(point)}`;
  return neg ? `-${out}` : out;
}

/**
 * A float32 value (a Parquet FLOAT) as the shortest decimal text that reads back as the same float32:
 * 0.1f is 0.100000001490116119384765625 as a double, and 0.1 is what its writer meant.
 */
export function float32Text(n: number): string {
  // Nine significant digits always round-trip a float32; the first precision that does is the shortest.
  for (let p = 1; p < 9; p++) {
    const shorter = Number(n.toPrecision(p));
    if (Math.fround(shorter) === n) return numberText(shorter);
  }
  return numberText(Number.isFinite(n) ? Number(n.toPrecision(9)) : n);
}

/** Drops trailing zeros of the fraction, so equal values have equal representations. */
export function normalize(d: Decimal): Decimal {
  let { units, scale } = d;
  while (scale > 0 && units % 10n === 0n) {
    units /= 10n;
    scale--;
  }
  return { units, scale };
}

function align(a: Decimal, b: Decimal): [bigint, bigint, number] {
  if (a.scale === b.scale) return [a.units, b.units, a.scale];
  if (a.scale > b.scale) return [a.units, b.units * pow10(a.scale - b.scale), a.scale];
  return [a.units * pow10(b.scale - a.scale), b.units, b.scale];
}

export function add(a: Decimal, b: Decimal): Decimal {
  const [x, y, scale] = align(a, b);
  return normalize({ units: x + y, scale });
}

export function sub(a: Decimal, b: Decimal): Decimal {
  const [x, y, scale] = align(a, b);
  return normalize({ units: x - y, scale });
}

export function compare(a: Decimal, b: Decimal): -1 | 0 | 1 {
  const [x, y] = align(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function mul(a: Decimal, b: Decimal): Decimal {
  return normalize({ units: a.units * b.units, scale: a.scale + b.scale });
}

/**
 * a / b to `scale` fraction digits (forecasts and shares need a division): rounded half away from zero,
 * or cut toward zero (`"cut"`: what a figure has reached, never more).
 */
export function div(
  a: Decimal,
  b: Decimal,
  scale = 12,
  rounding: "half-away" | "cut" = "half-away",
): Decimal {
  if (b.units === 0n) throw new RangeError("division by zero");
  // a/b = (a.units / 10^a.scale) / (b.units / 10^b.scale); scaled to 10^scale.
  let num = a.units * pow10(scale + b.scale);
  let den = b.units * pow10(a.scale);
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  const q = num / den;
  const r = num % den;
  const roundAway = rounding === "half-away" && (r < 0n ? -r : r) * 2n >= den;
  const units = roundAway ? q + (num < 0n ? -1n : 1n) : q;
  return normalize({ units, scale });
}

/** Rounds half away from zero to `places` fraction digits. */
export function round(d: Decimal, places: number): Decimal {
  if (d.scale <= places) return d;
  return div(d, { units: 1n, scale: 0 }, places);
}

/** Cuts toward zero to `places` fraction digits: 39.999 is 39.99, never the 40.00 it has not reached. */
export function cut(d: Decimal, places: number): Decimal {
  if (d.scale <= places) return d;
  return div(d, { units: 1n, scale: 0 }, places, "cut");
}

/** Exact decimal text: `-12.5`, `0.000016`; with `places`, rounded and padded (`12.50`). */
export function toText(d: Decimal, places?: number): string {
  let { units, scale } = places === undefined ? d : round(d, places);
  if (places !== undefined && scale < places) {
    units *= pow10(places - scale);
    scale = places;
  }
  const neg = units < 0n;
  let digits = (neg ? -units : units).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, "0");
    digits = `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  }
  return neg ? `-${digits}` : digits;
}

/**
 * Money for people: thousands separators, the currency's minor units (`52,100.00` USD, `52,100` JPY;
 * two places without a currency), cut toward zero: a budget's spend of 39.999 against a limit of 40
 * shows 39.99, not the 40.00 it has not reached (the exact figure is in the JSON).
 */
export function formatMoney(d: Decimal, currency?: string): string {
  const places = currency === undefined ? 2 : minorUnits(currency);
  const text = toText(cut(d, places), places);
  const neg = text.startsWith("-");
  const [i, f] = (neg ? text.slice(1) : text).split(".") as [string, string?];
  const grouped = i.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  return `${neg ? "-" : ""}${grouped}${f === undefined ? "" : `.${f}`}`;
}

export function toNumber(d: Decimal): number {
  return Number(toText(d));
}

export function isZero(d: Decimal): boolean {
  return d.units === 0n;
}
