import assert from "node:assert/strict";
import { test } from "node:test";
import { createUnknownFieldsAnnotator } from "../../src/decide/unknown-fields.js";
import type { Decision, Violation } from "../../src/engine/types.js";

const v = (field: string, enforcement: Violation["enforcement"] = "deny"): Violation => ({
  policy: "p",
  rule: "r",
  severity: "high",
  enforcement,
  message: `bad ${field}`,
  resource_type: "compute/instance",
  field,
  actual: null,
  limit: null,
});

test("violations on fields known only after apply become unverified and the decision is recomputed", () => {
  const a = createUnknownFieldsAnnotator();
  const decision: Decision = {
    decision: "deny",
    violations: [v("tags.cost-center"), v("specs.vcpus", "warn")],
    unverified: [],
    not_evaluated: [],
  };
  const out = a.annotate({ type: "compute/instance", unknown_fields: ["tags"] }, decision);
  assert.equal(out.decision, "warn");
  assert.deepEqual(
    out.violations.map((x) => x.field),
    ["specs.vcpus"],
  );
  assert.equal(out.unverified[0]!.field, "tags.cost-center");
  assert.match(out.unverified[0]!.message, /tags is known only after apply/);
  // A single unknown tag key covers only that key.
  const one = a.annotate({ type: "compute/instance", unknown_fields: ["tags.team"] }, decision);
  assert.equal(one.decision, "deny");
  // No unknown fields: the decision is returned as it was.
  assert.equal(a.annotate({ type: "compute/instance" }, decision), decision);
});

test("tags.*: a key the resource sets is decided, one it lacks is not (the provider's defaults may add it)", () => {
  const a = createUnknownFieldsAnnotator();
  const decision: Decision = {
    decision: "deny",
    violations: [v("tags.owner"), v("tags.cost-center"), v("tags")],
    unverified: [],
    not_evaluated: [],
  };
  // `owner` is set on the resource with a value that fails its pattern: default tags cannot change it.
  const out = a.annotate(
    { type: "compute/instance", tags: { owner: "a" }, unknown_fields: ["tags.*"] },
    decision,
  );
  assert.equal(out.decision, "deny");
  assert.deepEqual(
    out.violations.map((x) => x.field),
    ["tags.owner"],
  );
  assert.deepEqual(
    out.unverified.map((u) => u.message),
    [
      "bad tags.cost-center — not decided: tags.cost-center is known only after apply (the resource does not set it; the provider's defaults may)",
      "bad tags — not decided: tags is known only after apply (the resource does not set them all; the provider's defaults may)",
    ],
  );
  // A key named like an object's own property is not taken from its prototype.
  const proto = a.annotate(
    { type: "compute/instance", tags: {}, unknown_fields: ["tags.*"] },
    { ...decision, violations: [v("tags.constructor")] },
  );
  assert.equal(proto.decision, "allow");
});
