import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseRequest, type ResourceRequest } from "../../src/index.js";
import { compileYaml, resourceLimit } from "../helpers/policies.js";

// A request the engine gets without parseRequest, or changed after it, may hold a field of the wrong
// type where a rule compares: the check fails (a violation, as the rule enforces it), never passes.

const set = compileYaml(
  resourceLimit(`      resource: compute/instance
      constraint: {maxVCPUs: 16, allowedInstanceFamilies: [general-purpose], maxMonthlyCost: 10}
      checks: [{field: specs.my_setting, op: lt, value: 5}]
`),
);
const vm = (specs: Record<string, unknown>, extra: Record<string, unknown> = {}): ResourceRequest =>
  ({ type: "compute/instance", specs, ...extra }) as ResourceRequest;
const byField = (r: ResourceRequest, field: string) => {
  const d = set.evaluate(r);
  return {
    decision: d.decision,
    v: d.violations.find((v) => v.field === field),
    u: d.unverified.find((u) => u.field === field),
  };
};

describe("a field of the wrong type fails its check", () => {
  test("maxVCPUs: NaN, text or an object is a violation; absent or null is unverified", () => {
    for (const [value, shown] of [
      [Number.NaN, "NaN"],
      ["lots", '"lots"'],
      ["8", '"8"'],
      [{ n: 8 }, '{"n":8}'],
    ] as const) {
      const { decision, v } = byField(vm({ vcpus: value }), "specs.vcpus");
      assert.equal(decision, "deny", shown);
      assert.equal(v?.message, `specs.vcpus is ${shown}, not a number: it cannot be within maxVCPUs 16`);
      assert.equal(v?.enforcement, "deny");
    }
    for (const value of [undefined, null]) {
      const { v, u } = byField(vm({ vcpus: value }), "specs.vcpus");
      assert.equal(v, undefined);
      assert.equal(u?.message, "maxVCPUs not checked: request has no numeric specs.vcpus");
    }
    assert.equal(byField(vm({ vcpus: 16 }), "specs.vcpus").v, undefined);
    assert.equal(
      byField(vm({ vcpus: 17 }), "specs.vcpus").v?.message,
      "Requested 17 vCPUs exceeds limit of 16",
    );
  });

  test("an allowed family that is no text is a violation", () => {
    const { decision, v } = byField(vm({ instance_family: 5 }), "specs.instance_family");
    assert.equal(decision, "deny");
    assert.equal(
      v?.message,
      "specs.instance_family is 5, not text: it cannot be checked against allowedInstanceFamilies ['general-purpose']",
    );
  });

  test("a numeric generic check on text or NaN is a violation", () => {
    assert.equal(
      byField(vm({ my_setting: "lots" }), "specs.my_setting").v?.message,
      'specs.my_setting is "lots", not a number: it must be below 5',
    );
    assert.equal(
      byField(vm({ my_setting: Number.NaN }), "specs.my_setting").v?.message,
      "specs.my_setting is NaN, must be below 5",
    );
    assert.equal(
      byField(vm({}), "specs.my_setting").u?.message,
      "check lt not applied: request has no numeric specs.my_setting",
    );
  });

  test("maxMonthlyCost: a cost.monthly that is no amount is a violation; one with spaces is read", () => {
    const lots = byField(vm({}, { cost: { monthly: "lots" } }), "cost.monthly");
    assert.equal(
      lots.v?.message,
      'cost.monthly is "lots", not an amount: it cannot be within maxMonthlyCost 10 USD',
    );
    assert.equal(
      byField(vm({}, { cost: { monthly: Number.NaN } }), "cost.monthly").v?.message,
      "cost.monthly is NaN, not an amount: it cannot be within maxMonthlyCost 10 USD",
    );
    // parseRequest takes " 12.50 ": it was unverified, over the limit.
    const spaced = parseRequest({ type: "compute/instance", cost: { monthly: " 12.50 " } });
    assert.equal(
      byField(spaced, "cost.monthly").v?.message,
      "Estimated monthly cost 12.50 USD exceeds limit of 10 USD",
    );
    assert.equal(
      byField(vm({}, { cost: {} }), "cost.monthly").u?.message,
      "maxMonthlyCost not checked: no cost estimate",
    );
  });
});

describe("parseRequest", () => {
  test("returns a copy: the value checked, changed afterwards, changes nothing", () => {
    const input = { type: "compute/instance", specs: { vcpus: 32 }, tags: { team: "a" }, mine: [{ x: 1 }] };
    const r = parseRequest(input);
    assert.deepEqual(r, input);
    (input.specs as Record<string, unknown>).vcpus = Number.NaN;
    input.tags.team = "b";
    input.mine[0]!.x = 2;
    assert.equal(r.specs?.vcpus, 32);
    assert.equal(r.tags?.team, "a");
    assert.deepEqual((r as unknown as { mine: unknown }).mine, [{ x: 1 }]);
    assert.equal(set.evaluate(r).decision, "deny");
    // A key named __proto__ stays a key of the copy.
    const odd = parseRequest(JSON.parse('{"type": "a/b", "tags": {"__proto__": "x"}}'));
    assert.deepEqual(Object.keys(odd.tags!), ["__proto__"]);
    assert.equal(Object.getPrototypeOf(odd.tags), Object.prototype);
  });
});
