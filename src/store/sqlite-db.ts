import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Row, SqlDb, SqlValue } from "./sql.js";

type Statement = Database.Statement<unknown[], Row>;

/**
 * SQLite through better-sqlite3. The driver is synchronous; this wraps it in the async SqlDb surface
 * and serialises transactions with a queue, so two async callers can never interleave statements
 * inside one another's transaction on the shared connection.
 */
export function openSqliteDb(path: string): SqlDb {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  // A bigger page cache (64 MiB) for scans that upsert hundreds of thousands of findings.
  db.pragma("cache_size = -65536");
  // Checkpoint the write-ahead log every ~40 MB instead of every 4 MB: fewer syncs during big scans.
  db.pragma("wal_autocheckpoint = 10000");
  return wrap(db, new Map(), { tail: Promise.resolve() }, false);
}

interface Queue {
  tail: Promise<unknown>;
}

function wrap(db: Database.Database, cache: Map<string, Statement>, queue: Queue, inTx: boolean): SqlDb {
  const prepare = (sql: string): Statement => {
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      cache.set(sql, stmt);
    }
    return stmt;
  };
  const bind = (params: readonly SqlValue[] | undefined) => (params ?? []) as unknown[];
  /** Outside a transaction, wait for any running one before touching the connection. */
  const serial = async <T>(fn: () => T): Promise<T> => {
    if (inTx) return fn();
    await queue.tail;
    return fn();
  };

  const self: SqlDb = {
    dialect: "sqlite",
    run: (sql, params) => serial(() => prepare(sql).run(...bind(params)).changes),
    all: <T extends Row>(sql: string, params?: readonly SqlValue[]) =>
      serial(() => prepare(sql).all(...bind(params)) as T[]),
    get: <T extends Row>(sql: string, params?: readonly SqlValue[]) =>
      serial(() => prepare(sql).get(...bind(params)) as T | undefined),
    runMany: (sql, rows) =>
      serial(() => {
        const stmt = prepare(sql);
        const insert = () => {
          for (const r of rows) stmt.run(...(r as unknown[]));
        };
        if (inTx || db.inTransaction) insert();
        else db.transaction(insert)();
      }),
    exec: (sql) => serial(() => void db.exec(sql)),
    async transaction<T>(fn: (tx: SqlDb) => Promise<T>): Promise<T> {
      if (inTx) return fn(self);
      const previous = queue.tail;
      let release!: () => void;
      queue.tail = new Promise<void>((resolve) => {
        release = resolve;
      });
      await previous;
      try {
        db.exec("BEGIN IMMEDIATE");
        try {
          const result = await fn(wrap(db, cache, queue, true));
          db.exec("COMMIT");
          return result;
        } catch (err) {
          if (db.inTransaction) db.exec("ROLLBACK");
          throw err;
        }
      } finally {
        release();
      }
    },
    async close() {
      await queue.tail;
      db.close();
    },
  };
  return self;
}
