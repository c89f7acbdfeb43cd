import { createHash } from "node:crypto";
import {
  accessSync,
  type BigIntStats,
  constants,
  existsSync,
  readFileSync,
  realpathSync,
  statSync,
} from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { InputError, SqliteDriverError } from "../errors.js";
import { makeFolders } from "../files.js";
import { unpackRows } from "./packed-rows.js";
import type { HeldLock, Row, SqlDb, SqlTransaction, SqlValue } from "./sql.js";
import { openWorkerTransaction } from "./sqlite-worker.js";

type Statement = Database.Statement<unknown[], Row>;

/**
 * SQLite through better-sqlite3. The driver is synchronous; this wraps it in the async SqlDb surface
 * and serialises transactions with a queue, so two async callers can never interleave statements
 * inside one another's transaction on the shared connection. `begin()` opens a connection of its
 * own in a worker thread (WAL lets it write while this one reads; the caller's thread goes on with
 * its work); writes through this handle meanwhile wait for it, up to the busy timeout.
 */
export function openSqliteDb(path: string, options: { readOnly?: boolean } = {}): SqlDb {
  if (options.readOnly && path !== ":memory:") return openReadOnlyDb(path);
  if (path !== ":memory:") {
    refuseForeign(path);
    makeFolders(dirname(path));
  }
  return wrap(connect(path), new Map(), { tail: Promise.resolve() }, false, path);
}

/**
 * better-sqlite3 loads its compiled addon at the first `new Database`. Not built (its install script
 * blocked, or `npm install --ignore-scripts`), the `bindings` package throws "Could not locate the
 * bindings file. Tried:" and a dozen paths to better_sqlite3.node (`tries`); built for another Node.js
 * or machine, Node throws ERR_DLOPEN_FAILED naming that file. Either is one line saying what to do,
 * for every SQLite file alike; any other error is not this one (undefined).
 */
export function sqliteDriverError(err: unknown): SqliteDriverError | undefined {
  const e = err as { message?: unknown; code?: unknown; tries?: unknown } | undefined;
  const message = typeof e?.message === "string" ? e.message : "";
  if (!message.includes("better_sqlite3.node")) return undefined; // another module's, or no load at all
  const missing = Array.isArray(e?.tries) || message.startsWith("Could not locate the bindings file");
  const unloadable = e?.code === "ERR_DLOPEN_FAILED";
  if (!missing && !unloadable) return undefined;
  const why = missing ? "its install script did not run" : "it was built for another Node.js or machine";
  return new SqliteDriverError(
    `the native module better-sqlite3 is not built for this Node.js (${process.version}: ${why}), so no SQLite database can be opened: run \`npm rebuild better-sqlite3\` where costguard is installed, or keep the store in PostgreSQL (COSTGUARD_DATABASE_URL=postgres://...)`,
  );
}

/** `new Database`, with a driver that cannot load said as such (sqliteDriverError). */
function openDatabase(path: string, options?: Database.Options): Database.Database {
  try {
    return new Database(path, options);
  } catch (err) {
    throw sqliteDriverError(err) ?? err;
  }
}

/** Tables of an outbox file made before migrations were recorded, which costguard takes over. */
const LEGACY_TABLES = new Set(["notify_outbox"]);

/**
 * What costguard's migration ids look like (`core-0001-settings-and-audit`, `notify-0002-claim-order`):
 * a `schema_migrations` table holding others is another tool's (Rails keeps versions such as
 * `20240101093000`, golang-migrate and Ecto a `version` column and no `id`).
 */
const MIGRATION_ID = /^[a-z]+-\d{4}-/;

/** Whether rows read from a `schema_migrations` table (its `id`s; undefined: it has no `id` column) are costguard's. */
export function costguardMigrations(ids: readonly string[] | undefined): boolean {
  return ids !== undefined && (ids.length === 0 || ids.some((id) => MIGRATION_ID.test(id)));
}

/**
 * An existing SQLite file, looked at read-only (nothing in it changes): its tables, whether its
 * `schema_migrations` is costguard's, and whether that holds `mark`. Undefined when there is no file
 * to open; a file that is no database at all throws, as SQLite words it.
 */
function lookAt(path: string, marks: readonly string[] = []): Look | undefined {
  let db: Database.Database;
  try {
    db = openDatabase(path, { readonly: true, fileMustExist: true });
  } catch (err) {
    // A file that does not open is none to look at (opening it as a store says why), but a driver that
    // cannot load opens no file at all: said now, as it is.
    if (err instanceof SqliteDriverError) throw err;
    return undefined;
  }
  try {
    return inspect(db, marks);
  } finally {
    db.close();
  }
}

