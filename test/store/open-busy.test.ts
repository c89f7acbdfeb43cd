import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import { openStore } from "../../src/store/open.js";

test("SQLite: an up-to-date store opens and reads while another connection holds the write lock", async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-open-busy-"));
  const path = join(dir, "busy.db");
  try {
    const first = await openStore({ kind: "sqlite", path });
    await first.settings.set("a", "1", "2026-01-01T00:00:00.000Z");
    await first.close();
    // A writer that keeps the lock past the busy timeout (5 s), as a long scan's transaction does:
    // opening needs no write, so it neither waits for it nor fails with "database is locked".
    const writer = new Database(path);
    writer.exec("BEGIN IMMEDIATE");
    writer.exec("INSERT INTO settings (key, value, updated_at) VALUES ('w', 'v', 'now')");
    try {
      const reader = await openStore({ kind: "sqlite", path });
      try {
        assert.equal(await reader.settings.get("a"), "1");
        assert.equal(await reader.settings.get("w"), undefined, "the writer's rows are not committed");
        assert.deepEqual(await reader.scans.list(), []);
        assert.equal(await reader.scans.markInterrupted(), 0);
      } finally {
        await reader.close();
      }
    } finally {
      writer.exec("ROLLBACK");
      writer.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
