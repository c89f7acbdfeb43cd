import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  bytesToGiB,
  millicoresToCores,
  parseQuantity,
  toBytes,
  toMillicores,
} from "../../../src/gates/kubernetes/quantity.js";
import { InputError } from "../../../src/index.js";

const cpu = (q: unknown) => toMillicores(parseQuantity(q));
const bytes = (q: unknown) => toBytes(parseQuantity(q));

test("CPU quantities become millicores", () => {
  assert.equal(cpu("500m"), 500n);
  assert.equal(cpu("2"), 2000n);
  assert.equal(cpu("1.5"), 1500n);
  assert.equal(cpu(".25"), 250n);
  assert.equal(cpu("3."), 3000n);
  assert.equal(cpu(2), 2000n);
  assert.equal(cpu(0.1), 100n);
  assert.equal(cpu("100000u"), 100n);
  assert.equal(cpu("250000000n"), 250n);
  assert.equal(cpu("1e3"), 1_000_000n);
  assert.equal(cpu("1E-3"), 1n);
  assert.equal(cpu("+4"), 4000n);
  assert.equal(cpu("0"), 0n);
  // Finer than a millicore rounds up, as the scheduler counts it.
  assert.equal(cpu("1u"), 1n);
});

test("memory quantities become bytes, binary and decimal suffixes alike", () => {
  assert.equal(bytes("512Mi"), 536_870_912n);
  assert.equal(bytes("2Gi"), 2_147_483_648n);
  assert.equal(bytes("1.5Gi"), 1_610_612_736n);
  assert.equal(bytes("1G"), 1_000_000_000n);
  assert.equal(bytes("128974848"), 128_974_848n);
  assert.equal(bytes("129e6"), 129_000_000n);
  assert.equal(bytes("123Mi"), 128_974_848n);
  assert.equal(bytes("1Ki"), 1024n);
  assert.equal(bytes("1k"), 1000n);
  assert.equal(bytes("1M"), 1_000_000n);
  assert.equal(bytes("1Ti"), 1_099_511_627_776n);
  assert.equal(bytes("1Ei"), 1_152_921_504_606_846_976n);
  assert.equal(bytes("1E"), 1_000_000_000_000_000_000n);
  assert.equal(bytes("0.5Ki"), 512n);
  assert.equal(bytes("0.1Ki"), 103n); // 102.4 rounds up
  assert.equal(bytesToGiB(bytes("512Mi")), 0.5);
  assert.equal(bytesToGiB(bytes("64Gi")), 64);
  assert.equal(millicoresToCores(cpu("1500m")), 1.5);
});

test("malformed and negative quantities are InputErrors naming the field", () => {
  for (const bad of ["", "abc", "1.2.3", "5Mb", "1e", "Mi", "1 Gi", "-1", "-500m", "1Gii", "--1"]) {
    assert.throws(
      () => parseQuantity(bad, "containers[0].resources.requests.memory"),
      (err: unknown) =>
        err instanceof InputError && err.message.includes("containers[0].resources.requests.memory"),
      bad,
    );
  }
  assert.throws(() => parseQuantity(null), InputError);
  assert.throws(() => parseQuantity(-2), InputError);
  assert.throws(() => parseQuantity(Number.NaN), InputError);
  assert.throws(() => parseQuantity("1e999"), InputError);
  assert.equal(cpu("-0"), 0n);
});

test("a decimal quantity equals its integer scaling for any digits and suffix", () => {
  const suffixes: [string, bigint][] = [
    ["", 1n],
    ["k", 1000n],
    ["M", 1_000_000n],
    ["Ki", 1024n],
    ["Mi", 1_048_576n],
    ["Gi", 1_073_741_824n],
  ];
  fc.assert(
    fc.property(
      fc.bigInt({ min: 0n, max: 10n ** 12n }),
      fc.integer({ min: 0, max: 5 }),
      fc.constantFrom(...suffixes),
      (digits, places, [suffix, factor]) => {
        const text = digits.toString().padStart(places + 1, "0");
        const quantity = places === 0 ? text : `${text.slice(0, -places)}.${text.slice(-places)}`;
        const den = 10n ** BigInt(places);
        const expected = (digits * factor + den - 1n) / den;
        assert.equal(bytes(`${quantity}${suffix}`), expected);
      },
    ),
  );
});
