import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { renderCycleSummary } from "../../src/cli/remediation-output.js";
import { createDecider } from "../../src/decide/decider.js";
import { compilePolicySet } from "../../src/engine/compile.js";
import { createExceptionAnnotator } from "../../src/exceptions/annotator.js";
import { sandboxResourceActions } from "../../src/inventory/sandbox/resource-actions.js";
import { SANDBOX_SOURCE } from "../../src/inventory/sandbox/sandbox.js";
import type { InventoryProvider } from "../../src/inventory/types.js";
import { parseAmount } from "../../src/money/exact.js";
import { DEFAULT_REMEDIATION_CONFIG } from "../../src/remediation/config.js";
import { sumAmounts } from "../../src/remediation/saving.js";
import { DAY_MS, HOUR_MS } from "../../src/time/duration.js";
import { twinInstance } from "../helpers/scan-context.js";
import { ACT_NOW, policies, prices, type Sandbox, sandbox, T0 } from "./helpers.js";

/** The remediation's own changes to the sandbox, in order: "action id". */
async function remediationActions(s: Sandbox): Promise<string[]> {
  const entries = await s.store.audit.list({ limit: 100_000 });
  return entries
    .filter((e) => e.actor === "costguard:remediation" && e.action.startsWith("resource."))
    .map((e) => `${e.action.slice("resource.".length)} ${e.subject_id}`);
}

