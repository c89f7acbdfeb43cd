import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DEFAULT_REMEDIATION_CONFIG, type RemediationConfig } from "../../src/remediation/config.js";
import { type ExecutorDeps, executeTasks } from "../../src/remediation/executor.js";
import { planRemediation } from "../../src/remediation/planner.js";
import { realisedSavingsText } from "../../src/remediation/saving.js";
import { createMemoryLedger, createMemoryTaskStore, type TaskStore } from "../../src/remediation/store.js";
import type { OwnerNotice, PlannableFinding, RemediationTask } from "../../src/remediation/types.js";
import { ESTATE, fakeCloud } from "./fake-cloud.js";
import { finding } from "./helpers.js";

const NOW = new Date("2025-03-03T09:00:00Z");

function setup(findings: PlannableFinding[], config: RemediationConfig = DEFAULT_REMEDIATION_CONFIG) {
  const fake = fakeCloud(ESTATE);
  const tasks = createMemoryTaskStore();
  const ledger = createMemoryLedger();
  const notices: OwnerNotice[] = [];
  const deps: ExecutorDeps = {
    tasks,
    ledger,
    cloud: fake.cloud,
    clock: () => NOW,
    config,
    notifier: { notify: async (n) => void notices.push(n) },
  };
  const plan = planRemediation({ findings, tasks: [], now: NOW, config });
  return { fake, tasks, ledger, notices, deps, plan };
}

async function planAndRun(s: ReturnType<typeof setup>): Promise<RemediationTask[]> {
  for (const t of s.plan.created) await s.tasks.insert(t);
  await executeTasks(s.plan.due, s.deps);
  return s.tasks.list();
}

const critical = (o: Partial<PlannableFinding>) => finding({ severity: "critical", ...o });

