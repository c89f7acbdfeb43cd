import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConflictError, NotFoundError, StoredDataError } from "../../src/errors.js";
import { createException } from "../../src/exceptions/lifecycle.js";
import { createMemoryExceptionStore, type ExceptionStore } from "../../src/exceptions/store.js";
import type { PolicyException } from "../../src/exceptions/types.js";
import { DEFAULT_REMEDIATION_CONFIG } from "../../src/remediation/config.js";
import {
  createMemoryLedger,
  createMemoryTaskStore,
  type SavingsLedger,
  type TaskStore,
} from "../../src/remediation/store.js";
import { newTask, updateTask } from "../../src/remediation/task.js";
import { openPostgresDb } from "../../src/store/postgres-db.js";
import { openSqliteDb } from "../../src/store/sqlite-db.js";
import { describeEachDatabase } from "../helpers/databases.js";
import { finding } from "../remediation/helpers.js";

const T0 = new Date("2025-03-01T00:00:00Z");

function exception(id: string, extra: Partial<PolicyException> = {}): PolicyException {
  const e = createException(
    {
      resource_id: `i-${id}`,
      policy: "mandatory-tags",
      rule: "cost-center-required",
      justification: "migration",
      requested_by: "alice",
      duration_ms: 86_400_000,
    },
    { id, now: new Date(T0.getTime() + Number(id.replace(/\D/g, "")) * 1000), policyType: "TagRequirement" },
  );
  return { ...e, ...extra };
}

interface Stores {
  exceptions: ExceptionStore;
  tasks: TaskStore;
  ledger: SavingsLedger;
}

