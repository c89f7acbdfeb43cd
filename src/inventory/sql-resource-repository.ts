import { StoredDataError } from "../errors.js";
import { type SqlDb, type SqlValue, storedJson } from "../store/sql.js";
import type { ResourceRepository, StoredResource } from "./store.js";
import { GONE_STATES, type Resource } from "./types.js";

interface ResourceRow {
  id: string;
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
    async get(source, id, options = {}) {
      const lock = options.lock && db.dialect === "postgres" ? " FOR UPDATE" : "";
      const row = await db.get<ResourceRow>(
        `SELECT id, data, updated_at, gone_at FROM resources WHERE source = ? AND id = ?${lock}`,
        [source, id],
      );
      return row ? toStored(source, row) : undefined;
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
        `SELECT id, data FROM resources WHERE ${where.join(" AND ")} ORDER BY id LIMIT ?`,
        params,
      );
      return rows.map((r) => resourceOf(source, r));
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

function toStored(source: string, row: ResourceRow): StoredResource {
  return { resource: resourceOf(source, row), updated_at: row.updated_at, gone_at: row.gone_at };
}

/**
 * A row's resource, as `put` wrote it: JSON of an object with its id and type. Anything else (a row
 * changed by hand) is said as the database's failure, naming the row, not met later as a TypeError.
 */
function resourceOf(source: string, row: ResourceRow): Resource {
  const what = () => `the data of resource ${String(row.id)} in ${source}`;
  const r = storedJson<unknown>(String(row.data), what);
  if (
    typeof r !== "object" ||
    r === null ||
    Array.isArray(r) ||
    typeof (r as Resource).id !== "string" ||
    typeof (r as Resource).type !== "string"
  )
    throw new StoredDataError(
      `${what()}: not a resource as costguard stores it (an object with its id and type); the database was changed by something other than costguard, or is damaged`,
    );
  return r as Resource;
}
