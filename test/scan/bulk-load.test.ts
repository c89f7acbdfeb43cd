import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import { DROP_FINDING_INDEXES } from "../../src/scan/migrations.js";
import { sqlFindingRepository } from "../../src/scan/sql-finding-repository.js";
import { migrate } from "../../src/store/migrate.js";
import { MIGRATIONS } from "../../src/store/migrations.js";
import { openStore } from "../../src/store/open.js";
import { openSqliteDb } from "../../src/store/sqlite-db.js";
import { idleFinding } from "../helpers/findings.js";

const dir = mkdtempSync(join(tmpdir(), "costguard-bulk-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const finding = (id: string, overrides: Parameters<typeof idleFinding>[1] = {}) => idleFinding(id, overrides);

/** The findings table's indexes, read from a separate connection. */
function indexes(path: string): string[] {
  const raw = new Database(path, { readonly: true });
  try {
    return (
      raw
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'findings' AND sql IS NOT NULL ORDER BY name",
        )
        .all() as { name: string }[]
    ).map((r) => r.name);
  } finally {
    raw.close();
  }
}

const INDEXES = ["findings_fingerprint", "findings_inventory_status", "findings_resource"];

/** What another connection sees of the findings table: its rows and indexes. */
function outside(path: string): { rows: number; indexes: string[] } {
  const raw = new Database(path, { readonly: true });
  try {
    const { n } = raw.prepare("SELECT COUNT(*) AS n FROM findings").get() as { n: number };
    return { rows: n, indexes: indexes(path) };
  } finally {
    raw.close();
  }
}

test("a first scan into an empty store builds the indexes at its end; a later scan keeps them", async () => {
  const path = join(dir, "first.db");
  const store = await openStore({ kind: "sqlite", path });
  try {
    assert.deepEqual(indexes(path), INDEXES);
    const first = await store.findings.beginScan("s1", "file:a", "2026-06-01T00:00:00.000Z");
    await first.add([finding("i-1"), finding("i-2")]);
    await first.add([finding("i-3")]);
    await first.finish();
    assert.deepEqual(indexes(path), INDEXES);
    assert.deepEqual(
      (await store.findings.list({ resourceId: "i-2" })).map((f) => f.fingerprint),
      ["fp-i-2"],
    );
    // Not an empty store any more: the indexes stay while a second inventory's scan writes.
    const second = await store.findings.beginScan("s2", "file:b", "2026-06-02T00:00:00.000Z");
    await second.add([finding("j-1")]);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(indexes(path), INDEXES);
    await second.finish();
    assert.equal(await store.findings.count({}), 4);
  } finally {
    await store.close();
  }
});

test("indexes a scan dropped and never rebuilt (it died) come back when the store opens", async () => {
  const path = join(dir, "died.db");
  // The state a scan that died after its first commit leaves: rows, and no secondary indexes.
  const store = await openStore({ kind: "sqlite", path });
  await store.findings.record("s1", "file:a", "2026-06-01T00:00:00.000Z", [finding("i-1")]);
  await store.close();
  const raw = new Database(path);
  raw.exec(DROP_FINDING_INDEXES);
  raw.close();
  assert.deepEqual(indexes(path), []);
  const reopened = await openStore({ kind: "sqlite", path });
  try {
    assert.deepEqual(indexes(path), INDEXES);
    assert.equal(await reopened.findings.count({ resourceId: "i-1" }), 1);
  } finally {
    await reopened.close();
  }
});

test("a scan that fails after dropping the indexes rebuilds them and keeps what it recorded", async () => {
  const path = join(dir, "failed.db");
  const store = await openStore({ kind: "sqlite", path });
  try {
    const scan = await store.findings.beginScan("s1", "file:a", "2026-06-01T00:00:00.000Z");
    await scan.add([finding("i-1"), finding("i-2")]);
    await scan.abort();
    assert.deepEqual(indexes(path), INDEXES);
    assert.equal(await store.findings.count({ inventory: "file:a" }), 2);
  } finally {
    await store.close();
  }
});

test("a first scan is one transaction: until it finishes, other connections see the indexes and no rows", async () => {
  const path = join(dir, "atomic.db");
  const store = await openStore({ kind: "sqlite", path });
  try {
    const scan = await store.findings.beginScan("s1", "file:a", "2026-06-01T00:00:00.000Z");
    // More than a batch (2,000 rows): these are sent to the writer before finish().
    await scan.add(Array.from({ length: 2500 }, (_, i) => finding(`i-${i}`)));
    // The writer thread works on: wait until it has written the batch (the file grows).
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(outside(path), { rows: 0, indexes: INDEXES });
    const { newFindings } = await scan.finish();
    assert.equal(newFindings, 2500);
    assert.deepEqual(outside(path), { rows: 2500, indexes: INDEXES });
  } finally {
    await store.close();
  }
});

test("a first scan that sees a fingerprint twice puts the index back and keeps the later finding", async () => {
  const path = join(dir, "twice.db");
  const store = await openStore({ kind: "sqlite", path });
  try {
    const scan = await store.findings.beginScan("s1", "file:a", "2026-06-01T00:00:00.000Z");
    await scan.add(Array.from({ length: 2100 }, (_, i) => finding(`i-${i}`)));
    await scan.add([finding("i-7", { message: "seen again, changed" }), finding("i-2200")]);
    const { newFindings } = await scan.finish();
    assert.equal(newFindings, 2101);
    assert.deepEqual(indexes(path), INDEXES);
    assert.equal(await store.findings.count({}), 2101);
    assert.equal((await store.findings.get("fp-i-7"))?.message, "seen again, changed");
    // The index is the rule: a second row with the same fingerprint is refused.
    const raw = new Database(path);
    try {
      assert.throws(
        () => raw.exec("INSERT INTO findings SELECT * FROM findings WHERE fingerprint = 'fp-i-7'"),
        /UNIQUE constraint failed: findings.fingerprint/,
      );
    } finally {
      raw.close();
    }
  } finally {
    await store.close();
  }
});

test("a store made before scan-0005 keeps its findings when the fingerprint key becomes an index", async () => {
  const path = join(dir, "upgrade.db");
  const db = openSqliteDb(path);
  await migrate(
    db,
    MIGRATIONS.filter((m) => m.id !== "scan-0005-fingerprint-index"),
    new Date("2026-06-01T00:00:00Z"),
  );
  await sqlFindingRepository(db).record("s1", "file:a", "2026-06-01T00:00:00.000Z", [
    finding("i-1"),
    finding("i-2"),
  ]);
  const before = await db.all("SELECT * FROM findings ORDER BY rowid");
  assert.match(
    (
      (await db.get<{ sql: string }>("SELECT sql FROM sqlite_master WHERE name = 'findings'")) as {
        sql: string;
      }
    ).sql,
    /fingerprint TEXT PRIMARY KEY/,
  );
  await db.close();
  const store = await openStore({ kind: "sqlite", path });
  try {
    assert.deepEqual(indexes(path), INDEXES);
    const raw = new Database(path, { readonly: true });
    try {
      assert.deepEqual(raw.prepare("SELECT * FROM findings ORDER BY rowid").all(), before);
      assert.doesNotMatch(
        (raw.prepare("SELECT sql FROM sqlite_master WHERE name = 'findings'").get() as { sql: string }).sql,
        /PRIMARY KEY/,
      );
    } finally {
      raw.close();
    }
    assert.equal((await store.findings.get("fp-i-2"))?.resource_id, "i-2");
  } finally {
    await store.close();
  }
});
