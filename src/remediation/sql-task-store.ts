import { ConflictError, NotFoundError } from "../errors.js";
import type { SqlDb, SqlValue } from "../store/sql.js";
import type { LedgerEntry, SavingsLedger, TaskStore } from "./store.js";
import type { RemediationTask } from "./types.js";

/** Remediation tasks in SQLite or PostgreSQL (the same SQL for both). */
export function sqlTaskStore(db: SqlDb): TaskStore {
  return {
    async insert(t) {
      // Either the same task id or another active task for the finding: both mean "already planned".
      const changed = await db.run(
        "INSERT INTO remediation_tasks (id, finding_id, resource_id, action, state, created_at, updated_at, version, pending_notices, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [
          t.id,
          t.finding_id,
          t.resource_id,
          t.action,
          t.state,
          t.created_at,
          t.updated_at,
          t.version,
          t.notices.length,
          JSON.stringify(t),
        ],
      );
      return changed > 0;
    },
    async update(t, expectedVersion) {
      const changed = await db.run(
        "UPDATE remediation_tasks SET state = ?, updated_at = ?, version = ?, pending_notices = ?, data = ? WHERE id = ? AND version = ?",
        [t.state, t.updated_at, t.version, t.notices.length, JSON.stringify(t), t.id, expectedVersion],
      );
      if (changed > 0) return;
      const exists = await db.get("SELECT id FROM remediation_tasks WHERE id = ?", [t.id]);
      if (!exists) throw new NotFoundError(`no remediation task ${t.id}`);
      throw new ConflictError(`remediation task ${t.id} was changed by another run`);
    },
    async get(id) {
      const r = await db.get<{ data: string }>("SELECT data FROM remediation_tasks WHERE id = ?", [id]);
      return r ? (JSON.parse(r.data) as RemediationTask) : undefined;
    },
    async list(filter = {}) {
      const where: string[] = [];
      const params: SqlValue[] = [];
      const within = (column: string, values: readonly string[] | undefined) => {
        if (values === undefined) return;
        if (values.length === 0) {
          where.push("1 = 0");
          return;
        }
        where.push(`${column} IN (${values.map(() => "?").join(", ")})`);
        params.push(...values);
      };
      within("state", filter.states);
      within("finding_id", filter.finding_ids);
      if (filter.with_notices) where.push("pending_notices > 0");
      if (filter.resource_id !== undefined) {
        where.push("resource_id = ?");
        params.push(filter.resource_id);
      }
      const rows = await db.all<{ data: string }>(
        `SELECT data FROM remediation_tasks ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at, id`,
        params,
      );
      return rows.map((r) => JSON.parse(r.data) as RemediationTask);
    },
  };
}

const LEDGER_COLUMNS =
  "task_id, resource_id, resource_type, action, policy, rule, cost_before, cost_after, monthly_saving, currency, recorded_at";

export function sqlSavingsLedger(db: SqlDb): SavingsLedger {
  return {
    async record(e) {
      const changed = await db.run(
        `INSERT INTO remediation_ledger (${LEDGER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (task_id) DO NOTHING`,
        [
          e.task_id,
          e.resource_id,
          e.resource_type,
          e.action,
          e.policy,
          e.rule,
          e.cost_before,
          e.cost_after,
          e.monthly_saving,
          e.currency,
          e.recorded_at,
        ],
      );
      return changed > 0;
    },
    async list() {
      return db.all<LedgerEntry & Record<string, unknown>>(
        `SELECT ${LEDGER_COLUMNS} FROM remediation_ledger ORDER BY recorded_at, task_id`,
      );
    },
  };
}
