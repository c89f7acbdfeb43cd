import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  compilePolicySet,
  createPricedDecider,
  type Decision,
  loadPolicies,
  loadPriceBook,
  parseRemediationConfig,
} from "../../src/index.js";

// What the library returns is the caller's to change, and what the caller gave stays theirs: neither
// reaches into the other afterwards.

describe("copies", () => {
  test("parseRemediationConfig copies addTags and tagDefaults", () => {
    const addTags = { a: "b" };
    const tagDefaults = { owner: "platform" };
    const config = parseRemediationConfig({ addTags, tagDefaults });
    assert.deepEqual(config.addTags, { a: "b" });
    assert.notEqual(config.addTags, addTags);
    assert.notEqual(config.tagDefaults, tagDefaults);
    (config.addTags as Record<string, string>).a = "changed";
    addTags.a = "later";
    tagDefaults.owner = "later";
    assert.deepEqual(addTags, { a: "later" });
    assert.deepEqual(config.addTags, { a: "changed" });
    assert.deepEqual(config.tagDefaults, { owner: "platform" });
  });
});

describe("decisions are plain, each its own", () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-lib-decisions-"));
  writeFileSync(
    join(dir, "p.yaml"),
    `apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: limits}
spec:
  type: ResourceLimit
  rules:
    - name: families
      resource: compute/instance
      constraint: {allowedInstanceFamilies: [general-purpose], maxMemoryGB: 1}
---
apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: tags}
spec:
  type: TagRequirement
  rules:
    - name: team
      requiredTags: [{key: team, minLength: 3}]
`,
  );
  const decider = createPricedDecider(compilePolicySet(loadPolicies(dir).policies), loadPriceBook());
  const request = () => ({
    type: "compute/instance",
    provider: "aws",
    region: "us-east-1",
    tags: { team: "x" },
    specs: { instance_type: "m5.large", instance_family: "gpu" },
  });

  test("every part of a priced decision can be changed, and the next decision is as it was", () => {
    const first: Decision = decider.decide(request());
    const before = JSON.stringify(decider.decide(request()));
    const cost = first.estimated_monthly_cost!;
    assert.equal(cost.status, "known");
    // The estimate was the book's cached, deep-frozen object: assigning into it threw.
    cost.monthly = "0";
    cost.components[0]!.unit_price = "0";
    cost.assumptions.push("mine");
    for (const v of first.violations) {
      v.message = "changed";
      if (Array.isArray(v.limit)) v.limit.push("mine");
      else if (v.limit !== null && typeof v.limit === "object")
        (v.limit as Record<string, unknown>).minLength = 0;
    }
    assert.ok(first.violations.some((v) => Array.isArray(v.limit)));
    assert.ok(first.violations.some((v) => v.field === "tags.team"));
    for (const u of first.unverified) u.message = "changed";
    assert.ok(first.unverified.length > 0 || first.violations.length > 0);
    assert.equal(JSON.stringify(decider.decide(request())), before);
  });

  test("an unverified note is the decision's own too", () => {
    const set = compilePolicySet(loadPolicies(dir).policies);
    const d = set.evaluate({ type: "compute/instance" });
    assert.ok(d.unverified.length > 0);
    d.unverified[0]!.message = "changed";
    assert.notEqual(set.evaluate({ type: "compute/instance" }).unverified[0]!.message, "changed");
  });
});
