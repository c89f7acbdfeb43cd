import type { SqlDb, SqlValue } from "../store/sql.js";
import type { ResourceRepository, StoredResource } from "./store.js";
import { GONE_STATES, type Resource } from "./types.js";

interface ResourceRow {
  data: string;
  updated_at: string;
  gone_at: string | null;
  [k: string]: unknown;
}

const PUT = `INSERT INTO resources (source, id, type, state, data, updated_at, gone_at) VALUES (?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (source, id) DO UPDATE SET type = excluded.type, state = excluded.state, data = excluded.data,
  updated_at = excluded.updated_at, gone_at = CASE WHEN excluded.gone_at IS NULL THEN NULL
  ELSE COALESCE(resources.gone_at, excluded.gone_at) END`;

export function sqlResourceRepository(db: SqlDb): ResourceRepository {
  return {
    async put(source, resources, at) {
      const rows: SqlValue[][] = resources.map((r) => [
        source,
        r.id,
        r.type,
        r.state ?? null,
        JSON.stringify(r),
        at,
        r.state !== undefined && GONE_STATES.has(r.state) ? at : null,
      ]);
      await db.runMany(PUT, rows);
    },
    async get(source, id) {
      const row = await db.get<ResourceRow>(
        "SELECT data, updated_at, gone_at FROM resources WHERE source = ? AND id = ?",
        [source, id],
      );
      return row ? toStored(row) : undefined;
    },
    async list(source, options = {}) {
      const where = ["source = ?"];
      const params: SqlValue[] = [source];
      if (!options.includeGone) where.push("gone_at IS NULL");
      if (options.after !== undefined) {
        where.push("id > ?");
        params.push(options.after);
      }
      if (options.type !== undefined) {
        where.push("type = ?");
        params.push(options.type);
      }
      params.push(options.limit ?? 1000);
      const rows = await db.all<ResourceRow>(
        `SELECT data FROM resources WHERE ${where.join(" AND ")} ORDER BY id LIMIT ?`,
        params,
      );
      return rows.map((r) => JSON.parse(r.data) as Resource);
    },
    async count(source, options = {}) {
      const row = await db.get<{ n: number | string }>(
        `SELECT COUNT(*) AS n FROM resources WHERE source = ?${options.includeGone ? "" : " AND gone_at IS NULL"}`,
        [source],
      );
      return Number(row?.n ?? 0);
    },
    clear: (source) => db.run("DELETE FROM resources WHERE source = ?", [source]),
  };
}

function toStored(row: ResourceRow): StoredResource {
  return { resource: JSON.parse(row.data) as Resource, updated_at: row.updated_at, gone_at: row.gone_at };
}
