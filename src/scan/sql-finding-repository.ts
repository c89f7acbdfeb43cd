import { NotFoundError } from "../errors.js";
import type { SqlDb, SqlValue } from "../store/sql.js";
import type { FindingFilter, FindingRepository } from "./store.js";
import type { Finding, FindingStatus, StoredFinding } from "./types.js";

const COLUMNS = [
  "fingerprint",
  "inventory",
  "resource_id",
  "resource_type",
  "resource_name",
  "provider",
  "account",
  "region",
  "team",
  "policy",
  "rule",
  "source",
  "message",
  "severity",
  "enforcement",
  "action",
  "recommendation",
  "savings_monthly",
  "currency",
  "checks",
  "first_seen",
  "last_seen",
  "first_scan_id",
  "last_scan_id",
] as const;

/** Columns a later sighting refreshes; first_seen and first_scan_id never change. */
const REFRESHED = COLUMNS.filter(
  (c) => c !== "fingerprint" && c !== "first_seen" && c !== "first_scan_id",
).map((c) => `${c} = excluded.${c}`);

const RECORD = `INSERT INTO findings (${COLUMNS.join(", ")}, status) VALUES (${COLUMNS.map(() => "?").join(", ")}, 'open')
  ON CONFLICT (fingerprint) DO UPDATE SET ${REFRESHED.join(", ")},
  status = CASE WHEN findings.status = 'resolved' THEN 'open' ELSE findings.status END,
  resolved_at = CASE WHEN findings.status = 'resolved' THEN NULL ELSE findings.resolved_at END`;

/** Rows per statement batch: big enough to amortise, small enough to keep memory flat. */
const BATCH = 2000;

export function sqlFindingRepository(db: SqlDb): FindingRepository {
  return {
    async record(scanId, inventory, at, findings) {
      // One transaction for the whole call: commits, not rows, are what cost most.
      await db.transaction(async (tx) => {
        for (let start = 0; start < findings.length; start += BATCH) {
          const rows = uniqueByFingerprint(findings.slice(start, start + BATCH)).map((f) =>
            toRow(f, inventory, at, scanId),
          );
          await tx.runMany(RECORD, rows);
        }
      });
    },
    resolveUnseen: (scanId, inventory, at) =>
      db.run(
        "UPDATE findings SET status = 'resolved', resolved_at = ? WHERE inventory = ? AND status IN ('open', 'excepted') AND last_scan_id <> ?",
        [at, inventory, scanId],
      ),
    async countFirstSeen(scanId) {
      const row = await db.get<{ n: number | string }>(
        "SELECT COUNT(*) AS n FROM findings WHERE first_scan_id = ?",
        [scanId],
      );
      return Number(row?.n ?? 0);
    },
    async get(fingerprint) {
      const row = await db.get("SELECT * FROM findings WHERE fingerprint = ?", [fingerprint]);
      return row ? fromRow(row) : undefined;
    },
    async list(filter = {}) {
      const { where, params } = conditions(filter);
      if (filter.after !== undefined) {
        where.push("fingerprint > ?");
        params.push(filter.after);
      }
      params.push(filter.limit ?? 1000);
      const rows = await db.all(
        `SELECT * FROM findings${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY fingerprint LIMIT ?`,
        params,
      );
      return rows.map(fromRow);
    },
    async count(filter = {}) {
      const { where, params } = conditions(filter);
      const row = await db.get<{ n: number | string }>(
        `SELECT COUNT(*) AS n FROM findings${where.length ? ` WHERE ${where.join(" AND ")}` : ""}`,
        params,
      );
      return Number(row?.n ?? 0);
    },
    async setStatus(fingerprint, status, at) {
      const changed = await db.run("UPDATE findings SET status = ?, resolved_at = ? WHERE fingerprint = ?", [
        status,
        status === "resolved" ? at : null,
        fingerprint,
      ]);
      if (changed === 0) throw new NotFoundError(`no finding with fingerprint ${fingerprint}`);
    },
  };
}

function uniqueByFingerprint(findings: readonly Finding[]): readonly Finding[] {
  const seen = new Map<string, Finding>();
  for (const f of findings) seen.set(f.fingerprint, f);
  return seen.size === findings.length ? findings : [...seen.values()];
}

function conditions(filter: FindingFilter): { where: string[]; params: SqlValue[] } {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (filter.status !== undefined) {
    const statuses: readonly FindingStatus[] =
      typeof filter.status === "string" ? [filter.status] : filter.status;
    where.push(`status IN (${statuses.map(() => "?").join(", ")})`);
    params.push(...statuses);
  }
  if (filter.inventory !== undefined) {
    where.push("inventory = ?");
    params.push(filter.inventory);
  }
  if (filter.resourceId !== undefined) {
    where.push("resource_id = ?");
    params.push(filter.resourceId);
  }
  if (filter.policy !== undefined) {
    where.push("policy = ?");
    params.push(filter.policy);
  }
  return { where, params };
}

function toRow(f: Finding, inventory: string, at: string, scanId: string): SqlValue[] {
  return [
    f.fingerprint,
    inventory,
    f.resource_id,
    f.resource_type,
    f.resource_name,
    f.provider,
    f.account,
    f.region,
    f.team,
    f.policy,
    f.rule,
    f.source,
    f.message,
    f.severity,
    f.enforcement,
    f.recommendation.action,
    JSON.stringify(f.recommendation),
    f.savings_monthly,
    f.currency,
    JSON.stringify(f.checks),
    at,
    at,
    scanId,
    scanId,
  ];
}

function fromRow(r: Record<string, unknown>): StoredFinding {
  return {
    fingerprint: r.fingerprint as string,
    inventory: r.inventory as string,
    resource_id: r.resource_id as string,
    resource_type: r.resource_type as string,
    resource_name: (r.resource_name as string | null) ?? null,
    provider: (r.provider as string | null) ?? null,
    account: (r.account as string | null) ?? null,
    region: (r.region as string | null) ?? null,
    team: r.team as string,
    policy: r.policy as string,
    rule: r.rule as string,
    source: r.source as StoredFinding["source"],
    message: r.message as string,
    severity: r.severity as StoredFinding["severity"],
    enforcement: r.enforcement as StoredFinding["enforcement"],
    recommendation: JSON.parse(r.recommendation as string) as StoredFinding["recommendation"],
    savings_monthly: r.savings_monthly as string,
    currency: r.currency as string,
    checks: JSON.parse(r.checks as string) as StoredFinding["checks"],
    status: r.status as FindingStatus,
    first_seen: r.first_seen as string,
    last_seen: r.last_seen as string,
    resolved_at: (r.resolved_at as string | null) ?? null,
    first_scan_id: r.first_scan_id as string,
    last_scan_id: r.last_scan_id as string,
  };
}
