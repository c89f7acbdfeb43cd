import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { after, before, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";
import { reportError } from "../../src/cli/exit.js";
import { DatabaseFailedError } from "../../src/errors.js";
import type { InventoryProvider, Resource } from "../../src/inventory/types.js";
import { runScan } from "../../src/scan/run-scan.js";
import { openPostgresDb } from "../../src/store/postgres-db.js";
import type { SqlDb } from "../../src/store/sql.js";
import type { Store } from "../../src/store/store.js";
import { createTestDatabase, SHARED_DATABASE, type TestDatabase } from "../helpers/databases.js";
import { EMPTY_SCAN_SUMMARY } from "../helpers/findings.js";
import { scanContext } from "../helpers/scan-context.js";

const TAGS = {
  "cost-center": "CC-104233",
  environment: "production",
  owner: "maria@company.com",
  project: "ledger",
};

const idle = (id: string): Resource => ({
  id,
  type: "compute/instance",
  state: "running",
  tags: TAGS,
  specs: { instance_type: "m5.large", vcpus: 2, memory_gb: 8, instance_family: "general-purpose" },
  hourly_cost: "0.096",
  metrics: { avg_cpu_percent: 1, avg_network_bytes: 1000, window_days: 7 },
});

/** The sessions holding an advisory lock in the test's database (the scan lock's, while a scan runs). */
async function lockSessions(admin: SqlDb): Promise<number[]> {
  const rows = await admin.all<{ pid: number }>(
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
  );
  return rows.map((r) => Number(r.pid));
}

/** Ends a session as an administrator would, and waits until the server has let it go. */
async function terminate(admin: SqlDb, pid: number): Promise<void> {
  await admin.get("SELECT pg_terminate_backend(?) AS ok", [pid]);
  while (await admin.get("SELECT 1 AS alive FROM pg_stat_activity WHERE pid = ?", [pid])) await delay(20);
}

describe("PostgreSQL: a scan's inventory lock lost while it runs", {
  skip: SHARED_DATABASE !== "postgres" && "PostgreSQL unreachable (outside CI)",
}, () => {
  let db: TestDatabase;
  let store: Store;
  let admin: SqlDb;
  before(async () => {
    db = await createTestDatabase("postgres");
    store = await db.open();
    admin = openPostgresDb(db.url);
  });
  after(async () => {
    await admin?.close();
    await store?.close();
    await db?.drop();
  });

  test("a scan whose lock session the server ends fails (the server's reason) and resolves nothing", async () => {
    const inv = "test:lock-lost";
    await runScan({
      provider: {
        name: inv,
        read: async function* () {
          yield [idle("i-a"), idle("i-b")];
        },
      },
      context: scanContext({ at: new Date("2026-06-01T00:00:00Z") }),
      store,
    });
    // The second scan no longer sees i-b: finishing would resolve its finding.
    const provider: InventoryProvider = {
      name: inv,
      async *read() {
        yield [idle("i-a")];
        const sessions = await lockSessions(admin);
        assert.equal(sessions.length, 1, "the scan holds its lock on a session of its own");
        await terminate(admin, sessions[0]!);
      },
    };
    const err = await runScan({
      provider,
      context: scanContext({ at: new Date("2026-06-02T00:00:00Z") }),
      store,
      scanId: "scan-lost",
    }).then(
      () => assert.fail("the scan completed without its lock"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof DatabaseFailedError, String(err));
    assert.equal(err.message, "lost the scan lock: terminating connection due to administrator command");
    const stderr = new PassThrough();
    assert.equal(reportError(err, stderr), 3);
    assert.equal(
      String(stderr.read()),
      "costguard: the database failed: lost the scan lock: terminating connection due to administrator command\n",
    );
    const scan = await store.scans.get("scan-lost");
    assert.equal(scan?.status, "failed");
    assert.equal(scan?.error, err.message);
    const b = await store.findings.list({ inventory: inv, resourceId: "i-b" });
    assert.deepEqual(
      b.map((f) => f.status),
      ["open"],
      "nothing was resolved",
    );
    // The lock is free again: the next scan runs.
    const third = await runScan({
      provider: {
        name: inv,
        read: async function* () {
          yield [idle("i-a"), idle("i-b")];
        },
      },
      context: scanContext({ at: new Date("2026-06-03T00:00:00Z") }),
      store,
    });
    assert.equal(third.summary.resolved_findings, 0);
  });

  test("the lock's session is exempt from idle_session_timeout, so the lock stays while the scan is idle", async () => {
    const name = new URL(db.url).pathname.slice(1);
    await admin.exec(`ALTER DATABASE ${name} SET idle_session_timeout = '1s'`);
    const timed = await db.open();
    try {
      await timed.scans.start({
        id: "scan-idle",
        inventory: "test:idle",
        started_at: "2026-06-01T00:00:00.000Z",
        policy_revision: "r",
        policies: [],
      });
      // Longer than the timeout: a session it applied to would have been ended, its lock with it.
      await delay(2500);
      assert.equal((await lockSessions(admin)).length, 1, "the scan lock is still held");
      await timed.scans.checkHeld("scan-idle");
      await timed.scans.complete("scan-idle", "2026-06-01T00:00:00.000Z", EMPTY_SCAN_SUMMARY);
      assert.equal((await timed.scans.get("scan-idle"))?.status, "completed");
    } finally {
      await timed.close();
      await admin.exec(`ALTER DATABASE ${name} RESET idle_session_timeout`);
    }
  });
});
