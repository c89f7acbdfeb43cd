import type { Migration } from "../store/migrate.js";
import { placeholders, type SqlDb, type SqlValue } from "../store/sql.js";
import { fingerprint } from "./fingerprint.js";

/**
 * The findings table's secondary indexes (as scan-0001 creates them). A scan into an empty store drops
 * them and builds them once at the end; opening a store recreates any that a scan which died midway
 * left missing.
 */
const FINDING_INDEX_COLUMNS = {
  findings_inventory_status: "inventory, status",
  findings_resource: "resource_id",
};
export const FINDING_INDEX_NAMES = Object.keys(FINDING_INDEX_COLUMNS);
export const FINDING_INDEXES = Object.entries(FINDING_INDEX_COLUMNS)
  .map(([name, columns]) => `CREATE INDEX IF NOT EXISTS ${name} ON finding_rows (${columns})`)
  .join("; ");
export const DROP_FINDING_INDEXES = FINDING_INDEX_NAMES.map((name) => `DROP INDEX IF EXISTS ${name}`).join(
  "; ",
);

/** A finding's columns that many findings share, kept once in finding_kinds (scan-0005). */
export const KIND_COLUMNS = [
  "resource_type",
  "provider",
  "account",
  "region",
  "team",
  "policy",
  "rule",
  "source",
  "severity",
  "enforcement",
  "action",
  "currency",
  "recommendation",
] as const;

/**
 * scan-0005: findings split into their own values (finding_rows) and what many of them share, their
 * kind (finding_kinds: resource type, place, team, policy, rule, severity, recommendation...), with a
 * `findings` view that joins them back. A scan binds 8 values per new finding instead of 20, and a
 * million findings take ~30% less space. Existing findings' kinds are numbered 1, 2, ... (equal kinds,
 * nulls included, share a rank); scans name kinds by a 64-bit hash of their content (see
 * FindingKinds in sql-finding-repository.ts).
 */
function splitFindings(dialect: "sqlite" | "postgres"): string {
  const id = dialect === "sqlite" ? "INTEGER PRIMARY KEY" : "BIGINT PRIMARY KEY";
  const kinds = KIND_COLUMNS.join(", ");
  return `
      CREATE TABLE finding_kinds (
        id ${id},
        resource_type TEXT NOT NULL,
        provider TEXT,
        account TEXT,
        region TEXT,
        team TEXT NOT NULL,
        policy TEXT NOT NULL,
        rule TEXT NOT NULL,
        source TEXT NOT NULL,
        severity TEXT NOT NULL,
        enforcement TEXT NOT NULL,
        action TEXT NOT NULL,
        currency TEXT NOT NULL,
        recommendation TEXT NOT NULL
      );
      CREATE TABLE finding_rows (
        fingerprint TEXT PRIMARY KEY,
        inventory TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        resource_name TEXT,
        kind_id BIGINT NOT NULL,
        message TEXT NOT NULL,
        checks TEXT NOT NULL,
        savings_monthly TEXT NOT NULL,
        digest TEXT,
        status TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        resolved_at TEXT,
        first_scan_id TEXT NOT NULL,
        last_scan_id TEXT NOT NULL,
        last_seq INTEGER
      );
      INSERT INTO finding_rows (fingerprint, inventory, resource_id, resource_name, kind_id, message, checks,
          savings_monthly, digest, status, first_seen, last_seen, resolved_at, first_scan_id, last_scan_id, last_seq)
        SELECT fingerprint, inventory, resource_id, resource_name, DENSE_RANK() OVER (ORDER BY ${kinds}),
          message, checks, savings_monthly, digest, status, first_seen, last_seen, resolved_at, first_scan_id,
          last_scan_id, last_seq
        FROM findings;
      INSERT INTO finding_kinds (id, ${kinds})
        SELECT DISTINCT r.kind_id, ${KIND_COLUMNS.map((c) => `f.${c}`).join(", ")}
        FROM finding_rows r JOIN findings f ON f.fingerprint = r.fingerprint;
      DROP TABLE findings;
      CREATE INDEX findings_inventory_status ON finding_rows (inventory, status);
      CREATE INDEX findings_resource ON finding_rows (resource_id);
      CREATE VIEW findings AS
        SELECT r.fingerprint, r.inventory, r.resource_id, k.resource_type, r.resource_name, k.provider,
          k.account, k.region, k.team, k.policy, k.rule, k.source, r.message, k.severity, k.enforcement,
          k.action, k.recommendation, r.savings_monthly, k.currency, r.checks, r.status, r.first_seen,
          r.last_seen, r.resolved_at, r.first_scan_id, r.last_scan_id, r.digest, r.last_seq
        FROM finding_rows r JOIN finding_kinds k ON k.id = r.kind_id;`;
}

