import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fingerprint } from "../../src/scan/fingerprint.js";
import type { Finding, StoredFinding } from "../../src/scan/types.js";
import { migrate } from "../../src/store/migrate.js";
import { MIGRATIONS } from "../../src/store/migrations.js";
import { openPostgresDb } from "../../src/store/postgres-db.js";
import { openSqliteDb } from "../../src/store/sqlite-db.js";
import { cli } from "../helpers/cli.js";
import { createTestDatabase, describeEachDatabase } from "../helpers/databases.js";
import { idleFinding } from "../helpers/findings.js";

const SPLIT = "scan-0005-finding-kinds";
/**
 * A store as the release before the split left it: every other migration, but not those that change
 * the tables the split makes (they came after it, and run after it when such a store upgrades).
 */
const AFTER_SPLIT = new Set([
  SPLIT,
  "scan-0011-finding-exception",
  "scan-0012-findings-view",
  "scan-0015-fingerprint-inventory",
]);
const BEFORE_SPLIT = MIGRATIONS.filter((m) => !AFTER_SPLIT.has(m.id));
const AT = "2026-06-01T00:00:00.000Z";

/** What a finding says, as stored and read back (lifecycle fields left out). */
function content(f: Finding | StoredFinding) {
  const { fingerprint, resource_id, resource_type, resource_name, provider, account, region, team } = f;
  const { policy, rule, source, message, severity, enforcement, recommendation, savings_monthly } = f;
  return {
    fingerprint,
    resource_id,
    resource_type,
    resource_name,
    provider,
    account,
    region,
    team,
    policy,
    rule,
    source,
    message,
    severity,
    enforcement,
    recommendation,
    savings_monthly,
    currency: f.currency,
    checks: f.checks,
  };
}

// Findings whose kinds differ only where a careless key would run values together or take
// null for text: each must come back exactly as recorded.
const TRICKY: Finding[] = [
  idleFinding("p-null", { provider: null, account: null, region: null }),
  idleFinding("p-text-null", { provider: "null", account: "", region: "null" }),
  idleFinding("split-1", { message: "ab", checks: [{ field: "c", actual: 1, limit: 2, message: "x" }] }),
  idleFinding("split-2", { message: "a", checks: [{ field: "bc", actual: 1, limit: 2, message: "x" }] }),
  idleFinding("team-1", { team: "web\u001fops", account: "1" }),
  idleFinding("team-2", { team: "web", account: "\u001fops1" }),
  idleFinding("same-1", { message: "shared" }),
  idleFinding("same-2", { message: "shared" }),
  // One finding for each shared value that differs from the others' in that value alone.
  idleFinding("only-type", { resource_type: "database/instance" }),
  idleFinding("only-team", { team: "ops" }),
  idleFinding("only-policy", { policy: "other-policy" }),
  idleFinding("only-rule", { rule: "other-rule" }),
  idleFinding("only-source", { source: "policy" }),
  idleFinding("only-severity", { severity: "high" }),
  idleFinding("only-enforcement", { enforcement: "deny" }),
  idleFinding("only-action", { recommendation: { action: "terminate", basis: "idle" } }),
  idleFinding("only-basis", { recommendation: { action: "stop", basis: "other" } }),
  idleFinding("only-currency", { currency: "EUR" }),
  idleFinding("only-checks", { checks: [{ field: "f", actual: 1, limit: 2, message: "m" }] }),
];

/** Kinds among TRICKY: the base one, p-null, p-text-null, team-1, team-2 and one per "only-" but checks. */
const KINDS = 5 + 10;

