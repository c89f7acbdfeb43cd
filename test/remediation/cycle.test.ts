import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DEFAULT_REMEDIATION_CONFIG, type RemediationConfig } from "../../src/remediation/config.js";
import { type RemediationDeps, runRemediation } from "../../src/remediation/cycle.js";
import { createMemoryLedger, createMemoryTaskStore } from "../../src/remediation/store.js";
import type { OwnerNotice, PlannableFinding } from "../../src/remediation/types.js";
import { manualClock } from "../../src/time/clock.js";
import { HOUR_MS } from "../../src/time/duration.js";
import { ESTATE, fakeCloud } from "./fake-cloud.js";
import { finding } from "./helpers.js";

function setup(config: RemediationConfig = DEFAULT_REMEDIATION_CONFIG) {
  const clock = manualClock("2025-03-03T09:00:00Z");
  const fake = fakeCloud(ESTATE);
  const notices: OwnerNotice[] = [];
  const deps: RemediationDeps = {
    tasks: createMemoryTaskStore(),
    ledger: createMemoryLedger(),
    clock: clock.now,
    config,
    cloud: fake.cloud,
    notifier: { notify: async (n) => void notices.push(n) },
  };
  return { clock, fake, notices, deps };
}

const findings: PlannableFinding[] = [
  finding({ id: "a", resource_id: "i-idle", severity: "critical", action: "stop" }),
  finding({
    id: "b",
    resource_id: "i-untagged",
    severity: "high",
    action: "tag",
    params: { missing_tags: ["owner"] },
  }),
  finding({
    id: "c",
    resource_id: "vol-orphan",
    resource_type: "storage/volume",
    severity: "critical",
    action: "delete",
  }),
];

describe("a remediation pass", () => {
  test("a dry run plans and changes nothing: no task, no notice, no action", async () => {
    const s = setup();
    const run = await runRemediation({ findings, inventorySize: 10, execute: false, deps: s.deps });
    assert.equal(run.mode, "dry-run");
    assert.deepEqual(
      run.plan.due.map((t) => t.finding_id),
      ["a", "c"],
    );
    assert.deepEqual(
      run.safety.actionable.map((t) => t.finding_id),
      ["a"],
    );
    assert.deepEqual(
      run.safety.blocked.map((b) => b.task.finding_id),
      ["c"],
    );
    assert.deepEqual(
      run.plan.warnings.map((w) => w.kind),
      ["grace-started"],
    );
    assert.deepEqual(await s.deps.tasks.list(), []);
    assert.deepEqual(s.notices, []);
    assert.deepEqual(s.fake.log, []);
  });

  test("executing stores the plan, tells the owners once, and acts on what is due", async () => {
    const s = setup();
    const run = await runRemediation({ findings, inventorySize: 10, execute: true, deps: s.deps });
    assert.deepEqual(
      run.outcomes.map((o) => [o.task.finding_id, o.outcome]),
      [["a", "completed"]],
    );
    assert.deepEqual(s.fake.log, ["snapshot i-idle", "stop i-idle"]);
    assert.deepEqual(s.notices.map((n) => `${n.kind}:${n.resource_id}`).sort(), [
      "grace-started:i-untagged",
      "manual-action-required:vol-orphan",
      "remediated:i-idle",
    ]);
    const stored = await s.deps.tasks.list();
    assert.deepEqual(stored.map((t) => [t.finding_id, t.state]).sort(), [
      ["a", "completed"],
      ["b", "notified"],
      ["c", "due"],
    ]);
    assert.ok(
      stored.every((t) => t.notices.length === 0),
      "every notice handed over",
    );

    // An hour later nothing is repeated.
    s.clock.advance(HOUR_MS);
    const again = await runRemediation({ findings, inventorySize: 10, execute: true, deps: s.deps });
    assert.deepEqual(again.outcomes, []);
    assert.equal(s.notices.length, 3);
    // After the grace the tag is due and applied.
    s.clock.advance(23 * HOUR_MS);
    const later = await runRemediation({ findings, inventorySize: 10, execute: true, deps: s.deps });
    assert.deepEqual(
      later.outcomes.map((o) => [o.task.finding_id, o.outcome]),
      [["b", "completed"]],
    );
    assert.equal(s.fake.state.get("i-untagged")!.tags!["managed-by"], "costguard");
  });

  test("the blast-radius cap aborts before any action, but the plan and warnings are kept", async () => {
    const s = setup({
      ...DEFAULT_REMEDIATION_CONFIG,
      safety: { ...DEFAULT_REMEDIATION_CONFIG.safety, maxActions: 1, maxActionsPercent: 100 },
    });
    const many = [
      finding({ id: "a", resource_id: "i-idle", severity: "critical", action: "stop" }),
      finding({ id: "d", resource_id: "i-doomed", severity: "critical", action: "stop" }),
    ];
    const run = await runRemediation({ findings: many, inventorySize: 10, execute: true, deps: s.deps });
    assert.match(run.aborted!, /would change 2 resources, more than remediation.safety.maxActions \(1\)/);
    assert.deepEqual(run.outcomes, []);
    assert.deepEqual(s.fake.log, []);
    assert.deepEqual(
      (await s.deps.tasks.list()).map((t) => t.state),
      ["due", "due"],
    );
  });
});
