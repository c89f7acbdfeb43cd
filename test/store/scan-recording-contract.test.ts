import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { reportError } from "../../src/cli/exit.js";
import {
  BY_FINGERPRINT_STATEMENTS,
  FindingKinds,
  prepareFindings,
} from "../../src/scan/sql-finding-repository.js";
import type { Finding, FindingStatus, StoredFinding } from "../../src/scan/types.js";
import { packRow, RowPacker } from "../../src/store/packed-rows.js";
import { openPostgresDb } from "../../src/store/postgres-db.js";
import type { SqlValue } from "../../src/store/sql.js";
import { openSqliteDb } from "../../src/store/sqlite-db.js";
import { type DatabaseContext, describeEachDatabase } from "../helpers/databases.js";
import { EMPTY_SCAN_SUMMARY, paymentsFinding } from "../helpers/findings.js";

/**
 * beginScan/add/finish is the bulk path scans take; record + resolveUnseen + countFirstSeen is the
 * per-row one. Run the same scans through both (on two inventories whose fingerprints differ only by
 * a prefix) and the stored findings, counts and summaries must be the same after every step.
 */
function finding(id: string, rule: string, extra: Partial<Finding> = {}): Finding {
  return paymentsFinding(id, {
    fingerprint: `${id}/${rule}`,
    policy: rule === "tags" ? "mandatory-tags" : "idle-resource-detection",
    rule,
    source: rule === "tags" ? "policy" : "detector",
    message: `${rule} on ${id}`,
    ...extra,
  });
}

type Step =
  | { kind: "scan"; batches: Finding[][] }
  | { kind: "status"; fingerprint: string; status: FindingStatus };

const day = (n: number) => `2026-04-${String(n).padStart(2, "0")}T00:00:00.000Z`;

const STEPS: Step[] = [
  // 1: three new findings over two batches, one fingerprint twice in a batch (the last one wins).
  {
    kind: "scan",
    batches: [
      [
        finding("i-1", "idle"),
        finding("i-1", "tags"),
        finding("i-1", "idle", { message: "twice, last wins" }),
      ],
      [finding("i-2", "idle"), finding("i-3", "idle")],
    ],
  },
  // 2: i-1 idle unchanged (as last stored), i-1 tags changed saving, i-2 unseen, i-3 in two batches.
  {
    kind: "scan",
    batches: [
      [
        finding("i-1", "idle", { message: "twice, last wins" }),
        finding("i-1", "tags", { savings_monthly: "1" }),
      ],
      [finding("i-3", "idle", { message: "first" })],
      [finding("i-3", "idle")],
    ],
  },
  { kind: "status", fingerprint: "i-3/idle", status: "excepted" },
  // 4: i-2 comes back (reopened, first_seen kept), the excepted i-3 unchanged stays excepted.
  {
    kind: "scan",
    batches: [
      [
        finding("i-2", "idle"),
        finding("i-3", "idle"),
        finding("i-1", "idle", { message: "twice, last wins" }),
      ],
    ],
  },
  // 5: an excepted finding changed stays excepted; i-1 tags resolves.
  {
    kind: "scan",
    batches: [
      [finding("i-3", "idle", { checks: [] }), finding("i-1", "idle", { message: "twice, last wins" })],
    ],
  },
  // 6: nothing at all: everything open or excepted resolves.
  { kind: "scan", batches: [] },
  // 7: all back, and a new one.
  {
    kind: "scan",
    batches: [
      [
        finding("i-1", "idle"),
        finding("i-1", "tags"),
        finding("i-2", "idle"),
        finding("i-3", "idle"),
        finding("i-4", "idle"),
      ],
    ],
  },
  // 8: unchanged again, one batch empty.
  {
    kind: "scan",
    batches: [
      [],
      [
        finding("i-1", "idle"),
        finding("i-1", "tags"),
        finding("i-2", "idle"),
        finding("i-3", "idle"),
        finding("i-4", "idle"),
      ],
    ],
  },
];

function prefixed(f: Finding, p: string): Finding {
  return { ...f, fingerprint: `${p}:${f.fingerprint}` };
}

function comparable(rows: StoredFinding[], p: string): unknown[] {
  return rows
    .map((r) => ({
      ...r,
      fingerprint: r.fingerprint.slice(p.length + 1),
      inventory: r.inventory.slice(p.length + 1),
      first_scan_id: r.first_scan_id.slice(p.length + 1),
      last_scan_id: r.last_scan_id.slice(p.length + 1),
    }))
    .sort((a, b) => a.fingerprint.localeCompare(b.fingerprint));
}

