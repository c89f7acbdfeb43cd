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

  test("a pass over one inventory leaves another inventory's tasks alone: not skipped as absent, not acted on", async () => {
    const s = setup();
    const inSandbox = findings.map((f) => ({ ...f, inventory: "sandbox" }));
    await runRemediation({
      findings: inSandbox,
      inventorySize: 10,
      execute: true,
      complete: true,
      inventory: "sandbox",
      deps: s.deps,
    });
    const before = await s.deps.tasks.list();
    assert.ok(before.length > 0 && before.every((t) => t.inventory === "sandbox"));
    s.fake.log.length = 0;
    s.clock.advance(30 * 24 * HOUR_MS);
    // A full scan of another inventory: none of its findings are the sandbox's.
    const other = await runRemediation({
      findings: [],
      inventorySize: 5,
      execute: true,
      complete: true,
      inventory: "aws:us-east-1",
      deps: s.deps,
    });
    assert.deepEqual(other.outcomes, []);
    assert.deepEqual(s.fake.log, []);
    assert.deepEqual(
      (await s.deps.tasks.list()).map((t) => [t.id, t.state]),
      before.map((t) => [t.id, t.state]),
    );
    // Over the sandbox again, with its findings gone: its own tasks are the ones skipped.
    await runRemediation({
      findings: [],
      inventorySize: 5,
      execute: true,
      complete: true,
      inventory: "sandbox",
      deps: s.deps,
    });
    assert.ok((await s.deps.tasks.list({ states: ["pending", "notified", "due"] })).length === 0);
  });

  test("what the inventory cannot do is planned as a notice saying why, in a dry run as when acting", async () => {
    const s = setup();
    s.deps.cannot = (action, type) =>
      action === "delete" && type === "storage/volume" ? "no deleting here" : undefined;
    for (const execute of [false, true]) {
      const run = await runRemediation({ findings, inventorySize: 10, execute, deps: s.deps });
      const c = [...run.plan.due, ...run.plan.waiting, ...run.plan.updated].find((t) => t.finding_id === "c");
      assert.equal(c?.action, "notify", `execute: ${execute}`);
      assert.match(c!.message, /\(to delete: no deleting here\)$/);
    }
    assert.ok(!s.fake.log.some((l) => l.includes("vol-orphan") && l.startsWith("delete")));
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

  test("a task skipped when planned (now excepted, or its finding gone) is audited as the executor's skips are", async () => {
    const s = setup();
    const audited: { actor: string; action: string; subject_id: string; details: unknown }[] = [];
    s.deps.audit = {
      append: async (e) => void audited.push(e),
    };
    const waiting = [findings[1]!, finding({ id: "d", resource_id: "i-later", action: "tag" })];
    await runRemediation({ findings: waiting, inventorySize: 10, execute: true, deps: s.deps });
    assert.equal(audited.length, 0);
    const taskOf = new Map((await s.deps.tasks.list()).map((t) => [t.resource_id, t.id]));
    const rule = { policy: "idle-resource-detection", rule: "low-utilization" };
    // While b waits in its grace period an exception for it is approved, and d's finding goes away.
    s.deps.exceptionFor = (subject) => (subject.resource_id === "i-untagged" ? "exc-0001" : undefined);
    s.clock.advance(HOUR_MS);
    const run = await runRemediation({
      findings: [findings[1]!],
      inventorySize: 10,
      execute: true,
      complete: true,
      deps: s.deps,
    });
    assert.deepEqual(run.outcomes, []);
    assert.deepEqual(
      audited.map((e) => [e.actor, e.action, e.subject_id, e.details]),
      [
        [
          "costguard:remediation",
          "remediation.skipped",
          "i-untagged",
          { task: taskOf.get("i-untagged"), action: "tag", ...rule, reason: "excepted by exc-0001" },
        ],
        [
          "costguard:remediation",
          "remediation.skipped",
          "i-later",
          {
            task: taskOf.get("i-later"),
            action: "tag",
            ...rule,
            reason: "the finding is resolved (a scan no longer sees it)",
          },
        ],
      ],
    );
    // Planned again, a task already skipped is not audited twice.
    await runRemediation({
      findings: [findings[1]!],
      inventorySize: 10,
      execute: true,
      complete: true,
      deps: s.deps,
    });
    assert.equal(audited.length, 2);
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
    assert.match(
      run.aborted!,
      /would change 2 of 10 resources, more than remediation.safety.maxActions \(1\);/,
    );
    assert.deepEqual(run.outcomes, []);
    assert.deepEqual(s.fake.log, []);
    assert.deepEqual(
      (await s.deps.tasks.list()).map((t) => t.state),
      ["due", "due"],
    );
  });
});

