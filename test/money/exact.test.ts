import assert from "node:assert/strict";
import { test } from "node:test";
import { InputError } from "../../src/errors.js";
import {
  formatAmount,
  formatFixed,
  formatMoney,
  monthlyFromHourly,
  parseAmount,
  times,
} from "../../src/money/exact.js";

test("decimal text and JSON numbers parse exactly and print back unchanged", () => {
  for (const text of ["0", "0.096", "1787.04", "0.0000004", "12", "-3.5", "123456789.123456789012"])
    assert.equal(formatAmount(parseAmount(text)), text);
  assert.equal(formatAmount(parseAmount(0.1)), "0.1");
  assert.equal(formatAmount(parseAmount(1e-7)), "0.0000001");
  assert.equal(formatAmount(parseAmount("2.5e3")), "2500");
});

test("sums are exact where binary floating point is not", () => {
  let a = 0n;
  let f = 0;
  for (let i = 0; i < 10; i++) {
    a += parseAmount("0.1");
    f += 0.1;
  }
  assert.equal(formatAmount(a), "1");
  assert.notEqual(f, 1);
});

test("monthly is hourly × 730, exactly", () => {
  assert.equal(formatAmount(monthlyFromHourly(parseAmount("0.096"))), "70.08");
  assert.equal(formatAmount(monthlyFromHourly(parseAmount("0.0255"))), "18.615");
  assert.equal(formatAmount(times(parseAmount("0.08"), 1000)), "80");
});

test("rounding for people is half-up to cents, with separators", () => {
  assert.equal(formatFixed(parseAmount("2.345")), "2.35");
  assert.equal(formatFixed(parseAmount("2.344")), "2.34");
  assert.equal(formatFixed(parseAmount("-2.345")), "-2.35");
  assert.equal(formatMoney(parseAmount("1234567.891"), "USD"), "1,234,567.89 USD");
  assert.equal(formatMoney(parseAmount("3"), "USD"), "3.00 USD");
});

test("more than 12 decimals round half-up at the pico-unit; garbage is an input error", () => {
  assert.equal(formatAmount(parseAmount("0.0000000000015")), "0.000000000002");
  assert.equal(formatAmount(parseAmount("0.0000000000014")), "0.000000000001");
  assert.throws(() => parseAmount("12,50"), InputError);
  assert.throws(() => parseAmount(""), InputError);
  assert.throws(() => parseAmount(Number.NaN), InputError);
  // An exponent that would make a string of a billion digits.
  assert.throws(
    () => parseAmount("1e999999999", "hourly_cost"),
    /hourly_cost: `1e999999999` is out of range/,
  );
  assert.throws(() => parseAmount("1e-999999999"), /out of range/);
  assert.equal(formatAmount(parseAmount("1e-1000")), "0");
});
