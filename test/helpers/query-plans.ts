import type { SqlDb } from "../../src/store/sql.js";

/** A statement a repository read through `all`, with its parameters. */
export interface SeenQuery {
  sql: string;
  params: readonly unknown[];
}

/** `db` with every `all` recorded in `seen`, to ask SQLite afterwards how it ran them. */
export function recordingReads(db: SqlDb, seen: SeenQuery[]): SqlDb {
  return {
    ...db,
    all: (sql, params) => {
      seen.push({ sql, params: params ?? [] });
      return db.all(sql, params);
    },
  };
}

/** SQLite's plan for a recorded statement, its steps joined by ` | `. */
export async function queryPlan(db: SqlDb, query: SeenQuery): Promise<string> {
  const plan = await db.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${query.sql}`, [
    ...query.params,
  ] as never);
  return plan.map((p) => p.detail).join(" | ");
}