describe("a compliance cycle on the sandbox", () => {
  let s: Sandbox;
  before(async () => {
    s = await sandbox(120, "b");
  });
  after(async () => s.close());

  test("a dry run changes nothing: same estate, no task, no action, no notice", async () => {
    const before = await s.resources();
    const run = await s.cycle({ execute: false, remediation: ACT_NOW });
    assert.ok(run.summary.violations_found > 50);
    assert.ok(run.remediation.plan.due.length > 50);
    assert.deepEqual(await s.resources(), before);
    assert.deepEqual(await s.store.tasks.list(), []);
    assert.deepEqual(await remediationActions(s), []);
    assert.deepEqual(s.notices, []);
    assert.equal(run.summary.mode, "dry-run");
    assert.equal(run.summary.remediations_completed, 0);
  });

  test("executing acts through the sandbox: every handler changes real state, snapshots first", async () => {
    const before = await s.resources();
    const run = await s.cycle({ execute: true, remediation: ACT_NOW });
    const after = await s.resources();
    // A volume both orphaned and untagged is deleted; its tag task then finds nothing to tag.
    const notDone = run.remediation.outcomes.filter(
      (o) =>
        o.outcome !== "completed" &&
        !(o.outcome === "skipped" && after.get(o.task.resource_id)?.state === "deleted"),
    );
    assert.deepEqual(
      notDone.map((o) => `${o.task.action} ${o.task.resource_id}: ${o.message}`),
      [],
    );
    const actions = await remediationActions(s);
    const done = (kind: string) =>
      run.remediation.outcomes
        .filter((o) => o.task.action === kind && o.outcome === "completed")
        .map((o) => o.task);
    assert.ok(done("stop").length > 0 && done("delete").length > 0 && done("tag").length > 0);
    assert.ok(done("resize").length > 0 && done("notify").length > 0);

    for (const t of done("stop")) {
      assert.equal(after.get(t.resource_id)!.state, "stopped", t.resource_id);
      assert.ok(actions.indexOf(`snapshot ${t.resource_id}`) < actions.indexOf(`stop ${t.resource_id}`));
      assert.ok(
        actions.indexOf(`snapshot ${t.resource_id}`) >= 0,
        `snapshot before stopping ${t.resource_id}`,
      );
    }
    for (const t of done("delete")) {
      assert.equal(after.get(t.resource_id)!.state, "deleted");
      const snap = [...after.values()].find(
        (r) => r.type === "storage/snapshot" && r.specs?.source === t.resource_id,
      );
      assert.ok(snap, `a snapshot of ${t.resource_id} was kept`);
      // The source's tags (cost allocation), and the marker that it is costguard's safety snapshot.
      assert.deepEqual(snap.tags, {
        ...(before.get(t.resource_id)!.tags ?? {}),
        ...(after.get(t.resource_id)!.tags ?? {}),
        "costguard:source": t.resource_id,
      });
      assert.ok(actions.indexOf(`snapshot ${t.resource_id}`) < actions.indexOf(`delete ${t.resource_id}`));
    }
    for (const t of done("resize")) {
      const r = after.get(t.resource_id)!;
      assert.equal(r.specs!.instance_type, t.params.target_type);
      assert.notEqual(before.get(t.resource_id)!.specs!.instance_type, t.params.target_type);
      assert.equal(r.state, before.get(t.resource_id)!.state, "running again after the resize");
      // An instance is stopped to be resized; a database is resized in place while it runs, as RDS does.
      assert.deepEqual(
        actions.filter((a) => a.endsWith(t.resource_id) && !a.startsWith("tag ")).map((a) => a.split(" ")[0]),
        t.resource_type === "database/instance"
          ? ["snapshot", "resize"]
          : ["snapshot", "stop", "resize", "start"],
      );
    }
    for (const t of done("tag")) {
      const tags = after.get(t.resource_id)!.tags!;
      assert.equal(tags["managed-by"], "costguard");
      assert.equal(tags["compliance-status"], "needs-review");
      const had = before.get(t.resource_id)!.tags ?? {};
      for (const key of t.params.missing_tags ?? []) {
        if (had[key] !== undefined) continue; // a bad value: kept as it was (below)
        // No placeholder for environment: it would take the resource out of the production policies.
        if (key === "environment") assert.equal(tags[key], undefined, `${t.resource_id}: environment left`);
        else assert.ok(tags[key] !== undefined, `${t.resource_id} has ${key}`);
      }
      for (const [k, v] of Object.entries(before.get(t.resource_id)!.tags ?? {}))
        if (k !== "managed-by" && k !== "compliance-status") assert.equal(tags[k], v, "existing values kept");
    }
    // A notification changes nothing (on resources no other task changed).
    const changedByOthers = new Set(
      run.remediation.outcomes.filter((o) => o.task.action !== "notify").map((o) => o.task.resource_id),
    );
    for (const t of done("notify").filter((x) => !changedByOthers.has(x.resource_id)))
      assert.deepEqual(after.get(t.resource_id), before.get(t.resource_id));

    // Each action happened once.
    assert.equal(new Set(actions).size, actions.length);
    // The ledger holds each completed task once; the stops saved the instances' running cost.
    const ledger = await s.store.ledger.list();
    assert.equal(ledger.length, run.remediation.outcomes.filter((o) => o.outcome === "completed").length);
    assert.equal(sumAmounts(ledger.map((e) => e.monthly_saving)), run.summary.realised_monthly_savings);
    for (const t of done("stop").filter((x) => x.resource_type === "compute/instance")) {
      const entry = ledger.find((e) => e.task_id === t.id)!;
      assert.equal(
        parseAmount(entry.monthly_saving),
        parseAmount(String(before.get(t.resource_id)!.monthly_cost)),
      );
    }
    for (const t of done("delete")) {
      const entry = ledger.find((e) => e.task_id === t.id)!;
      assert.equal(entry.cost_after, "0");
    }
    assert.ok(parseAmount(run.summary.realised_monthly_savings) > 0n);

    // The snapshots taken before acting are kept, and cost: the summary takes them off, exactly.
    const snapshotCosts: string[] = [];
    for (const o of run.remediation.outcomes.filter((x) => x.outcome === "completed")) {
      const step = o.task.steps.find((x) => x.name === "snapshot")?.detail;
      const taken = step && !step.startsWith("none") ? [after.get(step)!] : [];
      assert.equal(
        o.task.safety_snapshot_monthly_cost,
        sumAmounts(taken.map((r) => String(r.monthly_cost))),
        `${o.task.action} ${o.task.resource_id}`,
      );
      snapshotCosts.push(o.task.safety_snapshot_monthly_cost!);
    }
    const kept = sumAmounts(snapshotCosts);
    assert.ok(parseAmount(kept) > 0n);
    assert.equal(run.summary.safety_snapshots_monthly_cost, kept);
    assert.equal(run.summary.safety_snapshots_unpriced, 0);
    assert.equal(
      parseAmount(run.summary.net_realised_monthly_savings),
      parseAmount(run.summary.realised_monthly_savings) - parseAmount(kept),
    );
    assert.match(
      renderCycleSummary(run.summary, false),
      /^Realised savings +[\d,]+\.\d\d USD\/month net \([\d,]+\.\d\d saved, less [\d,]+\.\d\d for the safety snapshots kept\)$/m,
    );
  });

  test("the next scan sees the changes: idle and orphaned findings are gone and nothing acts twice", async () => {
    const actionsBefore = await remediationActions(s);
    s.clock.advance(HOUR_MS);
    const run = await s.cycle({ execute: true, remediation: ACT_NOW });
    const rules = new Set(run.scan.top_findings.map((f) => f.rule));
    assert.ok(
      !rules.has("low-utilization") || run.scan.summary.by_policy["idle-resource-detection"] === undefined,
    );
    assert.equal(run.scan.summary.by_policy["orphaned-resource-detection"], undefined);
    // Tagged with placeholders that still fail their pattern: passed to a person, not tagged again.
    assert.ok(run.remediation.plan.passed.some((p) => /already remediated/.test(p.reason)));
    const again = (await remediationActions(s)).slice(actionsBefore.length);
    for (const a of again) assert.ok(!actionsBefore.includes(a), `repeated: ${a}`);
    // costguard's own safety snapshots carry their sources' tags, untagged ones too: their tag
    // findings stay in the scan, and no task (nor notice) is made for them.
    const snapshots = [...(await s.resources()).values()].filter((r) => r.tags?.["costguard:source"]);
    assert.ok(snapshots.length > 0);
    const ids = new Set(snapshots.map((r) => r.id));
    assert.ok(run.scan.summary.by_policy["mandatory-tags"]);
    assert.deepEqual(
      run.remediation.plan.created.filter((t) => ids.has(t.resource_id)).map((t) => t.resource_id),
      [],
    );
    assert.ok(
      run.remediation.plan.passed.some(
        (p) => ids.has(p.resource_id) && /^a safety snapshot costguard took of /.test(p.reason),
      ),
    );
  });
});

