import { ConflictError, NotFoundError } from "../errors.js";
import { placeholders, type SqlDb, type SqlValue, storedJson } from "../store/sql.js";
import type { LedgerEntry, SavingsLedger, TaskStore } from "./store.js";
import type { RemediationTask } from "./types.js";

/** Remediation tasks in SQLite or PostgreSQL (the same SQL for both). */
export function sqlTaskStore(db: SqlDb): TaskStore {
  return {
    batch: (fn) => db.transaction((tx) => fn(sqlTaskStore(tx))),
    // The database's own lock (a lock file for SQLite, an advisory lock on PostgreSQL): let go when
    // the process ends, however it ends.
    tryActing: (inventory) => db.tryLock(`act:${inventory}`),
    async lastChange(inventory) {
      const r = await db.get<{ at: string | null }>(
        "SELECT MAX(updated_at) AS at FROM remediation_tasks WHERE inventory = ?",
        [inventory],
      );
      return r?.at ?? undefined;
    },
    async insert(t) {
      // Either the same task id or another active task for the finding: both mean "already planned".
      const changed = await db.run(
        "INSERT INTO remediation_tasks (id, finding_id, resource_id, action, state, created_at, updated_at, version, pending_notices, data, inventory, finding_resolved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
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
          t.inventory ?? null,
          t.finding_resolved_at ?? null,
        ],
      );
      return changed > 0;
    },
    async update(t, expectedVersion) {
      const changed = await db.run(
        "UPDATE remediation_tasks SET state = ?, updated_at = ?, version = ?, pending_notices = ?, data = ?, finding_resolved_at = ? WHERE id = ? AND version = ?",
        [
          t.state,
          t.updated_at,
          t.version,
          t.notices.length,
          JSON.stringify(t),
          t.finding_resolved_at ?? null,
          t.id,
          expectedVersion,
        ],
      );
      if (changed > 0) return;
      const exists = await db.get("SELECT id FROM remediation_tasks WHERE id = ?", [t.id]);
      if (!exists) throw new NotFoundError(`no remediation task ${t.id}`);
      throw new ConflictError(`remediation task ${t.id} was changed by another run`);
    },
    async get(id) {
      const r = await db.get<{ data: string }>("SELECT data FROM remediation_tasks WHERE id = ?", [id]);
      return r ? storedJson<RemediationTask>(r.data, () => `remediation task ${id}`) : undefined;
    },
    async list(filter = {}) {
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (filter.states !== undefined) {
        where.push(filter.states.length === 0 ? "1 = 0" : `state IN (${placeholders(filter.states.length)})`);
        params.push(...filter.states);
      }
      if (filter.with_notices) where.push("pending_notices > 0");
      if (filter.finding_resolved !== undefined)
        where.push(`finding_resolved_at IS ${filter.finding_resolved ? "NOT NULL" : "NULL"}`);
      if (filter.resource_id !== undefined) {
        where.push("resource_id = ?");
        params.push(filter.resource_id);
      }
      if (filter.inventory !== undefined) {
        where.push("inventory = ?");
        params.push(filter.inventory);
      }
      const limit = filter.limit === undefined ? undefined : Math.max(0, Math.floor(filter.limit));
      const select = (conditions: string[]) =>
        `SELECT id, data FROM remediation_tasks ${conditions.length ? `WHERE ${conditions.join(" AND ")}` : ""} ORDER BY created_at, id${limit === undefined ? "" : ` LIMIT ${limit}`}`;
      const ids = filter.finding_ids;
      if (ids === undefined) return parse(await db.all<{ id: string; data: string }>(select(where), params));
      if (ids.length === 0) return [];
      // A scan's findings are hundreds of thousands: more than one statement may bind (SQLite 32,766,
      // PostgreSQL 65,535). They go FINDINGS_PER_QUERY at a time, every list as long (the last id
      // repeated), so each query is the same statement.
      const unique = [...new Set(ids)];
      const sql = select([...where, `finding_id IN (${placeholders(FINDINGS_PER_QUERY)})`]);
      const tasks: RemediationTask[] = [];
      for (let start = 0; start < unique.length; start += FINDINGS_PER_QUERY) {
        const chunk = unique.slice(start, start + FINDINGS_PER_QUERY);
        while (chunk.length < FINDINGS_PER_QUERY) chunk.push(chunk[chunk.length - 1]!);
        for (const task of parse(await db.all<{ id: string; data: string }>(sql, [...params, ...chunk])))
          tasks.push(task);
      }
      if (unique.length <= FINDINGS_PER_QUERY) return tasks;
      return oldestFirst(tasks).slice(0, limit);
    },
  };
}

function oldestFirst(tasks: RemediationTask[]): RemediationTask[] {
  return tasks.sort((a, b) =>
    a.created_at < b.created_at
      ? -1
      : a.created_at > b.created_at
        ? 1
        : a.id < b.id
          ? -1
          : a.id > b.id
            ? 1
            : 0,
  );
}

/** Finding ids per query when tasks are listed by finding. */
const FINDINGS_PER_QUERY = 500;

const parse = (rows: readonly { id: string; data: string }[]) =>
  rows.map((r) => storedJson<RemediationTask>(r.data, () => `remediation task ${r.id}`));

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
