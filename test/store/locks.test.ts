import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { openSqliteDb } from "../../src/store/sqlite-db.js";

test("SQLite in memory: a lock is held once, released once, and each database locks apart", async () => {
  const db = openSqliteDb(":memory:");
  const other = openSqliteDb(":memory:");
  try {
    const first = await db.tryLock("scan:a");
    assert.ok(first);
    assert.equal(await db.tryLock("scan:a"), undefined);
    assert.ok(await db.tryLock("scan:b"), "another name is another lock");
    assert.ok(await other.tryLock("scan:a"), "another in-memory database is its own");
    await first.release();
    const second = await db.tryLock("scan:a");
    assert.ok(second);
    await first.release(); // a second release of the first lock does not free the second
    assert.equal(await db.tryLock("scan:a"), undefined);
  } finally {
    await db.close();
    await other.close();
  }
});

test("SQLite file: a lock file beside the database; another handle is refused until release or close", async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-locks-"));
  const path = join(dir, "store.db");
  const a = openSqliteDb(path);
  const b = openSqliteDb(path);
  try {
    const held = await a.tryLock("scan:sandbox");
    assert.ok(held);
    assert.equal(await b.tryLock("scan:sandbox"), undefined);
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes("-lock-")),
      [readdirSync(dir).find((f) => /^store\.db-lock-[0-9a-f]{16}$/.test(f))],
    );
    await held.release();
    const taken = await b.tryLock("scan:sandbox");
    assert.ok(taken);
    await b.close(); // closing lets go of what the handle holds
    assert.ok(await a.tryLock("scan:sandbox"));
  } finally {
    await a.close();
    await b.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});

test("SQLite file: one lock however the database is named (a symlink to it, a symlinked folder)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-locks-"));
  const path = join(dir, "cg.db");
  const a = openSqliteDb(path);
  symlinkSync("cg.db", join(dir, "alias.db"));
  symlinkSync(dir, join(dir, "folder"));
  const byAlias = openSqliteDb(join(dir, "alias.db"));
  const byFolder = openSqliteDb(join(dir, "folder", "cg.db"));
  try {
    for (const name of ["act:sandbox", "scan:sandbox"]) {
      const held = await a.tryLock(name);
      assert.ok(held);
      assert.equal(await byAlias.tryLock(name), undefined, `${name} through a symlink to the file`);
      assert.equal(await byFolder.tryLock(name), undefined, `${name} through a symlinked folder`);
      await held.release();
      const taken = await byAlias.tryLock(name);
      assert.ok(taken, `${name} is free again`);
      assert.equal(await a.tryLock(name), undefined);
      await taken.release();
    }
    assert.deepEqual(
      readdirSync(dir).filter((f) => f.includes("-lock-") && !f.startsWith("cg.db-lock-")),
      [],
      "the lock files are beside the real file",
    );
  } finally {
    await a.close();
    await byAlias.close();
    await byFolder.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