describe("grace periods in a real cycle", () => {
  test("day 0 warns, high acts after 24 hours, medium escalates after 7 days and acts a day later", async () => {
    const s = await sandbox(80, "grace");
    try {
      const config = {
        ...DEFAULT_REMEDIATION_CONFIG,
        safety: { ...DEFAULT_REMEDIATION_CONFIG.safety, maxActions: 1000, maxActionsPercent: 100 },
      };
      const first = await s.cycle({ execute: true, remediation: config });
      assert.equal(first.summary.remediations_completed, 0);
      assert.equal(first.summary.owner_warnings, first.summary.tasks_created);
      const warned = s.notices.length;
      assert.ok(warned > 0);

      s.clock.advance(12 * HOUR_MS);
      const noon = await s.cycle({ execute: true, remediation: config });
      assert.equal(noon.summary.remediations_completed, 0);
      assert.equal(noon.summary.owner_warnings, 0, "no warning is repeated");

      s.clock.advance(12 * HOUR_MS);
      const day1 = await s.cycle({ execute: true, remediation: config });
      const acted = day1.remediation.outcomes.map((o) => o.task);
      assert.ok(acted.length > 0);
      assert.ok(acted.every((t) => t.initial_severity === "high" || t.initial_severity === "critical"));

      s.clock.advance(6 * DAY_MS);
      await s.cycle({ execute: true, remediation: config });
      const medium = (await s.store.tasks.list()).filter(
        (t) => t.initial_severity === "medium" && t.created_at === T0,
      );
      assert.ok(medium.length > 0);
      assert.ok(
        medium.every((t) => t.severity === "high" && t.escalated_at !== null),
        "escalated at day 7",
      );
      assert.ok(medium.every((t) => t.state === "notified"));

      s.clock.advance(DAY_MS);
      const day8 = await s.cycle({ execute: true, remediation: config });
      const mediumDone = day8.remediation.outcomes.filter((o) => o.task.initial_severity === "medium");
      assert.ok(mediumDone.length > 0);
      assert.ok(mediumDone.every((o) => o.outcome === "completed" || o.outcome === "blocked"));
    } finally {
      await s.close();
    }
  });
});

