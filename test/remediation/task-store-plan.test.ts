import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { sqlTaskStore } from "../../src/remediation/sql-task-store.js";
import { openStore } from "../../src/store/open.js";
import { openSqliteDb } from "../../src/store/sqlite-db.js";
import { queryPlan, recordingReads, type SeenQuery } from "../helpers/query-plans.js";

const dir = mkdtempSync(join(tmpdir(), "costguard-task-plan-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("tasks with notices are read oldest first from their index, not sorted anew for every batch", async () => {
  const path = join(dir, "store.db");
  await (await openStore({ kind: "sqlite", path })).close(); // migrated
  const db = openSqliteDb(path);
  try {
    const seen: SeenQuery[] = [];
    await sqlTaskStore(recordingReads(db, seen)).list({ with_notices: true, limit: 500 });
    assert.equal(seen.length, 1);
    const text = await queryPlan(db, seen[0]!);
    assert.match(text, /USING INDEX remediation_tasks_notices_by_age/);
    assert.doesNotMatch(text, /TEMP B-TREE/, "no sort");
  } finally {
    await db.close();
  }
});

test("completed tasks whose finding is not yet seen resolved are found from an index, not by reading every task", async () => {
  const path = join(dir, "resolved.db");
  await (await openStore({ kind: "sqlite", path })).close(); // migrated
  const db = openSqliteDb(path);
  try {
    const seen: SeenQuery[] = [];
    await sqlTaskStore(recordingReads(db, seen)).list({
      states: ["completed"],
      finding_resolved: false,
      inventory: "sandbox",
    });
    assert.equal(seen.length, 1);
    assert.match(
      await queryPlan(db, seen[0]!),
      /^SEARCH remediation_tasks USING INDEX remediation_tasks_finding_unresolved \(state=\? AND inventory=\?\)$/,
      "no sort",
    );
  } finally {
    await db.close();
  }
});
