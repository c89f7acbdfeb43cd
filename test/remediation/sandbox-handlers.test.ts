import assert from "node:assert/strict";
import { test } from "node:test";
import { sandboxResourceActions } from "../../src/inventory/sandbox/resource-actions.js";
import { initSandbox, SANDBOX_SOURCE } from "../../src/inventory/sandbox/sandbox.js";
import type { Resource } from "../../src/inventory/types.js";
import { formatAmount, HOURS_PER_MONTH, parseAmount } from "../../src/money/exact.js";
import { DEFAULT_REMEDIATION_CONFIG, type RemediationConfig } from "../../src/remediation/config.js";
import { runRemediation } from "../../src/remediation/cycle.js";
import type { PlannableFinding } from "../../src/remediation/types.js";
import { loadPrices } from "../../src/scan/prices.js";
import { manualClock } from "../../src/time/clock.js";
import { describeEachDatabase } from "../helpers/databases.js";
import { finding } from "./helpers.js";

const prices = loadPrices();
const enabled: RemediationConfig = {
  ...DEFAULT_REMEDIATION_CONFIG,
  safety: {
    ...DEFAULT_REMEDIATION_CONFIG.safety,
    allowTerminate: true,
    allowDeleteVolumes: true,
    maxActionsPercent: 100,
  },
};