describe("a finding resolved and then found again", () => {
  test("gets a new task and grace: a stopped instance started again is stopped again", async () => {
    const s = await sandbox(80, "reopen");
    try {
      const config = { ...ACT_NOW, grace: { ...ACT_NOW.grace, medium: 7 * DAY_MS, high: DAY_MS } };
      const first = await s.cycle({ execute: true, remediation: ACT_NOW });
      const stopped = first.remediation.outcomes.find(
        (o) =>
          o.outcome === "completed" &&
          o.task.action === "stop" &&
          o.task.resource_type === "compute/instance",
      )?.task;
      assert.ok(stopped, "an idle instance stopped");

      // The next scan no longer sees it: the completed task is marked so.
      s.clock.advance(HOUR_MS);
      const gone = await s.cycle({ execute: true, remediation: config });
      assert.ok(!gone.scan.top_findings.some((f) => f.fingerprint === stopped.finding_id));
      assert.equal((await s.store.tasks.get(stopped.id))!.finding_resolved_at, s.clock.now().toISOString());

      // Someone starts it again: the same finding, a new violation, a new task with its own grace.
      await sandboxResourceActions(s.store, prices, s.clock.now).start(stopped.resource_id);
      s.clock.advance(HOUR_MS);
      const back = await s.cycle({ execute: true, remediation: config });
      const task = back.remediation.plan.created.find((t) => t.finding_id === stopped.finding_id);
      assert.ok(task, "a new task for the finding found again");
      assert.notEqual(task.id, stopped.id);
      assert.equal(task.state, "notified");
      assert.ok(!back.remediation.plan.passed.some((p) => p.finding_id === stopped.finding_id));
      assert.ok(
        s.notices.some((n) => n.task_id === task.id && n.kind === "grace-started"),
        "its owner warned",
      );
      assert.ok(back.summary.tasks_created >= 1);

      // Its notice ends, it is escalated, and a day later acted on.
      s.clock.advance(7 * DAY_MS);
      await s.cycle({ execute: true, remediation: config });
      s.clock.advance(DAY_MS);
      const acted = await s.cycle({ execute: true, remediation: config });
      assert.ok(acted.remediation.outcomes.some((o) => o.task.id === task.id && o.outcome === "completed"));
      assert.equal((await s.resources()).get(stopped.resource_id)!.state, "stopped");
    } finally {
      await s.close();
    }
  });
});

describe("exception reviews in the run's summary", () => {
  test("an overdue review is counted on every run while it stays overdue; its reminder once", async () => {
    const s = await sandbox(40, "reviews");
    try {
      const dry = await s.cycle({ execute: false, remediation: ACT_NOW, storeScan: false });
      const target = dry.remediation.plan.due[0]!;
      const exc = await s.exceptions.request({
        resource_id: target.resource_id,
        policy: target.policy,
        rule: target.rule,
        justification: "kept while the team migrates",
        requested_by: "alice",
        review_interval_days: 1,
      });
      await s.exceptions.approve(exc.id, "frank");
      s.clock.advance(2 * DAY_MS);
      const first = await s.cycle({ execute: true, remediation: ACT_NOW });
      assert.deepEqual(
        [first.summary.exception_reviews_overdue, first.summary.exception_review_reminders],
        [1, 1],
      );
      s.clock.advance(HOUR_MS);
      const second = await s.cycle({ execute: true, remediation: ACT_NOW });
      assert.deepEqual(
        [second.summary.exception_reviews_overdue, second.summary.exception_review_reminders],
        [1, 0],
      );
    } finally {
      await s.close();
    }
  });
});