/** In the findings view: an open or excepted finding its inventory's confirmed scan saw unchanged. */
const SEEN_BY_CONFIRMED =
  "r.status IN ('open', 'excepted') AND COALESCE(r.last_seq, 0) < COALESCE(i.confirmed_seq, 0)";

/** Scan history and findings with their lifecycle. */
export const SCAN_MIGRATIONS: readonly Migration[] = [
  {
    id: "scan-0001-scans-and-findings",
    description: "scan history; findings with fingerprint, first_seen, last_seen, status",
    sql: `
      CREATE TABLE scans (
        id TEXT PRIMARY KEY,
        inventory TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL,
        policy_revision TEXT NOT NULL,
        policies TEXT NOT NULL,
        resources_scanned INTEGER,
        findings INTEGER,
        new_findings INTEGER,
        resolved_findings INTEGER,
        savings_monthly TEXT,
        currency TEXT,
        by_policy TEXT,
        by_severity TEXT,
        by_team TEXT,
        by_action TEXT,
        savings_by_team TEXT,
        error TEXT
      );
      CREATE INDEX scans_inventory ON scans (inventory, started_at);
      CREATE TABLE findings (
        fingerprint TEXT PRIMARY KEY,
        inventory TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        resource_type TEXT NOT NULL,
        resource_name TEXT,
        provider TEXT,
        account TEXT,
        region TEXT,
        team TEXT NOT NULL,
        policy TEXT NOT NULL,
        rule TEXT NOT NULL,
        source TEXT NOT NULL,
        message TEXT NOT NULL,
        severity TEXT NOT NULL,
        enforcement TEXT NOT NULL,
        action TEXT NOT NULL,
        recommendation TEXT NOT NULL,
        savings_monthly TEXT NOT NULL,
        currency TEXT NOT NULL,
        checks TEXT NOT NULL,
        status TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        resolved_at TEXT,
        first_scan_id TEXT NOT NULL,
        last_scan_id TEXT NOT NULL
      );
      CREATE INDEX findings_inventory_status ON findings (inventory, status);
      CREATE INDEX findings_resource ON findings (resource_id);`,
  },
  {
    id: "scan-0002-finding-digest",
    description: "findings: a digest of the stored content, so a rescan rewrites only what changed",
    sql: "ALTER TABLE findings ADD COLUMN digest TEXT",
  },
  {
    id: "scan-0003-inventory-sightings",
    description:
      "findings: last_seq; finding_inventories: the latest finished scan of each inventory, which saw every open finding",
    sql: `
      ALTER TABLE findings ADD COLUMN last_seq INTEGER;
      CREATE TABLE finding_inventories (
        inventory TEXT PRIMARY KEY,
        next_seq INTEGER NOT NULL,
        confirmed_seq INTEGER,
        confirmed_scan_id TEXT,
        confirmed_at TEXT
      );`,
  },
  {
    id: "scan-0004-not-judged",
    description:
      "scans: what a scan could not judge (running resources without metrics, undated volumes, checks without their field)",
    sql: `
      ALTER TABLE scans ADD COLUMN idle_unmeasured INTEGER;
      ALTER TABLE scans ADD COLUMN unattached_undated INTEGER;
      ALTER TABLE scans ADD COLUMN unverified_checks TEXT;`,
  },
  {
    id: "scan-0005-finding-kinds",
    description:
      "findings: own values in finding_rows, what many share in finding_kinds, joined by the findings view",
    sql: { sqlite: splitFindings("sqlite"), postgres: splitFindings("postgres") },
  },
  {
    id: "scan-0006-scan-owner",
    description: "scans: the process that runs a scan, so one its process left unfinished is told apart",
    sql: "ALTER TABLE scans ADD COLUMN owner TEXT",
  },
  {
    id: "scan-0007-gone-and-repeated",
    description:
      "scans: resources seen terminated or being deleted (judged on nothing), and findings given twice (records sharing an id)",
    sql: `
      ALTER TABLE scans ADD COLUMN resources_gone INTEGER;
      ALTER TABLE scans ADD COLUMN repeated_findings INTEGER;`,
  },
  {
    id: "scan-0008-idle-other-states",
    description:
      "scans: instances and databases not judged idle for their state (neither running nor stopped), by state",
    sql: "ALTER TABLE scans ADD COLUMN idle_other_states TEXT",
  },
  {
    id: "scan-0009-coverage",
    description:
      "scans: resources of types no rule or detector judges, by type, and the rules that judged no resource",
    sql: `
      ALTER TABLE scans ADD COLUMN unjudged_types TEXT;
      ALTER TABLE scans ADD COLUMN rules_judging_nothing TEXT;`,
  },
  {
    id: "scan-0010-billing",
    description:
      "scans: how many resources were priced from a billing export (scan --billing), so savings priced from charges are told from those priced from the book",
    sql: `
      ALTER TABLE scans ADD COLUMN resources_billed INTEGER;`,
  },
  {
    id: "scan-0011-finding-exception",
    description:
      "findings: the approved exception that covers an excepted finding, as its last scan matched it (read only while it stays excepted)",
    sql: `
      ALTER TABLE finding_rows ADD COLUMN exception_id TEXT;`,
  },
  {
    id: "scan-0012-findings-view",
    description:
      "the findings view says what costguard's reads say: each open finding's last sighting (a finished scan confirms the findings it saw unchanged once, not on every row) and the exception covering an excepted one",
    // The view keeps its columns, in order (queries written against it go on working), and gains
    // exception_id. last_seen and last_scan_id follow the sightings rule (sql-finding-repository.ts):
    // an open or excepted finding not rewritten since its inventory's confirmed scan was seen by it.
    sql: `
      DROP VIEW findings;
      CREATE VIEW findings AS
        SELECT r.fingerprint, r.inventory, r.resource_id, k.resource_type, r.resource_name, k.provider,
          k.account, k.region, k.team, k.policy, k.rule, k.source, r.message, k.severity, k.enforcement,
          k.action, k.recommendation, r.savings_monthly, k.currency, r.checks, r.status, r.first_seen,
          CASE WHEN ${SEEN_BY_CONFIRMED} THEN i.confirmed_at ELSE r.last_seen END AS last_seen,
          r.resolved_at, r.first_scan_id,
          CASE WHEN ${SEEN_BY_CONFIRMED} THEN i.confirmed_scan_id ELSE r.last_scan_id END AS last_scan_id,
          r.digest, r.last_seq,
          CASE WHEN r.status = 'excepted' THEN r.exception_id ELSE NULL END AS exception_id
        FROM finding_rows r JOIN finding_kinds k ON k.id = r.kind_id
          LEFT JOIN finding_inventories i ON i.inventory = r.inventory;`,
  },
  {
    id: "scan-0013-scan-excepted",
    description:
      "scans: how many of a stored scan's findings approved exceptions covered, so a trend tells waived findings from open ones",
    sql: `
      ALTER TABLE scans ADD COLUMN excepted_findings INTEGER;`,
  },
  {
    id: "scan-0014-scan-excepted-savings",
    description:
      "scans: what a stored scan's approved exceptions took off its savings at stake, so a trend tells the money waived from the money open",
    sql: `
      ALTER TABLE scans ADD COLUMN excepted_savings_monthly TEXT;`,
  },
  {
    id: "scan-0016-failed-scan-findings",
    description:
      "scans: how many findings a failed scan first wrote (they stay stored), and the completed scan that counted them new, so the NEW counts of completed scans add up to what they found",
    // Scans that failed before this migration keep NULL: what they wrote was not counted, and is
    // not handed on (a completed scan has since counted it as seen before).
    sql: `
      ALTER TABLE scans ADD COLUMN findings_kept INTEGER;
      ALTER TABLE scans ADD COLUMN findings_kept_new_in TEXT;`,
  },
];

