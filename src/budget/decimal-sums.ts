import { add, type Decimal, decimal, normalize, pow10 } from "./decimal.js";

/**
 * The ingest hot path adds millions of costs. BigInt per row is slow, binary floating point is inexact,
 * so a cost is split into an integer part and a fraction scaled by 10^12, both exact integers held in
 * doubles; sums carry the fraction before it can leave the exact-integer range, and anything outside the
 * fast form (more than 12 fraction digits, huge values) goes to an exact BigInt side sum.
 */
export const FRACTION_DIGITS = 12;
const FRACTION_SCALE = 1e12;
/** Magnitude past which a running sum is carried/flushed, far below 2^53 ≈ 9.007e15. */
const CARRY_AT = 4e15;
/** Scale of the exact side sums (values with up to this many fraction digits are accepted). */
export const SLOW_SCALE = 30;

/** A parsed cost: `int + frac / 1e12` when `slow` is null, else exactly `slow`. */
export class CostValue {
  int = 0;
  frac = 0;
  slow: Decimal | null = null;

  setDecimal(d: Decimal): void {
    this.int = 0;
    this.frac = 0;
    this.slow = d;
  }

  toDecimal(): Decimal {
    if (this.slow) return this.slow;
    return normalize({
      units: BigInt(this.int) * pow10(FRACTION_DIGITS) + BigInt(this.frac),
      scale: FRACTION_DIGITS,
    });
  }
}

/**
 * Parses decimal digits in `buf[start, end)` into `out` without making a string. Returns false when the
 * bytes are not a plain decimal in the fast form; the caller then parses the text with `decimal()`.
 */
export function parseCostBytes(buf: Uint8Array, start: number, end: number, out: CostValue): boolean {
  let p = start;
  let neg = false;
  const first = buf[p];
  if (first === 45 /* - */) {
    neg = true;
    p++;
  } else if (first === 43 /* + */) p++;
  let int = 0;
  let intDigits = 0;
  while (p < end) {
    const c = buf[p]! - 48;
    if (c < 0 || c > 9) break;
    int = int * 10 + c;
    intDigits++;
    p++;
  }
  let frac = 0;
  let fracDigits = 0;
  if (p < end && buf[p] === 46 /* . */) {
    p++;
    let pendingZeros = 0;
    while (p < end) {
      const c = buf[p]! - 48;
      if (c < 0 || c > 9) return false;
      if (c === 0) pendingZeros++;
      else {
        if (fracDigits + pendingZeros + 1 > FRACTION_DIGITS) return false;
        for (; pendingZeros > 0; pendingZeros--) {
          frac *= 10;
          fracDigits++;
        }
        frac = frac * 10 + c;
        fracDigits++;
      }
      p++;
    }
    if (intDigits === 0 && fracDigits === 0 && pendingZeros === 0) return false;
  } else if (intDigits === 0) return false;
  if (p !== end || intDigits > 15) return false;
  for (let i = fracDigits; i < FRACTION_DIGITS; i++) frac *= 10;
  out.int = neg ? -int : int;
  out.frac = neg ? -frac : frac;
  out.slow = null;
  return true;
}

/** Parses cost text exactly (any form `decimal()` accepts); throws InputError on garbage. */
export function parseCostText(text: string, out: CostValue): void {
  setCostDecimal(decimal(text), out);
}

/** Scale factors of the fast form's fraction, 10^(12 - scale), by scale. */
const FRACTION_FACTORS = Array.from({ length: FRACTION_DIGITS + 1 }, (_, s) => 10 ** (FRACTION_DIGITS - s));
const SCALE_FACTORS = Array.from({ length: FRACTION_DIGITS + 1 }, (_, s) => 10 ** s);

/**
 * Sets `out` to unscaled / 10^scale exactly: a Parquet DECIMAL as stored (its unscaled integer and the
 * scale its schema gives), never through a double. Throws RangeError as parseCostText does.
 */
