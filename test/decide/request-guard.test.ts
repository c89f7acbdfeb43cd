import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createDecider } from "../../src/decide/decider.js";
import { compileRequestGuard } from "../../src/decide/request-guard.js";
import type { ResourceRequest } from "../../src/engine/types.js";
import { InputError } from "../../src/errors.js";
import { loadPriceBook } from "../../src/pricing/load.js";
import { createPricedDecider } from "../../src/pricing/priced-decider.js";
import { compileYaml, resourceLimit } from "../helpers/policies.js";

const set = compileYaml(
  resourceLimit(
    "      resource: compute/instance\n      constraint: {maxVCPUs: 16}\n      checks:\n        - {field: specs.tier_level, op: lte, value: 3}\n        - {field: specs.vcpu_count, op: present}\n",
  ),
);
const vm = (specs: Record<string, unknown>, extra: Partial<ResourceRequest> = {}): ResourceRequest => ({
  type: "compute/instance",
  specs,
  ...extra,
});

describe("a request's misspelt spec", () => {
  test("near one a policy reads, and absent, it is refused with the spec meant", () => {
    const guard = compileRequestGuard(set, false);
    for (const key of ["vcpu", "vCPUs", "VCPUS", "tier_levle"]) {
      const why = guard.refusal(vm({ [key]: 64 }));
      assert.match(
        why ?? "",
        new RegExp(
          `^it has \`specs\\.${key}\`, no spec the policies or the price book read \\(did you mean \`specs\\.(vcpus|tier_level)\`\\?\\): what it holds would go unchecked$`,
        ),
        key,
      );
    }
    const decider = createDecider({ policySet: set, guard });
    assert.throws(
      () => decider.decide(vm({ vcpu: 64 }, { id: "i-1" })),
      (err: unknown) =>
        err instanceof InputError &&
        err.message ===
          'request "i-1" is not valid: it has `specs.vcpu`, no spec the policies or the price book read (did you mean `specs.vcpus`?): what it holds would go unchecked',
    );
  });

  test("keys a policy reads, costguard sets, of the user's own, or beside the one meant are decided", () => {
    const guard = compileRequestGuard(set, false);
    for (const specs of [
      { vcpu_count: 4 }, // read by a check, though close to vcpus
      { gpus: 1, os: "linux", pod_vcpus: 2 }, // set by costguard's gates
      { my_setting: 64, owner_team: "x" }, // close to nothing read
      { vcpus: 8, vcpu: 64 }, // the spec meant is there
      { instance_typ: "m5.large" }, // the price book is not read by this decider
    ])
      assert.equal(guard.refusal(vm(specs)), undefined, JSON.stringify(specs));
    assert.equal(guard.refusal({ type: "compute/instance" }), undefined);
    // Nothing read: no spec is guarded.
    const none = compileRequestGuard(
      compileYaml(
        resourceLimit("      resource: '*'\n      checks:\n        - {field: region, op: present}\n"),
      ),
      false,
    );
    assert.equal(none.refusal(vm({ vcpu: 64 })), undefined);
  });

  test("specs the price book reads are guarded where it prices the request", () => {
    const decider = createPricedDecider(set, loadPriceBook());
    assert.throws(
      () => decider.decide(vm({ instance_typ: "m5.large" })),
      /it has `specs\.instance_typ`, .*did you mean `specs\.instance_type`/,
    );
    assert.equal(decider.decide(vm({ instance_type: "m5.large", vcpu_count: 2 })).decision, "allow");
  });

  test("a type near a known or named one, itself neither, is said (and decided)", () => {
    const guard = compileRequestGuard(
      compileYaml(resourceLimit("      resource: acme/widget\n      constraint: {maxVCPUs: 16}\n")),
      false,
    );
    assert.equal(guard.nearType("compute/instnace"), "compute/instance");
    assert.equal(guard.nearType("acme/widgt"), "acme/widget");
    for (const type of ["compute/instance", "acme/widget", "acme/thing", "network/nat"])
      assert.equal(guard.nearType(type), undefined, type);
  });
});