describe("handlers on a cloud with state", () => {
  test("stop: snapshot first, then stop; the ledger records the realised saving", async () => {
    const s = setup([critical({ resource_id: "i-idle", action: "stop" })]);
    const [task] = await planAndRun(s);
    assert.deepEqual(s.fake.log, ["snapshot i-idle", "stop i-idle"]);
    assert.equal(task!.state, "completed");
    assert.equal(task!.result, "stopped (snapshot snap-1)");
    assert.equal(task!.realised_monthly_saving, "140.16");
    const [entry] = await s.ledger.list();
    assert.deepEqual(
      [entry!.cost_before, entry!.cost_after, entry!.monthly_saving],
      ["140.16", "0", "140.16"],
    );
    assert.deepEqual(
      s.notices.map((n) => [n.kind, n.owner]),
      [["remediated", "maria@company.com"]],
    );
    assert.deepEqual(
      task!.history.map((h) => h.to),
      ["due", "in_progress", "completed"],
    );
  });

  test("stop without the snapshot rule takes no snapshot", async () => {
    const config = {
      ...DEFAULT_REMEDIATION_CONFIG,
      safety: { ...DEFAULT_REMEDIATION_CONFIG.safety, snapshotBeforeStop: false },
    };
    const s = setup([critical({ resource_id: "i-idle", action: "stop" })], config);
    const [task] = await planAndRun(s);
    assert.deepEqual(s.fake.log, ["stop i-idle"]);
    assert.equal(task!.safety_snapshot_monthly_cost, "0");
  });

  test("the safety snapshot's monthly cost is kept with the task, exactly; null when the cloud does not price it", async () => {
    const priced = setup([critical({ resource_id: "i-idle", action: "stop" })]);
    const describe = priced.fake.cloud.describe;
    priced.fake.cloud.describe = async (id) =>
      id === "snap-1"
        ? { id, type: "storage/snapshot", monthly_cost: "4.0005", currency: "USD" }
        : describe(id);
    const [task] = await planAndRun(priced);
    assert.equal(task!.safety_snapshot_monthly_cost, "4.0005");
    assert.equal(task!.realised_monthly_saving, "140.16", "the ledger's saving is measured on the resource");
    // The fake cloud cannot describe its snapshots: their cost is not known, not taken as nothing.
    const unpriced = setup([critical({ resource_id: "i-idle", action: "stop" })]);
    const [other] = await planAndRun(unpriced);
    assert.equal(other!.safety_snapshot_monthly_cost, null);
  });

  test("realised savings for people: net of the snapshots kept, the gross shown, unpriced ones said", () => {
    const summary = {
      realised_monthly_savings: "7219.4",
      safety_snapshots_monthly_cost: "911.9",
      safety_snapshots_unpriced: 0,
      net_realised_monthly_savings: "6307.5",
      currency: "USD",
    };
    assert.equal(
      realisedSavingsText(summary),
      "6,307.50 USD/month net (7,219.40 saved, less 911.90 for the safety snapshots kept)",
    );
    assert.equal(
      realisedSavingsText({ ...summary, safety_snapshots_unpriced: 2 }),
      "6,307.50 USD/month net (7,219.40 saved, less 911.90 for the safety snapshots kept; the cost of 2 safety snapshots kept is not known, not taken off)",
    );
    const none = { ...summary, safety_snapshots_monthly_cost: "0", net_realised_monthly_savings: "7219.4" };
    assert.equal(realisedSavingsText(none), "7,219.40 USD/month");
    assert.equal(
      realisedSavingsText({ ...none, safety_snapshots_unpriced: 1 }),
      "7,219.40 USD/month (the cost of 1 safety snapshot kept is not known, not taken off)",
    );
  });

  test("resize: snapshot, stop, resize to the target, start again", async () => {
    const s = setup([
      critical({ resource_id: "i-big", action: "resize", params: { target_type: "m5.large" } }),
    ]);
    const [task] = await planAndRun(s);
    assert.deepEqual(s.fake.log, ["snapshot i-big", "stop i-big", "resize i-big", "start i-big"]);
    assert.equal(s.fake.state.get("i-big")!.specs!.instance_type, "m5.large");
    assert.equal(s.fake.state.get("i-big")!.state, "running");
    assert.equal(task!.realised_monthly_saving, "70.08");
  });

  test("resize failing after the stop: the instance is started again, and a retry stops it before resizing", async () => {
    const s = setup([
      critical({ resource_id: "i-big", action: "resize", params: { target_type: "m5.large" } }),
    ]);
    s.fake.failOnce("resize");
    const [task] = await planAndRun(s);
    assert.equal(task!.state, "failed");
    assert.equal(task!.result, "resize failed: RequestLimitExceeded; started again, as it was before");
    assert.deepEqual(s.fake.log, ["snapshot i-big", "stop i-big", "start i-big"]);
    assert.equal(s.fake.state.get("i-big")!.state, "running");
    assert.equal(s.fake.state.get("i-big")!.specs!.instance_type, "m5.xlarge");
    // The retry: no second snapshot; stop, resize, start.
    const retry = planRemediation({
      findings: [critical({ resource_id: "i-big", action: "resize", params: { target_type: "m5.large" } })],
      tasks: await s.tasks.list(),
      now: NOW,
      config: s.deps.config,
    });
    for (const t of retry.updated) await s.tasks.update(t, (await s.tasks.get(t.id))!.version);
    await executeTasks(retry.due, s.deps);
    const [again] = await s.tasks.list();
    assert.equal(again!.state, "completed", again!.result ?? "");
    assert.deepEqual(s.fake.log.slice(3), ["stop i-big", "resize i-big", "start i-big"]);
    assert.equal(s.fake.state.get("i-big")!.specs!.instance_type, "m5.large");
  });

  test("resize failing after the stop, and the start failing too: the failure says the instance is left stopped", async () => {
    const s = setup([
      critical({ resource_id: "i-big", action: "resize", params: { target_type: "m5.large" } }),
    ]);
    const resize = s.fake.cloud.resize;
    s.fake.cloud.resize = async () => {
      s.fake.failOnce("start");
      throw new Error("Unsupported: the requested configuration is currently not supported");
    };
    const [task] = await planAndRun(s);
    s.fake.cloud.resize = resize;
    assert.equal(task!.state, "failed");
    assert.equal(
      task!.result,
      "Unsupported: the requested configuration is currently not supported; it is left stopped: starting it again failed too (start failed: RequestLimitExceeded)",
    );
    assert.equal(s.fake.state.get("i-big")!.state, "stopped");
  });

  test("an error that stops the run (credentials refused): no attempt counted, no other task started", async () => {
    const s = setup([
      critical({ id: "a", resource_id: "i-idle", action: "stop" }),
      critical({ id: "b", resource_id: "i-big", action: "resize", params: { target_type: "m5.large" } }),
    ]);
    s.fake.cloud.snapshot = async () => {
      throw Object.assign(new Error("Request has expired."), { name: "RequestExpired" });
    };
    s.fake.cloud.stopsTheRun = (err) =>
      (err as Error).name === "RequestExpired" ? `aws: RequestExpired: ${(err as Error).message}` : undefined;
    for (const t of s.plan.created) await s.tasks.insert(t);
    await assert.rejects(executeTasks(s.plan.due, s.deps), (err: Error) => {
      assert.equal(err.name, "InputError");
      assert.match(
        err.message,
        /^aws: RequestExpired: Request has expired\.\nacting stopped at task-\S+ \(stop i-idle\): it and the tasks not reached stay due, no attempt counted/,
      );
      return true;
    });
    const tasks = await s.tasks.list();
    assert.deepEqual(tasks.map((t) => [t.resource_id, t.state, t.attempts]).sort(), [
      ["i-big", "due", 0],
      ["i-idle", "due", 0],
    ]);
    assert.deepEqual(s.fake.log, []);
  });

  test("resize without a target fails before touching the instance", async () => {
    const s = setup([critical({ resource_id: "i-big", action: "resize" })]);
    const [task] = await planAndRun(s);
    assert.equal(task!.state, "failed");
    assert.match(task!.result!, /no resize target/);
    assert.deepEqual(s.fake.log, ["snapshot i-big"]);
    assert.equal(s.fake.state.get("i-big")!.state, "running");
    assert.deepEqual(
      s.notices.map((n) => n.kind),
      ["remediation-failed"],
    );
  });

  test("tag: adds the missing tags and costguard's own, never overwriting a value", async () => {
    const config = { ...DEFAULT_REMEDIATION_CONFIG, tagDefaults: { "cost-center": "CC-000000" } };
    const s = setup(
      [
        critical({
          resource_id: "i-untagged",
          action: "tag",
          params: { missing_tags: ["cost-center", "owner", "project"] },
        }),
      ],
      config,
    );
    const [task] = await planAndRun(s);
    assert.deepEqual(s.fake.state.get("i-untagged")!.tags, {
      project: "x",
      "cost-center": "CC-000000",
      owner: "unassigned",
      "managed-by": "costguard",
      "compliance-status": "needs-review",
    });
    assert.equal(task!.realised_monthly_saving, "0");
    assert.match(task!.result!, /added tags cost-center=CC-000000, owner=unassigned, managed-by=costguard/);
  });

  test("tag: a missing tag named after a prototype key (constructor, toString) is added, from tagDefaults too", async () => {
    const config = { ...DEFAULT_REMEDIATION_CONFIG, tagDefaults: { toString: "ts" } };
    const s = setup(
      [
        critical({
          resource_id: "i-untagged",
          action: "tag",
          params: { missing_tags: ["constructor", "toString"] },
        }),
      ],
      config,
    );
    const [task] = await planAndRun(s);
    const tags = s.fake.state.get("i-untagged")!.tags!;
    assert.equal(Object.hasOwn(tags, "constructor") ? tags.constructor : undefined, "unassigned");
    assert.equal(Object.hasOwn(tags, "toString") ? tags.toString : undefined, "ts");
    assert.match(task!.result!, /added tags constructor=unassigned, toString=ts/);
  });

  test("tag: a missing environment gets no placeholder (it would take the resource out of namespaced policies)", async () => {
    const task = (config: RemediationConfig) =>
      setup(
        [
          critical({
            resource_id: "i-untagged",
            action: "tag",
            params: { missing_tags: ["environment", "owner"] },
          }),
        ],
        config,
      );
    const s = task(DEFAULT_REMEDIATION_CONFIG);
    const [done] = await planAndRun(s);
    const tags = s.fake.state.get("i-untagged")!.tags!;
    assert.equal(tags.owner, "unassigned");
    assert.equal(tags.environment, undefined);
    assert.match(done!.result!, /environment left for the owner/);
    // Run again with costguard's own tags there: nothing to add, and the task says why.
    const again = task(DEFAULT_REMEDIATION_CONFIG);
    const tagged = again.fake.state.get("i-untagged")!;
    again.fake.state.set("i-untagged", {
      ...tagged,
      tags: { ...tagged.tags, owner: "o", "managed-by": "costguard", "compliance-status": "needs-review" },
    });
    const [nothing] = await planAndRun(again);
    assert.deepEqual(again.fake.log, []);
    assert.match(nothing!.result!, /nothing to add: environment is left for the owner/);
    // A value the user chose for it is written like any other default.
    const chosen = task({ ...DEFAULT_REMEDIATION_CONFIG, tagDefaults: { environment: "development" } });
    await planAndRun(chosen);
    assert.equal(chosen.fake.state.get("i-untagged")!.tags!.environment, "development");
  });

  test("terminate and delete are refused unless enabled, and nothing is touched", async () => {
    const s = setup([
      critical({ id: "a", resource_id: "i-doomed", action: "terminate" }),
      critical({ id: "b", resource_id: "vol-orphan", resource_type: "storage/volume", action: "delete" }),
    ]);
    for (const t of s.plan.created) await s.tasks.insert(t);
    const outcomes = await executeTasks(s.plan.due, s.deps);
    assert.deepEqual(
      outcomes.map((o) => o.outcome),
      ["blocked", "blocked"],
    );
    assert.deepEqual(s.fake.log, []);
  });

  test("when enabled, terminate and delete take a snapshot first", async () => {
    const config = {
      ...DEFAULT_REMEDIATION_CONFIG,
      safety: { ...DEFAULT_REMEDIATION_CONFIG.safety, allowTerminate: true, allowDeleteVolumes: true },
    };
    const s = setup(
      [
        critical({ id: "a", resource_id: "i-doomed", action: "terminate" }),
        critical({ id: "b", resource_id: "vol-orphan", resource_type: "storage/volume", action: "delete" }),
      ],
      config,
    );
    const tasks = await planAndRun(s);
    assert.deepEqual(s.fake.log, [
      "snapshot i-doomed",
      "terminate i-doomed",
      "snapshot vol-orphan",
      "delete vol-orphan",
    ]);
    assert.equal(s.fake.state.has("vol-orphan"), false);
    assert.deepEqual(tasks.map((t) => t.realised_monthly_saving).sort(), ["10.5", "40"]);
  });

  test("notify: tells the owner, changes nothing", async () => {
    const s = setup([critical({ resource_id: "i-idle", action: "notify" })]);
    const [task] = await planAndRun(s);
    assert.equal(task!.state, "completed");
    assert.deepEqual(s.fake.log, []);
    assert.deepEqual(
      s.notices.map((n) => n.kind),
      ["violation", "remediated"],
    );
  });

  test("an exception approved after planning skips the task at the last moment", async () => {
    const s = setup([critical({ resource_id: "i-idle", action: "stop" })]);
    s.deps.exceptionFor = (subject) => (subject.resource_id === "i-idle" ? "exc-late" : undefined);
    const [task] = await planAndRun(s);
    assert.equal(task!.state, "skipped");
    assert.equal(task!.result, "excepted by exc-late");
    assert.deepEqual(s.fake.log, []);
  });

  test("a task a crash cut short, excepted since: only the start that puts it back in service, then skipped", async () => {
    const s = setup([
      critical({ resource_id: "i-big", action: "resize", params: { target_type: "m5.large" } }),
    ]);
    for (const t of s.plan.created) await s.tasks.insert(t);
    // The run dies after the stop: snapshot and stop done, resize and start not.
    const dying = { ...s.deps, tasks: dyingStore(s.tasks, 7) };
    await assert.rejects(executeTasks(s.plan.due, dying), /process killed/);
    const [cut] = await s.tasks.list();
    assert.equal(cut!.state, "in_progress");
    assert.deepEqual(s.fake.log, ["snapshot i-big", "stop i-big"]);
    // An exception approved before the next run: the resize is not done; the stop is undone.
    s.deps.exceptionFor = (subject) => (subject.resource_id === "i-big" ? "exc-since" : undefined);
    const resumed = planRemediation({
      findings: [critical({ resource_id: "i-big", action: "resize", params: { target_type: "m5.large" } })],
      tasks: await s.tasks.list(),
      now: NOW,
      config: DEFAULT_REMEDIATION_CONFIG,
    });
    await executeTasks(resumed.due, s.deps);
    const [task] = await s.tasks.list();
    assert.deepEqual(s.fake.log, ["snapshot i-big", "stop i-big", "start i-big"]);
    assert.notEqual(s.fake.state.get("i-big")!.specs!.instance_type, "m5.large");
    assert.equal(s.fake.state.get("i-big")!.state, "running");
    assert.equal(task!.state, "skipped");
    assert.equal(
      task!.result,
      "excepted by exc-since after it began: done snapshot, stop, start; left undone resize",
    );
    assert.deepEqual(await s.ledger.list(), []);
  });

  test("a failed step is retried later without repeating the steps that were done", async () => {
    const s = setup([critical({ resource_id: "i-idle", action: "stop" })]);
    s.fake.failOnce("stop");
    const [failed] = await planAndRun(s);
    assert.equal(failed!.state, "failed");
    assert.equal(failed!.attempts, 1);
    const retry = planRemediation({
      findings: [critical({ resource_id: "i-idle", action: "stop" })],
      tasks: await s.tasks.list(),
      now: NOW,
      config: DEFAULT_REMEDIATION_CONFIG,
    });
    for (const t of retry.updated) await s.tasks.update(t, t.version - 1);
    await executeTasks(retry.due, s.deps);
    const [done] = await s.tasks.list();
    assert.equal(done!.state, "completed");
    assert.equal(done!.attempts, 2);
    assert.deepEqual(s.fake.log, ["snapshot i-idle", "stop i-idle"]);
  });

  test("two runs racing for one task: only one acts", async () => {
    const s = setup([critical({ resource_id: "i-idle", action: "stop" })]);
    for (const t of s.plan.created) await s.tasks.insert(t);
    const [a, b] = await Promise.all([executeTasks(s.plan.due, s.deps), executeTasks(s.plan.due, s.deps)]);
    assert.deepEqual([a![0]!.outcome, b![0]!.outcome].sort(), ["completed", "taken"]);
    assert.deepEqual(s.fake.log, ["snapshot i-idle", "stop i-idle"]);
  });
});

