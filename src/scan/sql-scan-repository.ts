import { hostname } from "node:os";
import { ConflictError, DatabaseFailedError, InputError } from "../errors.js";
import { takeLockWaiting } from "../store/lock-wait.js";
import { type HeldLock, type SqlDb, storedJson } from "../store/sql.js";
import type { ScanRepository } from "./store.js";
import type { ScanRecord, ScanSummary } from "./types.js";

type ScanRow = Record<string, unknown>;

/** The lock a scan of `inventory` holds while it runs (SqlDb.tryLock: let go when its process ends). */
export const scanLock = (inventory: string): string => `scan:${inventory}`;

/** This process, as a scan's owner is recorded and shown. */
const thisProcess = (): string => `process ${process.pid} on ${hostname()}`;

/**
 * Scans of the inventory recorded as running, whose lock the caller holds: no process runs them any
 * more. They are marked failed, finished_at left unknown.
 */
async function interrupt(db: SqlDb, inventory: string): Promise<number> {
  return db.run(
    `UPDATE scans SET status = 'failed',
      error = 'interrupted: ' || COALESCE(owner, 'its process') || ' ended before the scan finished',
      findings_kept = ${FINDINGS_KEPT}
      WHERE inventory = ? AND status = 'running'`,
    [inventory],
  );
}

/**
 * The findings a failed scan (the row of `scans` being updated) first wrote: they stay stored, and
 * the next completed scan of its inventory that sees them counts them new (see HAND_ON in
 * sql-finding-repository.ts). Counted once, when the scan fails: a read of every finding, on the
 * failure's path only (no index on first_scan_id to keep up on every scan's writes).
 */
const FINDINGS_KEPT = "(SELECT COUNT(*) FROM finding_rows r WHERE r.first_scan_id = scans.id)";

/** The scan recorded as running that holds an inventory, as messages name it. */
function runningScan(other: ScanRow | undefined): string {
  // Between another process taking the lock and recording its scan there is no row to name yet.
  return other === undefined
    ? "another scan, just starting"
    : `${other.id as string}, started ${other.started_at as string}${other.owner ? ` by ${other.owner as string}` : ""}`;
}

function busy(inventory: string, other: ScanRow | undefined, waitedMs: number): string {
  const waited = waitedMs > 0 ? ` (waited ${formatSeconds(waitedMs)})` : "";
  const what =
    other === undefined ? "another scan of it is just starting" : `${runningScan(other)}, is still running`;
  return `cannot scan ${inventory}: ${what}${waited}. One scan of an inventory runs at a time; wait for it to finish (--lock-timeout waits for it), or stop it (a scan whose process has ended is marked interrupted by the next).`;
}

const formatSeconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

