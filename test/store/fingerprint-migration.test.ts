import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_REMEDIATION_CONFIG } from "../../src/remediation/config.js";
import { sqlTaskStore } from "../../src/remediation/sql-task-store.js";
import { newTask } from "../../src/remediation/task.js";
import { fingerprint } from "../../src/scan/fingerprint.js";
import { sqlFindingRepository } from "../../src/scan/sql-finding-repository.js";
import { migrate } from "../../src/store/migrate.js";
import { MIGRATIONS } from "../../src/store/migrations.js";
import { openPostgresDb } from "../../src/store/postgres-db.js";
import { openSqliteDb } from "../../src/store/sqlite-db.js";
import { createTestDatabase, describeEachDatabase } from "../helpers/databases.js";
import { idleFinding } from "../helpers/findings.js";

const REKEY = "scan-0015-fingerprint-inventory";
const BEFORE_REKEY = MIGRATIONS.filter((m) => m.id !== REKEY);
const AT = "2026-06-01T00:00:00.000Z";

describeEachDatabase("fingerprints with their inventory (migration scan-0015)", (ctx) => {
  test("a store's findings and their tasks are rekeyed, nothing else about them changes", async () => {
    const db = await createTestDatabase(ctx.kind);
    const raw = ctx.kind === "sqlite" ? openSqliteDb(db.url) : openPostgresDb(db.url);
    // Two inventories, and findings keyed the old way (no inventory): more than one batch of them.
    const a = Array.from({ length: 2503 }, (_, i) =>
      idleFinding(`i-${i}`, { fingerprint: `old-a-${String(i).padStart(5, "0")}` }),
    );
    const b = [idleFinding("vol-9", { fingerprint: "old-b-1", provider: null, account: null, region: null })];
    try {
      await migrate(raw, BEFORE_REKEY, new Date(AT));
      const findings = sqlFindingRepository(raw);
      await findings.record("s1", "file:a.jsonl", AT, a);
      await findings.record("s2", "aws:us-east-1", AT, b);
      await findings.setStatus("old-a-00007", "excepted", AT);
      const task = newTask(
        {
          id: "old-a-00003",
          resource_id: "i-3",
          resource_type: "compute/instance",
          policy: "idle-resource-detection",
          rule: "low-utilization",
          severity: "medium",
          message: "idle i-3",
          action: "stop",
          status: "open",
          inventory: "file:a.jsonl",
        },
        0,
        new Date(AT),
        DEFAULT_REMEDIATION_CONFIG,
      );
      await sqlTaskStore(raw).insert(task);

      assert.deepEqual(await migrate(raw, MIGRATIONS, new Date(AT)), [REKEY]);

      const rekeyed = (inventory: string, f: (typeof a)[number]) =>
        fingerprint(inventory, f.provider, f.account, f.region, f.resource_id, f.policy, f.rule);
      const store = sqlFindingRepository(raw);
      assert.equal(await store.get("old-a-00003"), undefined);
      for (const [i, f] of a.entries()) {
        const got = await store.get(rekeyed("file:a.jsonl", f));
        assert.equal(got?.resource_id, f.resource_id, f.fingerprint);
        assert.equal(got?.inventory, "file:a.jsonl");
        assert.equal(got?.status, i === 7 ? "excepted" : "open");
        assert.equal(got?.first_scan_id, "s1");
      }
      const vol = await store.get(rekeyed("aws:us-east-1", b[0]!));
      assert.equal(vol?.resource_id, "vol-9");
      assert.equal(await store.count({}), a.length + 1);

      // The task follows its finding, in its column and in what it holds; its id stays.
      const moved = await sqlTaskStore(raw).get(task.id);
      assert.equal(moved?.finding_id, rekeyed("file:a.jsonl", a[3]!));
      const listed = await sqlTaskStore(raw).list({ finding_ids: [rekeyed("file:a.jsonl", a[3]!)] });
      assert.deepEqual(
        listed.map((t) => t.id),
        [task.id],
      );
      assert.equal((await raw.all("SELECT name FROM sqlite_temp_master").catch(() => [])).length, 0);
    } finally {
      await raw.close();
      await db.drop();
    }
  });
});

test("the rekeying is the migration the list ends with: it rewrites what earlier ones made", () => {
  assert.equal(MIGRATIONS.at(-1)?.id, REKEY);
});
