import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { createDecider } from "../../src/decide/decider.js";
import { compilePolicySet } from "../../src/engine/compile.js";
import type { ResourceRequest } from "../../src/engine/types.js";
import { createExceptionAnnotator } from "../../src/exceptions/annotator.js";
import { policyCatalog } from "../../src/exceptions/catalog.js";
import { buildExceptionIndex } from "../../src/exceptions/match.js";
import { createExceptionService } from "../../src/exceptions/service.js";
import { createMemoryExceptionStore } from "../../src/exceptions/store.js";
import { loadPolicies } from "../../src/policy/load.js";
import { manualClock } from "../../src/time/clock.js";
import { DAY_MS, HOUR_MS } from "../../src/time/duration.js";
import { CONFIG, sequentialIds } from "./helpers.js";

const policies = loadPolicies(["examples/guide-main"]).policies;
const policySet = compilePolicySet(policies);

const untagged: ResourceRequest = {
  id: "i-0abc",
  type: "compute/instance",
  account: "111111111111",
  tags: { environment: "production", team: "ml" },
  specs: { vcpus: 8, memory_gb: 32, instance_family: "general" },
};

async function setup() {
  const clock = manualClock("2025-03-01T00:00:00Z");
  const service = createExceptionService({
    store: createMemoryExceptionStore(),
    clock: clock.now,
    config: CONFIG,
    catalog: policyCatalog(policies),
    newId: sequentialIds(),
  });
  return { clock, service };
}

describe("exceptions on the engine path", () => {
  test("without an exception the untagged instance is denied", () => {
    const d = createDecider({ policySet }).decide(untagged);
    assert.equal(d.decision, "deny");
    assert.deepEqual(
      d.violations.map((v) => v.rule),
      ["cost-center-required"],
    );
  });

  test("an approved exception moves the violation to excepted with its id and decides again", async () => {
    const { clock, service } = await setup();
    const exc = await service.request({
      resource_id: "i-0abc",
      policy: "mandatory-tags",
      rule: "cost-center-required",
      justification: "migration in progress",
      requested_by: "alice",
      duration_ms: DAY_MS,
    });
    const pendingDecider = createDecider({
      policySet,
      annotators: [createExceptionAnnotator(await service.activeIndex(), clock.now)],
    });
    assert.equal(pendingDecider.decide(untagged).decision, "deny", "a pending exception waives nothing");

    await service.approve(exc.id, "carol");
    const decider = createDecider({
      policySet,
      annotators: [createExceptionAnnotator(await service.activeIndex(), clock.now)],
    });
    const d = decider.decide(untagged);
    assert.equal(d.decision, "allow");
    assert.deepEqual(d.violations, []);
    assert.equal(d.excepted?.length, 1);
    assert.equal(d.excepted![0]!.exception_id, exc.id);
    assert.equal(d.excepted![0]!.rule, "cost-center-required");

    // Another resource, or the same one against another policy, is not covered.
    assert.equal(decider.decide({ ...untagged, id: "i-other" }).decision, "deny");
    const big = decider.decide({ ...untagged, specs: { vcpus: 64 } });
    assert.equal(big.decision, "deny");
    assert.deepEqual(
      big.violations.map((v) => v.policy),
      ["resource-limits"],
    );

    // It expires mid-cycle: the same decider stops honouring it at the expiry instant.
    clock.advance(DAY_MS - HOUR_MS);
    assert.equal(decider.decide(untagged).decision, "allow");
    clock.advance(HOUR_MS);
    assert.equal(decider.decide(untagged).decision, "deny");
  });

  test("an exception is judged as of the time asked: approved then already, and not yet expired", async () => {
    const { clock, service } = await setup();
    const exc = await service.request({
      resource_id: "i-0abc",
      policy: "mandatory-tags",
      rule: "cost-center-required",
      justification: "migration in progress",
      requested_by: "alice",
      duration_ms: DAY_MS,
    });
    const requested = clock.now();
    clock.advance(HOUR_MS);
    await service.approve(exc.id, "carol");
    const approvedAt = clock.now().getTime();
    const index = buildExceptionIndex(await service.list({ status: "approved" }));
    const find = (ms: number) =>
      index.find(
        { id: "i-0abc", type: "compute/instance" },
        "mandatory-tags",
        "cost-center-required",
        new Date(ms),
      )?.id;
    // A look back (--at) before the approval: not yet in effect.
    assert.equal(find(requested.getTime()), undefined);
    assert.equal(find(approvedAt - 1), undefined);
    assert.equal(find(approvedAt), exc.id);
    assert.equal(find(approvedAt + DAY_MS - 1), exc.id);
    assert.equal(find(approvedAt + DAY_MS), undefined, "expired");
    // The engine's annotator asks the same way.
    const decider = createDecider({
      policySet,
      annotators: [createExceptionAnnotator(index, () => requested)],
    });
    assert.equal(decider.decide(untagged).decision, "deny");
  });

  test("a conditional exception matches by tags, type and account", async () => {
    const { service, clock } = await setup();
    const exc = await service.request({
      selector: { tags: { team: "ml" }, type: "compute/*", account: "111111111111" },
      policy: "resource-limits",
      justification: "training cluster",
      requested_by: "bob",
    });
    await service.approve(exc.id, "frank");
    const index = await service.activeIndex();
    const decider = createDecider({ policySet, annotators: [createExceptionAnnotator(index, clock.now)] });
    const gpu = {
      type: "compute/instance",
      account: "111111111111",
      tags: { team: "ml", "cost-center": "CC-123456", environment: "production" },
      specs: { vcpus: 64, memory_gb: 512, instance_family: "gpu" },
    };
    const d = decider.decide(gpu);
    assert.equal(d.decision, "allow");
    assert.equal(d.excepted!.length, 3, "all three resource-limits violations are waived (rule: any)");
    assert.equal(decider.decide({ ...gpu, account: "222222222222" }).decision, "deny");
    assert.equal(decider.decide({ ...gpu, tags: { ...gpu.tags, team: "web" } }).decision, "deny");
    assert.equal(
      decider.decide({ ...gpu, type: "database/instance" }).decision,
      "allow",
      "out of scope anyway",
    );
  });

  test("partial exceptions keep the other violations and their decision", () => {
    const index = buildExceptionIndex([
      {
        id: "exc-w",
        resource_id: "i-0abc",
        selector: null,
        policy: "resource-limits",
        rule: "max-instance-size",
        policy_type: "ResourceLimit",
        type: "permanent",
        justification: "x",
        requested_by: "a",
        requested_at: "2025-01-01T00:00:00Z",
        status: "approved",
        duration_ms: null,
        expires_at: null,
        review_interval_days: 90,
        last_reviewed_at: "2025-01-01T00:00:00Z",
        decided_by: "b",
        decided_at: "2025-01-01T00:00:00Z",
        reason: null,
        review_notified_at: null,
        version: 2,
        history: [],
      },
    ]);
    const now = () => new Date("2025-03-01T00:00:00Z");
    const decider = createDecider({ policySet, annotators: [createExceptionAnnotator(index, now)] });
    const d = decider.decide({ ...untagged, specs: { vcpus: 64 } });
    assert.equal(d.decision, "deny");
    assert.deepEqual(
      d.violations.map((v) => v.policy),
      ["mandatory-tags"],
    );
    assert.deepEqual(
      d.excepted!.map((v) => v.exception_id),
      ["exc-w"],
    );
  });
});
