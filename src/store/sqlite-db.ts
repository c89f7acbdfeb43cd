import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import type { Row, SqlDb, SqlTransaction, SqlValue } from "./sql.js";

type Statement = Database.Statement<unknown[], Row>;

/**
 * SQLite through better-sqlite3. The driver is synchronous; this wraps it in the async SqlDb surface
 * and serialises transactions with a queue, so two async callers can never interleave statements
 * inside one another's transaction on the shared connection. `begin()` opens a connection of its
 * own (WAL lets it write while this one reads); writes through this handle meanwhile wait for it,
 * up to the busy timeout.
 */
export function openSqliteDb(path: string): SqlDb {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  return wrap(connect(path), new Map(), { tail: Promise.resolve() }, false, path);
}

function connect(path: string): Database.Database {
  const db = new Database(path);
  // 16 KiB pages for a new database (an existing one keeps its size): a scan writing hundreds of
  // thousands of findings spends ~20% less in B-tree and write-ahead-log work than with 4 KiB.
  db.pragma("page_size = 16384");
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  db.pragma("busy_timeout = 5000");
  // A bigger page cache (64 MiB) for scans that upsert hundreds of thousands of findings.
  db.pragma("cache_size = -65536");
  // Checkpoint the write-ahead log every ~40 MB instead of every 4 MB: fewer syncs during big scans.
  db.pragma("wal_autocheckpoint = 10000");
  return db;
}

interface Queue {
  tail: Promise<unknown>;
}

function wrap(
  db: Database.Database,
  cache: Map<string, Statement>,
  queue: Queue,
  inTx: boolean,
  path: string,
): SqlDb {
  const prepare = (sql: string): Statement => {
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      cache.set(sql, stmt);
    }
    return stmt;
  };
  /** A statement returning rows as arrays of values, cached apart from the object-returning one. */
  const prepareRaw = (sql: string): Statement => {
    const key = `raw\n${sql}`;
    let stmt = cache.get(key);
    if (!stmt) {
      stmt = db.prepare(sql).raw(true) as unknown as Statement;
      cache.set(key, stmt);
    }
    return stmt;
  };
  const bind = (params: readonly SqlValue[] | undefined) => (params ?? []) as unknown[];
  /** Takes the connection for a transaction; resolves to the function that hands it back. */
  const acquire = async (): Promise<() => void> => {
    const previous = queue.tail;
    let release!: () => void;
    queue.tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    return release;
  };
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
          let changes = 0;
          for (let i = 0; i < rows.length; i++) changes += stmt.run(rows[i] as unknown[]).changes;
          return changes;
        };
        return inTx || db.inTransaction ? insert() : db.transaction(insert)();
      }),
    each: (sql, params, fn) =>
      serial(() => {
        let n = 0;
        for (const values of prepareRaw(sql).iterate(...bind(params)) as Iterable<unknown[]>) {
          fn(values);
          n++;
        }
        return n;
      }),
    exec: (sql) => serial(() => void db.exec(sql)),
    async begin(): Promise<SqlTransaction> {
      if (inTx) throw new Error("a transaction is already open on this handle");
      // A connection of its own, so this handle stays free for reads while the transaction is open
      // (an in-memory database has no second connection: it waits, as a transaction() would).
      const own = path !== ":memory:";
      // Let a transaction running on this handle finish first: its write lock would block ours.
      if (own) await queue.tail;
      const conn = own ? connect(path) : db;
      const release = own ? () => conn.close() : await acquire();
      try {
        conn.exec("BEGIN IMMEDIATE");
      } catch (err) {
        release();
        throw err;
      }
      let open = true;
      const end = (commit: boolean) => {
        if (!open) throw new Error("this transaction has ended");
        open = false;
        try {
          if (commit) conn.exec("COMMIT");
          else if (conn.inTransaction) conn.exec("ROLLBACK");
        } catch (err) {
          if (conn.inTransaction) conn.exec("ROLLBACK");
          throw err;
        } finally {
          release();
        }
      };
      return {
        ...wrap(conn, own ? new Map() : cache, own ? { tail: Promise.resolve() } : queue, true, path),
        exclusive: !own,
        commit: async () => end(true),
        rollback: async () => end(false),
      };
    },
    async transaction<T>(fn: (tx: SqlDb) => Promise<T>): Promise<T> {
      if (inTx) return fn(self);
      const release = await acquire();
      try {
        db.exec("BEGIN IMMEDIATE");
        try {
          const result = await fn(wrap(db, cache, queue, true, path));
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
