import assert from "node:assert/strict";
import { test } from "node:test";
import { compilePolicySet } from "../../src/engine/compile.js";
import type { Decision } from "../../src/engine/types.js";
import { withField } from "../../src/objects.js";
import { loadPolicies } from "../../src/policy/load.js";
import { loadPriceBook } from "../../src/pricing/load.js";
import { createPricedDecider } from "../../src/pricing/priced-decider.js";
import { asciiJson, createDecisionEncoder, loggedCost } from "../../src/server/decision-json.js";

const EXAMPLES = new URL("../../examples/policies", import.meta.url).pathname;

test("asciiJson escapes every non-ASCII character and parses back to the same value", () => {
  const value = { method: "0.384 USD/hour × 730 hours", note: "— ≤ 😀 é", plain: 'a"b\\c' };
  const json = asciiJson(JSON.stringify(value));
  assert.match(json, /^[\x20-\x7e]*$/);
  assert.deepEqual(JSON.parse(json), value);
});

test("a priced decision encodes to ASCII JSON equal to the decision, and the log fields carry the figures only", () => {
  const decider = createPricedDecider(compilePolicySet(loadPolicies([EXAMPLES]).policies), loadPriceBook());
  const encode = createDecisionEncoder();
  const request = {
    type: "compute/instance",
    tags: { "cost-center": "INVALID", environment: "prod" },
    specs: { instance_type: "p3.8xlarge" },
  };
  for (let round = 0; round < 2; round++) {
    // The second round reads the estimate's JSON from the encoder's cache: the same answer.
    const decision = decider.decide(request);
    const { answer, logFields } = encode(decision);
    assert.match(answer, /^[\x20-\x7e]*$/, "pure ASCII");
    assert.deepEqual(JSON.parse(answer), JSON.parse(JSON.stringify(decision)));
    const logged = JSON.parse(`{${logFields}}`) as Decision;
    assert.deepEqual(logged.estimated_monthly_cost, loggedCost(decision.estimated_monthly_cost!));
    assert.deepEqual(logged.violations, JSON.parse(JSON.stringify(decision.violations)));
    assert.equal(decision.decision, "deny");
  }
});

test("withField copies without touching the source and adds the key", () => {
  const source = { a: 1, b: { c: 2 } };
  const copy = withField(source, "cost", 5);
  assert.deepEqual(copy, { a: 1, b: { c: 2 }, cost: 5 });
  assert.deepEqual(source, { a: 1, b: { c: 2 } });
  assert.equal(copy.b, source.b, "shallow");
});