describe("exceptions on all three paths", () => {
  test("engine, scanner and remediation honour an approved exception; its expiry mid-cycle ends it at once", async () => {
    const s = await sandbox(80, "exceptions");
    try {
      const dry = await s.cycle({ execute: false, remediation: ACT_NOW, storeScan: false });
      const target = dry.remediation.plan.due.find((t) => t.action === "tag")!;
      const resource = (await s.store.resources.get(SANDBOX_SOURCE, target.resource_id))!.resource;

      const exc = await s.exceptions.request({
        resource_id: target.resource_id,
        policy: target.policy,
        rule: target.rule,
        justification: "migration in progress",
        requested_by: "alice",
        duration_ms: 2 * DAY_MS,
      });
      await assert.rejects(s.exceptions.approve(exc.id, "alice"), /alice requested exception/);
      await s.exceptions.approve(exc.id, "frank");
      // One with money at stake too: an orphaned volume kept for now.
      const volume = dry.remediation.plan.due.find((t) => t.action === "delete")!;
      const kept = await s.exceptions.request({
        resource_id: volume.resource_id,
        policy: volume.policy,
        rule: volume.rule,
        justification: "restoring from it next week",
        requested_by: "alice",
        duration_ms: 2 * DAY_MS,
      });
      await s.exceptions.approve(kept.id, "carol");

      // Engine: the same request is allowed (or at least no longer fails that rule) with the exception.
      const index = await s.exceptions.activeIndex();
      const policySet = compilePolicySet(policies);
      const plain = createDecider({ policySet }).decide(resource);
      const withExc = createDecider({
        policySet,
        annotators: [createExceptionAnnotator(index, s.clock.now)],
      }).decide(resource);
      assert.ok(plain.violations.some((v) => v.rule === target.rule));
      assert.ok(!withExc.violations.some((v) => v.rule === target.rule));
      assert.equal(withExc.excepted![0]!.exception_id, exc.id);

      // Scanner and remediation.
      const run = await s.cycle({ execute: true, remediation: ACT_NOW });
      const finding = (await s.store.findings.list({ resourceId: target.resource_id })).find(
        (f) => f.rule === target.rule,
      )!;
      assert.equal(finding.status, "excepted");
      assert.ok(run.summary.violations_excepted >= 1);
      // The cycle's scan keeps the count in its history, as `costguard scan` does.
      const history = (await s.store.scans.get(run.summary.scan_id))!;
      assert.equal(history.excepted_findings, run.summary.violations_excepted);
      // And what they took off the savings at stake: the volume's saving less what stays open on it.
      const onVolume = await s.store.findings.list({ resourceId: volume.resource_id });
      const most = (fs: typeof onVolume) => Math.max(0, ...fs.map((f) => Number(f.savings_monthly)));
      const waived = most(onVolume) - most(onVolume.filter((f) => f.status === "open"));
      assert.ok(waived > 0, JSON.stringify(onVolume));
      assert.equal(Number(history.excepted_savings_monthly), Number(waived.toFixed(6)));
      assert.equal(history.excepted_savings_monthly, run.scan.summary.excepted_savings_monthly);
      const passed = run.remediation.plan.passed.find(
        (p) => p.resource_id === target.resource_id && p.rule === target.rule,
      )!;
      assert.equal(passed.reason, `excepted by ${exc.id}`);
      assert.ok(
        !(await s.store.tasks.list({ resource_id: target.resource_id })).some((t) => t.rule === target.rule),
      );
      assert.equal(
        (await s.resources()).get(target.resource_id)!.tags!["managed-by"],
        undefined,
        "not tagged",
      );

      // Expiry mid-cycle: valid while the scan reads the estate, over by the time remediation plans.
      s.clock.set(new Date(Date.parse(run.summary.scan_start) + 2 * DAY_MS - 1000));
      const midway = await s.cycle({
        execute: true,
        remediation: ACT_NOW,
        provider: {
          name: SANDBOX_SOURCE,
          async *read(o) {
            const { sandboxProvider } = await import("../../src/inventory/sandbox/sandbox.js");
            yield* sandboxProvider(s.store).read(o);
            s.clock.advance(2000);
          },
        },
      });
      const stored = (await s.store.findings.list({ resourceId: target.resource_id })).find(
        (f) => f.rule === target.rule,
      )!;
      assert.equal(stored.status, "excepted", "the scan still saw it covered");
      const task = midway.remediation.outcomes.find(
        (o) => o.task.resource_id === target.resource_id && o.task.rule === target.rule,
      );
      assert.equal(task?.outcome, "completed", "remediation saw the exception had ended");
      assert.equal((await s.resources()).get(target.resource_id)!.tags!["managed-by"], "costguard");

      // And the next scan reopens the finding.
      s.clock.advance(HOUR_MS);
      await s.cycle({ execute: false, remediation: ACT_NOW });
      const reopened = (await s.store.findings.list({ resourceId: target.resource_id })).find(
        (f) => f.rule === target.rule,
      );
      assert.notEqual(reopened?.status, "excepted");
    } finally {
      await s.close();
    }
  });
});

