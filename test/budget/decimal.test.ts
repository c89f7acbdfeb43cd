import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { add, compare, decimal, div, formatMoney, numberText, toText } from "../../src/budget/decimal.js";
import { CostValue, DecimalSums, parseCostBytes, parseCostText } from "../../src/budget/decimal-sums.js";

describe("decimal", () => {
  test("parses, adds, divides and formats exactly", () => {
    assert.equal(toText(add(decimal("0.1"), decimal("0.2"))), "0.3");
    assert.equal(toText(decimal("1.5E-7")), "0.00000015");
    assert.equal(toText(decimal(-0.000001)), "-0.000001");
    assert.equal(toText(div(decimal(2), decimal(3), 4)), "0.6667");
    assert.equal(toText(div(decimal(-2), decimal(3), 4)), "-0.6667");
    // Money for people is cut toward zero, never shown past what it is (39.999 of a 40 limit is 39.99).
    assert.equal(formatMoney(decimal("1234567.009")), "1,234,567.00");
    assert.equal(formatMoney(decimal("39.999")), "39.99");
    assert.equal(formatMoney(decimal("-12.349")), "-12.34");
    assert.equal(formatMoney(decimal("-0.004")), "0.00");
    // In a currency's own minor units: none for yen, three for the Kuwaiti dinar, cents for an unknown code.
    assert.equal(formatMoney(decimal("40"), "JPY"), "40");
    assert.equal(formatMoney(decimal("1234567.9"), "JPY"), "1,234,567");
    assert.equal(formatMoney(decimal("-1234.5678"), "KWD"), "-1,234.567");
    assert.equal(formatMoney(decimal("40"), "USD"), "40.00");
    assert.equal(formatMoney(decimal("40"), "XYZ"), "40.00");
    assert.equal(toText(div(decimal(2), decimal(3), 4, "cut")), "0.6666");
    assert.equal(toText(div(decimal(-2), decimal(3), 4, "cut")), "-0.6666");
    assert.equal(compare(decimal("10.0"), decimal("10")), 0);
    assert.equal(numberText(1e21), "1000000000000000000000");
    assert.equal(numberText(1.5e-7), "0.00000015");
    assert.throws(() => decimal("1,5"), /not a decimal/);
  });

  test("DecimalSums equals BigInt sums of random costs, through carries and the slow path", () => {
    const cost = fc
      .tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 18n }), fc.integer({ min: 0, max: 20 }))
      .map(([neg, units, scale]) => {
        const s = units.toString().padStart(scale + 1, "0");
        const text = scale === 0 ? s : `${s.slice(0, -scale)}.${s.slice(-scale)}`;
        return neg ? `-${text}` : text;
      });
    fc.assert(
      fc.property(fc.array(cost, { minLength: 1, maxLength: 300 }), (costs) => {
        const sums = new DecimalSums(2);
        let reference = decimal(0);
        const v = new CostValue();
        for (const c of costs) {
          const bytes = Buffer.from(c);
          if (!parseCostBytes(bytes, 0, bytes.length, v)) parseCostText(c, v);
          sums.add(1, v);
          reference = add(reference, decimal(c));
        }
        assert.equal(toText(sums.total()), toText(reference));
        assert.equal(toText(sums.total(0, 1)), "0");
      }),
      { numRuns: 200 },
    );
  });

  test("millions of sub-cent costs sum without drift", () => {
    const sums = new DecimalSums(1);
    const v = new CostValue();
    const bytes = Buffer.from("0.00001605990");
    parseCostBytes(bytes, 0, bytes.length, v);
    for (let i = 0; i < 2_000_000; i++) sums.add(0, v);
    assert.equal(toText(sums.total()), "32.1198");
  });
});