/** A bare handle on the suite's database, beside its store. */
const rawDb = (ctx: DatabaseContext) =>
  ctx.kind === "sqlite" ? openSqliteDb(ctx.db.url) : openPostgresDb(ctx.db.url);

describeEachDatabase("sql surface: runMany counts, each, begin", (ctx) => {
  test("runMany returns the rows it changed; each streams rows as values", async () => {
    const db = rawDb(ctx);
    try {
      await db.exec("CREATE TABLE t_many (k TEXT PRIMARY KEY, v INTEGER)");
      assert.equal(
        await db.runMany("INSERT INTO t_many (k, v) VALUES (?, ?)", [
          ["a", 1],
          ["b", 2],
        ]),
        2,
      );
      assert.equal(
        await db.runMany("INSERT INTO t_many (k, v) VALUES (?, ?) ON CONFLICT (k) DO NOTHING", [
          ["a", 9],
          ["c", 3],
        ]),
        1,
      );
      const seen: unknown[][] = [];
      const n = await db.each("SELECT k, v FROM t_many WHERE v < ? ORDER BY k", [3], (v) => seen.push(v));
      assert.equal(n, 2);
      assert.deepEqual(
        seen.map(([k, v]) => [k, Number(v)]),
        [
          ["a", 1],
          ["b", 2],
        ],
      );
      // The same SQL still returns objects from all().
      assert.deepEqual(
        (await db.all<{ k: string }>("SELECT k, v FROM t_many WHERE v < ? ORDER BY k", [3])).map((r) => r.k),
        ["a", "b"],
      );
    } finally {
      await db.close();
    }
  });

  test("runMany of big batches (COPY on PostgreSQL) stores every value as given; counts and orElse as for small ones", async () => {
    const db = rawDb(ctx);
    try {
      await db.exec(
        "CREATE TABLE t_big (k TEXT PRIMARY KEY, label TEXT NOT NULL, note TEXT, n INTEGER, amount TEXT, kind TEXT NOT NULL)",
      );
      const odd = [
        "tab\there",
        "line\nbreak",
        "cr\rhere",
        "back\\slash",
        "\\N",
        "",
        "ünïcødé ✓",
        "it's, (1)?",
      ];
      const rows = (from: number, count: number, label: string): SqlValue[][] =>
        Array.from({ length: count }, (_, i) => {
          const k = from + i;
          return [
            `k${k}`,
            `${label} ${odd[k % odd.length]}`,
            k % 5 === 0 ? null : odd[k % odd.length]!,
            k,
            `${k}.25`,
          ];
        });
      const insert =
        "INSERT INTO t_big (k, label, note, n, amount, kind) VALUES (?, ?, ?, ?, ?, 'it''s literal') ON CONFLICT (k) DO NOTHING";
      const upsert =
        "INSERT INTO t_big (k, label, note, n, amount, kind) VALUES (?, ?, ?, ?, ?, 'it''s literal') ON CONFLICT (k) DO UPDATE SET label = excluded.label, note = excluded.note";
      // Outside a transaction, then inside one across a commitAndBegin (the temporary table is remade).
      assert.equal(await db.runMany(insert, rows(0, 1500, "first")), 1500);
      const tx = await db.begin();
      assert.equal(await tx.runMany(insert, rows(1000, 1500, "second")), 1000); // 500 already there
      await tx.commitAndBegin();
      // orElse runs over the same rows when the first statement changed fewer than all.
      assert.equal(await tx.runMany(insert, rows(2000, 1200, "third"), { orElse: upsert }), 700);
      await tx.commit();
      const stored = await db.all<{
        k: string;
        label: string;
        note: string | null;
        n: number | string;
        amount: string;
        kind: string;
      }>("SELECT k, label, note, n, amount, kind FROM t_big ORDER BY n");
      assert.equal(stored.length, 3200);
      const expected = [
        ...rows(0, 1500, "first"),
        ...rows(1500, 500, "second"),
        ...rows(2000, 1200, "third"),
      ];
      assert.deepEqual(
        stored.map((r) => [r.k, r.label, r.note, Number(r.n), r.amount, r.kind]),
        expected.map((r) => [...r, "it's literal"]),
      );
    } finally {
      await db.close();
    }
  });

  test("packed rows store every value as given, through a transaction's thread and through the handle", async () => {
    const db = rawDb(ctx);
    try {
      await db.exec("CREATE TABLE t_packed (k TEXT PRIMARY KEY, v TEXT, n INTEGER, kind TEXT NOT NULL)");
      // PostgreSQL text can't hold U+0000 at all (SQLite can).
      const odd = [
        "",
        ...(ctx.kind === "sqlite" ? ["\u0000"] : []),
        "a\u001fb",
        "\u0002lead",
        "\u001erow end",
        "ünïcødé ✓ ×",
        "tab\there\nline",
        '{"json": [1]}',
      ];
      const rows = (from: number, count: number): SqlValue[][] =>
        Array.from({ length: count }, (_, i) => {
          const k = from + i;
          return [`k${k}`, k % 9 === 8 ? null : odd[k % odd.length]!, k % 4 === 0 ? k : null];
        });
      const utf8 = new TextEncoder();
      const pack = (values: SqlValue[][]) => {
        const packer = new RowPacker(4);
        for (const row of values) packer.addBytes(utf8.encode(packRow(row)));
        return packer.take();
      };
      const insert =
        "INSERT INTO t_packed (k, v, n, kind) VALUES (?, ?, ?, 'packed') ON CONFLICT (k) DO NOTHING";
      const upsert =
        "INSERT INTO t_packed (k, v, n, kind) VALUES (?, ?, ?, 'packed') ON CONFLICT (k) DO UPDATE SET v = excluded.v";
      assert.equal(await db.runMany(insert, pack(rows(0, 50))), 50);
      const tx = await db.begin();
      // Rows packed from bytes (as a scan worker hands them on) and with orElse for the ones there.
      const again = new RowPacker();
      const bytes = pack(rows(40, 30));
      let start = 0;
      for (const end of bytes.ends) {
        again.addBytes(bytes.bytes.subarray(start, end));
        start = end;
      }
      assert.equal(await tx.runMany(insert, again.take(), { orElse: upsert }), 20);
      await tx.commit();
      const stored = await db.all<{ k: string; v: string | null; n: number | string | null; kind: string }>(
        "SELECT k, v, n, kind FROM t_packed ORDER BY k",
      );
      const expected = rows(0, 70).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
      assert.deepEqual(
        stored.map((r) => [r.k, r.v, r.n === null ? null : Number(r.n)]),
        expected,
      );
      assert.ok(stored.every((r) => r.kind === "packed"));
    } finally {
      await db.close();
    }
  });

  test("begin: a transaction that spans awaits; the handle still reads meanwhile; commit and rollback", async () => {
    const db = rawDb(ctx);
    try {
      await db.exec("CREATE TABLE t_begin (k TEXT PRIMARY KEY)");
      const tx = await db.begin();
      await tx.run("INSERT INTO t_begin (k) VALUES (?)", ["one"]);
      // Reads through the handle are not blocked by the open transaction, and do not see it yet.
      assert.deepEqual(await db.all("SELECT k FROM t_begin"), []);
      await tx.commit();
      assert.deepEqual(await db.all("SELECT k FROM t_begin"), [{ k: "one" }]);
      await assert.rejects(tx.commit(), /ended/);

      const tx2 = await db.begin();
      await tx2.run("INSERT INTO t_begin (k) VALUES (?)", ["two"]);
      await tx2.rollback();
      assert.deepEqual(await db.all("SELECT k FROM t_begin ORDER BY k"), [{ k: "one" }]);
    } finally {
      await db.close();
    }
  });

  test("PostgreSQL: a scan that changes many findings refreshes the planner's statistics; a small one does not", async (t) => {
    if (ctx.kind === "sqlite")
      return t.skip("PostgreSQL only (SQLite's plans do not rest on statistics here)");
    const db = rawDb(ctx);
    const lastAnalyze = async () =>
      (
        await db.get<{ at: string | null }>(
          "SELECT last_analyze::text AS at FROM pg_stat_user_tables WHERE relname = 'finding_rows' AND schemaname = current_schema()",
        )
      )?.at ?? null;
    try {
      const scan = async (id: string, inventory: string, count: number) => {
        const r = await ctx.store.findings.beginScan(id, inventory, day(1));
        for (let start = 0; start < count; start += 2000)
          await r.add(
            Array.from({ length: Math.min(2000, count - start) }, (_, i) =>
              finding(`an-${id}-${start + i}`, "idle"),
            ),
          );
        await r.finish();
      };
      const before = await lastAnalyze();
      await scan("small", "analyze:small", 50);
      assert.equal(await lastAnalyze(), before, "50 findings: no ANALYZE");
      await scan("big", "analyze:big", 10_500);
      const after = await lastAnalyze();
      assert.ok(after !== null && after !== before, `10,500 findings: ANALYZE ran (${before} → ${after})`);
    } finally {
      await db.close();
    }
  });

  test("a transaction whose connection the server ends fails its next query; the process and the pool go on", async (t) => {
    if (ctx.kind === "sqlite") return t.skip("PostgreSQL only (a server that ends sessions)");
    const db = rawDb(ctx);
    try {
      const tx = await db.begin();
      const pid = Number((await tx.get<{ pid: number }>("SELECT pg_backend_pid() AS pid"))!.pid);
      // An administrator (or a server restart) ends the session while the transaction is idle.
      const admin = rawDb(ctx);
      await admin.get("SELECT pg_terminate_backend(?) AS ok", [pid]);
      await admin.close();
      // Before: the client's 'error' event had no listener and ended the process.
      let failed: unknown;
      for (let i = 0; i < 50 && failed === undefined; i++) {
        await tx.get("SELECT 1 AS one").catch((err: unknown) => {
          failed = err;
        });
        if (failed === undefined) await new Promise((r) => setTimeout(r, 20));
      }
      // The server's reason, said as the database's failure (exit 3), not pg's "not queryable".
      const stderr = new PassThrough();
      assert.equal(reportError(failed, stderr), 3);
      assert.equal(
        String(stderr.read()),
        "costguard: the database failed: terminating connection due to administrator command\n",
      );
      // And so does every later statement of the transaction.
      await assert.rejects(tx.get("SELECT 1 AS one"), {
        message: "terminating connection due to administrator command",
      });
      await tx.rollback().catch(() => {});
      // The broken client is not handed out again.
      for (let i = 0; i < 6; i++) assert.deepEqual(await db.get("SELECT 1 AS one"), { one: 1 });
    } finally {
      await db.close();
    }
  });
});