export function setCostUnscaled(unscaled: number | bigint, scale: number, out: CostValue): void {
  if (typeof unscaled === "bigint" && unscaled >= -MAX_SAFE && unscaled <= MAX_SAFE)
    unscaled = Number(unscaled);
  if (typeof unscaled === "number" && scale >= 0 && scale <= FRACTION_DIGITS) {
    // Integers below 2^53 and powers of ten to 10^12 are exact doubles, so are % and the division of
    // what is left (a multiple of p): no rounding anywhere.
    const p = SCALE_FACTORS[scale]!;
    const rem = unscaled % p;
    const int = (unscaled - rem) / p;
    if (int < 1e15 && int > -1e15) {
      out.int = int;
      out.frac = rem * FRACTION_FACTORS[scale]!;
      out.slow = null;
      return;
    }
  }
  const units = BigInt(unscaled);
  setCostDecimal(normalize(scale >= 0 ? { units, scale } : { units: units * pow10(-scale), scale: 0 }), out);
}
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function setCostDecimal(d: Decimal, out: CostValue): void {
  if (d.scale > SLOW_SCALE) throw new RangeError(`more than ${SLOW_SCALE} fraction digits`);
  // Far past any bill in any currency (10^21), and past it a percentage of a limit is Infinity.
  const magnitude = d.units < 0n ? -d.units : d.units;
  if (magnitude >= pow10(MAX_INTEGER_DIGITS + d.scale))
    throw new RangeError(`out of range: more than ${MAX_INTEGER_DIGITS} digits before the decimal point`);
  out.setDecimal(d);
}

/** The most digits a cost may have before its decimal point. */
export const MAX_INTEGER_DIGITS = 21;

/** `n` exact running sums (one per bucket: an hour of a budget period). */
export class DecimalSums {
  private readonly ints: Float64Array;
  private readonly fracs: Float64Array;
  private slow: Map<number, bigint> | null = null;

  constructor(readonly size: number) {
    this.ints = new Float64Array(size);
    this.fracs = new Float64Array(size);
  }

  add(i: number, v: CostValue): void {
    if (v.slow !== null) {
      this.addSlow(i, v.slow);
      return;
    }
    const ints = this.ints;
    const fracs = this.fracs;
    let f = fracs[i]! + v.frac;
    let n = ints[i]! + v.int;
    if (f > CARRY_AT || f < -CARRY_AT) {
      const carry = Math.trunc(f / FRACTION_SCALE);
      n += carry;
      f -= carry * FRACTION_SCALE;
    }
    if (n > CARRY_AT || n < -CARRY_AT) {
      this.addSlow(i, { units: BigInt(n), scale: 0 });
      n = 0;
    }
    ints[i] = n;
    fracs[i] = f;
  }

  private addSlow(i: number, d: Decimal): void {
    this.slow ??= new Map();
    const units = d.units * pow10(SLOW_SCALE - d.scale);
    this.slow.set(i, (this.slow.get(i) ?? 0n) + units);
  }

  /** Exact sum of buckets [from, to). */
  total(from = 0, to = this.size): Decimal {
    let int = 0n;
    let frac = 0n;
    let slow = 0n;
    for (let i = Math.max(0, from); i < Math.min(to, this.size); i++) {
      if (this.ints[i] !== 0) int += BigInt(this.ints[i]!);
      if (this.fracs[i] !== 0) frac += BigInt(this.fracs[i]!);
      const s = this.slow?.get(i);
      if (s !== undefined) slow += s;
    }
    const fast = normalize({ units: int * pow10(FRACTION_DIGITS) + frac, scale: FRACTION_DIGITS });
    return slow === 0n ? fast : add(fast, normalize({ units: slow, scale: SLOW_SCALE }));
  }

  /** Sets bucket `i` back to zero. */
  clear(i: number): void {
    this.ints[i] = 0;
    this.fracs[i] = 0;
    this.slow?.delete(i);
  }

  /** The raw sums, to send to another thread (see `absorb`). */
  export(): ExportedSums {
    return { ints: this.ints, fracs: this.fracs, slow: [...(this.slow ?? new Map()).entries()] };
  }

  /**
   * Adds sums exported by another instance of the same size, exactly (through BigInt, once per bucket):
   * all its buckets, or those `only` takes.
   */
  absorb(other: ExportedSums, only?: (i: number) => boolean): void {
    const lift = pow10(SLOW_SCALE - FRACTION_DIGITS);
    for (let i = 0; i < this.size; i++) {
      if (only !== undefined && !only(i)) continue;
      const int = other.ints[i]!;
      const frac = other.fracs[i]!;
      if (int === 0 && frac === 0) continue;
      this.slow ??= new Map();
      const units = (BigInt(int) * pow10(FRACTION_DIGITS) + BigInt(frac)) * lift;
      this.slow.set(i, (this.slow.get(i) ?? 0n) + units);
    }
    for (const [i, units] of other.slow) {
      if (only !== undefined && !only(i)) continue;
      this.slow ??= new Map();
      this.slow.set(i, (this.slow.get(i) ?? 0n) + units);
    }
  }
}

export interface ExportedSums {
  ints: Float64Array;
  fracs: Float64Array;
  /** Exact side sums at scale 10^SLOW_SCALE, by bucket. */
  slow: [number, bigint][];
}