describe("one id in two accounts (a file inventory)", () => {
  test("each record is its own resource: its own tags for the owner and the exceptions, its own task, its own score", async () => {
    const s = await sandbox(10, "twins");
    try {
      const twins: InventoryProvider = {
        name: "file:twins.jsonl",
        async *read() {
          yield [
            twinInstance("111111111111", "alice@company.com", "m5.large", "0.096"),
            twinInstance("222222222222", "bob@company.com", "m5.xlarge", "0.192"),
          ];
        },
      };
      // Alice's instance is kept idle for now, by her tag: Bob's, of the same id, is not.
      const exc = await s.exceptions.request({
        selector: { tags: { owner: "alice@company.com" } },
        policy: "idle-resource-detection",
        rule: "low-utilization",
        justification: "warm standby",
        requested_by: "alice",
      });
      await s.exceptions.approve(exc.id, "carol");

      const run = await s.cycle({ execute: false, remediation: ACT_NOW, provider: twins });
      const { plan } = run.remediation;
      // Given the other record's tags, Alice's finding was planned (or superseded) as if not excepted.
      assert.deepEqual(
        plan.created.map((t) => [t.action, t.account, t.owner]),
        [["stop", "222222222222", "bob@company.com"]],
      );
      assert.deepEqual(
        plan.passed.map((p) => p.reason),
        [`excepted by ${exc.id}`],
      );
      assert.equal(run.summary.violations_excepted, 1);
      assert.equal(run.summary.non_compliant_resources, 1);
      assert.equal(run.summary.compliance_score, 50);

      // Without it both are non-compliant and stopped, each on its own: two resources, not one id.
      await s.exceptions.revoke(exc.id, "carol", "no longer needed");
      const again = await s.cycle({ execute: false, remediation: ACT_NOW, provider: twins });
      assert.deepEqual(again.remediation.plan.created.map((t) => [t.action, t.account, t.owner]).sort(), [
        ["stop", "111111111111", "alice@company.com"],
        ["stop", "222222222222", "bob@company.com"],
      ]);
      assert.deepEqual(again.remediation.plan.passed, []);
      assert.equal(again.remediation.safety.changes, 2);
      assert.equal(again.summary.non_compliant_resources, 2);
      assert.equal(again.summary.compliance_score, 0);
    } finally {
      await s.close();
    }
  });
});

describe("an exception approved while a run acts", () => {
  test("is honoured by the tasks the run has not reached: asked again just before each acts", async () => {
    const s = await sandbox(60, "mid-run");
    try {
      const dry = await s.cycle({ execute: false, remediation: ACT_NOW });
      const due = dry.remediation.safety.actionable;
      assert.ok(due.length > 5);
      const last = due.at(-1)!;
      const cloud = sandboxResourceActions(s.store, prices, s.clock.now);
      let approved: string | undefined;
      const run = await s.cycle({
        execute: true,
        remediation: ACT_NOW,
        exceptionsFreshMs: 0,
        cloud: {
          ...cloud,
          // The first task's first look at its resource: an approver grants an exception for the
          // last task meanwhile.
          async describe(id) {
            if (approved === undefined) {
              const exc = await s.exceptions.request({
                resource_id: last.resource_id,
                policy: last.policy,
                rule: last.rule,
                justification: "decided while the run was acting",
                requested_by: "alice",
                duration_ms: DAY_MS,
              });
              approved = (await s.exceptions.approve(exc.id, "frank")).id;
            }
            return cloud.describe(id);
          },
        },
      });
      const outcome = run.remediation.outcomes.find((o) => o.task.id === last.id);
      assert.equal(outcome?.outcome, "skipped");
      assert.equal(outcome?.message, `excepted by ${approved}`);
      assert.ok(run.remediation.outcomes.filter((o) => o.outcome === "completed").length > 3);
    } finally {
      await s.close();
    }
  });
});

