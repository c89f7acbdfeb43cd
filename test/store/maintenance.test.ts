import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { migrationTables } from "../../src/store/maintenance.js";
import { MIGRATIONS } from "../../src/store/migrations.js";
import { openStore } from "../../src/store/open.js";
import { describeEachDatabase } from "../helpers/databases.js";
import { idleFinding } from "../helpers/findings.js";

const AT = "2026-06-01T00:00:00.000Z";
const require = createRequire(import.meta.url);

test("migrationTables: every table a migration creates, once, with schema_migrations", () => {
  assert.deepEqual(
    migrationTables([
      { id: "a", description: "", sql: "CREATE TABLE one (x TEXT); create table IF NOT EXISTS Two (y TEXT)" },
      {
        id: "b",
        description: "",
        sql: { sqlite: "CREATE TABLE three (z)", postgres: "CREATE TABLE three (z TEXT)" },
      },
      { id: "c", description: "", sql: "CREATE INDEX one_x ON one (x); CREATE VIEW v AS SELECT 1" },
    ]),
    ["one", "schema_migrations", "three", "two"],
  );
});

describeEachDatabase("store maintenance", (c) => {
  test("info: each of costguard's tables with its rows, the schema's latest migration, a size", async () => {
    const scan = await c.store.findings.beginScan("s1", "file:x", AT);
    await scan.add([idleFinding("i-1"), idleFinding("i-2"), idleFinding("i-3")]);
    await scan.finish();
    await c.store.settings.set("a", "1", AT);
    const info = await c.store.maintenance.info();
    assert.equal(info.dialect, c.kind);
    assert.equal(info.migrations.applied, MIGRATIONS.length);
    assert.equal(info.migrations.latest, MIGRATIONS[MIGRATIONS.length - 1]!.id);
    // Every table the migrations create and did not drop later (scan-0005 made `findings` a view).
    assert.deepEqual(
      info.tables.map((t) => t.name),
      migrationTables(MIGRATIONS).filter((name) => name !== "findings"),
    );
    const rows = new Map(info.tables.map((t) => [t.name, t.rows]));
    assert.equal(rows.get("finding_rows"), 3);
    assert.equal(rows.get("finding_kinds"), 1);
    assert.equal(rows.get("settings"), 1);
    assert.equal(rows.get("schema_migrations"), MIGRATIONS.length);
    assert.ok(info.bytes > 0, `${info.bytes} bytes`);
    if (c.kind === "sqlite") assert.ok(info.freeBytes !== null && info.walBytes !== null);
    else assert.equal(info.freeBytes, null);
  });

  test("compact gives back the room deleted rows left and keeps every row that stays", async () => {
    const big = "x".repeat(8000);
    for (let i = 0; i < 400; i++) await c.store.settings.set(`big-${i}`, big, AT);
    for (let i = 0; i < 400; i++) await c.store.settings.delete(`big-${i}`);
    const before = await c.store.maintenance.info();
    if (c.kind === "sqlite") assert.ok(before.freeBytes! > 3_000_000, `${before.freeBytes} bytes free`);
    const result = await c.store.maintenance.compact();
    assert.equal(result.before, before.bytes);
    const after = await c.store.maintenance.info();
    assert.equal(result.after, after.bytes);
    if (c.kind === "sqlite") {
      assert.equal(result.how, "VACUUM");
      assert.equal(after.freeBytes, 0);
      assert.equal(after.walBytes, 0, "the write-ahead log is emptied");
      assert.ok(result.after < result.before - 3_000_000, `${result.before} → ${result.after}`);
    } else assert.equal(result.how, "VACUUM (ANALYZE) of each table");
    assert.deepEqual(after.tables, before.tables, "no row lost");
    assert.equal(await c.store.settings.get("a"), "1");
  });
});

test("SQLite: compact waits for another process writing, and says the store is busy when it does not finish", async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-compact-"));
  const path = join(dir, "busy.db");
  const store = await openStore({ kind: "sqlite", path });
  try {
    // Another process holds the write lock for 300 ms: compact waits for it (SQLite's busy timeout).
    const writer = spawn(
      process.execPath,
      [
        "-e",
        `const db = new (require(${JSON.stringify(require.resolve("better-sqlite3"))}))(${JSON.stringify(path)});
        db.exec("BEGIN IMMEDIATE; INSERT INTO settings (key, value, updated_at) VALUES ('w', 'v', 'now')");
        console.log("locked");
        setTimeout(() => { db.exec("COMMIT"); db.close(); }, 300);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const [line] = (await once(writer.stdout, "data")) as [Buffer];
    assert.equal(line.toString().trim(), "locked");
    await store.maintenance.compact();
    assert.equal(await store.settings.get("w"), "v", "compacted after the writer committed");
    await once(writer, "exit");
    // A writer that does not end within the busy timeout (5 s) makes it give up, saying why.
    const other = new Database(path);
    try {
      other.exec("BEGIN IMMEDIATE");
      await assert.rejects(store.maintenance.compact(), {
        name: "ConflictError",
        message: `the store ${path} is busy (another costguard is writing to it): compact it when that has finished`,
      });
      other.exec("ROLLBACK");
    } finally {
      other.close();
    }
    await store.maintenance.compact();
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