/** The contract every implementation keeps: the in-memory fakes and both databases. */
function contract(stores: () => Stores): void {
  test("exceptions: insert, get, list with filters, in request order", async () => {
    const { exceptions } = stores();
    await exceptions.insert(exception("e2", { policy: "resource-limits" }));
    await exceptions.insert(exception("e1"));
    await exceptions.insert(exception("e3", { status: "approved", requested_by: "bob" }));
    await assert.rejects(exceptions.insert(exception("e1")), ConflictError);
    assert.deepEqual((await exceptions.get("e3"))!.requested_by, "bob");
    assert.equal(await exceptions.get("nope"), undefined);
    assert.deepEqual(
      (await exceptions.list()).map((e) => e.id),
      ["e1", "e2", "e3"],
    );
    assert.deepEqual(
      (await exceptions.list({ status: "approved" })).map((e) => e.id),
      ["e3"],
    );
    assert.deepEqual(
      (await exceptions.list({ policy: "resource-limits" })).map((e) => e.id),
      ["e2"],
    );
    assert.deepEqual(
      (await exceptions.list({ resource_id: "i-e1" })).map((e) => e.id),
      ["e1"],
    );
    assert.deepEqual(
      (await exceptions.list({ requested_by: "bob", status: "pending" })).map((e) => e.id),
      [],
    );
    // A requester is one user in any case or way of writing the name, in every store: SQLite's
    // lower() folds only ASCII (Ö stays), PostgreSQL's by its collation.
    await exceptions.insert(exception("e4", { requested_by: "Östen" }));
    await exceptions.insert(exception("e5", { requested_by: "ＢＯＢ" }));
    assert.deepEqual(
      (await exceptions.list({ requested_by: "Bob" })).map((e) => e.id),
      ["e3", "e5"],
    );
    assert.deepEqual(
      (await exceptions.list({ requested_by: "östen" })).map((e) => e.id),
      ["e4"],
    );
    assert.deepEqual(
      (await exceptions.list({ requested_by: "BOB", status: "approved" })).map((e) => e.id),
      ["e3"],
    );
  });

  test("exceptions: updates need the current version; the whole record round-trips", async () => {
    const { exceptions } = stores();
    const e = exception("e10");
    await exceptions.insert(e);
    const approved: PolicyException = {
      ...e,
      status: "approved",
      version: 2,
      selector: null,
      history: [...e.history, { at: T0.toISOString(), by: "carol", action: "approved", note: "ok" }],
    };
    await exceptions.update(approved, 1);
    assert.deepEqual(await exceptions.get("e10"), approved);
    await assert.rejects(exceptions.update({ ...approved, version: 3 }, 1), ConflictError);
    await assert.rejects(exceptions.update({ ...approved, id: "ghost" }, 1), NotFoundError);
  });

  test("tasks: insert once, versioned updates, filters", async () => {
    const { tasks } = stores();
    const t = newTask(finding({ id: "fp-1" }), 1, T0, DEFAULT_REMEDIATION_CONFIG);
    assert.equal(await tasks.insert(t), true);
    assert.equal(await tasks.insert(t), false, "the same task again is refused quietly");
    const done = updateTask(t, T0, { state: "completed", result: "stopped" }, "completed");
    await tasks.update(done, t.version);
    await assert.rejects(tasks.update(done, t.version), ConflictError);
    assert.deepEqual(await tasks.get(t.id), done);
    const other = newTask(finding({ id: "fp-2", resource_id: "i-2" }), 1, T0, DEFAULT_REMEDIATION_CONFIG);
    await tasks.insert(other);
    assert.deepEqual(
      (await tasks.list({ states: ["completed"] })).map((x) => x.id),
      [t.id],
    );
    assert.deepEqual(
      (await tasks.list({ finding_ids: ["fp-2"] })).map((x) => x.id),
      [other.id],
    );
    assert.deepEqual(
      (await tasks.list({ resource_id: "i-2" })).map((x) => x.id),
      [other.id],
    );
    assert.deepEqual(await tasks.list({ finding_ids: [] }), []);
    // By the inventory a task acts in.
    const inAws = newTask(
      finding({ id: "fp-3", resource_id: "i-3", inventory: "aws:us-east-1" }),
      1,
      T0,
      DEFAULT_REMEDIATION_CONFIG,
    );
    await tasks.insert(inAws);
    assert.equal((await tasks.get(inAws.id))?.inventory, "aws:us-east-1");
    assert.deepEqual(
      (await tasks.list({ inventory: "aws:us-east-1" })).map((x) => x.id),
      [inAws.id],
    );
    assert.deepEqual(await tasks.list({ inventory: "sandbox" }), []);
    // Completed tasks by whether a full scan has seen their finding resolved since.
    assert.deepEqual(
      (await tasks.list({ states: ["completed"], finding_resolved: false })).map((x) => x.id),
      [t.id],
    );
    assert.deepEqual(await tasks.list({ finding_resolved: true }), []);
    const resolved = updateTask(done, T0, { finding_resolved_at: T0.toISOString() }, "resolved");
    await tasks.update(resolved, done.version);
    assert.deepEqual(await tasks.list({ states: ["completed"], finding_resolved: false }), []);
    assert.deepEqual(
      (await tasks.list({ finding_resolved: true })).map((x) => x.id),
      [t.id],
    );
  });

  test("tasks: listed by more finding ids than one statement may bind (a large scan's findings)", async () => {
    const { tasks } = stores();
    // Created newest-first, so the order asked for (oldest first) is not the order of insertion.
    const made = [];
    for (let i = 0; i < 600; i++) {
      const at = new Date(T0.getTime() + (600 - i) * 1000);
      const t = newTask(
        finding({ id: `fp-many-${i}`, resource_id: `i-many-${i}` }),
        1,
        at,
        DEFAULT_REMEDIATION_CONFIG,
      );
      await tasks.insert(t);
      made.push(t);
    }
    const done = updateTask(made[7]!, T0, { state: "completed", result: "stopped" }, "completed");
    await tasks.update(done, made[7]!.version);
    // 70,000 ids (more than SQLite's 32,766 or PostgreSQL's 65,535 parameters), the tasks' among
    // ids no task has, some twice.
    const ids: string[] = [];
    for (let i = 0; i < 70_000; i++)
      ids.push(i % 116 === 0 && i / 116 < 600 ? `fp-many-${i / 116}` : `fp-none-${i}`);
    ids.push("fp-many-3", "fp-many-599");
    const oldestFirst = [...made].reverse().map((t) => t.id);
    assert.deepEqual(
      (await tasks.list({ finding_ids: ids })).map((t) => t.id),
      oldestFirst,
    );
    assert.deepEqual(
      (await tasks.list({ finding_ids: ids, states: ["completed"] })).map((t) => t.id),
      [done.id],
    );
    assert.deepEqual(await tasks.list({ finding_ids: ids.filter((id) => id.startsWith("fp-none")) }), []);
    // limit: the oldest, with or without finding ids.
    assert.deepEqual(
      (await tasks.list({ finding_ids: ids, limit: 3 })).map((t) => t.id),
      oldestFirst.slice(0, 3),
    );
    assert.deepEqual(
      (await tasks.list({ limit: 2 })).map((t) => t.id),
      (await tasks.list()).slice(0, 2).map((t) => t.id),
    );
    assert.deepEqual(
      (await tasks.list({ finding_ids: ["fp-many-5", "fp-many-9", "fp-many-2"], limit: 2 })).map((t) => t.id),
      [made[9]!.id, made[5]!.id],
    );
    assert.deepEqual(await tasks.list({ limit: 0 }), []);
  });

  test("tasks: one hold on acting per inventory at a time, free again once let go", async () => {
    const tasks = stores().tasks;
    const first = await tasks.tryActing("contract:acting");
    assert.ok(first);
    assert.equal(await tasks.tryActing("contract:acting"), undefined);
    const other = await tasks.tryActing("contract:other");
    assert.ok(other, "another inventory is acted on freely");
    await first.release();
    await first.release();
    const again = await tasks.tryActing("contract:acting");
    assert.ok(again);
    await again.release();
    await other.release();
  });

  test("ledger: one entry per task, kept exactly", async () => {
    const { ledger } = stores();
    const entry = {
      task_id: "task-1",
      resource_id: "i-1",
      resource_type: "compute/instance",
      action: "stop" as const,
      policy: "idle-resource-detection",
      rule: "low-utilization",
      cost_before: "140.160000000001",
      cost_after: "0",
      monthly_saving: "140.160000000001",
      currency: "USD",
      recorded_at: T0.toISOString(),
    };
    assert.equal(await ledger.record(entry), true);
    assert.equal(await ledger.record({ ...entry, monthly_saving: "1" }), false);
    assert.deepEqual(await ledger.list(), [entry]);
  });
}