describe("exceptions as of the run's time", () => {
  test("a look back (--at) before an exception's approval does not apply it: scan, plan and summary", async () => {
    const s = await sandbox(80, "as-of");
    try {
      const dry = await s.cycle({ execute: false, remediation: ACT_NOW, storeScan: false });
      const target = dry.remediation.plan.due.find((t) => t.action === "tag")!;
      s.clock.advance(HOUR_MS);
      const exc = await s.exceptions.request({
        resource_id: target.resource_id,
        policy: target.policy,
        rule: target.rule,
        justification: "migration in progress",
        requested_by: "alice",
        duration_ms: 30 * DAY_MS,
      });
      await s.exceptions.approve(exc.id, "frank");
      const excepted = (run: Awaited<ReturnType<Sandbox["cycle"]>>) => [
        run.summary.violations_excepted,
        run.summary.exceptions_active,
        run.remediation.plan.passed.filter((p) => p.exception_id === exc.id).map((p) => p.resource_id),
        run.remediation.plan.due.some((t) => t.finding_id === target.finding_id),
      ];
      // As of now it covers the finding.
      const now = await s.cycle({ execute: false, remediation: ACT_NOW, storeScan: false });
      assert.deepEqual(excepted(now), [1, 1, [target.resource_id], false]);
      // As of an hour before its approval it did not yet.
      s.clock.set(T0);
      const before = await s.cycle({ execute: false, remediation: ACT_NOW, storeScan: false });
      assert.deepEqual(excepted(before), [0, 0, [], true]);
    } finally {
      await s.close();
    }
  });
});

describe("exceptions past their end in a cycle", () => {
  test("a dry run says it and stores nothing; a run failing on its input leaves them; an acting run stores the expiry", async () => {
    const s = await sandbox(40, "sweep");
    try {
      const dry = await s.cycle({ execute: false, remediation: ACT_NOW, storeScan: false });
      const target = dry.remediation.plan.due[0]!;
      const exc = await s.exceptions.request({
        resource_id: target.resource_id,
        policy: target.policy,
        rule: target.rule,
        justification: "for a day",
        requested_by: "alice",
        duration_ms: DAY_MS,
      });
      await s.exceptions.approve(exc.id, "frank");
      s.clock.advance(2 * DAY_MS);
      const audited = async () =>
        (await s.store.audit.list({})).filter((e) => e.subject_id === exc.id).length;
      const before = await audited();
      const looked = await s.cycle({ execute: false, remediation: ACT_NOW });
      assert.equal(looked.summary.exceptions_expired, 1);
      assert.equal((await s.exceptions.get(exc.id)).status, "approved", "a dry run stores nothing");
      assert.equal(await audited(), before);
      // An inventory that fails to read: nothing about the exceptions is kept either.
      await assert.rejects(
        s.cycle({
          execute: true,
          remediation: ACT_NOW,
          provider: {
            name: SANDBOX_SOURCE,
            // biome-ignore lint/correctness/useYield: an inventory that fails before its first resource
            async *read() {
              throw new Error("the export is unreadable");
            },
          },
        }),
        /the export is unreadable/,
      );
      assert.equal((await s.exceptions.get(exc.id)).status, "approved");
      const acted = await s.cycle({ execute: true, remediation: ACT_NOW });
      assert.equal(acted.summary.exceptions_expired, 1);
      assert.equal((await s.exceptions.get(exc.id)).status, "expired");
      assert.equal(await audited(), before + 1);
    } finally {
      await s.close();
    }
  });
});

describe("the summary's Skipped", () => {
  test("counts the tasks a run skipped when planning, as it counts those skipped when acting", async () => {
    const s = await sandbox(40, "skipped");
    try {
      // Tasks in their grace period, then an exception for one of them.
      const first = await s.cycle({ execute: true, remediation: DEFAULT_REMEDIATION_CONFIG });
      const waiting = first.remediation.plan.waiting[0]!;
      const exc = await s.exceptions.request({
        resource_id: waiting.resource_id,
        policy: waiting.policy,
        rule: waiting.rule,
        justification: "kept",
        requested_by: "alice",
        duration_ms: DAY_MS,
      });
      await s.exceptions.approve(exc.id, "frank");
      s.clock.advance(HOUR_MS);
      const dry = await s.cycle({ execute: false, remediation: DEFAULT_REMEDIATION_CONFIG });
      assert.equal(dry.summary.remediations_skipped, 0, "a dry run skips nothing");
      const run = await s.cycle({ execute: true, remediation: DEFAULT_REMEDIATION_CONFIG });
      assert.equal((await s.store.tasks.get(waiting.id))!.state, "skipped");
      assert.equal(run.summary.remediations_skipped, 1);
    } finally {
      await s.close();
    }
  });
});

