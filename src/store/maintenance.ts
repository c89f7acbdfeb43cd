import { statSync } from "node:fs";
import { ConflictError } from "../errors.js";
import type { Migration } from "./migrate.js";
import type { Dialect, SqlDb } from "./sql.js";

/** What a store holds and how much room it takes (`costguard store info`). */
export interface StoreInfo {
  dialect: Dialect;
  location: string;
  /**
   * Bytes on disk: SQLite's file and its write-ahead log; on PostgreSQL, this store's tables with
   * their indexes and TOAST (not the rest of the database).
   */
  bytes: number;
  /** SQLite: bytes of free pages inside the file, which `compact` gives back to the disk. */
  freeBytes: number | null;
  /** SQLite: bytes of the write-ahead log (counted in `bytes`). */
  walBytes: number | null;
  /** Migrations applied, in the order they ran; the last is the schema's version. */
  migrations: { applied: number; latest: string | null; appliedAt: string | null };
  /** Rows in each of costguard's tables, by name. */
  tables: { name: string; rows: number }[];
}

export interface CompactResult {
  /** Bytes on disk before and after, counted as StoreInfo.bytes counts them. */
  before: number;
  after: number;
  /** What was run: `VACUUM` (SQLite), `VACUUM (ANALYZE)` of each table (PostgreSQL). */
  how: string;
}

/** Looking after the store itself: what it holds, and giving back the room deleted rows left. */
export interface StoreMaintenance {
  info(): Promise<StoreInfo>;
  /**
   * SQLite: rewrites the file without its free pages (`VACUUM`) and empties the write-ahead log; it
   * waits for, or fails on, another connection writing. PostgreSQL: `VACUUM (ANALYZE)` of each of the
   * store's tables (space made reusable and statistics refreshed, without the exclusive locks of
   * `VACUUM FULL`, so servers sharing the database go on).
   */
  compact(): Promise<CompactResult>;
}

/**
 * The tables the migrations create (`CREATE TABLE [IF NOT EXISTS] name`), so `info` counts only
 * costguard's own in a PostgreSQL database other applications may share.
 */
export function migrationTables(migrations: readonly Migration[]): string[] {
  const names = new Set<string>(["schema_migrations"]);
  for (const m of migrations)
    for (const sql of typeof m.sql === "string" ? [m.sql] : Object.values(m.sql))
      for (const match of sql.matchAll(/CREATE TABLE (?:IF NOT EXISTS )?([a-z_][a-z0-9_]*)/gi))
        names.add(match[1]!.toLowerCase());
  return [...names].sort();
}

/** `file` is the SQLite file (undefined in memory or on PostgreSQL), for its size and its log's. */
export function sqlMaintenance(
  db: SqlDb,
  location: string,
  file: string | undefined,
  migrations: readonly Migration[],
): StoreMaintenance {
  const ours = new Set(migrationTables(migrations));

  const tables = async (): Promise<string[]> => {
    const rows =
      db.dialect === "sqlite"
        ? await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        : await db.all<{ name: string }>(
            "SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename",
          );
    return rows.map((r) => r.name).filter((name) => ours.has(name));
  };

  const fileBytes = (path: string) => statSync(path, { throwIfNoEntry: false })?.size ?? 0;

  /** `names`: the store's tables, as `tables()` lists them (PostgreSQL's size is theirs). */
  const sizes = async (
    names: readonly string[],
  ): Promise<{ bytes: number; freeBytes: number | null; walBytes: number | null }> => {
    if (db.dialect === "sqlite") {
      const pages = await db.get<{ page_size: number }>("PRAGMA page_size");
      const free = await db.get<{ freelist_count: number }>("PRAGMA freelist_count");
      const freeBytes = Number(pages?.page_size ?? 0) * Number(free?.freelist_count ?? 0);
      if (file === undefined) {
        const count = await db.get<{ page_count: number }>("PRAGMA page_count");
        return {
          bytes: Number(pages?.page_size ?? 0) * Number(count?.page_count ?? 0),
          freeBytes,
          walBytes: null,
        };
      }
      const walBytes = fileBytes(`${file}-wal`);
      return { bytes: fileBytes(file) + walBytes, freeBytes, walBytes };
    }
    let bytes = 0;
    for (const name of names) {
      const row = await db.get<{ bytes: string | number }>(
        "SELECT pg_total_relation_size(?::regclass) AS bytes",
        [quoteName(name)],
      );
      bytes += Number(row?.bytes ?? 0);
    }
    return { bytes, freeBytes: null, walBytes: null };
  };

  return {
    async info() {
      const applied = await db.all<{ id: string; applied_at: string }>(
        "SELECT id, applied_at FROM schema_migrations",
      );
      // The order they ran in: by when, and those applied together in the list's order (they share
      // one applied_at). An upgrade applies a module's new migration after other modules' older ones.
      const order = new Map(migrations.map((m, i) => [m.id, i]));
      applied.sort(
        (a, b) =>
          (a.applied_at < b.applied_at ? -1 : a.applied_at > b.applied_at ? 1 : 0) ||
          (order.get(a.id) ?? -1) - (order.get(b.id) ?? -1),
      );
      const latest = applied[applied.length - 1];
      const names = await tables();
      const counts: { name: string; rows: number }[] = [];
      for (const name of names) {
        const row = await db.get<{ n: string | number }>(`SELECT COUNT(*) AS n FROM ${quoteName(name)}`);
        counts.push({ name, rows: Number(row?.n ?? 0) });
      }
      return {
        dialect: db.dialect,
        location,
        ...(await sizes(names)),
        migrations: {
          applied: applied.length,
          latest: latest?.id ?? null,
          appliedAt: latest?.applied_at ?? null,
        },
        tables: counts,
      };
    },

    async compact() {
      const names = await tables();
      const before = (await sizes(names)).bytes;
      if (db.dialect === "sqlite") {
        try {
          await db.exec("VACUUM");
          await db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED")
            throw new ConflictError(
              `the store ${location} is busy (another costguard is writing to it): compact it when that has finished`,
            );
          throw err;
        }
        return { before, after: (await sizes(names)).bytes, how: "VACUUM" };
      }
      // One statement each: PostgreSQL runs no VACUUM inside a transaction or a multi-statement query.
      for (const name of names) await db.exec(`VACUUM (ANALYZE) ${quoteName(name)}`);
      return { before, after: (await sizes(names)).bytes, how: "VACUUM (ANALYZE) of each table" };
    },
  };
}

/** A table name as an SQL identifier (names come from the catalogue, checked against the migrations). */
function quoteName(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
