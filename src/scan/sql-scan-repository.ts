import type { SqlDb } from "../store/sql.js";
import type { ScanRepository } from "./store.js";
import type { ScanRecord } from "./types.js";

type ScanRow = Record<string, unknown>;

export function sqlScanRepository(db: SqlDb): ScanRepository {
  return {
    async start(scan) {
      await db.run(
        "INSERT INTO scans (id, inventory, started_at, status, policy_revision, policies) VALUES (?, ?, ?, 'running', ?, ?)",
        [scan.id, scan.inventory, scan.started_at, scan.policy_revision, JSON.stringify(scan.policies)],
      );
    },
    async complete(id, finishedAt, s) {
      await db.run(
        `UPDATE scans SET status = 'completed', finished_at = ?, resources_scanned = ?, findings = ?,
          new_findings = ?, resolved_findings = ?, savings_monthly = ?, currency = ?, by_policy = ?,
          by_severity = ?, by_team = ?, by_action = ?, savings_by_team = ?, idle_unmeasured = ?,
          unattached_undated = ?, unverified_checks = ? WHERE id = ?`,
        [
          finishedAt,
          s.resources_scanned,
          s.findings,
          s.new_findings,
          s.resolved_findings,
          s.savings_monthly,
          s.currency,
          JSON.stringify(s.by_policy),
          JSON.stringify(s.by_severity),
          JSON.stringify(s.by_team),
          JSON.stringify(s.by_action),
          JSON.stringify(s.savings_by_team),
          s.idle_unmeasured ?? null,
          s.unattached_undated ?? null,
          s.unverified_checks === undefined ? null : JSON.stringify(s.unverified_checks),
          id,
        ],
      );
    },
    async fail(id, finishedAt, error) {
      await db.run("UPDATE scans SET status = 'failed', finished_at = ?, error = ? WHERE id = ?", [
        finishedAt,
        error,
        id,
      ]);
    },
    async get(id) {
      const row = await db.get<ScanRow>("SELECT * FROM scans WHERE id = ?", [id]);
      return row ? fromRow(row) : undefined;
    },
    async list(filter = {}) {
      const rows =
        filter.inventory === undefined
          ? await db.all<ScanRow>("SELECT * FROM scans ORDER BY started_at DESC, id DESC LIMIT ?", [
              filter.limit ?? 100,
            ])
          : await db.all<ScanRow>(
              "SELECT * FROM scans WHERE inventory = ? ORDER BY started_at DESC, id DESC LIMIT ?",
              [filter.inventory, filter.limit ?? 100],
            );
      return rows.map(fromRow);
    },
  };
}

function json<T>(text: unknown, empty: T): T {
  return typeof text === "string" ? (JSON.parse(text) as T) : empty;
}

function num(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

function fromRow(r: ScanRow): ScanRecord {
  return {
    id: r.id as string,
    inventory: r.inventory as string,
    started_at: r.started_at as string,
    finished_at: (r.finished_at as string | null) ?? null,
    status: r.status as ScanRecord["status"],
    policy_revision: r.policy_revision as string,
    policies: json(r.policies, []),
    resources_scanned: num(r.resources_scanned) ?? 0,
    findings: num(r.findings) ?? 0,
    new_findings: num(r.new_findings),
    resolved_findings: num(r.resolved_findings),
    savings_monthly: (r.savings_monthly as string | null) ?? "0",
    currency: (r.currency as string | null) ?? "USD",
    by_policy: json(r.by_policy, {}),
    by_severity: json(r.by_severity, {}),
    by_team: json(r.by_team, {}),
    by_action: json(r.by_action, {}),
    savings_by_team: json(r.savings_by_team, {}),
    error: (r.error as string | null) ?? null,
    // Scans stored before scan-0004 did not count what they could not judge: left out, not zero.
    ...(r.idle_unmeasured === null || r.idle_unmeasured === undefined
      ? {}
      : { idle_unmeasured: Number(r.idle_unmeasured) }),
    ...(r.unattached_undated === null || r.unattached_undated === undefined
      ? {}
      : { unattached_undated: Number(r.unattached_undated) }),
    ...(typeof r.unverified_checks === "string" ? { unverified_checks: json(r.unverified_checks, {}) } : {}),
  };
}
