import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createDecider } from "../../src/decide/decider.js";
import { createCostAnnotator, createPriceBookEnricher } from "../../src/pricing/enrich.js";
import { loadPriceBook } from "../../src/pricing/load.js";
import { policiesFrom, policyProblems } from "./harness.js";

const book = loadPriceBook();

const policy = (limit: string, enforcement = "deny") => `
apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: cost-cap}
spec:
  type: ResourceLimit
  enforcement: ${enforcement}
  rules:
    - name: monthly-cap
      resource: compute/instance
      constraint:
        maxMonthlyCost: ${limit}
`;

function decider(limit: string) {
  return createDecider({
    policySet: policiesFrom(policy(limit)),
    enrichers: [createPriceBookEnricher(book)],
    annotators: [createCostAnnotator(book)],
  });
}

describe("maxMonthlyCost", () => {
  test("is inclusive and compared exactly (m5.large costs 70.08 USD a month)", () => {
    const r = { type: "compute/instance", specs: { instance_type: "m5.large" } };
    assert.equal(decider("70.08").decide(r).decision, "allow");
    const d = decider("70.07").decide(r);
    assert.equal(d.decision, "deny");
    assert.equal(d.violations[0]!.field, "cost.monthly");
    assert.equal(d.violations[0]!.actual, "70.08");
    assert.equal(d.violations[0]!.message, "Estimated monthly cost 70.08 USD exceeds limit of 70.07 USD");
  });

  test("catches an expensive GPU type named only by instance_type", () => {
    const d = decider("1000").decide({ type: "compute/instance", specs: { instance_type: "p3.8xlarge" } });
    assert.equal(d.decision, "deny");
    assert.equal(d.estimated_monthly_cost?.monthly, "8935.2");
  });

  test("an unknown cost is unverified, with the reason, never a pass or a deny", () => {
    const d = decider("1000").decide({
      type: "compute/instance",
      specs: { instance_type: "n2d-standard-4" },
    });
    assert.equal(d.decision, "allow");
    assert.equal(d.violations.length, 0);
    assert.equal(d.unverified.length, 1);
    assert.equal(d.unverified[0]!.field, "cost.monthly");
    assert.match(
      d.unverified[0]!.message,
      /maxMonthlyCost not checked: no cost estimate: .*no sourceable price/,
    );
  });

  test("without a price book the engine reports it unverified; a numeric cost.monthly is read too", () => {
    const set = policiesFrom(policy("100"));
    assert.equal(set.evaluate({ type: "compute/instance", specs: {} }).unverified.length, 1);
    assert.equal(set.evaluate({ type: "compute/instance", cost: { monthly: 100.5 } }).decision, "deny");
    assert.equal(set.evaluate({ type: "compute/instance", cost: { monthly: "100" } }).decision, "allow");
  });

  test("a cost.monthly JSON writes with an exponent (1e21, 1e-7) is the amount it is", () => {
    // String(1e21) is "1e+21": passed parseRequest, then was "not an amount".
    const decide = createDecider({
      policySet: policiesFrom(policy("100")),
      enrichers: [createPriceBookEnricher(book)],
      annotators: [createCostAnnotator(book)],
    });
    const big = decide.decide(JSON.parse('{"type": "compute/instance", "cost": {"monthly": 1e21}}'));
    assert.deepEqual(
      big.violations.map((v) => v.message),
      ["Estimated monthly cost 1000000000000000000000 USD exceeds limit of 100 USD"],
    );
    assert.equal(big.estimated_monthly_cost?.monthly, "1000000000000000000000");
    const small = decide.decide(JSON.parse('{"type": "compute/instance", "cost": {"monthly": 1e-7}}'));
    assert.equal(small.decision, "allow");
    assert.equal(small.estimated_monthly_cost?.monthly, "0.0000001");
  });

  test("an estimate in another currency than the limit's is unverified, never compared as if it were", () => {
    // 36.5 EUR against a 30 USD limit was a deny ("36.5 EUR exceeds limit of 30 EUR"), 25 EUR an allow.
    const usd = policiesFrom(policy("30"));
    for (const monthly of ["36.5", "25"]) {
      const d = usd.evaluate({ type: "compute/instance", cost: { monthly, currency: "EUR" } });
      assert.equal(d.decision, "allow");
      assert.deepEqual(
        d.unverified.map((u) => u.message),
        [
          `maxMonthlyCost not checked: the estimate is ${monthly} EUR, the limit 30 USD (no exchange rate is assumed; set constraint.currency or price in USD)`,
        ],
      );
    }
    const eur = policiesFrom(
      policy("30").replace("maxMonthlyCost: 30", "maxMonthlyCost: 30\n        currency: EUR"),
    );
    const d = eur.evaluate({ type: "compute/instance", cost: { monthly: "36.5", currency: "EUR" } });
    assert.equal(d.decision, "deny");
    assert.equal(d.violations[0]!.message, "Estimated monthly cost 36.5 EUR exceeds limit of 30 EUR");
    // A USD estimate against a EUR limit: not compared either.
    const usdEstimate = eur.evaluate({ type: "compute/instance", cost: { monthly: "99", currency: "USD" } });
    assert.equal(usdEstimate.unverified.length, 1);
    assert.equal(usdEstimate.violations.length, 0);
    assert.ok(
      policyProblems(
        policy("30").replace("maxMonthlyCost: 30", "maxMonthlyCost: 30\n        currency: eur"),
      ).some((p) => p.severity === "error"),
    );
  });

  test("the schema accepts maxMonthlyCost and rejects a misspelling with a suggestion", () => {
    assert.deepEqual(
      policyProblems(policy("10")).filter((p) => p.severity === "error"),
      [],
    );
    const bad = policyProblems(policy("10").replace("maxMonthlyCost", "maxMonthlyCosts"));
    assert.ok(
      bad.some((p) => p.severity === "error" && p.suggestion === "maxMonthlyCost"),
      JSON.stringify(bad),
    );
    const negative = policyProblems(policy("-5"));
    assert.ok(negative.some((p) => p.severity === "error"));
  });
});