describeEachDatabase("remediation handlers on the sandbox", (ctx) => {
  const clock = manualClock("2025-03-03T09:00:00Z");
  const all = async () => ctx.store.resources.list(SANDBOX_SOURCE, { includeGone: true, limit: 10_000 });
  const get = async (id: string) => (await ctx.store.resources.get(SANDBOX_SOURCE, id))!;
  const run = async (findings: PlannableFinding[], config: RemediationConfig) =>
    runRemediation({
      findings,
      inventorySize: 60,
      execute: true,
      deps: {
        tasks: ctx.store.tasks,
        ledger: ctx.store.ledger,
        clock: clock.now,
        config,
        cloud: sandboxResourceActions(ctx.store, prices, clock.now),
        audit: ctx.store.audit,
      },
    });
  const pick = async (fn: (r: Resource) => boolean, skip: string[] = []) =>
    (await all()).find((r) => fn(r) && !skip.includes(r.id))!;
  const critical = (r: Resource, action: PlannableFinding["action"], extra: Partial<PlannableFinding> = {}) =>
    finding({
      id: `fp-${action}-${r.id}`,
      resource_id: r.id,
      resource_type: r.type,
      severity: "critical",
      action,
      tags: r.tags,
      ...extra,
    });

  test("estate", async () => {
    await initSandbox(ctx.store, prices, { resources: 60, seed: "handlers", at: clock.now() });
    assert.equal((await all()).length >= 60, true);
  });

  test("terminate and delete are refused by default: nothing changes", async () => {
    const instance = await pick((r) => r.type === "compute/instance" && r.state === "running");
    const volume = await pick((r) => r.type === "storage/volume" && !r.attached_to);
    const run1 = await run(
      [critical(instance, "terminate"), critical(volume, "delete")],
      DEFAULT_REMEDIATION_CONFIG,
    );
    assert.deepEqual(run1.safety.blocked.map((b) => b.task.action).sort(), ["delete", "terminate"]);
    assert.deepEqual(run1.outcomes, []);
    assert.equal((await get(instance.id)).resource.state, "running");
    assert.equal((await get(volume.id)).gone_at, null);
  });

  /** Instances with a volume attached, by id. */
  const withVolumes = async () =>
    new Set(
      (await all())
        .filter((r) => r.type === "storage/volume" && typeof r.attached_to === "string")
        .map((r) => r.attached_to as string),
    );

  test("terminate, when enabled: a snapshot of its volumes first, then the instance is gone", async () => {
    const mounted = await withVolumes();
    const instance = await pick(
      (r) => r.type === "compute/instance" && r.state === "running" && mounted.has(r.id),
    );
    clock.advance(60_000);
    const result = await run([critical(instance, "terminate", { id: "fp-term" })], enabled);
    assert.deepEqual(
      result.outcomes.map((o) => o.outcome),
      ["completed"],
    );
    assert.equal((await get(instance.id)).resource.state, "terminated");
    const snaps = (await all()).filter(
      (r) => r.type === "storage/snapshot" && r.specs?.source === instance.id,
    );
    assert.equal(snaps.length, 1);
    const entry = (await ctx.store.ledger.list()).find((e) => e.task_id === result.outcomes[0]!.task.id)!;
    assert.equal(parseAmount(entry.monthly_saving), parseAmount(String(instance.monthly_cost)));
    assert.equal(entry.cost_after, "0");
  });

  test("resize a running instance to the finding's target: stop, resize, start; the saving is the price difference", async () => {
    const instance = await pick((r) => {
      if (r.type !== "compute/instance" || r.state !== "running") return false;
      const shape = prices.instanceType(String(r.specs?.instance_type));
      return shape !== undefined && prices.seriesTypes(shape.series).some((s) => s.vcpus < shape.vcpus);
    });
    const shape = prices.instanceType(String(instance.specs!.instance_type))!;
    const target = prices.seriesTypes(shape.series).find((s) => s.vcpus < shape.vcpus)!;
    clock.advance(60_000);
    const result = await run(
      [critical(instance, "resize", { id: "fp-resize", params: { target_type: target.instance_type } })],
      { ...enabled, safety: { ...enabled.safety, snapshotBeforeResize: false } },
    );
    assert.deepEqual(
      result.outcomes.map((o) => [o.outcome, o.message]),
      [["completed", `resized to ${target.instance_type}`]],
    );
    const after = (await get(instance.id)).resource;
    assert.equal(after.specs!.instance_type, target.instance_type);
    assert.equal(after.state, "running");
    const entry = (await ctx.store.ledger.list()).find((e) => e.task_id === result.outcomes[0]!.task.id)!;
    assert.equal(entry.cost_after, formatAmount(target.hourly * HOURS_PER_MONTH));
    assert.equal(entry.monthly_saving, formatAmount((shape.hourly - target.hourly) * HOURS_PER_MONTH));
    const steps = (await ctx.store.audit.list({ subjectId: instance.id, limit: 100 }))
      .filter((e) => e.actor === "costguard:remediation" && e.action.startsWith("resource."))
      .map((e) => e.action);
    assert.deepEqual(
      steps,
      ["resource.stop", "resource.resize", "resource.start"],
      "no snapshot when disabled",
    );
  });

  test("stop an instance with no volume: no snapshot is made (there is nothing to snapshot), the step says so, it stops", async () => {
    const mounted = await withVolumes();
    const instance = await pick(
      (r) => r.type === "compute/instance" && r.state === "running" && !mounted.has(r.id),
    );
    assert.ok(instance, "the estate has a running instance with no volume");
    clock.advance(60_000);
    // Before any attempt, a run cut short in the step has nothing done to find: it tries.
    const before = sandboxResourceActions(ctx.store, prices, clock.now);
    assert.equal(
      await before.findSnapshot(instance.id, { name: "costguard-x", since: clock.now().toISOString() }),
      undefined,
    );
    const result = await run([critical(instance, "stop", { id: "fp-bare" })], enabled);
    assert.deepEqual(
      result.outcomes.map((o) => [o.outcome, o.message]),
      [["completed", "stopped (no snapshot: the instance has no volume attached)"]],
    );
    assert.equal((await get(instance.id)).resource.state, "stopped");
    assert.deepEqual(
      (await all()).filter((r) => r.type === "storage/snapshot" && r.specs?.source === instance.id),
      [],
    );
    const audit = await ctx.store.audit.list({ subjectId: instance.id, limit: 100 });
    const actions = audit.map((e) => e.action);
    assert.ok(actions.includes("resource.snapshot"), "the attempt is audited, unchanged");
    assert.ok(actions.includes("resource.stop"));
    assert.equal(
      audit.find((e) => e.action === "remediation.snapshot")?.details.detail,
      "no snapshot: the instance has no volume attached",
    );
    // A run cut short in that step finds it done (nothing to snapshot), rather than trying it again.
    const cloud = sandboxResourceActions(ctx.store, prices, clock.now);
    assert.equal(
      await cloud.findSnapshot(instance.id, { name: "costguard-x", since: "2000-01-01T00:00:00.000Z" }),
      "none (the instance has no volume attached)",
    );
  });

  test("stop a database: its storage goes on costing, the ledger says so", async () => {
    const db = await pick((r) => r.type === "database/instance" && r.state === "available");
    clock.advance(60_000);
    const result = await run([critical(db, "stop", { id: "fp-db" })], enabled);
    assert.equal(result.outcomes[0]!.outcome, "completed");
    assert.equal((await get(db.id)).resource.state, "stopped");
    const entry = (await ctx.store.ledger.list()).find((e) => e.task_id === result.outcomes[0]!.task.id)!;
    assert.ok(parseAmount(entry.cost_after) > 0n, "storage still costs");
    assert.equal(parseAmount(entry.monthly_saving), parseAmount(String(db.hourly_cost)) * HOURS_PER_MONTH);
  });

  test("resize a database as RDS does: in place while it is available (snapshot, resize), never stopped; a stopped one is refused", async () => {
    const otherClass = (r: Resource) => {
      const current = String(r.specs!.instance_type);
      const series = current.replace(/^db\./, "").split(".")[0]!;
      return prices
        .seriesTypes(series)
        .map((t) => `db.${t.instance_type}`)
        .find((c) => c !== current && prices.databaseHourly(c, String(r.specs!.engine)) !== undefined);
    };
    const db = await pick(
      (r) => r.type === "database/instance" && r.state === "available" && !!otherClass(r),
    );
    const target = otherClass(db)!;
    clock.advance(60_000);
    const result = await run(
      [critical(db, "resize", { id: "fp-db-resize", params: { target_type: target } })],
      enabled,
    );
    assert.equal(result.outcomes[0]!.outcome, "completed", result.outcomes[0]!.message);
    assert.ok(result.outcomes[0]!.message.startsWith(`resized to ${target}`), result.outcomes[0]!.message);
    const after = (await get(db.id)).resource;
    assert.deepEqual([after.specs!.instance_type, after.state], [target, "available"]);
    const steps = (await ctx.store.audit.list({ subjectId: db.id, limit: 100 }))
      .filter((e) => e.actor === "costguard:remediation" && e.action.startsWith("resource."))
      .map((e) => e.action);
    assert.deepEqual(steps, ["resource.snapshot", "resource.resize"]);

    // A stopped database cannot be resized, as RDS says of ModifyDBInstance: the task fails, saying why.
    const stopped = await pick(
      (r) => r.type === "database/instance" && r.state === "stopped" && !!otherClass(r),
    );
    clock.advance(60_000);
    const refused = await run(
      [critical(stopped, "resize", { id: "fp-db-stopped", params: { target_type: otherClass(stopped)! } })],
      { ...enabled, safety: { ...enabled.safety, snapshotBeforeResize: false } },
    );
    assert.equal(refused.outcomes[0]!.outcome, "failed");
    assert.match(
      refused.outcomes[0]!.message,
      /is stopped: a database is resized while it is available \(RDS cannot change a stopped one\); start it first/,
    );
    assert.equal((await get(stopped.id)).resource.specs!.instance_type, stopped.specs!.instance_type);
  });
});