/** Findings rekeyed per read while migration scan-0015 runs (two values bound per finding). */
const REKEY_BATCH = 2000;

/**
 * scan-0015: every stored fingerprint recomputed with its inventory (see fingerprint.ts), and the
 * remediation tasks of those findings pointed at the new ones (their ids, derived from the old,
 * stay). Before it, two inventories listing one resource shared a fingerprint, so a scan of one took
 * the other's finding over and the next resolved it. The old → new map is built in a temporary table
 * and applied in one UPDATE per table. Audit entries written before keep the fingerprints of their day.
 */
async function rekeyFindings(db: SqlDb): Promise<void> {
  await db.exec("CREATE TEMP TABLE fingerprint_rekey (old_fp TEXT PRIMARY KEY, new_fp TEXT NOT NULL)");
  let after = "";
  for (;;) {
    const rows = await db.all<{
      fingerprint: string;
      inventory: string;
      resource_id: string;
      provider: string | null;
      account: string | null;
      region: string | null;
      policy: string;
      rule: string;
    }>(
      `SELECT r.fingerprint, r.inventory, r.resource_id, k.provider, k.account, k.region, k.policy, k.rule
         FROM finding_rows r JOIN finding_kinds k ON k.id = r.kind_id
        WHERE r.fingerprint > ? ORDER BY r.fingerprint LIMIT ${REKEY_BATCH}`,
      [after],
    );
    if (rows.length === 0) break;
    const params: SqlValue[] = [];
    for (const r of rows) {
      params.push(
        r.fingerprint,
        fingerprint(r.inventory, r.provider, r.account, r.region, r.resource_id, r.policy, r.rule),
      );
    }
    const values = Array.from({ length: rows.length }, () => `(${placeholders(2)})`).join(", ");
    await db.run(`INSERT INTO fingerprint_rekey (old_fp, new_fp) VALUES ${values}`, params);
    after = rows[rows.length - 1]!.fingerprint;
  }
  await db.exec(`
    UPDATE finding_rows SET fingerprint = m.new_fp
      FROM fingerprint_rekey m WHERE m.old_fp = finding_rows.fingerprint;
    UPDATE remediation_tasks
       SET finding_id = m.new_fp,
           data = REPLACE(data, '"finding_id":"' || m.old_fp || '"', '"finding_id":"' || m.new_fp || '"')
      FROM fingerprint_rekey m WHERE m.old_fp = remediation_tasks.finding_id;
    DROP TABLE fingerprint_rekey;`);
}

/**
 * Runs after every feature's migrations (it rewrites remediation tasks' finding ids as well as the
 * findings' own), so it follows them in MIGRATIONS.
 */
export const FINGERPRINT_INVENTORY_MIGRATION: Migration = {
  id: "scan-0015-fingerprint-inventory",
  description:
    "findings: the fingerprint carries the inventory, so two inventories listing one resource keep a finding each (stored fingerprints and their tasks' finding ids recomputed)",
  sql: "",
  apply: rekeyFindings,
};
