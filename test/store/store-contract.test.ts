import assert from "node:assert/strict";
import { hostname } from "node:os";
import { test } from "node:test";
import { findFinding, findScan } from "../../src/cli/finding-lookup.js";
import { ConflictError, NotFoundError, StoredDataError } from "../../src/errors.js";
import { FINDING_STATUSES, type Finding, type StoredFinding } from "../../src/scan/types.js";
import { migrate, NewerStoreError } from "../../src/store/migrate.js";
import { MIGRATIONS } from "../../src/store/migrations.js";
import { openPostgresDb } from "../../src/store/postgres-db.js";
import { openSqliteDb } from "../../src/store/sqlite-db.js";
import { describeEachDatabase } from "../helpers/databases.js";
import { EMPTY_SCAN_SUMMARY, paymentsFinding } from "../helpers/findings.js";
import { incompressibleLetters } from "../helpers/incompressible.js";

function finding(resourceId: string, rule = "low-utilization", extra: Partial<Finding> = {}): Finding {
  return paymentsFinding(resourceId, {
    fingerprint: `fp-${resourceId}-${rule}`,
    rule,
    message: "Instance appears idle",
    ...extra,
  });
}

describeEachDatabase("store contract", (ctx) => {
  const rawDb = () => (ctx.kind === "sqlite" ? openSqliteDb(ctx.db.url) : openPostgresDb(ctx.db.url));

  test("migrations are recorded once and re-running them changes nothing", async () => {
    const reopened = await ctx.db.open();
    await reopened.close();
    const raw = rawDb();
    try {
      const rows = await raw.all<{ id: string }>("SELECT id FROM schema_migrations ORDER BY id");
      assert.deepEqual(
        rows.map((r) => r.id),
        MIGRATIONS.map((m) => m.id).sort(),
      );
      assert.deepEqual(await migrate(raw, MIGRATIONS, new Date()), []);
    } finally {
      await raw.close();
    }
  });

  test("a database migrated by a newer costguard is refused, not silently used", async () => {
    await ctx.store.audit.append({
      at: "2026-01-01T00:00:00.000Z",
      actor: "test",
      action: "probe",
      subject_type: "test",
      subject_id: "x",
      details: {},
    });
    const raw = rawDb();
    try {
      await raw.run("INSERT INTO schema_migrations (id, description, applied_at) VALUES (?, ?, ?)", [
        "future-9999-x",
        "from the future",
        "2030-01-01T00:00:00Z",
      ]);
      await assert.rejects(migrate(raw, MIGRATIONS, new Date()), NewerStoreError);
      await raw.run("DELETE FROM schema_migrations WHERE id = ?", ["future-9999-x"]);
      assert.deepEqual(await migrate(raw, MIGRATIONS, new Date()), []);
    } finally {
      await raw.close();
    }
  });

  test("statements sent through a transaction without waiting run in the order sent, one at a time", async () => {
    // A scan sends its writes without waiting for each; a pg client must not be handed a query while
    // another runs (pg 8 warns that it is deprecated, pg 9 refuses it).
    const warnings: string[] = [];
    const onWarning = (w: Error) => void warnings.push(w.message);
    process.on("warning", onWarning);
    const raw = rawDb();
    try {
      await raw.exec("CREATE TABLE order_probe (n INTEGER PRIMARY KEY)");
      const tx = await raw.begin();
      const sent = Array.from({ length: 50 }, (_, i) =>
        tx.run("INSERT INTO order_probe (n) VALUES (?)", [i]),
      );
      const counted = tx.get<{ n: number | string }>("SELECT COUNT(*) AS n FROM order_probe");
      await Promise.all(sent);
      assert.equal(Number((await counted)!.n), 50, "the count ran after every insert sent before it");
      await tx.commit();
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(
        warnings.filter((w) => /client\.query/.test(w)),
        [],
        "no query was handed to a busy client",
      );
    } finally {
      process.off("warning", onWarning);
      await raw.exec("DROP TABLE IF EXISTS order_probe");
      await raw.close();
    }
  });

  test("settings: set, overwrite, delete", async () => {
    await ctx.store.settings.set("sandbox.seed", "42", "2026-01-01T00:00:00Z");
    await ctx.store.settings.set("sandbox.seed", "43", "2026-01-02T00:00:00Z");
    assert.equal(await ctx.store.settings.get("sandbox.seed"), "43");
    await ctx.store.settings.delete("sandbox.seed");
    assert.equal(await ctx.store.settings.get("sandbox.seed"), undefined);
  });

  test("resources: put, get, list with keyset pagination, gone resources, clear", async () => {
    const at = "2026-03-01T00:00:00.000Z";
    const rs = Array.from({ length: 25 }, (_, i) => ({
      id: `i-${String(i).padStart(3, "0")}`,
      type: i % 5 === 0 ? "storage/volume" : "compute/instance",
      state: "running",
      tags: { team: "t" },
      hourly_cost: "0.096",
    }));
    await ctx.store.resources.put("contract", rs, at);
    await ctx.store.resources.put("other", [{ id: "i-000", type: "compute/instance" }], at);
    assert.equal(await ctx.store.resources.count("contract"), 25);
    const got = await ctx.store.resources.get("contract", "i-007");
    assert.deepEqual(got?.resource, rs[7]);
    assert.equal(got?.gone_at, null);

    const page1 = await ctx.store.resources.list("contract", { limit: 10 });
    const page2 = await ctx.store.resources.list("contract", { limit: 10, after: page1.at(-1)!.id });
    const page3 = await ctx.store.resources.list("contract", { limit: 10, after: page2.at(-1)!.id });
    assert.deepEqual(
      [...page1, ...page2, ...page3].map((r) => r.id),
      rs.map((r) => r.id),
    );
    assert.equal((await ctx.store.resources.list("contract", { type: "storage/volume" })).length, 5);

    await ctx.store.resources.put(
      "contract",
      [{ ...rs[3]!, state: "terminated" }],
      "2026-03-02T00:00:00.000Z",
    );
    assert.equal(await ctx.store.resources.count("contract"), 24);
    assert.equal(await ctx.store.resources.count("contract", { includeGone: true }), 25);
    assert.equal((await ctx.store.resources.get("contract", "i-003"))?.gone_at, "2026-03-02T00:00:00.000Z");
    // A later write of a gone resource keeps the time it went.
    await ctx.store.resources.put(
      "contract",
      [{ ...rs[3]!, state: "terminated" }],
      "2026-03-05T00:00:00.000Z",
    );
    assert.equal((await ctx.store.resources.get("contract", "i-003"))?.gone_at, "2026-03-02T00:00:00.000Z");

    assert.equal(await ctx.store.resources.clear("contract"), 25);
    assert.equal(await ctx.store.resources.count("contract"), 0);
    assert.equal(await ctx.store.resources.count("other"), 1);
  });

  test("scans: start, complete, fail, get, list newest first", async () => {
    const base = { inventory: "inv-scans", policy_revision: "abc123", policies: ["mandatory-tags"] };
    await ctx.store.scans.start({ ...base, id: "scan-a", started_at: "2026-03-01T00:00:00.000Z" });
    const running = await ctx.store.scans.get("scan-a");
    assert.equal(running?.status, "running");
    assert.equal(running?.owner, `process ${process.pid} on ${hostname()}`);
    const summary = {
      resources_scanned: 120,
      findings: 7,
      new_findings: 7,
      resolved_findings: 0,
      by_policy: { "mandatory-tags": 5, "idle-resource-detection": 2 },
      by_severity: { high: 5, medium: 2 },
      by_team: { payments: 4, unassigned: 3 },
      by_action: { tag: 5, stop: 2 },
      savings_by_team: { payments: "140.16" },
      savings_monthly: "140.16",
      currency: "USD",
    };
    await ctx.store.scans.complete("scan-a", "2026-03-01T00:01:00.000Z", summary);
    await ctx.store.scans.start({ ...base, id: "scan-b", started_at: "2026-03-02T00:00:00.000Z" });
    await ctx.store.scans.fail("scan-b", "2026-03-02T00:00:05.000Z", "inventory unreadable");
    const a = await ctx.store.scans.get("scan-a");
    assert.equal(a?.status, "completed");
    assert.deepEqual(
      { ...summary, policies: ["mandatory-tags"] },
      {
        resources_scanned: a!.resources_scanned,
        findings: a!.findings,
        new_findings: a!.new_findings,
        resolved_findings: a!.resolved_findings,
        by_policy: a!.by_policy,
        by_severity: a!.by_severity,
        by_team: a!.by_team,
        by_action: a!.by_action,
        savings_by_team: a!.savings_by_team,
        savings_monthly: a!.savings_monthly,
        currency: a!.currency,
        policies: a!.policies,
      },
    );
    const b = await ctx.store.scans.get("scan-b");
    assert.equal(b?.status, "failed");
    assert.equal(b?.error, "inventory unreadable");
    assert.deepEqual(
      (await ctx.store.scans.list({ inventory: "inv-scans" })).map((s) => s.id),
      ["scan-b", "scan-a"],
    );
    assert.equal(await ctx.store.scans.get("nope"), undefined);
    // What a scan could not judge is kept with it; a summary without the counts (older code) has none.
    await ctx.store.scans.start({ ...base, id: "scan-c", started_at: "2026-03-03T00:00:00.000Z" });
    const notJudged = {
      idle_unmeasured: 3,
      unattached_undated: 0,
      unverified_checks: { "resource-limits/max-instance-size specs.vcpus": 4 },
      idle_other_states: { modifying: 2, "VM starting": 1 },
      unjudged_types: { "aws/ec2": 17, "(other types)": 2 },
      rules_judging_nothing: ["resource-limits/max-instance-size"],
      resources_billed: 5,
      excepted_findings: 2,
      excepted_savings_monthly: "656.25",
    };
    await ctx.store.scans.complete("scan-c", "2026-03-03T00:01:00.000Z", { ...summary, ...notJudged });
    const c = await ctx.store.scans.get("scan-c");
    assert.deepEqual(
      {
        idle_unmeasured: c!.idle_unmeasured,
        unattached_undated: c!.unattached_undated,
        unverified_checks: c!.unverified_checks,
        idle_other_states: c!.idle_other_states,
        unjudged_types: c!.unjudged_types,
        rules_judging_nothing: c!.rules_judging_nothing,
        resources_billed: c!.resources_billed,
        excepted_findings: c!.excepted_findings,
        excepted_savings_monthly: c!.excepted_savings_monthly,
      },
      notJudged,
    );
    assert.equal("resources_billed" in a!, false);
    assert.equal("excepted_findings" in a!, false);
    assert.equal("excepted_savings_monthly" in a!, false);
    // How many findings exceptions covered, recorded once they are marked; only of a completed scan.
    await ctx.store.scans.recordExcepted("scan-a", 3);
    assert.equal((await ctx.store.scans.get("scan-a"))!.excepted_findings, 3);
    await ctx.store.scans.recordExcepted("scan-a", 0);
    assert.equal("excepted_findings" in (await ctx.store.scans.get("scan-a"))!, false);
    await assert.rejects(ctx.store.scans.recordExcepted("scan-b", 1), /no completed scan scan-b/);
    await assert.rejects(ctx.store.scans.recordExcepted("nope", 1), /no completed scan nope/);
    await assert.rejects(ctx.store.scans.recordExcepted("scan-a", -1), RangeError);
    assert.equal("unjudged_types" in a!, false);
    assert.equal("rules_judging_nothing" in a!, false);
    assert.equal("idle_unmeasured" in a!, false);
    assert.equal("idle_other_states" in a!, false);
    assert.equal("unverified_checks" in a!, false);
  });

  test("scans: one scan of an inventory at a time; one whose process ended is marked interrupted", async () => {
    const scan = (id: string, inventory: string, day: number) => ({
      id,
      inventory,
      started_at: `2026-04-0${day}T00:00:00.000Z`,
      policy_revision: "r1",
      policies: [],
    });
    await ctx.store.scans.start(scan("one-a", "inv-one", 1));
    // The same handle, and another handle (as another process would), are both refused.
    await assert.rejects(ctx.store.scans.start(scan("one-b", "inv-one", 2)), (err: Error) => {
      assert.ok(err instanceof ConflictError);
      assert.match(
        err.message,
        /^cannot scan inv-one: one-a, started 2026-04-01T00:00:00.000Z by process \d+ on .+, is still running/,
      );
      return true;
    });
    const other = await ctx.db.open();
    try {
      await assert.rejects(other.scans.start(scan("one-c", "inv-one", 3)), ConflictError);
      // Another inventory scans at the same time.
      await other.scans.start(scan("two-a", "inv-two", 1));
      await other.scans.complete("two-a", "2026-04-01T00:01:00.000Z", EMPTY_SCAN_SUMMARY);
    } finally {
      await other.close();
    }
    assert.equal(await ctx.store.scans.get("one-b"), undefined);
    assert.equal(await ctx.store.scans.markInterrupted(), 0, "a scan still running is left alone");
    await ctx.store.scans.complete("one-a", "2026-04-01T00:01:00.000Z", EMPTY_SCAN_SUMMARY);
    await ctx.store.scans.start(scan("one-d", "inv-one", 4));
    await ctx.store.scans.fail("one-d", "2026-04-04T00:00:01.000Z", "stopped");

    // A handle closed with its scan unfinished lets go of the inventory, as a process that ends does;
    // its scan stays recorded as running until someone looks.
    const gone = await ctx.db.open();
    await gone.scans.start(scan("dead-a", "inv-dead", 1));
    await gone.close();
    assert.equal((await ctx.store.scans.get("dead-a"))?.status, "running");
    assert.equal(await ctx.store.scans.markInterrupted(), 1);
    const dead = await ctx.store.scans.get("dead-a");
    assert.equal(dead?.status, "failed");
    assert.equal(dead?.finished_at, null);
    assert.match(dead?.error ?? "", /^interrupted: process \d+ on .+ ended before the scan finished$/);
    // The next scan of an inventory marks what its last one left running, before it starts.
    const again = await ctx.db.open();
    await again.scans.start(scan("dead-b", "inv-dead", 2));
    await again.close();
    await ctx.store.scans.start(scan("dead-c", "inv-dead", 3));
    assert.equal((await ctx.store.scans.get("dead-b"))?.status, "failed");
    assert.equal((await ctx.store.scans.get("dead-c"))?.status, "running");
    await ctx.store.scans.complete("dead-c", "2026-04-03T00:01:00.000Z", EMPTY_SCAN_SUMMARY);

    // Taken but not yet recorded (another process between its lock and its row): no scan to name.
    const raw = rawDb();
    try {
      const lock = await raw.tryLock("scan:inv-starting");
      assert.ok(lock);
      await assert.rejects(ctx.store.scans.start(scan("starting-a", "inv-starting", 1)), {
        name: "ConflictError",
        message: /^cannot scan inv-starting: another scan of it is just starting\. /,
      });
      await lock.release();
      await ctx.store.scans.start(scan("starting-b", "inv-starting", 2));
      await ctx.store.scans.complete("starting-b", "2026-04-02T00:01:00.000Z", EMPTY_SCAN_SUMMARY);
    } finally {
      await raw.close();
    }
  });

  test("findings: prune deletes resolved findings resolved before a time, per inventory, never open or excepted ones", async () => {
    const f = ctx.store.findings;
    const [a, b] = ["inv-prune-a", "inv-prune-b"];
    const day = (d: number) => `2026-05-0${d}T00:00:00.000Z`;
    const see = async (scan: string, inventory: string, d: number, ids: string[]) => {
      await f.record(
        scan,
        inventory,
        day(d),
        ids.map((id) => finding(id)),
      );
      await f.resolveUnseen(scan, inventory, day(d));
    };
    await see("pa1", a, 1, ["p-1", "p-2", "p-3", "p-4"]);
    await see("pb1", b, 1, ["q-1", "q-2"]);
    await f.setStatus("fp-p-1-low-utilization", "excepted", day(1));
    await see("pa2", a, 2, ["p-1"]); // p-2, p-3, p-4 resolved on day 2
    await see("pb2", b, 2, ["q-1"]); // q-2 resolved on day 2
    await see("pa3", a, 3, ["p-1", "p-5"]);
    await see("pa4", a, 4, ["p-1", "p-2"]); // p-2 reopened; p-5 resolved on day 4
    const statuses = async () =>
      Object.fromEntries(
        (await f.list({ status: [...FINDING_STATUSES] }))
          .filter((x) => x.inventory === a || x.inventory === b)
          .map((x) => [x.resource_id, x.status]),
      );
    const before = await statuses();
    assert.deepEqual(before, {
      "p-1": "excepted",
      "p-2": "open",
      "p-3": "resolved",
      "p-4": "resolved",
      "p-5": "resolved",
      "q-1": "open",
      "q-2": "resolved",
    });
    // What a scan resolved and is still resolved: by the instant it resolved them (--resolved-in).
    assert.deepEqual((await f.list({ inventory: a, resolvedAt: day(2) })).map((x) => x.resource_id).sort(), [
      "p-3",
      "p-4",
    ]);
    assert.equal(await f.count({ inventory: a, resolvedAt: day(4) }), 1);
    assert.equal(await f.count({ inventory: a, resolvedAt: day(3) }), 0);
    // A dry run counts and deletes nothing.
    assert.deepEqual(await f.pruneResolved(day(3), { dryRun: true }), {
      deleted: 3,
      byInventory: { [a]: 2, [b]: 1 },
      busy: {},
    });
    assert.deepEqual(await statuses(), before);
    // One inventory.
    assert.deepEqual(await f.pruneResolved(day(3), { inventory: b }), {
      deleted: 1,
      byInventory: { [b]: 1 },
      busy: {},
    });
    assert.equal(await f.get("fp-q-2-low-utilization"), undefined);
    // An inventory a scan is running on is left alone: that scan knows its findings.
    const scan = { id: "pa5", inventory: a, started_at: day(5), policy_revision: "r1", policies: [] };
    await ctx.store.scans.start(scan);
    try {
      assert.deepEqual(await f.pruneResolved(day(3)), { deleted: 0, byInventory: {}, busy: { [a]: 2 } });
      // A dry run says the same: what it counts would not be deleted now.
      assert.deepEqual(await f.pruneResolved(day(3), { dryRun: true }), {
        deleted: 0,
        byInventory: {},
        busy: { [a]: 2 },
      });
    } finally {
      await ctx.store.scans.complete("pa5", day(5), EMPTY_SCAN_SUMMARY);
    }
    assert.deepEqual(await f.pruneResolved(day(3)), { deleted: 2, byInventory: { [a]: 2 }, busy: {} });
    assert.deepEqual(await statuses(), {
      "p-1": "excepted",
      "p-2": "open",
      "p-5": "resolved",
      "q-1": "open",
    });
    assert.deepEqual(await f.pruneResolved(day(3)), { deleted: 0, byInventory: {}, busy: {} });
    // Seen again after it was pruned: new, first seen now.
    await f.record("pa6", a, day(6), [finding("p-3")]);
    assert.equal(await f.countFirstSeen("pa6"), 1);
    const back = await f.get("fp-p-3-low-utilization");
    assert.deepEqual([back?.status, back?.first_seen], ["open", day(6)]);
    await assert.rejects(f.pruneResolved("soon"), RangeError);
  });

  test("findings: new, seen again (last_seen moves, first_seen stays), resolved, reopened", async () => {
    const inv = "inv-lifecycle";
    const f = ctx.store.findings;
    await f.record("s1", inv, "2026-03-01T00:00:00.000Z", [finding("i-1"), finding("i-2")]);
    assert.equal(await f.countFirstSeen("s1"), 2);
    assert.equal(await f.resolveUnseen("s1", inv, "2026-03-01T00:00:00.000Z"), 0);

    await f.record("s2", inv, "2026-03-02T00:00:00.000Z", [
      finding("i-1", "low-utilization", { savings_monthly: "80.00", message: "still idle" }),
    ]);
    assert.equal(await f.countFirstSeen("s2"), 0);
    assert.equal(await f.resolveUnseen("s2", inv, "2026-03-02T00:00:00.000Z"), 1);

    const one = await f.get("fp-i-1-low-utilization");
    assert.equal(one?.status, "open");
    assert.equal(one?.first_seen, "2026-03-01T00:00:00.000Z");
    assert.equal(one?.last_seen, "2026-03-02T00:00:00.000Z");
    assert.equal(one?.first_scan_id, "s1");
    assert.equal(one?.last_scan_id, "s2");
    assert.equal(one?.savings_monthly, "80.00");
    assert.equal(one?.message, "still idle");
    assert.deepEqual(one?.recommendation, { action: "stop", basis: "idle for 7 days" });
    assert.deepEqual(one?.checks, finding("i-1").checks);

    const two = await f.get("fp-i-2-low-utilization");
    assert.equal(two?.status, "resolved");
    assert.equal(two?.resolved_at, "2026-03-02T00:00:00.000Z");

    // Seen again: reopened, first_seen kept.
    await f.record("s3", inv, "2026-03-03T00:00:00.000Z", [finding("i-1"), finding("i-2")]);
    assert.equal(await f.resolveUnseen("s3", inv, "2026-03-03T00:00:00.000Z"), 0);
    const back = await f.get("fp-i-2-low-utilization");
    assert.equal(back?.status, "open");
    assert.equal(back?.resolved_at, null);
    assert.equal(back?.first_seen, "2026-03-01T00:00:00.000Z");

    assert.equal(await f.count({ inventory: inv, status: "open" }), 2);
    assert.equal(await f.count({ inventory: "elsewhere" }), 0);
    // What a scan saw first (`findings list --new-in`), whatever became of it since.
    assert.deepEqual(
      (await f.list({ firstScanId: "s1" })).map((x) => x.fingerprint),
      ["fp-i-1-low-utilization", "fp-i-2-low-utilization"],
    );
    assert.equal((await f.totals({ firstScanId: "s1", status: "open" })).count, 2);
    assert.equal(await f.count({ firstScanId: "s2" }), 0);
  });

  test("findings: filtered by recommended action and by a floor on savings, compared as numbers", async () => {
    const f = ctx.store.findings;
    const inv = "inv-action-savings";
    const made = (id: string, action: "stop" | "delete" | "tag", savings: string) =>
      finding(id, `rule-${action}`, {
        fingerprint: `fp-as-${id}`,
        recommendation: { action, basis: "b" },
        savings_monthly: savings,
      });
    await f.record("s-as", inv, "2026-03-01T00:00:00.000Z", [
      made("a", "stop", "100"),
      made("b", "stop", "99.999999"),
      made("c", "delete", "1000.5"),
      made("d", "tag", "0"),
      // As text "9" sorts after "1000.5": a floor read as text would keep it and drop c.
      made("e", "delete", "9"),
    ]);
    const ids = async (filter: Parameters<typeof f.list>[0]) =>
      (await f.list({ inventory: inv, ...filter })).map((x) => x.resource_id).sort();
    assert.deepEqual(await ids({ action: "stop" }), ["a", "b"]);
    assert.deepEqual(await ids({ action: ["stop", "delete"] }), ["a", "b", "c", "e"]);
    assert.deepEqual(await ids({ minSavings: "100" }), ["a", "c"]);
    assert.deepEqual(await ids({ minSavings: "10", action: "delete" }), ["c"]);
    assert.deepEqual(await ids({ minSavings: "0" }), ["a", "b", "c", "d", "e"]);
    assert.equal(await f.count({ inventory: inv, minSavings: "99.9999985" }), 3);
    const totals = await f.totals({ inventory: inv, action: "delete" });
    assert.deepEqual([totals.count, totals.savings_monthly.USD], [2, "1009.5"]);
    const seen: string[] = [];
    await f.forEach({ inventory: inv, minSavings: "9", action: ["delete", "tag"] }, (page) => {
      for (const x of page) seen.push(x.resource_id);
    });
    assert.deepEqual(seen.sort(), ["c", "e"]);
  });

  test("findings: the exception covering each excepted finding is kept with it, and read only while it stays excepted", async () => {
    const f = ctx.store.findings;
    const inv = "inv-exception-link";
    const at = "2026-03-01T00:00:00.000Z";
    await f.record(
      "s-exc",
      inv,
      at,
      ["a", "b", "c"].map((id) => finding(id, "r", { fingerprint: `fp-exc-${id}` })),
    );
    assert.equal(await f.moveStatus(["fp-exc-a", "fp-exc-b"], "open", "excepted", at), 2);
    const set = await f.setExceptions(
      new Map([
        ["exc-1", ["fp-exc-a"]],
        // fp-exc-c is open: not marked.
        ["exc-2", ["fp-exc-b", "fp-exc-c"]],
      ]),
    );
    assert.equal(set, 2);
    assert.equal((await f.get("fp-exc-a"))?.exception_id, "exc-1");
    assert.equal((await f.get("fp-exc-c"))?.exception_id, null);
    assert.deepEqual(
      (await f.list({ inventory: inv, exceptionId: "exc-2" })).map((x) => x.fingerprint),
      ["fp-exc-b"],
    );
    // Reopened (its exception ended): no longer covered by anything.
    await f.moveStatus(["fp-exc-b"], "excepted", "open", at);
    assert.equal((await f.get("fp-exc-b"))?.exception_id, null);
    assert.equal(await f.count({ inventory: inv, exceptionId: "exc-2" }), 0);
  });

  // A guard, not a measure: before, the fifth scan running at once on PostgreSQL waited for ever for a
  // connection (each scan's lock held one of the pool's four).
  test("scans: more scans running at once in one process than the store has pooled connections", {
    timeout: 60_000,
  }, async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `scan-many-${i}`);
    for (const id of ids)
      await ctx.store.scans.start({
        id,
        inventory: `inv-${id}`,
        started_at: "2026-03-05T00:00:00.000Z",
        policy_revision: "r",
        policies: [],
      });
    // Queries go on while every lock is held, and each scan completes.
    assert.equal(
      (await ctx.store.scans.list({})).filter((s) => s.status === "running" && ids.includes(s.id)).length,
      6,
    );
    for (const id of ids) await ctx.store.scans.complete(id, "2026-03-05T00:01:00.000Z", EMPTY_SCAN_SUMMARY);
    assert.deepEqual(
      await Promise.all(ids.map(async (id) => (await ctx.store.scans.get(id))?.status)),
      ids.map(() => "completed"),
    );
  });

  test("scans: the ids a start of one may stand for, in order, at most as many as asked; latest", async () => {
    const scan = (id: string, at: string) =>
      ctx.store.scans.start({
        id,
        inventory: `inv-${id}`,
        started_at: at,
        policies: [],
        policy_revision: "r",
      });
    await scan("scan-20300102T000000Z-bbbbbb", "2030-01-02T00:00:00.000Z");
    await scan("scan-20300101T000000Z-aaaaaa", "2030-01-01T00:00:00.000Z");
    await scan("scan-20300103T000000Z-cccccc", "2030-01-03T00:00:00.000Z");
    const starting = (prefix: string, limit = 10) => ctx.store.scans.idsStartingWith(prefix, limit);
    assert.deepEqual(await starting("scan-203001"), [
      "scan-20300101T000000Z-aaaaaa",
      "scan-20300102T000000Z-bbbbbb",
      "scan-20300103T000000Z-cccccc",
    ]);
    assert.deepEqual(await starting("scan-203001", 1), ["scan-20300101T000000Z-aaaaaa"]);
    assert.deepEqual(await starting("scan-20300102"), ["scan-20300102T000000Z-bbbbbb"]);
    assert.deepEqual(await starting("scan-2030_1"), []);
    assert.deepEqual(await starting("scan-2030%"), []);
    assert.deepEqual(await starting("20300102"), []);
    assert.equal((await findScan(ctx.store, "scan-20300102")).id, "scan-20300102T000000Z-bbbbbb");
    assert.equal((await findScan(ctx.store, "latest")).id, "scan-20300103T000000Z-cccccc");
    await assert.rejects(findScan(ctx.store, "scan-203001"), {
      name: "InputError",
      message:
        "scan-203001 is the start of 3 scan ids (scan-20300101T000000Z-aaaaaa, scan-20300102T000000Z-bbbbbb, scan-20300103T000000Z-cccccc): give more of it",
    });
    await assert.rejects(findScan(ctx.store, "scan-2031"), {
      name: "NotFoundError",
      message: "no stored scan with id scan-2031",
    });
  });

  test("findings: the fingerprints a start of one may stand for, in order, at most as many as asked", async () => {
    const at = "2026-03-01T00:00:00.000Z";
    await ctx.store.findings.record("s-prefix", "inv-prefix", at, [
      finding("i-p1", "low-utilization", { fingerprint: "c0ffee02aaaaaaaa" }),
      finding("i-p2", "low-utilization", { fingerprint: "c0ffee01bbbbbbbb" }),
      finding("i-p3", "low-utilization", { fingerprint: "c0ffef00cccccccc" }),
    ]);
    const starting = (prefix: string, limit = 10) =>
      ctx.store.findings.fingerprintsStartingWith(prefix, limit);
    assert.deepEqual(await starting("c0ffee"), ["c0ffee01bbbbbbbb", "c0ffee02aaaaaaaa"]);
    assert.deepEqual(await starting("c0ffe"), ["c0ffee01bbbbbbbb", "c0ffee02aaaaaaaa", "c0ffef00cccccccc"]);
    assert.deepEqual(await starting("c0ffe", 2), ["c0ffee01bbbbbbbb", "c0ffee02aaaaaaaa"]);
    assert.deepEqual(await starting("c0ffef00cccccccc"), ["c0ffef00cccccccc"]);
    // A start, not a pattern: LIKE's wildcards are plain characters here.
    assert.deepEqual(await starting("c0ff_e"), []);
    assert.deepEqual(await starting("c0ff%"), []);
    assert.deepEqual(await starting("ffee"), []);
    // What `findings show` and `exceptions request --finding` make of a start.
    assert.equal((await findFinding(ctx.store, "C0FFEF")).resource_id, "i-p3");
    await assert.rejects(findFinding(ctx.store, "c0ffee"), {
      name: "InputError",
      message: "c0ffee is the start of 2 fingerprints (c0ffee01bbbbbbbb, c0ffee02aaaaaaaa): give more of it",
    });
    await assert.rejects(findFinding(ctx.store, "c0f"), {
      name: "NotFoundError",
      message:
        "no stored finding with fingerprint c0f (a start of a fingerprint is taken from 4 characters: give more of it)",
    });
  });

  test("findings: the regions and accounts stored findings are in, in order, of those asked or at most as many as asked", async () => {
    await ctx.store.findings.record("s-kinds", "inv-kinds", "2026-03-01T00:00:00.000Z", [
      finding("i-k1", "low-utilization", { region: "zz-kinds-2", account: "kinds-acct-1" }),
      finding("i-k2", "low-utilization", { region: "zz-kinds-1", account: "kinds-acct-1" }),
      finding("i-k3", "low-utilization", { region: "zz-kinds-1", account: null }),
    ]);
    const values = ctx.store.findings.kindValues;
    assert.deepEqual(await values("region", { among: ["zz-kinds-1", "zz-kinds-2", "zz-kinds-3"] }), [
      "zz-kinds-1",
      "zz-kinds-2",
    ]);
    assert.deepEqual(await values("region", { among: [] }), []);
    assert.deepEqual(await values("account", { among: ["kinds-acct-1", "kinds-acct-2"] }), ["kinds-acct-1"]);
    // Every one, each once, in order; none for a finding without one.
    const regions = await values("region");
    assert.deepEqual(regions, [...new Set(regions)].sort());
    assert.ok(regions.includes("zz-kinds-1") && regions.includes("zz-kinds-2"));
    assert.ok(!(await values("account")).includes(null as unknown as string));
    assert.deepEqual(await values("region", { limit: 1 }), regions.slice(0, 1));
  });

  test("findings: a resource id as long as inventories allow (2,048 bytes, not compressible) is kept", async () => {
    // Ids are indexed; PostgreSQL refuses index entries of more than a few kilobytes (the file
    // inventory refuses longer ids for it).
    const letters = incompressibleLetters(2048);
    const long = finding(letters, "low-utilization", { fingerprint: "fp-long-id" });
    await ctx.store.findings.record("s-long", "inv-long", "2026-03-01T00:00:00.000Z", [long]);
    assert.equal((await ctx.store.findings.get("fp-long-id"))?.resource_id, letters);
    assert.equal(await ctx.store.findings.count({ resourceId: letters }), 1);
  });

  test("findings: an excepted finding stays excepted while seen, resolves when gone", async () => {
    const inv = "inv-excepted";
    const f = ctx.store.findings;
    await f.record("e1", inv, "2026-03-01T00:00:00.000Z", [finding("x-1")]);
    await f.setStatus("fp-x-1-low-utilization", "excepted", "2026-03-01T01:00:00.000Z");
    await f.record("e2", inv, "2026-03-02T00:00:00.000Z", [finding("x-1")]);
    assert.equal((await f.get("fp-x-1-low-utilization"))?.status, "excepted");
    assert.equal(await f.resolveUnseen("e3", inv, "2026-03-03T00:00:00.000Z"), 1);
    assert.equal((await f.get("fp-x-1-low-utilization"))?.status, "resolved");
    await assert.rejects(f.setStatus("no-such", "open", "2026-03-03T00:00:00.000Z"), NotFoundError);
  });

  test("findings: moveStatus moves, in one call, only those in the status asked for", async () => {
    const inv = "inv-move";
    const f = ctx.store.findings;
    const ids = Array.from({ length: 1203 }, (_, i) => `m-${String(i).padStart(5, "0")}`);
    await f.record(
      "m1",
      inv,
      "2026-03-01T00:00:00.000Z",
      ids.map((id) => finding(id)),
    );
    const fp = (id: string) => `fp-${id}-low-utilization`;
    // More than one IN list's worth, an unknown fingerprint and a repeated one among them.
    const some = ids.slice(0, 1100).map(fp);
    await f.setStatus(fp(ids[5]!), "resolved", "2026-03-01T01:00:00.000Z");
    assert.equal(
      await f.moveStatus([...some, "no-such", some[0]!], "open", "excepted", "2026-03-02T00:00:00.000Z"),
      1099,
    );
    assert.equal(await f.count({ inventory: inv, status: "excepted" }), 1099);
    assert.equal((await f.get(fp(ids[5]!)))?.status, "resolved", "not open: left as it was");
    assert.equal((await f.get(fp(ids[1100]!)))?.status, "open", "not asked for");
    assert.equal(await f.moveStatus(some.slice(0, 10), "excepted", "open", "2026-03-03T00:00:00.000Z"), 9);
    assert.equal(await f.count({ inventory: inv, status: "open" }), 103 + 9);
    assert.equal(await f.moveStatus([], "open", "excepted", "2026-03-03T00:00:00.000Z"), 0);
    // Resolved by hand through it: resolved_at is the time given.
    assert.equal(await f.moveStatus([fp(ids[1200]!)], "open", "resolved", "2026-03-04T00:00:00.000Z"), 1);
    assert.equal((await f.get(fp(ids[1200]!)))?.resolved_at, "2026-03-04T00:00:00.000Z");
  });

  test("findings: thousands in one call (batched) and duplicate fingerprints in one batch", async () => {
    const inv = "inv-bulk";
    const many = Array.from({ length: 4500 }, (_, i) => finding(`b-${String(i).padStart(5, "0")}`));
    many.push(finding("b-00000", "low-utilization", { message: "duplicate, last one wins" }));
    await ctx.store.findings.record("bulk1", inv, "2026-03-01T00:00:00.000Z", many);
    assert.equal(await ctx.store.findings.count({ inventory: inv }), 4500);
    assert.equal(await ctx.store.findings.countFirstSeen("bulk1"), 4500);
    const page = await ctx.store.findings.list({ inventory: inv, limit: 3 });
    assert.deepEqual(
      page.map((p) => p.resource_id),
      ["b-00000", "b-00001", "b-00002"],
    );
    const next = await ctx.store.findings.list({ inventory: inv, limit: 2, after: page.at(-1)!.fingerprint });
    assert.deepEqual(
      next.map((p) => p.resource_id),
      ["b-00003", "b-00004"],
    );
    assert.equal((await ctx.store.findings.list({ resourceId: "b-00042" })).length, 1);
    // forEach: every one once, a batch at a time, each awaited; false stops it.
    const seen: string[] = [];
    const sizes: number[] = [];
    const read = await ctx.store.findings.forEach(
      { inventory: inv },
      async (batch) => {
        await new Promise((resolve) => setImmediate(resolve));
        sizes.push(batch.length);
        for (const x of batch) seen.push(x.fingerprint);
      },
      1000,
    );
    assert.equal(read, 4500);
    assert.deepEqual(sizes, [1000, 1000, 1000, 1000, 500]);
    assert.equal(new Set(seen).size, 4500);
    let batches = 0;
    const stopped = await ctx.store.findings.forEach({ inventory: inv }, () => ++batches < 2, 1000);
    assert.equal(stopped, 2000);
    assert.equal(await ctx.store.findings.forEach({ inventory: "nothing-here" }, () => true), 0);
  });

  test("findings: forEachJson gives each finding as JSON.stringify would, whatever its text holds", async () => {
    const inv = "inv-json";
    // (NUL is left out: PostgreSQL refuses it in text, and scans refuse records holding it.)
    const odd = [
      'quote " and backslash \\ and slash /',
      "controls \u0001\b\f\n\r\t\u001f and delete \u007f",
      "line separators \u2028\u2029",
      "ünïcødé ✓, emoji 😀, astral 𝄞, CJK 費用",
      "<script>alert(1)</script> & 'single'",
      "",
    ];
    const findings = odd.map((text, i) =>
      finding(`json-${i}`, "low-utilization", {
        message: text,
        resource_name: i === 5 ? null : text,
        team: text || "none",
        checks: [{ field: `tags.${text}`, actual: i % 2 ? null : text, limit: 1.5e21, message: text }],
        recommendation: { action: "stop", basis: text },
        savings_monthly: `${i}.5`,
      }),
    );
    await ctx.store.findings.record("json1", inv, "2026-03-01T00:00:00.000Z", findings);
    await ctx.store.findings.moveStatus(
      ["fp-json-1-low-utilization"],
      "open",
      "excepted",
      "2026-03-02T00:00:00.000Z",
    );
    await ctx.store.findings.setExceptions(new Map([["exc-json", ["fp-json-1-low-utilization"]]]));
    await ctx.store.findings.moveStatus(
      ["fp-json-2-low-utilization"],
      "open",
      "resolved",
      "2026-03-02T00:00:00.000Z",
    );
    const filter = { inventory: inv, status: ["open", "excepted", "resolved"] } as const;
    const objects: string[] = [];
    await ctx.store.findings.forEach(filter, (rows) => {
      for (const r of rows) objects.push(JSON.stringify(r));
    });
    const texts: string[] = [];
    const sizes: number[] = [];
    const read = await ctx.store.findings.forEachJson(
      filter,
      (batch) => {
        sizes.push(batch.length);
        texts.push(...batch);
      },
      4,
    );
    assert.equal(read, odd.length);
    assert.deepEqual(sizes, [4, 2]);
    assert.deepEqual(texts, objects);
    // What was stored, read back whole: the text came through.
    const parsed = texts.map((t) => JSON.parse(t) as StoredFinding);
    assert.deepEqual(parsed.map((p) => p.message).sort(), [...odd].sort());
    assert.deepEqual(parsed.map((p) => [p.status, p.exception_id]).sort(), [
      ["excepted", "exc-json"],
      ["open", null],
      ["open", null],
      ["open", null],
      ["open", null],
      ["resolved", null],
    ]);
    // Totalled by exception: only a finding still excepted counts under the exception that covered
    // it (one reopened keeps the id in its row, not in what is read).
    await ctx.store.findings.moveStatus(
      ["fp-json-3-low-utilization"],
      "open",
      "excepted",
      "2026-03-02T00:00:00.000Z",
    );
    await ctx.store.findings.setExceptions(new Map([["exc-gone", ["fp-json-3-low-utilization"]]]));
    await ctx.store.findings.moveStatus(
      ["fp-json-3-low-utilization"],
      "excepted",
      "open",
      "2026-03-03T00:00:00.000Z",
    );
    const byException = await ctx.store.findings.totalsBy("exception", filter);
    assert.deepEqual(
      byException.groups.map((g) => [g.group, g.count, g.resources, g.savings_monthly]),
      [
        [null, 5, 5, { USD: "16.5" }],
        ["exc-json", 1, 1, { USD: "1.5" }],
      ],
    );
    let batches = 0;
    assert.equal(await ctx.store.findings.forEachJson(filter, () => ++batches < 1, 4), 4);
    assert.equal(await ctx.store.findings.forEachJson({ inventory: "nothing-here" }, () => true), 0);
  });

  test("findings: filters by severity and team, biggest savings first, totals as a scan counts them", async () => {
    const f = ctx.store.findings;
    const inv = "inv-totals";
    await f.record("t1", inv, "2026-03-01T00:00:00.000Z", [
      // One resource, two ways to save: the larger counts, not both.
      finding("t-a", "low-utilization", { savings_monthly: "70.08", severity: "medium" }),
      finding("t-a", "oversized", { savings_monthly: "30.10", severity: "high" }),
      // Decimal text sums exactly (0.1 + 0.2 is 0.3, not 0.30000000000000004).
      finding("t-b", "low-utilization", { savings_monthly: "0.1", team: "web" }),
      finding("t-c", "low-utilization", { savings_monthly: "0.2", team: "web", severity: "critical" }),
      // 9.5 sorts below 10.25 as a number (as text it would not).
      finding("t-d", "low-utilization", { savings_monthly: "9.5", currency: "EUR" }),
      finding("t-e", "low-utilization", { savings_monthly: "10.25", severity: "low" }),
    ]);
    assert.deepEqual(await f.totals({ inventory: inv }), {
      count: 6,
      savings_monthly: { EUR: "9.5", USD: "80.63" },
    });
    assert.deepEqual(await f.totals({ inventory: inv, team: "web" }), {
      count: 2,
      savings_monthly: { USD: "0.3" },
    });
    assert.deepEqual(await f.totals({ inventory: "nothing-here" }), { count: 0, savings_monthly: {} });
    // A resource is its inventory and id: "ab" + "c" and "a" + "bc" are two resources, not one.
    const apart = { team: "apart", savings_monthly: "5" };
    await f.record("k1", "ab", "2026-03-01T00:00:00.000Z", [finding("c", "low-utilization", apart)]);
    await f.record("k2", "a", "2026-03-01T00:00:00.000Z", [
      finding("bc", "low-utilization", { ...apart, savings_monthly: "7" }),
    ]);
    assert.deepEqual(await f.totals({ team: "apart" }), { count: 2, savings_monthly: { USD: "12" } });
    // A resource is also where it is and what it is, as a scan counts each record: `prod-db` in two
    // accounts and in a second region is three databases; an instance and a volume sharing an id are
    // two resources. Only the same resource's findings give the largest once.
    const placed = (account: string, region: string, type = "database/instance", rule = "low-utilization") =>
      finding("prod-db", rule, {
        fingerprint: `fp-placed-${account}-${region}-${type}-${rule}`,
        account,
        region,
        resource_type: type,
        team: "placed",
        savings_monthly: rule === "low-utilization" ? "730" : "100",
      });
    await f.record("p1", "inv-placed", "2026-03-01T00:00:00.000Z", [
      placed("111", "us-east-1"),
      placed("111", "us-east-1", "database/instance", "oversized"),
      placed("222", "us-east-1"),
      placed("111", "eu-west-1"),
      placed("111", "us-east-1", "storage/volume", "oversized"),
    ]);
    const atStake = { count: 5, savings_monthly: { USD: "2290" } };
    assert.deepEqual(await f.totals({ inventory: "inv-placed" }), atStake);
    const byAccount = await f.totalsBy("account", { inventory: "inv-placed" });
    assert.deepEqual(
      byAccount.groups.map((g) => [g.group, g.count, g.resources, g.savings_monthly.USD]),
      [
        ["111", 4, 3, "1560"],
        ["222", 1, 1, "730"],
      ],
    );
    assert.deepEqual(byAccount.total, atStake);
    const byRegion = await f.totalsBy("region", { inventory: "inv-placed" });
    assert.deepEqual(
      byRegion.groups.map((g) => [g.group, g.resources, g.savings_monthly.USD]),
      [
        ["us-east-1", 3, "1560"],
        ["eu-west-1", 1, "730"],
      ],
    );
    const bySavings = await f.list({ inventory: inv, order: "savings" });
    assert.deepEqual(
      bySavings.map((x) => x.savings_monthly),
      ["70.08", "30.10", "10.25", "9.5", "0.2", "0.1"],
    );
    assert.deepEqual(
      (await f.list({ inventory: inv, order: "savings", limit: 2 })).map((x) => x.rule),
      ["low-utilization", "oversized"],
    );
    const severe = await f.list({ inventory: inv, severity: ["critical", "high"] });
    assert.deepEqual(severe.map((x) => x.resource_id).sort(), ["t-a", "t-c"]);
    assert.equal(await f.count({ inventory: inv, severity: "low" }), 1);
    assert.deepEqual(
      (await f.list({ inventory: inv, team: "web", severity: "critical" })).map((x) => x.resource_id),
      ["t-c"],
    );
    await assert.rejects(f.list({ inventory: inv, order: "savings", after: "fp" }), /fingerprint order only/);
  });

  test("findings: filters by account, region and resource type (exact or a category)", async () => {
    const f = ctx.store.findings;
    const inv = "inv-where";
    await f.record("w1", inv, "2026-03-01T00:00:00.000Z", [
      finding("w-1", "low-utilization", { account: "111", region: "us-east-1" }),
      finding("w-2", "low-utilization", { account: "222", region: "eu-west-1" }),
      finding("w-3", "low-utilization", {
        account: "222",
        region: "us-east-1",
        resource_type: "storage/volume",
      }),
      finding("w-4", "low-utilization", { account: null, region: null, resource_type: "compute_x/disk" }),
      // A type whose category is longer by a character outside the basic plane: matched by characters.
      finding("w-5", "low-utilization", { resource_type: "st\u{1F600}/volume" }),
    ]);
    const ids = async (filter: Parameters<typeof f.list>[0]) =>
      (await f.list({ inventory: inv, ...filter })).map((x) => x.resource_id).sort();
    assert.deepEqual(await ids({ account: "222" }), ["w-2", "w-3"]);
    assert.deepEqual(await ids({ account: ["111", "222"], region: "us-east-1" }), ["w-1", "w-3"]);
    assert.deepEqual(await ids({ region: ["eu-west-1"] }), ["w-2"]);
    assert.deepEqual(await ids({ resourceType: ["storage/volume"] }), ["w-3"]);
    assert.deepEqual(await ids({ resourceType: ["storage/*"] }), ["w-3"]);
    assert.deepEqual(await ids({ resourceType: ["st\u{1F600}/*"] }), ["w-5"]);
    // A category is its whole name: compute/* is not compute_x/disk (no LIKE wildcard in `_`).
    assert.deepEqual(await ids({ resourceType: ["compute/*"] }), ["w-1", "w-2"]);
    assert.deepEqual(await ids({ resourceType: ["compute/instance", "compute_x/*"] }), ["w-1", "w-2", "w-4"]);
    assert.deepEqual(await ids({ resourceType: [] }), []);
    assert.equal(await f.count({ inventory: inv, account: "222", resourceType: ["compute/*"] }), 1);
    assert.deepEqual(await f.totals({ inventory: inv, account: "333" }), { count: 0, savings_monthly: {} });
  });

  test("findings: totals by team, account or policy, per resource the largest saving in each group", async () => {
    const f = ctx.store.findings;
    const inv = "inv-groups";
    await f.record("g1", inv, "2026-03-01T00:00:00.000Z", [
      // g-1: two findings, one group by team: its larger saving counts, once.
      finding("g-1", "low-utilization", { team: "web", account: "111", savings_monthly: "70.08" }),
      finding("g-1", "oversized", {
        team: "web",
        account: "111",
        savings_monthly: "30.10",
        policy: "limits",
      }),
      finding("g-2", "low-utilization", { team: "web", account: "222", savings_monthly: "0.1" }),
      finding("g-3", "low-utilization", { team: "ops", account: "222", savings_monthly: "0.2" }),
      finding("g-4", "low-utilization", { team: "ops", account: null, savings_monthly: "500" }),
      finding("g-5", "low-utilization", {
        team: "data",
        account: "111",
        savings_monthly: "9",
        currency: "EUR",
      }),
    ]);
    const byTeam = await f.totalsBy("team", { inventory: inv });
    assert.deepEqual(byTeam.groups, [
      // Ordered by savings in one currency (EUR: the first by name here), then by findings.
      { group: "data", count: 1, resources: 1, savings_monthly: { EUR: "9" } },
      { group: "web", count: 3, resources: 2, savings_monthly: { USD: "70.18" } },
      { group: "ops", count: 2, resources: 2, savings_monthly: { USD: "500.2" } },
    ]);
    const byAccount = await f.totalsBy("account", { inventory: inv });
    assert.deepEqual(
      byAccount.groups.map((g) => [g.group, g.count, g.resources, g.savings_monthly]),
      [
        ["111", 3, 2, { EUR: "9", USD: "70.08" }],
        ["222", 2, 2, { USD: "0.3" }],
        [null, 1, 1, { USD: "500" }],
      ],
    );
    // By policy, g-1 is in both groups, with each group's own saving; in the whole, once.
    const byPolicy = await f.totalsBy("policy", { inventory: inv, resourceId: "g-1" });
    assert.deepEqual(
      byPolicy.groups.map((g) => [g.group, g.savings_monthly.USD]),
      [
        ["idle-resource-detection", "70.08"],
        ["limits", "30.1"],
      ],
    );
    assert.deepEqual(byPolicy.total, { count: 2, savings_monthly: { USD: "70.08" } });
    // The filter applies (here leaving one currency: the largest savings first); nothing matching is
    // no group.
    assert.deepEqual(
      (await f.totalsBy("team", { inventory: inv, account: "222" })).groups.map((g) => g.group),
      ["ops", "web"],
    );
    assert.deepEqual(await f.totalsBy("region", { inventory: "nothing-here" }), {
      groups: [],
      total: { count: 0, savings_monthly: {} },
    });
    // And the whole, as totals gives it.
    const whole = { count: 6, savings_monthly: { EUR: "9", USD: "570.38" } };
    assert.deepEqual(await f.totals({ inventory: inv }), whole);
    assert.deepEqual(byTeam.total, whole);
    assert.deepEqual(byAccount.total, whole);
  });

  test("findings: first seen before an instant (open longer than a while), the bound itself excluded", async () => {
    const f = ctx.store.findings;
    const inv = "inv-age";
    await f.record("a1", inv, "2026-03-01T00:00:00.000Z", [finding("a-old", "low-utilization")]);
    await f.record("a2", inv, "2026-03-03T00:00:00.000Z", [
      finding("a-old", "low-utilization"),
      finding("a-new", "low-utilization"),
    ]);
    const ids = async (before: string) =>
      (await f.list({ inventory: inv, firstSeenBefore: before })).map((x) => x.resource_id).sort();
    assert.deepEqual(await ids("2026-03-02T00:00:00.000Z"), ["a-old"]);
    assert.deepEqual(await ids("2026-03-01T00:00:00.000Z"), []);
    assert.deepEqual(await ids("2026-03-03T00:00:00.001Z"), ["a-new", "a-old"]);
    // Any ISO 8601 instant is the same bound: another zone, no milliseconds.
    assert.deepEqual(await ids("2026-03-02T01:00:00+01:00"), ["a-old"]);
    assert.equal(await f.count({ inventory: inv, firstSeenBefore: "2026-03-02T00:00:00Z" }), 1);
  });

  test("a finding, scan or audit entry whose stored JSON is damaged is named in one error, not a parse failure", async () => {
    const inv = "inv-damaged";
    await ctx.store.findings.record("dmg1", inv, "2026-03-01T00:00:00.000Z", [finding("dmg-1")]);
    await ctx.store.scans.start({
      id: "scan-dmg",
      inventory: inv,
      started_at: "2026-03-01T00:00:00.000Z",
      policy_revision: "r1",
      policies: [],
    });
    await ctx.store.scans.complete("scan-dmg", "2026-03-01T00:01:00.000Z", EMPTY_SCAN_SUMMARY);
    const raw = rawDb();
    try {
      await raw.run("UPDATE finding_rows SET checks = '[{' WHERE fingerprint = 'fp-dmg-1-low-utilization'");
      await raw.run("UPDATE scans SET by_team = 'teams' WHERE id = 'scan-dmg'");
      await raw.run(
        "INSERT INTO audit_log (at, actor, action, subject_type, subject_id, details) VALUES ('2026-03-01T00:00:00.000Z', 'a', 'x', 'resource', 'i-dmg', '{oops')",
      );
    } finally {
      await raw.close();
    }
    const damaged = (what: string) => (err: unknown) =>
      err instanceof StoredDataError && err.message.startsWith(`${what}: not JSON as costguard stores it (`);
    const finding1 = "the checks of finding fp-dmg-1-low-utilization";
    await assert.rejects(ctx.store.findings.get("fp-dmg-1-low-utilization"), damaged(finding1));
    await assert.rejects(ctx.store.findings.list({ inventory: inv }), damaged(finding1));
    await assert.rejects(
      ctx.store.findings.forEach({ inventory: inv }, () => true),
      damaged(finding1),
    );
    await assert.rejects(ctx.store.scans.get("scan-dmg"), damaged("the by_team of scan scan-dmg"));
    await assert.rejects(ctx.store.audit.list({ subjectId: "i-dmg" }), (err: unknown) =>
      /^the details of audit entry \d+: not JSON as costguard stores it \(/.test((err as Error).message),
    );
    // What is not damaged still reads.
    assert.equal(await ctx.store.findings.count({ inventory: inv }), 1);
  });

  test("audit log: append and read back; updates and deletes are refused", async () => {
    const entry = await ctx.store.audit.append({
      at: "2026-03-01T00:00:00.000Z",
      actor: "alice@company.com",
      action: "resource.stop",
      subject_type: "resource",
      subject_id: "i-audit",
      details: { before: "running", after: "stopped" },
    });
    assert.ok(entry.id > 0);
    const listed = await ctx.store.audit.list({ subjectType: "resource", subjectId: "i-audit" });
    assert.deepEqual(listed, [entry]);
    const raw = rawDb();
    try {
      await assert.rejects(raw.run("UPDATE audit_log SET actor = 'mallory'"), /append-only/);
      await assert.rejects(raw.run("DELETE FROM audit_log"), /append-only/);
    } finally {
      await raw.close();
    }
    assert.equal((await ctx.store.audit.list({ subjectId: "i-audit" }))[0]?.actor, "alice@company.com");
  });

  test("audit log: read by actor, action family, time and id, newest first, a page at a time", async () => {
    const actor = "audit-filter@company.com";
    const add = (at: string, action: string, subject: string) =>
      ctx.store.audit.append({
        at,
        actor,
        action,
        subject_type: "resource",
        subject_id: subject,
        details: { n: subject },
      });
    const a = await add("2026-03-01T00:00:00.000Z", "resource.stop", "i-af1");
    const b = await add("2026-03-02T00:00:00.000Z", "resources.stop", "i-af2");
    const c = await add("2026-03-03T00:00:00.000Z", "resource.tag", "i-af3");
    const d = await add("2026-03-04T00:00:00.000Z", "res%urce.stop", "i-af4");
    const ids = (entries: { id: number }[]) => entries.map((e) => e.id);
    assert.deepEqual(ids(await ctx.store.audit.list({ actor })), ids([a, b, c, d]));
    assert.deepEqual(ids(await ctx.store.audit.list({ actor, newestFirst: true })), ids([d, c, b, a]));
    // A family is the text before its dot and the dot: resources.stop is not one of resource's.
    assert.deepEqual(ids(await ctx.store.audit.list({ actor, actionPrefix: "resource." })), ids([a, c]));
    // A % or _ in what is asked for is itself, not a pattern.
    assert.deepEqual(ids(await ctx.store.audit.list({ actor, actionPrefix: "res%" })), ids([d]));
    assert.deepEqual(ids(await ctx.store.audit.list({ actor, actionPrefix: "res_" })), []);
    assert.deepEqual(
      ids(await ctx.store.audit.list({ actor, since: "2026-03-02T00:00:00.000Z" })),
      ids([b, c, d]),
    );
    const first = await ctx.store.audit.list({ actor, newestFirst: true, limit: 3 });
    assert.deepEqual(ids(first), ids([d, c, b]));
    const next = await ctx.store.audit.list({ actor, newestFirst: true, limit: 3, before: first.at(-1)!.id });
    assert.deepEqual(ids(next), ids([a]));
    assert.deepEqual(await ctx.store.audit.list({ actor: "no-one@company.com" }), []);
    // Every action in the log once, with its count, in the order of their names.
    const actions = await ctx.store.audit.actions();
    const names = actions.map((x) => x.action);
    assert.deepEqual(names, [...new Set(names)].sort());
    const count = (action: string) => actions.find((x) => x.action === action)?.count;
    assert.equal(count("res%urce.stop"), 1);
    assert.equal(count("resources.stop"), 1);
    assert.ok(count("resource.stop")! >= 1);
  });

  test("audit log: an actor is read in any case or way of writing the name, past a page of others", async () => {
    const add = (actor: string, subject: string) =>
      ctx.store.audit.append({
        at: "2026-04-01T00:00:00.000Z",
        actor,
        action: "exception.approved",
        subject_type: "exception",
        subject_id: subject,
        details: {},
      });
    const first = await add("Émile", "exc-ac1");
    // More entries by others than are looked at per query: the rest are found after them.
    await ctx.store.transaction(async (tx) => {
      for (let i = 0; i < 1100; i++)
        await tx.audit.append({
          at: "2026-04-01T00:00:00.000Z",
          actor: `someone-${i}`,
          action: "exception.approved",
          subject_type: "exception",
          subject_id: `exc-other-${i}`,
          details: {},
        });
    });
    const second = await add("ÉMILE", "exc-ac2");
    const third = await add("ｅｍｉｌｅ", "exc-ac3");
    await add("émilie", "exc-ac4");
    const ids = (entries: { id: number }[]) => entries.map((e) => e.id);
    // SQLite's lower() folds only ASCII (É stays), PostgreSQL's by its collation: both find all three.
    assert.deepEqual(ids(await ctx.store.audit.list({ actor: "émile" })), ids([first, second, third]));
    assert.deepEqual(
      ids(await ctx.store.audit.list({ actor: "Emile", newestFirst: true })),
      ids([third, second, first]),
    );
    const page = await ctx.store.audit.list({ actor: "EMILE", newestFirst: true, limit: 2 });
    assert.deepEqual(ids(page), ids([third, second]));
    assert.deepEqual(
      ids(
        await ctx.store.audit.list({ actor: "EMILE", newestFirst: true, limit: 2, before: page.at(-1)!.id }),
      ),
      ids([first]),
    );
    assert.deepEqual(
      ids(await ctx.store.audit.list({ actor: "emile", subjectId: "exc-ac2" })),
      ids([second]),
    );
    assert.deepEqual(
      ids(await ctx.store.audit.list({ actor: "emile", after: first.id, limit: 1 })),
      ids([second]),
    );
    assert.equal((await ctx.store.audit.list({ actor: "émile" }))[1]!.actor, "ÉMILE");
  });

  test("a transaction commits all repositories together or none", async () => {
    await assert.rejects(
      ctx.store.transaction(async (tx) => {
        await tx.resources.put("tx", [{ id: "i-tx", type: "compute/instance" }], "2026-03-01T00:00:00.000Z");
        await tx.audit.append({
          at: "2026-03-01T00:00:00.000Z",
          actor: "test",
          action: "resource.put",
          subject_type: "resource",
          subject_id: "i-tx",
          details: {},
        });
        throw new Error("boom");
      }),
      /boom/,
    );
    assert.equal(await ctx.store.resources.count("tx"), 0);
    assert.deepEqual(await ctx.store.audit.list({ subjectId: "i-tx" }), []);

    await ctx.store.transaction(async (tx) => {
      await tx.resources.put("tx", [{ id: "i-tx", type: "compute/instance" }], "2026-03-01T00:00:00.000Z");
      await tx.settings.set("tx.flag", "1", "2026-03-01T00:00:00.000Z");
    });
    assert.equal(await ctx.store.resources.count("tx"), 1);
    assert.equal(await ctx.store.settings.get("tx.flag"), "1");
  });
});
