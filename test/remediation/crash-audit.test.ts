import assert from "node:assert/strict";
import { test } from "node:test";
import { taskAndAuditTransaction } from "../../src/cycle/compliance-cycle.js";
import type { AuditSink } from "../../src/exceptions/service.js";
import { DEFAULT_REMEDIATION_CONFIG } from "../../src/remediation/config.js";
import { runRemediation } from "../../src/remediation/cycle.js";
import { type ExecutorDeps, executeTasks } from "../../src/remediation/executor.js";
import { planRemediation } from "../../src/remediation/planner.js";
import type { TaskStore } from "../../src/remediation/store.js";
import type { Store } from "../../src/store/store.js";
import { describeEachDatabase } from "../helpers/databases.js";
import { ESTATE, fakeCloud } from "./fake-cloud.js";
import { finding } from "./helpers.js";

const NOW = new Date("2025-03-03T09:00:00Z");

/**
 * A process that is killed when it writes the audit entry `killAt`: that write and every one after it
 * fail, and what the database committed before stays. A transaction under way is not committed.
 */
function killedAt(killAt: string) {
  let dead = false;
  const alive = () => {
    if (dead) throw new Error("process killed");
  };
  const audit = (inner: AuditSink): AuditSink => ({
    async append(e) {
      alive();
      if (e.action === killAt) {
        dead = true;
        alive();
      }
      return inner.append(e);
    },
  });
  const tasks = (inner: TaskStore): TaskStore => ({
    ...inner,
    async insert(t) {
      alive();
      return inner.insert(t);
    },
    async update(t, v) {
      alive();
      return inner.update(t, v);
    },
  });
  return { audit, tasks };
}

/** The executor's dependencies as the compliance cycle wires them over a store. */
function depsOver(
  store: Store,
  cloud: ExecutorDeps["cloud"],
  kill?: ReturnType<typeof killedAt>,
): ExecutorDeps {
  const tasks = (t: TaskStore) => (kill ? kill.tasks(t) : t);
  const audit = (a: AuditSink) => (kill ? kill.audit(a) : a);
  return {
    tasks: tasks(store.tasks),
    audit: audit(store.audit),
    transaction: (fn) =>
      taskAndAuditTransaction(store)((tx) => fn({ tasks: tasks(tx.tasks), audit: audit(tx.audit) })),
    ledger: store.ledger,
    cloud,
    clock: () => NOW,
    config: DEFAULT_REMEDIATION_CONFIG,
  };
}

describeEachDatabase("a kill between a task's change and its audit entry", (ctx) => {
  for (const killAt of ["remediation.snapshot", "remediation.stop", "remediation.completed"]) {
    test(`killed writing ${killAt}: after the next run the entry is in the log exactly once`, async () => {
      const fake = fakeCloud(ESTATE);
      const f = finding({ id: `f-${killAt}`, resource_id: "i-idle", action: "stop", severity: "critical" });
      const plan = planRemediation({
        findings: [f],
        tasks: [],
        now: NOW,
        config: DEFAULT_REMEDIATION_CONFIG,
      });
      const [task] = plan.created;
      await ctx.store.tasks.insert(task!);

      await assert.rejects(
        executeTasks(plan.due, depsOver(ctx.store, fake.cloud, killedAt(killAt))),
        /process killed/,
      );
      const outcomes = await executeTasks(plan.due, depsOver(ctx.store, fake.cloud));

      assert.equal(outcomes[0]!.outcome, "completed");
      assert.deepEqual(fake.log, ["snapshot i-idle", "stop i-idle"]);
      const entries = (await ctx.store.audit.list({ subjectId: "i-idle" })).filter(
        (e) => e.details.task === task!.id,
      );
      assert.deepEqual(
        entries.map((e) => e.action),
        ["remediation.snapshot", "remediation.stop", "remediation.completed"],
      );
      // Cut off with its change, the step's entry is written by the run that finds its effect there.
      const killed = entries.find((e) => e.action === killAt)!;
      if (killAt !== "remediation.completed") assert.equal(killed.details.recovered, true);
    });
  }

  test("killed writing a skip decided when planning: after the next run the entry is in the log exactly once", async () => {
    const fake = fakeCloud(ESTATE);
    // A tag waits in its grace period; then its finding is gone, and the plan skips it.
    const f = finding({ id: "f-skip", resource_id: "i-untagged", action: "tag" });
    const run = (findings: (typeof f)[], deps: ExecutorDeps) =>
      runRemediation({ findings, inventorySize: 10, execute: true, complete: true, deps });
    await run([f], depsOver(ctx.store, fake.cloud));
    const [task] = await ctx.store.tasks.list({ finding_ids: ["f-skip"] });
    assert.equal(task!.state, "notified");

    await assert.rejects(
      run([], depsOver(ctx.store, fake.cloud, killedAt("remediation.skipped"))),
      /process killed/,
    );
    await run([], depsOver(ctx.store, fake.cloud));

    assert.equal((await ctx.store.tasks.get(task!.id))!.state, "skipped");
    const skips = (await ctx.store.audit.list({ action: "remediation.skipped" })).filter(
      (e) => e.details.task === task!.id,
    );
    assert.equal(skips.length, 1);
  });
});