type Look = { tables: string[]; ours: boolean; marked: boolean[] };

/** What lookAt tells of a database open read-only. */
function inspect(db: Database.Database, marks: readonly string[] = []): Look {
  const tables = db
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )
    .pluck()
    .all() as string[];
  const none = marks.map(() => false);
  if (!tables.includes("schema_migrations")) return { tables, ours: false, marked: none };
  const columns = db.prepare("SELECT name FROM pragma_table_info('schema_migrations')").pluck().all();
  const ids = columns.includes("id")
    ? (db.prepare("SELECT id FROM schema_migrations ORDER BY id LIMIT 50").pluck().all() as string[])
    : undefined;
  const ours = costguardMigrations(ids);
  // Asked only of costguard's own table: another tool's may have no `id` column to ask.
  if (!ours || marks.length === 0) return { tables, ours, marked: none };
  const has = db.prepare("SELECT 1 FROM schema_migrations WHERE id = ?");
  const marked = marks.map((mark) => has.get(mark) !== undefined);
  return { tables, ours, marked };
}

/**
 * An existing SQLite file that holds tables, none of them costguard's, is another program's database
 * (pointed at by mistake): opening it as a store would switch it to write-ahead logging and add
 * costguard's tables among that program's. It is refused, naming a few of its tables. A
 * `schema_migrations` table is costguard's only if its ids are (another tool names its own so).
 */
function refuseForeign(path: string, look = lookAt(path)): void {
  if (look === undefined) return; // no such file yet: it is created
  const { tables, ours } = look;
  if (tables.length === 0 || ours || tables.some((t) => LEGACY_TABLES.has(t))) return;
  const named =
    tables.length > 5 ? `${tables.slice(0, 5).join(", ")} and ${tables.length - 5} more` : tables.join(", ");
  throw new InputError(
    `it is another program's SQLite database (its tables: ${named}), left as it is; costguard keeps its store in a file of its own: name a new file`,
  );
}

/**
 * For commands that only read: whether the SQLite file holds a costguard store (its migrations
 * include `mark`, the first store migration's id), looked at read-only so that a file that does not
 * is left exactly as it was (an outbox file's migrations are not a store's). Undefined when there is
 * no file to open (missing, or a folder: opening it says which). Another program's database is
 * refused as opening it would.
 */
export function sqliteHoldsStore(path: string, mark: string): boolean | undefined {
  return sqliteHoldsMarks(path, [mark])?.[0];
}

/** sqliteHoldsStore for several marks at one look: whether the file's migrations include each. */
export function sqliteHoldsMarks(path: string, marks: readonly string[]): boolean[] | undefined {
  const look = lookAt(path, marks);
  refuseForeign(path, look);
  return look?.marked;
}

/**
 * Why this user cannot write to the SQLite store at `path`, or undefined when it can (or there is no
 * file there yet: making one says its own error). Writing takes the file and its folder, where SQLite
 * makes the write-ahead log (-wal) and its index (-shm), and costguard its lock files.
 */
export function sqliteUnwritable(named: string): string | undefined {
  if (named === ":memory:" || statSync(named, { throwIfNoEntry: false })?.isFile() !== true) return undefined;
  // SQLite follows symlinks to the file and makes its -wal and -shm beside it, in its real folder.
  const path = realFile(named);
  const denied = (target: string): string | undefined => {
    try {
      accessSync(target, constants.W_OK);
      return undefined;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code ?? "EACCES";
    }
  };
  const file = denied(path);
  if (file === "EROFS") return "it is on a read-only file system";
  if (file !== undefined) return "this user may not write to the file";
  const folder = dirname(path);
  if (denied(folder) !== undefined)
    return `this user may not write to its folder ${folder}, where SQLite makes the store's -wal and -shm files`;
  return undefined;
}

/**
 * A read-only handle on a store this user cannot write (sqliteUnwritable says why), for commands that
 * only read: no migrations, no settings written, nothing made beside the file. Another program's
 * database is refused as openSqliteDb refuses it.
 */
function openReadOnlyDb(path: string): SqlDb {
  const db = openReader(path);
  try {
    refuseForeign(path, inspect(db));
    for (const p of READ_PRAGMAS) db.pragma(p);
  } catch (err) {
    db.close();
    const e = err as { code?: unknown; message: string };
    // SQLite's "attempt to write a readonly database" of a file it reads through -wal and -shm files
    // it cannot read or make.
    if (typeof e.code === "string" && e.code.startsWith("SQLITE_"))
      throw new Error(
        `${e.message} (read without write access: SQLite reads a store in WAL mode through its -wal and -shm files, which this user must be able to read)`,
      );
    throw err;
  }
  return wrap(db, new Map(), { tail: Promise.resolve() }, false, path, true);
}

