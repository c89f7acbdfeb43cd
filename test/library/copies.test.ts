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

describe("a decision: its own fields the caller's, what it shares frozen", () => {
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

  test("a decision's own fields can be changed and the next decision is as it was; shared parts are frozen", () => {
    const first: Decision = decider.decide(request());
    const before = JSON.stringify(decider.decide(request()));
    for (const v of first.violations) v.message = "changed";
    first.violations.push({ ...first.violations[0]! });
    assert.equal(JSON.stringify(decider.decide(request())), before);

    // What decisions share is frozen: changing it through one decision cannot reach the next.
    const cost = first.estimated_monthly_cost!;
    assert.equal(cost.status, "known");
    assert.ok(Object.isFrozen(cost) && Object.isFrozen(cost.components) && Object.isFrozen(cost.assumptions));
    const family = first.violations.find((v) => Array.isArray(v.limit))!;
    assert.ok(Object.isFrozen(family.limit));
    assert.throws(() => (family.limit as string[]).push("mine"), TypeError);
    const length = first.violations.find((v) => v.field === "tags.team")!;
    assert.deepEqual(length.limit, { minLength: 3 });
    // The length bounds were one object for every decision, and could be changed through any of them.
    assert.throws(() => {
      (length.limit as Record<string, unknown>).minLength = 0;
    }, TypeError);
    assert.equal(JSON.stringify(decider.decide(request())), before);
    // structuredClone gives a copy to change freely.
    const mine = structuredClone(decider.decide(request()));
    mine.estimated_monthly_cost!.monthly = "0";
    (mine.violations.find((v) => Array.isArray(v.limit))!.limit as string[]).push("mine");
    assert.equal(JSON.stringify(decider.decide(request())), before);
  });

  test("an unverified note is shared and frozen", () => {
    const set = compilePolicySet(loadPolicies(dir).policies);
    const d = set.evaluate({ type: "compute/instance" });
    assert.ok(d.unverified.length > 0);
    assert.throws(() => {
      d.unverified[0]!.message = "changed";
    }, TypeError);
    assert.notEqual(set.evaluate({ type: "compute/instance" }).unverified[0]!.message, "changed");
  });
});