describeEachDatabase("finding kinds", (ctx) => {
  const rawDb = () => (ctx.kind === "sqlite" ? openSqliteDb(ctx.db.url) : openPostgresDb(ctx.db.url));

  test("findings whose kinds differ by a null, a separator or one value come back as recorded", async () => {
    const f = ctx.store.findings;
    await f.record("t1", "kinds:tricky", AT, TRICKY);
    const scan = await f.beginScan("t2", "kinds:scanned", AT);
    await scan.add(TRICKY.map((x) => ({ ...x, fingerprint: `scanned-${x.fingerprint}` })));
    await scan.finish();
    for (const x of TRICKY) {
      assert.deepEqual(content((await f.get(x.fingerprint))!), content(x), x.fingerprint);
      const scanned = await f.get(`scanned-${x.fingerprint}`);
      assert.deepEqual(content(scanned!), content({ ...x, fingerprint: `scanned-${x.fingerprint}` }));
    }
    const raw = rawDb();
    try {
      // Findings of one kind share its row, however recorded: the base kind (five findings in each
      // inventory) and one for each finding that differs from it.
      const kinds = await raw.all<{ kind_id: unknown; n: unknown }>(
        "SELECT kind_id, COUNT(*) AS n FROM finding_rows WHERE inventory IN ('kinds:tricky', 'kinds:scanned') GROUP BY kind_id",
      );
      assert.deepEqual(
        kinds.map((r) => Number(r.n)).sort((x, y) => y - x),
        [10, ...Array.from({ length: KINDS - 1 }, () => 2)],
      );
    } finally {
      await raw.close();
    }
  });

  test("a store made before findings had kinds keeps every finding, each kind stored once", async () => {
    // A database of its own (the suite's is split already), migrated up to the split, filled the old way.
    const db = await createTestDatabase(ctx.kind);
    const old = ctx.kind === "sqlite" ? openSqliteDb(db.url) : openPostgresDb(db.url);
    try {
      await migrate(old, BEFORE_SPLIT, new Date(AT));
      const columns =
        "fingerprint, inventory, resource_id, resource_type, resource_name, provider, account, region, team, policy, rule, source, message, severity, enforcement, action, recommendation, savings_monthly, currency, checks, status, first_seen, last_seen, resolved_at, first_scan_id, last_scan_id, digest, last_seq";
      const rows = TRICKY.map((x, i) => [
        x.fingerprint,
        "old:inv",
        x.resource_id,
        x.resource_type,
        x.resource_name,
        x.provider,
        x.account,
        x.region,
        x.team,
        x.policy,
        x.rule,
        x.source,
        x.message,
        x.severity,
        x.enforcement,
        x.recommendation.action,
        JSON.stringify(x.recommendation),
        x.savings_monthly,
        x.currency,
        JSON.stringify(x.checks),
        i === 0 ? "resolved" : "open",
        AT,
        AT,
        i === 0 ? "2026-06-02T00:00:00.000Z" : null,
        "s1",
        i === 0 ? "s1" : "s2",
        null,
        1,
      ]);
      for (const row of rows)
        await old.run(`INSERT INTO findings (${columns}) VALUES (${row.map(() => "?").join(", ")})`, row);
    } finally {
      await old.close();
    }
    const store = await db.open();
    // Fingerprints carry their inventory since scan-0015, which recomputed these.
    const upgraded = TRICKY.map((x) => ({
      ...x,
      fingerprint: fingerprint("old:inv", x.provider, x.account, x.region, x.resource_id, x.policy, x.rule),
    }));
    try {
      for (const [i, x] of upgraded.entries()) {
        const stored = await store.findings.get(x.fingerprint);
        assert.deepEqual(content(stored!), content(x), x.fingerprint);
        assert.equal(stored!.status, i === 0 ? "resolved" : "open");
        assert.equal(stored!.resolved_at, i === 0 ? "2026-06-02T00:00:00.000Z" : null);
        assert.equal(stored!.last_scan_id, i === 0 ? "s1" : "s2");
      }
      const split = ctx.kind === "sqlite" ? openSqliteDb(db.url) : openPostgresDb(db.url);
      try {
        const count = async (table: string) =>
          Number((await split.get<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${table}`))!.n);
        assert.equal(await count("finding_kinds"), KINDS);
        assert.equal(await count("findings"), TRICKY.length);
      } finally {
        await split.close();
      }
      // A scan that sees them again finds them unchanged (no digest yet: rewritten once) and keeps one row each.
      const scan = await store.findings.beginScan("s3", "old:inv", "2026-06-03T00:00:00.000Z");
      await scan.add(upgraded);
      assert.deepEqual(await scan.finish(), { newFindings: 0, resolvedFindings: 0, repeatedFindings: 0 });
      assert.equal(await store.findings.count({ inventory: "old:inv", status: "open" }), TRICKY.length);
    } finally {
      await store.close();
      await db.drop();
    }
  });
});

test("the CLI says so when it upgrades an existing store, and says nothing when it makes a new one", async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-upgrade-"));
  try {
    /** A store as the release before scan-0005 left it. */
    const oldStore = async (name: string) => {
      const old = openSqliteDb(join(dir, name));
      await migrate(old, BEFORE_SPLIT, new Date(AT));
      await old.close();
      return join(dir, name);
    };
    const upgrading = /^costguard: upgrading the store: scan-0005-finding-kinds \(.+\)…$/m;
    const old = await oldStore("old.db");
    const upgraded = await cli(["scans", "list", "--database", old], { cwd: dir });
    assert.equal(upgraded.code, 0, upgraded.stderr);
    assert.match(upgraded.stderr, upgrading);
    const again = await cli(["scans", "list", "--database", old], { cwd: dir });
    assert.equal(again.stderr, "");
    // The notification outbox kept in the store upgrades it too, and says so.
    const listed = await cli(
      ["notify", "list", "--outbox", "store", "--database", await oldStore("outbox.db")],
      { cwd: dir },
    );
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stderr, upgrading);
    const fresh = await cli(
      ["scan", "-p", "examples/policies", "-i", "sandbox", "--database", join(dir, "new.db")],
      {
        cwd: process.cwd(),
      },
    );
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.doesNotMatch(fresh.stderr, /upgrading/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