/**
 * A read-only connection that leaves nothing beside the file. SQLite reads a database in WAL mode
 * through its -wal and -shm files: when they are there (a connection has the store open, or one ended
 * without removing them) it reads them as they are. Without them it would make them — which it cannot
 * in a folder this user cannot write, and which, made in one it can, would be this user's, in the way
 * of the owner's next write. No write-ahead log then holds anything the file does not: the file is read
 * whole into memory and opened there, read again if it changed meanwhile (a writer that has begun
 * since, checkpointing into it).
 */
function openReader(path: string): Database.Database {
  for (let tries = 1; ; tries++) {
    // Looked for on each try: a writer that began meanwhile is read through its log.
    if (logBeside(path)) return new Database(path, { readonly: true, fileMustExist: true });
    const before = statSync(path, { bigint: true });
    let image: Buffer;
    try {
      image = readFileSync(path);
    } catch (err) {
      // Past the 2 GiB a read gives: SQLite reads the file itself, and says so if it cannot.
      if ((err as NodeJS.ErrnoException).code === "ERR_FS_FILE_TOO_LARGE")
        return new Database(path, { readonly: true, fileMustExist: true });
      throw err;
    }
    // A checkpoint writes into the file only with a write-ahead log beside it, and changes the file.
    if (!sameFile(before, statSync(path, { bigint: true })) || logBeside(path)) {
      if (tries < 3) continue;
      throw new Error("it changed each time it was read: another process is writing to it");
    }
    // Bytes 18 and 19 of the header say WAL mode (2), which a database in memory cannot be read in:
    // read as a rollback-journal database (1), the pages are the same.
    if (image.length >= 20 && image[18] === 2 && image[19] === 2) image.fill(1, 18, 20);
    return new Database(image, { readonly: true });
  }
}

/**
 * Whether a write-ahead log beside the store may hold what its file does not (or is in use): beside
 * the real file, where SQLite keeps it when the store is named through a symlink.
 */
function logBeside(named: string): boolean {
  const path = realFile(named);
  const wal = statSync(`${path}-wal`, { throwIfNoEntry: false });
  return wal !== undefined && (wal.size > 0 || existsSync(`${path}-shm`));
}

function sameFile(a: BigIntStats, b: BigIntStats): boolean {
  return a.ino === b.ino && a.size === b.size && a.mtimeNs === b.mtimeNs && a.ctimeNs === b.ctimeNs;
}

/** How long a connection waits for another's write lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

/** Every connection's settings, in order. */
const PRAGMAS = [
  // 16 KiB pages for a new database (an existing one keeps its size): a scan writing hundreds of
  // thousands of findings spends ~20% less in B-tree and write-ahead-log work than with 4 KiB.
  "page_size = 16384",
  "journal_mode = WAL",
  "synchronous = NORMAL",
  "foreign_keys = ON",
  `busy_timeout = ${BUSY_TIMEOUT_MS}`,
  // A bigger page cache (64 MiB) for scans that upsert hundreds of thousands of findings.
  "cache_size = -65536",
  // Checkpoint the write-ahead log every ~40 MB instead of every 4 MB: fewer syncs during big scans.
  "wal_autocheckpoint = 10000",
];

/** The settings of a read-only connection (openReadOnlyDb): those that do not write. */
const READ_PRAGMAS = [`busy_timeout = ${BUSY_TIMEOUT_MS}`, "cache_size = -65536"];

function connect(path: string): Database.Database {
  const db = openDatabase(path);
  for (const p of PRAGMAS) db.pragma(p);
  return db;
}

interface Queue {
  tail: Promise<unknown>;
}

/**
 * The file whose lock stands for the lock `name` of the database at `path`: beside the file itself,
 * however it is named (a symlink to it, a symlinked folder, a relative path), so that every name of
 * one database takes one lock.
 */
function lockFile(path: string, name: string): string {
  return `${realFile(path)}-lock-${createHash("sha256").update(name).digest("hex").slice(0, 16)}`;
}

