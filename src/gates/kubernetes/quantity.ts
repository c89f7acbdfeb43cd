import { InputError } from "../../errors.js";
import { shownValue } from "../../objects.js";

/**
 * A Kubernetes resource quantity held exactly: `mantissa × 10^exp10 × 2^exp2`.
 * Quantities such as `0.1` or `1.5Gi` are not representable in binary floating point, and requests are
 * summed over containers and multiplied by replicas, so the sums stay in integers until the end.
 */
export interface Quantity {
  mantissa: bigint;
  exp10: number;
  exp2: number;
}

// <sign><digits>[.<digits>] then a binary suffix, a decimal SI suffix, or an exponent (e3, E-2).
const QUANTITY = /^([+-]?)(\d*)(?:\.(\d*))?(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([numkMGTPE])|[eE]([+-]?\d+))?$/;

const SIMPLE = /^(\d{1,15})(m|Ki|Mi|Gi|Ti|)$/;

const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

/**
 * Parses a quantity as Kubernetes writes it (`500m`, `2`, `1.5`, `512Mi`, `2Gi`, `1G`, `1e3`, `100k`).
 * Numbers are accepted too (a YAML `cpu: 2` arrives as a number). Negative quantities are errors: a
 * resource request can't be below zero.
 */
export function parseQuantity(value: unknown, where = "quantity"): Quantity {
  if (typeof value === "string") {
    // The forms nearly every manifest uses (`500m`, `2`, `512Mi`), without the general grammar.
    const m = SIMPLE.exec(value);
    if (m) {
      const suffix = m[2]!;
      return {
        mantissa: BigInt(m[1]!),
        exp10: suffix === "m" ? -3 : 0,
        exp2: suffix === "" || suffix === "m" ? 0 : BINARY[suffix]!,
      };
    }
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value) || value < 0)
      throw new InputError(`${where}: ${value} is not a valid quantity`);
    return parseQuantity(String(value), where);
  }
  if (typeof value !== "string")
    throw new InputError(`${where}: expected a quantity such as 500m or 1Gi, got ${shownValue(value)}`);
  const m = QUANTITY.exec(value.trim());
  const whole = m?.[2] ?? "";
  const fraction = m?.[3] ?? "";
  if (!m || (whole === "" && fraction === ""))
    throw new InputError(
      `${where}: "${value}" is not a Kubernetes quantity (e.g. 500m, 2, 1.5, 512Mi, 2Gi, 1G)`,
    );
  if (m[1] === "-" && /[1-9]/.test(whole + fraction))
    throw new InputError(`${where}: "${value}" is negative`);
  const exponent = m[6] === undefined ? 0 : Number(m[6]);
  if (Math.abs(exponent) > 100) throw new InputError(`${where}: "${value}" is out of range`);
  return {
    mantissa: BigInt(whole + fraction || "0"),
    exp10: exponent - fraction.length + (m[5] === undefined ? 0 : DECIMAL[m[5]]!),
    exp2: m[4] === undefined ? 0 : BINARY[m[4]]!,
  };
}

/** The quantity scaled by 10^shift, rounded up to an integer (Kubernetes rounds requests up). */
export function quantityToInteger(q: Quantity, shift = 0): bigint {
  let num = q.mantissa;
  let den = 1n;
  const e10 = q.exp10 + shift;
  if (e10 >= 0) num *= 10n ** BigInt(e10);
  else den *= 10n ** BigInt(-e10);
  if (q.exp2 >= 0) num *= 1n << BigInt(q.exp2);
  else den *= 1n << BigInt(-q.exp2);
  return (num + den - 1n) / den;
}

/** CPU in millicores (`500m` → 500n, `1.5` → 1500n). */
export function toMillicores(q: Quantity): bigint {
  return quantityToInteger(q, 3);
}

/** Memory or storage in bytes (`512Mi` → 536870912n, `1G` → 1000000000n). */
export function toBytes(q: Quantity): bigint {
  return quantityToInteger(q, 0);
}

const GIB = 1024 ** 3;

/** Bytes as GiB, the unit `memory_gb` is read in (cloud instance memory is quoted in GiB too). */
export function bytesToGiB(bytes: bigint): number {
  return Number(bytes) / GIB;
}

export function millicoresToCores(milli: bigint): number {
  return Number(milli) / 1000;
}