describeEachDatabase("scan recording", (ctx) => {
  test("bulk recording stores exactly what per-row recording does, scan after scan", async () => {
    const f = ctx.store.findings;
    let n = 0;
    for (const step of STEPS) {
      n++;
      if (step.kind === "status") {
        await f.setStatus(`row:${step.fingerprint}`, step.status, day(n));
        await f.setStatus(`bulk:${step.fingerprint}`, step.status, day(n));
        await f.setStatus(`prep:${step.fingerprint}`, step.status, day(n));
        continue;
      }
      const at = day(n);
      // The per-row path.
      for (const batch of step.batches)
        await f.record(
          `row:s${n}`,
          "row:inv",
          at,
          batch.map((x) => prefixed(x, "row")),
        );
      const rowResolved = await f.resolveUnseen(`row:s${n}`, "row:inv", at);
      const rowNew = await f.countFirstSeen(`row:s${n}`);
      // The bulk path.
      const recording = await f.beginScan(`bulk:s${n}`, "bulk:inv", at);
      for (const batch of step.batches) await recording.add(batch.map((x) => prefixed(x, "bulk")));
      const bulk = await recording.finish();
      // The bulk path with findings prepared elsewhere (as scan workers send them).
      const prepared = await f.beginScan(`prep:s${n}`, "prep:inv", at);
      for (const batch of step.batches)
        await prepared.addPrepared(
          prepareFindings(
            batch.map((x) => prefixed(x, "prep")),
            new FindingKinds(),
          ),
        );
      assert.deepEqual(await prepared.finish(), bulk, `scan ${n}: prepared counts`);

      // A fingerprint given again in the same scan (steps 1 and 2) is counted, not stored twice.
      const given = step.batches.flat().map((x) => x.fingerprint);
      const repeatedFindings = given.length - new Set(given).size;
      assert.deepEqual(
        bulk,
        { newFindings: rowNew, resolvedFindings: rowResolved, repeatedFindings },
        `scan ${n}: counts`,
      );
      assert.equal(await f.countFirstSeen(`bulk:s${n}`), rowNew, `scan ${n}: countFirstSeen`);
      assert.deepEqual(
        comparable(await f.list({ inventory: "bulk:inv" }), "bulk"),
        comparable(await f.list({ inventory: "row:inv" }), "row"),
        `scan ${n}: stored findings`,
      );
      assert.deepEqual(
        comparable(await f.list({ inventory: "prep:inv" }), "prep"),
        comparable(await f.list({ inventory: "row:inv" }), "row"),
        `scan ${n}: stored findings, prepared`,
      );
      // Exports read each finding as JSON text: the text JSON.stringify makes of what forEach reads,
      // sightings confirmed by the last scan, excepted and resolved findings included.
      for (const inventory of ["bulk:inv", "row:inv"]) {
        const objects: string[] = [];
        await f.forEach({ inventory, status: ["open", "excepted", "resolved"] }, (rows) => {
          for (const r of rows) objects.push(JSON.stringify(r));
        });
        const texts: string[] = [];
        await f.forEachJson({ inventory, status: ["open", "excepted", "resolved"] }, (rows) => {
          texts.push(...rows);
        });
        assert.deepEqual(texts, objects, `scan ${n}: ${inventory} as JSON`);
      }
      if (n === 5) {
        // The excepted finding, seen changed, stayed excepted; the unseen tags finding resolved.
        const i3 = await f.get("bulk:i-3/idle");
        assert.deepEqual([i3?.status, i3?.last_seen, i3?.checks], ["excepted", day(5), []]);
        assert.equal((await f.get("bulk:i-1/tags"))?.status, "resolved");
      }
    }
    // Sanity: the sequence did exercise each transition, and repeats.
    assert.ok(
      STEPS.slice(0, 2).every(
        (st) =>
          st.kind === "scan" &&
          new Set(st.batches.flat().map((x) => x.fingerprint)).size < st.batches.flat().length,
      ),
    );
    const final = await f.list({ inventory: "bulk:inv" });
    assert.equal(final.length, 5);
    assert.equal(final.find((x) => x.resource_id === "i-2")?.first_seen, day(1));
    assert.deepEqual(
      final.map((x) => [x.status, x.last_seen]),
      final.map(() => ["open", day(8)]),
    );
  });

  test("a finding stored under another inventory moves to the scanning one, not counted new", async () => {
    const f = ctx.store.findings;
    await f.record(
      "m1",
      "move:a",
      day(1),
      [finding("m-1", "idle"), finding("m-2", "idle")].map((x) => prefixed(x, "move")),
    );
    const recording = await f.beginScan("m2", "move:b", day(2));
    await recording.add([finding("m-1", "idle"), finding("m-3", "idle")].map((x) => prefixed(x, "move")));
    assert.deepEqual(await recording.finish(), { newFindings: 1, resolvedFindings: 0, repeatedFindings: 0 });
    const moved = await f.get("move:m-1/idle");
    assert.equal(moved?.inventory, "move:b");
    assert.equal(moved?.first_seen, day(1));
    assert.equal(moved?.last_seen, day(2));
    assert.equal(moved?.last_scan_id, "m2");
    assert.equal((await f.get("move:m-2/idle"))?.inventory, "move:a");
  });

  test("a scan that fails keeps what it recorded, resolves nothing, and frees the database", async () => {
    const f = ctx.store.findings;
    const first = await f.beginScan("a1", "abort:inv", day(1));
    await first.add([finding("a-1", "idle"), finding("a-2", "idle"), finding("a-4", "idle")]);
    await first.finish();
    const failed = await f.beginScan("a2", "abort:inv", day(2));
    await failed.add([
      finding("a-3", "idle"),
      finding("a-1", "idle", { message: "changed" }),
      finding("a-4", "idle"),
    ]);
    await failed.abort();
    await assert.rejects(failed.add([]), /finished/);
    const rows = await f.list({ inventory: "abort:inv" });
    // New, changed and seen-again findings are recorded as such; the unseen one is not resolved.
    assert.deepEqual(
      rows.map((r) => [r.resource_id, r.status, r.message, r.last_scan_id, r.last_seen]),
      [
        ["a-1", "open", "changed", "a2", day(2)],
        ["a-2", "open", "idle on a-2", "a1", day(1)],
        ["a-3", "open", "idle on a-3", "a2", day(2)],
        ["a-4", "open", "idle on a-4", "a2", day(2)],
      ],
    );
    // The database is usable for writes again.
    await f.setStatus("a-2/idle", "excepted", day(3));
  });

  test("findings a failed or interrupted scan first wrote are new to the next completed scan that sees them", async () => {
    const { findings: f, scans } = ctx.store;
    const inv = "kept:inv";
    const start = (id: string, n: number) =>
      scans.start({ id, inventory: inv, started_at: day(n), policy_revision: "r", policies: [] });
    await start("k1", 1);
    const first = await f.beginScan("k1", inv, day(1));
    await first.add([finding("k-1", "idle")]);
    await first.finish();
    await scans.complete("k1", day(1), EMPTY_SCAN_SUMMARY);
    // k2 fails after writing two findings first (k-2, k-3) and seeing k-1 again.
    await start("k2", 2);
    const failed = await f.beginScan("k2", inv, day(2));
    await failed.add([finding("k-1", "idle"), finding("k-2", "idle"), finding("k-3", "idle")]);
    await failed.abort();
    await scans.fail("k2", day(2), "bad line");
    assert.equal((await scans.get("k2"))?.findings_kept, 2);
    // k3 sees k-2 (not k-3, which it resolves) and finds k-4: k-2 is new to it as k-4 is.
    await start("k3", 3);
    const next = await f.beginScan("k3", inv, day(3));
    await next.add([finding("k-1", "idle"), finding("k-2", "idle"), finding("k-4", "idle")]);
    const done = await next.finish();
    await scans.complete("k3", day(3), { ...EMPTY_SCAN_SUMMARY, new_findings: done.newFindings });
    assert.deepEqual([done.newFindings, done.resolvedFindings], [2, 1]);
    const firstScans = Object.fromEntries(
      (await f.list({ inventory: inv, status: ["open", "resolved"] })).map((r) => [
        r.resource_id,
        [r.first_scan_id, r.first_seen],
      ]),
    );
    // First seen when it was; what it resolved stays the failed scan's.
    assert.deepEqual(firstScans, {
      "k-1": ["k1", day(1)],
      "k-2": ["k3", day(2)],
      "k-3": ["k2", day(2)],
      "k-4": ["k3", day(3)],
    });
    assert.equal(await f.count({ inventory: inv, status: "open", firstScanId: "k3" }), 2);
    const k2 = await scans.get("k2");
    assert.deepEqual([k2?.findings_kept, k2?.findings_kept_new_in], [2, "k3"]);
    // Handed on once: the next completed scan finds nothing new.
    await start("k4", 4);
    const again = await f.beginScan("k4", inv, day(4));
    await again.add([finding("k-1", "idle"), finding("k-2", "idle"), finding("k-4", "idle")]);
    assert.equal((await again.finish()).newFindings, 0);
    await scans.complete("k4", day(4), EMPTY_SCAN_SUMMARY);
    // A scan whose process ended, still recorded running, with a finding it wrote first: the next
    // scan's start marks it interrupted and counts that finding, which the next completed scan takes.
    const raw = rawDb(ctx);
    try {
      await raw.run(
        "INSERT INTO scans (id, inventory, started_at, status, policy_revision, policies) VALUES ('k5', ?, ?, 'running', 'r', '[]')",
        [inv, day(5)],
      );
    } finally {
      await raw.close();
    }
    await f.record("k5", inv, day(5), [finding("k-5", "idle")]);
    await start("k6", 6);
    const k5 = await scans.get("k5");
    assert.deepEqual([k5?.status, k5?.findings_kept], ["failed", 1]);
    const after = await f.beginScan("k6", inv, day(6));
    await after.add([
      finding("k-1", "idle"),
      finding("k-2", "idle"),
      finding("k-4", "idle"),
      finding("k-5", "idle"),
    ]);
    assert.equal((await after.finish()).newFindings, 1);
    await scans.complete("k6", day(6), EMPTY_SCAN_SUMMARY);
    assert.equal((await scans.get("k5"))?.findings_kept_new_in, "k6");
  });

  test("inventory names with quotes, parentheses and question marks are stored as given", async () => {
    const f = ctx.store.findings;
    // The scan writes its inventory into its statements as a quoted literal (see upsert()).
    const inventory = "file:/data/it's (copy 1)?.jsonl";
    const scan = await f.beginScan("odd-1", inventory, day(1));
    await scan.add([finding("odd-1", "idle"), finding("odd-2", "idle")]);
    assert.deepEqual(await scan.finish(), { newFindings: 2, resolvedFindings: 0, repeatedFindings: 0 });
    const rows = await f.list({ inventory });
    assert.deepEqual(
      rows.map((r) => [r.resource_id, r.inventory, r.status]),
      [
        ["odd-1", inventory, "open"],
        ["odd-2", inventory, "open"],
      ],
    );
  });

  test("a scan whose writes the database refuses fails with its message and leaves no transaction open", async () => {
    // A trigger refuses this inventory's findings, as a full disk or a broken constraint would.
    const raw = rawDb(ctx);
    const inventory = "refused:inv";
    if (ctx.kind === "sqlite") {
      await raw.exec(
        `CREATE TRIGGER refuse_test BEFORE INSERT ON finding_rows WHEN NEW.inventory = '${inventory}' BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`,
      );
    } else {
      await raw.exec(`CREATE FUNCTION refuse_test() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'refused by the test'; END $$;
        CREATE TRIGGER refuse_test BEFORE INSERT ON finding_rows FOR EACH ROW
        WHEN (NEW.inventory = '${inventory}') EXECUTE FUNCTION refuse_test()`);
    }
    // A store of its own, so its closing shows whether a connection was left in the transaction.
    const store = await ctx.db.open();
    let closed = false;
    try {
      const before = await store.findings.beginScan("refused-0", "accepted:inv", day(1));
      await before.add([finding("ok-1", "idle")]);
      await before.finish();
      const scan = await store.findings.beginScan("refused-1", inventory, day(1));
      // The write is sent without waiting: the refusal surfaces at the latest when the scan finishes.
      const failed = await scan
        .add([finding("r-1", "idle"), finding("r-2", "idle")])
        .then(() => scan.finish())
        .then(
          () => undefined,
          (err: Error) => err,
        );
      assert.match(String(failed?.message), /refused by the test/);
      await scan.abort(); // what a failed scan does next (runScan): nothing left to end
      await assert.rejects(scan.finish(), /finished/);
      // The database takes writes again from anyone (SQLite: the writer thread's transaction ended).
      await store.findings.setStatus("ok-1/idle", "excepted", day(2));
      if (ctx.kind === "postgres") {
        const stuck = await raw.all<{ n: number | string }>(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'",
        );
        assert.equal(Number(stuck[0]!.n), 0);
      }
      // Closing waits for every connection to come back: it would never end with one left in a transaction.
      await Promise.race([
        store.close().then(() => {
          closed = true;
        }),
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error("the store did not close")), 10_000).unref(),
        ),
      ]);
      assert.deepEqual(await ctx.store.findings.list({ inventory }), []);
      assert.equal((await ctx.store.findings.get("ok-1/idle"))?.status, "excepted");
    } finally {
      if (!closed) await store.close().catch(() => {});
      await raw.exec(
        ctx.kind === "sqlite"
          ? "DROP TRIGGER refuse_test"
          : "DROP TRIGGER refuse_test ON finding_rows; DROP FUNCTION refuse_test()",
      );
      await raw.close();
    }
  });

  test("last_seen: a finished scan stands for what it saw unchanged; resolving and reopening by hand keep the true sighting", async (t) => {
    const f = ctx.store.findings;
    const scan = async (id: string, at: string, found: Finding[]) => {
      const r = await f.beginScan(id, "seen:inv", at);
      await r.add(found.map((x) => prefixed(x, "seen")));
      return r.finish();
    };
    await scan("s1", day(1), [finding("s-1", "idle"), finding("s-2", "idle")]);
    await scan("s2", day(2), [finding("s-1", "idle"), finding("s-2", "idle")]);
    // The findings view (for SQL readers) must say what costguard's reads say, at every step.
    const raw = ctx.kind === "sqlite" ? openSqliteDb(ctx.db.url) : openPostgresDb(ctx.db.url);
    t.after(() => raw.close());
    const viewed = (id: string) =>
      raw.get<Record<string, string | null>>(
        "SELECT status, last_seen, last_scan_id, exception_id FROM findings WHERE fingerprint = ?",
        [`seen:${id}`],
      );
    const sighting = async (id: string) => {
      const x = await f.get(`seen:${id}`);
      const read = [x?.status, x?.last_seen, x?.last_scan_id];
      const row = await viewed(id);
      assert.deepEqual([row?.status, row?.last_seen, row?.last_scan_id], read, `the findings view on ${id}`);
      assert.equal(row?.exception_id ?? null, x?.exception_id ?? null, `the findings view on ${id}`);
      return read;
    };
    // Unchanged in s2: seen by s2 although only s1 wrote the rows.
    assert.deepEqual(await sighting("s-1/idle"), ["open", day(2), "s2"]);
    assert.deepEqual(
      (await f.list({ inventory: "seen:inv", status: "open" })).map((x) => x.last_scan_id),
      ["s2", "s2"],
    );
    // s3 does not see s-2: resolved, last seen by s2 (not by s3, not by s1 as its row said).
    await scan("s3", day(3), [finding("s-1", "idle")]);
    assert.deepEqual(await sighting("s-2/idle"), ["resolved", day(2), "s2"]);
    assert.deepEqual(await sighting("s-1/idle"), ["open", day(3), "s3"]);
    // Reopened by hand: still last seen by s2, though s3 finished after it.
    await f.setStatus("seen:s-2/idle", "open", day(4));
    assert.deepEqual(await sighting("s-2/idle"), ["open", day(2), "s2"]);
    // Resolved by hand while only a confirmation stood for it: the row keeps that sighting.
    await f.setStatus("seen:s-1/idle", "resolved", day(4));
    assert.deepEqual(await sighting("s-1/idle"), ["resolved", day(3), "s3"]);
    // Seen again unchanged by s5: both open, last seen by s5.
    await f.setStatus("seen:s-1/idle", "open", day(5));
    await scan("s5", day(5), [finding("s-1", "idle"), finding("s-2", "idle")]);
    assert.deepEqual(await sighting("s-1/idle"), ["open", day(5), "s5"]);
    assert.deepEqual(await sighting("s-2/idle"), ["open", day(5), "s5"]);
    // Moved in bulk (exceptions): excepted keeps the sighting, and later scans stand for it too.
    const both = ["seen:s-1/idle", "seen:s-2/idle"];
    assert.equal(await f.moveStatus(both, "open", "excepted", day(5)), 2);
    assert.deepEqual(await sighting("s-1/idle"), ["excepted", day(5), "s5"]);
    assert.equal(await f.setExceptions(new Map([["exc-0123456789", both]])), 2);
    await scan("s6", day(6), [finding("s-1", "idle"), finding("s-2", "idle")]);
    assert.deepEqual(await sighting("s-2/idle"), ["excepted", day(6), "s6"]);
    assert.equal((await viewed("s-2/idle"))?.exception_id, "exc-0123456789");
    // Resolved in bulk: the rows keep s6's sighting; open again in bulk: s7 did not see them.
    assert.equal(await f.moveStatus(both, "excepted", "resolved", day(7)), 2);
    assert.deepEqual(await sighting("s-1/idle"), ["resolved", day(6), "s6"]);
    await scan("s7", day(7), []);
    assert.equal(await f.moveStatus(both, "resolved", "open", day(8)), 2);
    assert.deepEqual(await sighting("s-2/idle"), ["open", day(6), "s6"]);
    // Open again: no exception covers it any more, whatever the row still holds.
    assert.equal((await viewed("s-2/idle"))?.exception_id, null);
  });

  test("updates by fingerprint list go through the fingerprint index, not the whole inventory", async (t) => {
    if (ctx.kind !== "sqlite") return t.skip("SQLite's planner only (PostgreSQL plans by statistics)");
    const raw = openSqliteDb(ctx.db.url);
    try {
      for (const sql of BY_FINGERPRINT_STATEMENTS) {
        const params = Array.from({ length: (sql.match(/\?/g) ?? []).length }, () => "x");
        const plan = await raw.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params);
        assert.match(
          plan.map((p) => p.detail).join(" | "),
          /USING INDEX sqlite_autoindex_finding_rows_1 \(fingerprint=\?\)/,
        );
      }
    } finally {
      await raw.close();
    }
  });

  test("rows without a digest (stored before digests existed) are rewritten once, then left alone", async () => {
    const f = ctx.store.findings;
    await f.record("d1", "digest:inv", day(1), [finding("d-1", "idle")]);
    const raw = rawDb(ctx);
    try {
      await raw.run("UPDATE finding_rows SET digest = NULL, message = 'stale' WHERE inventory = ?", [
        "digest:inv",
      ]);
      const r2 = await f.beginScan("d2", "digest:inv", day(2));
      await r2.add([finding("d-1", "idle")]);
      await r2.finish();
      assert.equal((await f.get("d-1/idle"))?.message, "idle on d-1");
      const digest = await raw.get<{ digest: string | null }>(
        "SELECT digest FROM findings WHERE fingerprint = ?",
        ["d-1/idle"],
      );
      assert.match(digest?.digest ?? "", /^[0-9a-f]{16}$/);
      // Seen again unchanged: only last_seen and last_scan_id move.
      await raw.run("UPDATE finding_rows SET message = 'not rewritten' WHERE fingerprint = ?", ["d-1/idle"]);
      const r3 = await f.beginScan("d3", "digest:inv", day(3));
      await r3.add([finding("d-1", "idle")]);
      await r3.finish();
      const seen = await f.get("d-1/idle");
      assert.equal(seen?.message, "not rewritten");
      assert.equal(seen?.last_seen, day(3));
      assert.equal(seen?.last_scan_id, "d3");
    } finally {
      await raw.close();
    }
  });
});