/** The path of the file `path` names once every symlink is followed (itself while there is none). */
function realFile(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** Locks held in this process on in-memory databases (each its own), by database. */
const memoryLocks = new WeakMap<Database.Database, Set<string>>();

/** Locks each connection's handle holds, let go when it closes. */
const heldLocks = new WeakMap<Database.Database, Set<HeldLock>>();

/** SqlDb.tryLock: takeLock's lock, remembered so that closing the handle lets go of it. */
function tryLock(db: Database.Database, path: string, name: string): HeldLock | undefined {
  const lock = takeLock(db, path, name);
  if (lock === undefined) return undefined;
  const locks = heldLocks.get(db) ?? new Set<HeldLock>();
  heldLocks.set(db, locks);
  const held: HeldLock = {
    async release() {
      locks.delete(held);
      await lock.release();
    },
  };
  locks.add(held);
  return held;
}

/**
 * SqlDb.tryLock for SQLite: an exclusive transaction on a lock file of its own, on a connection of
 * its own that waits for nothing. SQLite's file locks are the operating system's, let go when the
 * process ends; SQLite also refuses a second connection of the same process.
 */
function takeLock(db: Database.Database, path: string, name: string): HeldLock | undefined {
  if (path === ":memory:") {
    const names = memoryLocks.get(db) ?? new Set<string>();
    memoryLocks.set(db, names);
    if (names.has(name)) return undefined;
    names.add(name);
    let held = true;
    return {
      async release() {
        if (held) names.delete(name);
        held = false;
      },
    };
  }
  const lock = openDatabase(lockFile(path, name), { timeout: 0 });
  try {
    // Nothing is ever written: no rollback journal beside the lock file (nor one left by a kill).
    lock.pragma("journal_mode = MEMORY");
    lock.exec("BEGIN EXCLUSIVE");
  } catch (err) {
    lock.close();
    if ((err as { code?: string }).code === "SQLITE_BUSY") return undefined;
    throw err;
  }
  return {
    async release() {
      if (!lock.open) return;
      try {
        lock.exec("ROLLBACK");
      } finally {
        lock.close();
      }
    },
  };
}

function wrap(
  db: Database.Database,
  cache: Map<string, Statement>,
  queue: Queue,
  inTx: boolean,
  path: string,
  /** Read-only (openReadOnlyDb): no transaction of a worker's, no lock file beside the store. */
  readOnly = false,
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
    runMany: (sql, packed, options = {}) =>
      serial(() => {
        const rows = unpackRows(packed);
        const stmt = prepare(sql);
        const orElse = options.orElse === undefined ? undefined : prepare(options.orElse);
        const insert = () => {
          let changes = 0;
          for (let i = 0; i < rows.length; i++) {
            const changed = stmt.run(rows[i] as unknown[]).changes;
            changes += changed;
            if (changed === 0 && orElse) orElse.run(rows[i] as unknown[]);
          }
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
    tryLock: async (name) => {
      if (readOnly) throw new Error(`${path} is open read-only: no lock is taken on it`);
      return tryLock(db, path, name);
    },
    async begin(): Promise<SqlTransaction> {
      if (inTx) throw new Error("a transaction is already open on this handle");
      if (readOnly) throw new Error(`${path} is open read-only: nothing is written to it`);
      if (path !== ":memory:") {
        // Let a transaction running on this handle finish first: its write lock would block ours.
        await queue.tail;
        return openWorkerTransaction(path, PRAGMAS);
      }
      // An in-memory database has no second connection: the transaction takes this one, as
      // transaction() would, and everything else on the handle waits for it.
      const release = await acquire();
      try {
        db.exec("BEGIN IMMEDIATE");
      } catch (err) {
        release();
        throw err;
      }
      let open = true;
      const end = (commit: boolean) => {
        if (!open) throw new Error("this transaction has ended");
        open = false;
        try {
          if (commit) db.exec("COMMIT");
          else if (db.inTransaction) db.exec("ROLLBACK");
        } catch (err) {
          if (db.inTransaction) db.exec("ROLLBACK");
          throw err;
        } finally {
          release();
        }
      };
      return {
        ...wrap(db, cache, queue, true, path, readOnly),
        exclusive: true,
        commit: async () => end(true),
        async commitAndBegin() {
          if (!open) throw new Error("this transaction has ended");
          db.exec("COMMIT");
          db.exec("BEGIN IMMEDIATE");
        },
        rollback: async () => end(false),
      };
    },
    async transaction<T>(fn: (tx: SqlDb) => Promise<T>): Promise<T> {
      if (inTx) return fn(self);
      const release = await acquire();
      try {
        db.exec("BEGIN IMMEDIATE");
        try {
          const result = await fn(wrap(db, cache, queue, true, path, readOnly));
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
      for (const lock of [...(heldLocks.get(db) ?? [])]) await lock.release();
      db.close();
    },
  };
  return self;
}