export function sqlScanRepository(db: SqlDb): ScanRepository {
  /** The locks of this handle's scans that have started and not yet ended, by scan id. */
  const held = new Map<string, HeldLock>();
  const release = async (id: string) => {
    const lock = held.get(id);
    held.delete(id);
    await lock?.release();
  };
  const checkHeld = async (id: string) => {
    try {
      await held.get(id)?.check?.();
    } catch (err) {
      throw new DatabaseFailedError(`lost the scan lock: ${(err as Error).message || String(err)}`);
    }
  };
  const completeRow = (id: string, finishedAt: string, s: ScanSummary) =>
    db.run(
      `UPDATE scans SET status = 'completed', finished_at = ?, resources_scanned = ?, findings = ?,
          new_findings = ?, resolved_findings = ?, savings_monthly = ?, currency = ?, by_policy = ?,
          by_severity = ?, by_team = ?, by_action = ?, savings_by_team = ?, idle_unmeasured = ?,
          unattached_undated = ?, unverified_checks = ?, resources_gone = ?, repeated_findings = ?,
          idle_other_states = ?, unjudged_types = ?, rules_judging_nothing = ?, resources_billed = ?,
          excepted_findings = ?, excepted_savings_monthly = ?
          WHERE id = ?`,
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
        s.resources_gone ?? 0,
        s.repeated_findings ?? 0,
        s.idle_other_states === undefined ? null : JSON.stringify(s.idle_other_states),
        s.unjudged_types === undefined ? null : JSON.stringify(s.unjudged_types),
        s.rules_judging_nothing === undefined ? null : JSON.stringify(s.rules_judging_nothing),
        s.resources_billed ?? 0,
        s.excepted_findings ?? null,
        s.excepted_savings_monthly ?? null,
        id,
      ],
    );
  return {
    async start(scan, options = {}) {
      const waitMs = options.waitMs ?? 0;
      /** The scan recorded as running that holds the lock, for messages. */
      const holder = () =>
        db.get<ScanRow>(
          "SELECT id, started_at, owner FROM scans WHERE inventory = ? AND status = 'running' ORDER BY started_at DESC, id DESC LIMIT 1",
          [scan.inventory],
        );
      const lock = await takeLockWaiting(() => db.tryLock(scanLock(scan.inventory)), {
        waitMs,
        signal: options.signal,
        onWaiting: async () => options.onWaiting?.(runningScan(await holder())),
        refusal: async () => new ConflictError(busy(scan.inventory, await holder(), waitMs)),
      });
      try {
        await db.transaction(async (tx) => {
          await interrupt(tx, scan.inventory);
          // A scan as of a time before the latest one would move findings' last_seen back before
          // their first_seen, and resolve them before they were last seen.
          const latest = await tx.get<{ id: string; started_at: string }>(
            "SELECT id, started_at FROM scans WHERE inventory = ? ORDER BY started_at DESC, id DESC LIMIT 1",
            [scan.inventory],
          );
          if (latest !== undefined && latest.started_at > scan.started_at)
            throw new InputError(
              `cannot store a scan of ${scan.inventory} as of ${scan.started_at}: its latest stored scan, ${latest.id}, is as of ${latest.started_at}, and the findings' history only moves forward. Scan as of that time or later, or without storing it (--no-store) for a what-if.`,
            );
          await tx.run(
            "INSERT INTO scans (id, inventory, started_at, status, policy_revision, policies, owner) VALUES (?, ?, ?, 'running', ?, ?, ?)",
            [
              scan.id,
              scan.inventory,
              scan.started_at,
              scan.policy_revision,
              JSON.stringify(scan.policies),
              thisProcess(),
            ],
          );
        });
      } catch (err) {
        await lock.release();
        throw err;
      }
      held.set(scan.id, lock);
    },
    async hold(inventory, doing) {
      const lock = await db.tryLock(scanLock(inventory));
      if (lock !== undefined) return lock;
      const other = await db.get<ScanRow>(
        "SELECT id, started_at, owner FROM scans WHERE inventory = ? AND status = 'running' ORDER BY started_at DESC, id DESC LIMIT 1",
        [inventory],
      );
      throw new ConflictError(
        `cannot ${doing}: ${other === undefined ? "a scan of it is just starting" : `${runningScan(other)}, is scanning it`}; run this again when the scan has finished (a scan sees the ${inventory} whole, before or after, never half of each)`,
      );
    },
    async markInterrupted() {
      const inventories = await db.all<{ inventory: string }>(
        "SELECT DISTINCT inventory FROM scans WHERE status = 'running'",
      );
      let count = 0;
      for (const { inventory } of inventories) {
        const lock = await db.tryLock(scanLock(inventory));
        if (lock === undefined) continue;
        try {
          count += await db.transaction((tx) => interrupt(tx, inventory));
        } finally {
          await lock.release();
        }
      }
      return count;
    },
    checkHeld,
    async complete(id, finishedAt, s) {
      try {
        await checkHeld(id);
        await completeRow(id, finishedAt, s);
      } finally {
        await release(id);
      }
    },
    async recordExcepted(id, count) {
      if (!Number.isSafeInteger(count) || count < 0)
        throw new RangeError(`an excepted count is a whole number, at least 0, got ${count}`);
      const changed = await db.run(
        "UPDATE scans SET excepted_findings = ? WHERE id = ? AND status = 'completed'",
        [count, id],
      );
      if (changed === 0) throw new InputError(`no completed scan ${id} to record excepted findings of`);
    },
    async fail(id, finishedAt, error) {
      try {
        await db.run(
          `UPDATE scans SET status = 'failed', finished_at = ?, error = ?, findings_kept = ${FINDINGS_KEPT} WHERE id = ?`,
          [finishedAt, error, id],
        );
      } finally {
        await release(id);
      }
    },
    async get(id) {
      const row = await db.get<ScanRow>("SELECT * FROM scans WHERE id = ?", [id]);
      return row ? fromRow(row) : undefined;
    },
    async idsStartingWith(prefix, limit) {
      // substr, not LIKE: as for fingerprints (sql-finding-repository.ts).
      const rows = await db.all<{ id: string }>(
        "SELECT id FROM scans WHERE substr(id, 1, ?) = ? ORDER BY id LIMIT ?",
        [prefix.length, prefix, limit],
      );
      return rows.map((r) => r.id);
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

function num(v: unknown): number | null {
  return v === null || v === undefined ? null : Number(v);
}

function fromRow(r: ScanRow): ScanRecord {
  /** A column stored as JSON (the value given when it is null). */
  const json = <T>(column: string, empty: T): T => {
    const text = r[column];
    return typeof text === "string"
      ? storedJson<T>(text, () => `the ${column} of scan ${String(r.id)}`)
      : empty;
  };
  return {
    id: r.id as string,
    inventory: r.inventory as string,
    started_at: r.started_at as string,
    finished_at: (r.finished_at as string | null) ?? null,
    status: r.status as ScanRecord["status"],
    policy_revision: r.policy_revision as string,
    policies: json("policies", []),
    resources_scanned: num(r.resources_scanned) ?? 0,
    findings: num(r.findings) ?? 0,
    new_findings: num(r.new_findings),
    resolved_findings: num(r.resolved_findings),
    savings_monthly: (r.savings_monthly as string | null) ?? "0",
    currency: (r.currency as string | null) ?? "USD",
    by_policy: json("by_policy", {}),
    by_severity: json("by_severity", {}),
    by_team: json("by_team", {}),
    by_action: json("by_action", {}),
    savings_by_team: json("savings_by_team", {}),
    error: (r.error as string | null) ?? null,
    owner: (r.owner as string | null) ?? null,
    // Scans stored before scan-0004 did not count what they could not judge: left out, not zero.
    ...(r.idle_unmeasured === null || r.idle_unmeasured === undefined
      ? {}
      : { idle_unmeasured: Number(r.idle_unmeasured) }),
    ...(r.unattached_undated === null || r.unattached_undated === undefined
      ? {}
      : { unattached_undated: Number(r.unattached_undated) }),
    ...(typeof r.unverified_checks === "string" ? { unverified_checks: json("unverified_checks", {}) } : {}),
    // As in a scan's own summary: present when there are any.
    ...(num(r.resources_gone) ? { resources_gone: Number(r.resources_gone) } : {}),
    ...(num(r.repeated_findings) ? { repeated_findings: Number(r.repeated_findings) } : {}),
    ...(num(r.resources_billed) ? { resources_billed: Number(r.resources_billed) } : {}),
    ...(num(r.excepted_findings) ? { excepted_findings: Number(r.excepted_findings) } : {}),
    ...(typeof r.excepted_savings_monthly === "string"
      ? { excepted_savings_monthly: r.excepted_savings_monthly }
      : {}),
    // Failed scans only (since scan-0016): present when it wrote any.
    ...(num(r.findings_kept) ? { findings_kept: Number(r.findings_kept) } : {}),
    ...(typeof r.findings_kept_new_in === "string" ? { findings_kept_new_in: r.findings_kept_new_in } : {}),
    ...(typeof r.idle_other_states === "string" ? { idle_other_states: json("idle_other_states", {}) } : {}),
    ...(typeof r.unjudged_types === "string" ? { unjudged_types: json("unjudged_types", {}) } : {}),
    ...(typeof r.rules_judging_nothing === "string"
      ? { rules_judging_nothing: json("rules_judging_nothing", []) }
      : {}),
  };
}
