import { ConflictError, NotFoundError } from "../errors.js";
import { type SqlDb, type SqlValue, storedJson } from "../store/sql.js";
import { sameUser } from "../users.js";
import type { ExceptionStore } from "./store.js";
import type { PolicyException } from "./types.js";

const COLUMNS =
  "id, policy, rule, resource_id, status, type, requested_by, requested_at, expires_at, version, data";

function row(e: PolicyException): SqlValue[] {
  return [
    e.id,
    e.policy,
    e.rule,
    e.resource_id,
    e.status,
    e.type,
    e.requested_by,
    e.requested_at,
    e.expires_at,
    e.version,
    JSON.stringify(e),
  ];
}

/** Exceptions in SQLite or PostgreSQL (the same SQL for both). */
export function sqlExceptionStore(db: SqlDb): ExceptionStore {
  return {
    async insert(exc) {
      const changed = await db.run(
        `INSERT INTO policy_exceptions (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
        row(exc),
      );
      if (changed === 0) throw new ConflictError(`exception ${exc.id} already exists`);
    },
    async update(exc, expectedVersion) {
      const changed = await db.run(
        "UPDATE policy_exceptions SET status = ?, expires_at = ?, version = ?, data = ? WHERE id = ? AND version = ?",
        [exc.status, exc.expires_at, exc.version, JSON.stringify(exc), exc.id, expectedVersion],
      );
      if (changed > 0) return;
      const exists = await db.get("SELECT id FROM policy_exceptions WHERE id = ?", [exc.id]);
      if (!exists) throw new NotFoundError(`no exception ${exc.id}`);
      throw new ConflictError(`exception ${exc.id} was changed by someone else; try again`);
    },
    async get(id) {
      const r = await db.get<{ data: string }>("SELECT data FROM policy_exceptions WHERE id = ?", [id]);
      return r ? storedJson<PolicyException>(r.data, () => `exception ${id}`) : undefined;
    },
    async list(filter = {}) {
      const where: string[] = [];
      const params: SqlValue[] = [];
      // The requester is matched here, not in SQL: SQLite's lower() folds only ASCII, PostgreSQL's
      // by its collation, and neither knows fullwidth forms or accents as sameUser does.
      for (const [column, value] of [
        ["status", filter.status],
        ["policy", filter.policy],
        ["resource_id", filter.resource_id],
      ] as const) {
        if (value === undefined) continue;
        where.push(`${column} = ?`);
        params.push(value);
      }
      const rows = await db.all<{ id: string; data: string }>(
        `SELECT id, data FROM policy_exceptions ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY requested_at, id`,
        params,
      );
      const found = rows.map((r) => storedJson<PolicyException>(r.data, () => `exception ${r.id}`));
      const by = filter.requested_by;
      return by === undefined ? found : found.filter((e) => sameUser(e.requested_by, by));
    },
  };
}