describe("a remediation pass with a large plan", () => {
  // 1,200 findings in their grace period (an owner warning each) and one due now: more than one batch.
  const large: PlannableFinding[] = [
    finding({ id: "a", resource_id: "i-idle", severity: "critical", action: "stop" }),
    ...Array.from({ length: 1200 }, (_, i) =>
      finding({
        id: `tag-${i}`,
        resource_id: `i-untagged-${i}`,
        severity: "high",
        action: "tag",
        params: { missing_tags: ["owner"] },
      }),
    ),
  ];
  const view = async (deps: RemediationDeps) =>
    (await deps.tasks.list()).map((t) => [t.id, t.state, t.notices.length]).sort();

  test("owner notices are handed over in bulk, a batch of tasks at a time, each once", async () => {
    const s = setup();
    const bulk: OwnerNotice[][] = [];
    const single: OwnerNotice[] = [];
    s.deps.notifier = {
      notify: async (n) => void single.push(n),
      notifyAll: async (ns) => void bulk.push([...ns]),
    };
    const run = await runRemediation({ findings: large, inventorySize: 2000, execute: true, deps: s.deps });
    assert.deepEqual(
      run.outcomes.map((o) => [o.task.finding_id, o.outcome]),
      [["a", "completed"]],
    );
    assert.deepEqual(
      bulk.map((b) => b.length),
      [500, 500, 200],
    );
    assert.ok(
      bulk.flat().every((n) => n.kind === "grace-started"),
      "the plan's warnings go in bulk",
    );
    assert.equal(new Set(bulk.flat().map((n) => n.key)).size, 1200);
    // The action's own notice is sent as it acts, one by one.
    assert.deepEqual(
      single.map((n) => n.resource_id),
      ["i-idle"],
    );
    assert.equal((await s.deps.tasks.list({ with_notices: true })).length, 0, "every notice handed over");
  });

  test("interrupted while the plan is stored: stops between batches, acts on nothing; the next run does the rest", async () => {
    const ref = setup();
    await runRemediation({ findings: large, inventorySize: 2000, execute: true, deps: ref.deps });

    const s = setup();
    const stop = new AbortController();
    // The interrupt arrives while the first batch of tasks is being written.
    const inner = s.deps.tasks;
    s.deps.tasks = {
      ...inner,
      batch: (fn) => {
        stop.abort(new Error("interrupted by SIGINT"));
        return inner.batch(fn);
      },
    };
    let acting = 0;
    const run = await runRemediation({
      findings: large,
      inventorySize: 2000,
      execute: true,
      deps: s.deps,
      signal: stop.signal,
      onActing: () => acting++,
    });
    assert.equal(acting, 0, "it never reached acting");
    assert.deepEqual(run.interrupted, { reason: "interrupted by SIGINT", left: 1 });
    assert.deepEqual(run.outcomes, []);
    assert.deepEqual(s.fake.log, [], "nothing acted on");
    assert.equal((await inner.list()).length, 500, "the batch under way was written, no other");
    assert.equal(s.notices.length, 0, "notices wait for the next run");

    s.deps.tasks = inner;
    const next = await runRemediation({
      findings: large,
      inventorySize: 2000,
      execute: true,
      deps: s.deps,
      onActing: () => acting++,
    });
    assert.equal(acting, 1);
    assert.equal(next.interrupted, null);
    assert.deepEqual(s.fake.log, ref.fake.log);
    assert.deepEqual(await view(s.deps), await view(ref.deps));
    assert.equal(s.notices.length, ref.notices.length);
    assert.equal(new Set(s.notices.map((n) => n.key)).size, 1201, "each notice once");
  });
});