describe("exception and remediation stores [memory]", () => {
  const stores = {
    exceptions: createMemoryExceptionStore(),
    tasks: createMemoryTaskStore(),
    ledger: createMemoryLedger(),
  };
  contract(() => stores);
});

describeEachDatabase("exception and remediation stores", (ctx) => {
  contract(() => ctx.store);

  test("the database refuses a second active task for one finding", async () => {
    const a = newTask(finding({ id: "fp-9" }), 1, T0, DEFAULT_REMEDIATION_CONFIG);
    const b = newTask(finding({ id: "fp-9" }), 2, T0, DEFAULT_REMEDIATION_CONFIG);
    assert.equal(await ctx.store.tasks.insert(a), true);
    assert.equal(await ctx.store.tasks.insert(b), false);
    await ctx.store.tasks.update(updateTask(a, T0, { state: "skipped" }, "skipped"), a.version);
    assert.equal(await ctx.store.tasks.insert(b), true, "once the first is finished, a new one may start");
  });

  test("an exception or task whose stored data is not JSON is named in one error, not a parse failure", async () => {
    await ctx.store.exceptions.insert(exception("e-bad"));
    const task = newTask(finding({ id: "fp-bad" }), 1, T0, DEFAULT_REMEDIATION_CONFIG);
    await ctx.store.tasks.insert(task);
    const raw = ctx.kind === "sqlite" ? openSqliteDb(ctx.db.url) : openPostgresDb(ctx.db.url);
    try {
      await raw.run("UPDATE policy_exceptions SET data = '{\"id\": ' WHERE id = 'e-bad'");
      await raw.run("UPDATE remediation_tasks SET data = 'not json' WHERE id = ?", [task.id]);
    } finally {
      await raw.close();
    }
    const damaged = (what: string) => (err: unknown) =>
      err instanceof StoredDataError &&
      err.message.startsWith(`${what}: not JSON as costguard stores it (`) &&
      err.message.endsWith("; the database was changed by something other than costguard, or is damaged");
    await assert.rejects(ctx.store.exceptions.get("e-bad"), damaged("exception e-bad"));
    await assert.rejects(ctx.store.exceptions.list(), damaged("exception e-bad"));
    await assert.rejects(ctx.store.tasks.get(task.id), damaged(`remediation task ${task.id}`));
    await assert.rejects(ctx.store.tasks.list({}), damaged(`remediation task ${task.id}`));
    await assert.rejects(
      ctx.store.tasks.list({ finding_ids: ["fp-bad"] }),
      damaged(`remediation task ${task.id}`),
    );
  });
});
