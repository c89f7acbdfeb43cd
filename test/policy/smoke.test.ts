import assert from "node:assert/strict";
import { test } from "node:test";
import { compilePolicySet, loadPolicies } from "../../src/index.js";

test("guide main policies deny the non-compliant request", () => {
  const set = compilePolicySet(loadPolicies(["examples/guide-main"]).policies);
  assert.equal(set.evaluate({ type: "compute/instance", specs: { vcpus: 32 } }).decision, "deny");
});