describe("acting as of an earlier time", () => {
  test("is refused once the tasks have moved on, stored scan or not, and changes nothing; a dry run may look back", async () => {
    const s = await sandbox(40, "backwards");
    try {
      s.clock.advance(DAY_MS);
      const first = await s.cycle({ execute: true, remediation: DEFAULT_REMEDIATION_CONFIG });
      assert.ok(first.summary.tasks_created > 0);
      const tasks = await s.store.tasks.list();
      s.clock.set(new Date(T0));
      await assert.rejects(
        s.cycle({ execute: true, remediation: ACT_NOW, storeScan: false }),
        (err: Error) =>
          err.name === "InputError" &&
          err.message.startsWith(
            `cannot act on sandbox as of ${T0}: its remediation tasks last changed at ${first.summary.scan_start}, and their history only moves forward`,
          ),
      );
      assert.deepEqual(await s.store.tasks.list(), tasks, "no task rewritten");
      const dry = await s.cycle({ execute: false, remediation: ACT_NOW, storeScan: false });
      assert.equal(dry.summary.mode, "dry-run");
    } finally {
      await s.close();
    }
  });
});

describe("blast radius on the sandbox", () => {
  test("a run over the cap aborts before its first action: the estate is unchanged", async () => {
    const s = await sandbox(80, "blast");
    try {
      const before = await s.resources();
      const capped = { ...ACT_NOW, safety: { ...ACT_NOW.safety, maxActions: 5 } };
      const run = await s.cycle({ execute: true, remediation: capped });
      assert.match(run.summary.aborted!, /more than remediation.safety.maxActions \(5\); nothing was done/);
      assert.deepEqual(await s.resources(), before);
      assert.deepEqual(await remediationActions(s), []);
      const share = { ...ACT_NOW, safety: { ...ACT_NOW.safety, maxActionsPercent: 10 } };
      const byShare = await s.cycle({ execute: true, remediation: share });
      assert.match(
        byShare.summary.aborted!,
        /of 80 resources, more than remediation.safety.maxActionsPercent \(10% = 8\)/,
      );
      assert.deepEqual(await s.resources(), before);
    } finally {
      await s.close();
    }
  });
});

describe("one run acts on an inventory at a time", () => {
  test("a second executing run is refused before it scans while another acts, waits with a lock timeout, and a dry run is never held up", async () => {
    const s = await sandbox(40, "acting");
    try {
      // Another process acting on the sandbox (its own connection: the database's lock).
      const other = await s.store.tasks.tryActing(SANDBOX_SOURCE);
      assert.ok(other);
      await assert.rejects(
        s.cycle({ execute: true, remediation: ACT_NOW }),
        (err: Error) =>
          err.name === "ConflictError" &&
          /^cannot act on sandbox: another run is acting on it \(run or remediate with --execute\), or sandbox init or reset is replacing it\. One run acts on an inventory at a time; this one did not scan, plan or act on anything/.test(
            err.message,
          ),
      );
      assert.deepEqual(await s.store.scans.list({}), [], "nothing scanned");
      assert.deepEqual(await s.store.tasks.list(), [], "nothing planned");
      // A dry run changes nothing, so it needs no turn.
      const dry = await s.cycle({ execute: false, remediation: ACT_NOW });
      assert.equal(dry.summary.mode, "dry-run");
      // With a lock timeout the run waits for the other to let go, then acts.
      let waited = 0;
      setTimeout(() => void other.release(), 300);
      const run = await s.cycle({
        execute: true,
        remediation: ACT_NOW,
        lockTimeoutMs: 10_000,
        onWaitingToAct: () => waited++,
      });
      assert.equal(waited, 1);
      assert.ok(run.summary.remediations_completed > 0);
      // And lets go when it ends: the next takes its turn at once.
      const next = await s.store.tasks.tryActing(SANDBOX_SOURCE);
      assert.ok(next);
      await next.release();
    } finally {
      await s.close();
    }
  });
});
