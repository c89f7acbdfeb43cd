import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import { openStore } from "../../src/store/open.js";
import { idleFinding } from "../helpers/findings.js";

const dir = mkdtempSync(join(tmpdir(), "costguard-bulk-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const finding = (id: string) => idleFinding(id);

/** The finding_rows table's secondary indexes, read from a separate connection. */
function indexes(path: string): string[] {
  const raw = new Database(path, { readonly: true });
  try {
    return (
      raw
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'finding_rows' AND sql IS NOT NULL ORDER BY name",
        )
        .all() as { name: string }[]
    ).map((r) => r.name);
  } finally {
    raw.close();
  }
}

const INDEXES = ["findings_inventory_status", "findings_resource"];

test("a first scan into an empty store builds the secondary indexes at its end; a later scan keeps them", async () => {
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
  raw.exec("DROP INDEX IF EXISTS findings_inventory_status; DROP INDEX IF EXISTS findings_resource");
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