/** A store that dies (like a killed process) after a number of writes; the data written so far stays. */
function dyingStore(inner: TaskStore, writesLeft: number): TaskStore {
  let left = writesLeft;
  const die = () => {
    if (left-- <= 0) throw new Error("process killed");
  };
  const self: TaskStore = {
    batch: (fn) => fn(self),
    async insert(t) {
      die();
      return inner.insert(t);
    },
    async update(t, v) {
      die();
      return inner.update(t, v);
    },
    get: (id) => inner.get(id),
    list: (f) => inner.list(f),
    tryActing: (inventory) => inner.tryActing(inventory),
    lastChange: (inventory) => inner.lastChange(inventory),
  };
  return self;
}

describe("crash at every write, then start again", () => {
  test("each action happens exactly once, whatever write the crash interrupts", async () => {
    const findings = [
      critical({ id: "a", resource_id: "i-big", action: "resize", params: { target_type: "m5.large" } }),
      critical({ id: "b", resource_id: "i-idle", action: "stop" }),
      critical({ id: "c", resource_id: "i-untagged", action: "tag", params: { missing_tags: ["owner"] } }),
    ];
    const expected = [
      "snapshot i-big",
      "stop i-big",
      "resize i-big",
      "start i-big",
      "snapshot i-idle",
      "stop i-idle",
      "tag i-untagged",
    ];
    let crashes = 0;
    for (let writes = 0; ; writes++) {
      const s = setup(findings);
      const run = async (store: TaskStore) => {
        const plan = planRemediation({
          findings,
          tasks: await store.list(),
          now: NOW,
          config: DEFAULT_REMEDIATION_CONFIG,
        });
        for (const t of plan.created) await store.insert(t);
        for (const t of plan.updated) await store.update(t, t.version - 1);
        await executeTasks(plan.due, { ...s.deps, tasks: store });
      };
      // Every action in the audit log once, whichever write the crash cut off.
      const audited: string[] = [];
      s.deps.audit = {
        append: async (e) => void audited.push(`${e.action.replace("remediation.", "")} ${e.subject_id}`),
      };
      let crashed = false;
      await run(dyingStore(s.tasks, writes)).catch((err: Error) => {
        assert.equal(err.message, "process killed");
        crashed = true;
      });
      if (!crashed) break;
      crashes++;
      await run(s.tasks);
      assert.deepEqual(s.fake.log, expected, `crash after ${writes} writes`);
      assert.deepEqual(
        audited.filter((a) => !a.startsWith("completed")).sort(),
        [...expected].sort(),
        `audit after a crash at write ${writes}`,
      );
      const tasks = await s.tasks.list();
      assert.ok(
        tasks.every((t) => t.state === "completed"),
        `all completed after crash at write ${writes}`,
      );
      assert.equal((await s.ledger.list()).length, 3);
    }
    assert.ok(crashes > 20, `the crash was placed at ${crashes} points`);
  });
});
