import { existsSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { DatabaseFailedError, DatabaseUnreachableError, InputError, SqliteDriverError } from "../errors.js";
import { FINDING_INDEX_NAMES, FINDING_INDEXES } from "../scan/migrations.js";
import { type Migration, migrate, NewerStoreError, pendingMigrations } from "./migrate.js";
import { MIGRATIONS } from "./migrations.js";
import { placeholders, type SqlDb } from "./sql.js";
import { costguardMigrations, openSqliteDb, sqliteHoldsStore, sqliteUnwritable } from "./sqlite-db.js";
import { createStore, type Store } from "./store.js";

/** Where the embedded database lives when nothing else is configured, relative to the working folder. */
export const DEFAULT_DATABASE_PATH = join(".costguard", "costguard.db");
export const DATABASE_URL_ENV = "COSTGUARD_DATABASE_URL";

export type DatabaseLocation = { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };

/**
 * Which database to use: the `--database` flag, else COSTGUARD_DATABASE_URL, else the embedded
 * default `./.costguard/costguard.db`. Accepts `postgres://` / `postgresql://` URLs, `sqlite:PATH`,
 * `file:PATH`, `:memory:`, or a plain file path.
 */
export function resolveDatabase(options: {
  flag?: string | undefined;
  env?: NodeJS.ProcessEnv;
  cwd: string;
}): DatabaseLocation {
  // An empty variable is unset, as shells have it; an empty flag is a slip (`--database "$DB"` with DB
  // unset) that would quietly use the default store instead of the one meant.
  if (options.flag !== undefined && options.flag.trim() === "")
    throw new InputError("--database needs a value: a SQLite file path or a postgres:// URL");
  const configured = options.flag ?? options.env?.[DATABASE_URL_ENV];
  const text = configured?.trim() || DEFAULT_DATABASE_PATH;
  if (/^postgres(ql)?:\/\//i.test(text)) return { kind: "postgres", url: text };
  if (text === ":memory:") return { kind: "sqlite", path: ":memory:" };
  const path = text.replace(/^(sqlite|file):(\/\/)?/i, "");
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path) || path === "") {
    throw new InputError(
      `database ${JSON.stringify(text)} is not supported: use a SQLite file path (sqlite:PATH) or a postgres:// URL`,
    );
  }
  if (path === ":memory:") return { kind: "sqlite", path };
  return { kind: "sqlite", path: isAbsolute(path) ? path : resolve(options.cwd, path) };
}

/** A URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
  }
}

/** What creates a store, as a command that reads one says by default of a database holding none. */
export const SCAN_CREATES_STORE =
  "a stored scan creates it (costguard scan --policies PATH --inventory SOURCE)";

/** What a command that reads a store says of a database that holds none: `creates` says what makes one. */
export class NoStoreError extends InputError {
  constructor(display: string, creates: string = SCAN_CREATES_STORE) {
    super(`no store at ${display}: ${creates}`);
  }
}

/**
 * openStore for commands that only read (and for those that must not make a store, `writes`): a
 * database that holds no store — a SQLite file that does not exist (a typo, or the wrong folder), or
 * one without costguard's tables — is a NoStoreError saying what `creates` one, and is not created or
 * changed on the way. A SQLite file is looked at read-only first, so that one holding no store is left
 * exactly as it was. Unless the command `writes`, a SQLite store this user cannot write is read as it
 * is (see openStore's `readOnly`).
 */
export async function openExistingStore(
  location: DatabaseLocation,
  onUpgrade?: (m: Migration) => void,
  creates?: string,
  options: { writes?: boolean } = {},
): Promise<Store> {
  if (location.kind === "sqlite" && location.path !== ":memory:") {
    if (!existsSync(location.path)) throw new NoStoreError(location.path, creates);
    let holds: boolean | undefined;
    try {
      // One this user may not write is looked at as it is opened, read-only: looking at it here
      // could leave -wal and -shm files of this user's beside it.
      if (sqliteUnwritable(location.path) === undefined) holds = sqliteHoldsStore(location.path, STORE_MARK);
    } catch (err) {
      if (err instanceof SqliteDriverError) throw err; // the installation's, not this file's
      // Said as opening the store would say it (another program's, or no database: SQLite's words).
      throw new InputError(`cannot open the database ${location.path}: ${(err as Error).message}`);
    }
    if (holds === false) throw new NoStoreError(location.path, creates);
  }
  return openStore(location, new Date(), onUpgrade, {
    existing: true,
    readOnly: !options.writes,
    ...(creates ? { creates } : {}),
  });
}

/** What a command that writes says of a SQLite store this user cannot write (`why`). */
function readOnlyStore(display: string, why: string): string {
  return `cannot write to the store ${display}: it is read-only here (${why}); run this as a user who may write to the store and its folder, or give this one the permission (commands that only read, such as costguard findings list, read it as it is)`;
}

/** A store that needs migrations it cannot be given here (upgradeNeeded says why and what to do). */
class UpgradeNeededError extends InputError {}

/**
 * What a command that only reads says of a store that needs migrations (`pending`) it may not write:
 * the first open by a user who may write upgrades it.
 */
function upgradeNeeded(display: string, pending: readonly Migration[], why: string): string {
  const n = pending.length;
  return `the store ${display} is ${n === 1 ? "a migration" : `${n} migrations`} behind this costguard (${pending.map((m) => m.id).join(", ")}): upgrading it writes to it, which this user may not (${why}); run costguard store info on it once as a user who may write to it, which upgrades it, then read it again`;
}

/**
 * Opens the database (creating the SQLite file on first use) and runs pending migrations, telling
 * `onUpgrade` of each one an existing database gets (see `migrate`).
 */
export async function openStore(
  location: DatabaseLocation,
  now: Date = new Date(),
  onUpgrade?: (m: Migration) => void,
  /**
   * `existing`, for commands that only read: a database without a store is refused (NoStoreError,
   * saying what `creates` one), not made one. `readOnly`, for commands that only read: a SQLite store
   * this user may not write (another user's, a read-only file or folder) is opened read-only, without
   * migrations; else it is refused, saying so. A store that needs migrations it cannot be given then
   * (on PostgreSQL: a user who may not write them) is refused saying what upgrades it.
   */
  options: { existing?: boolean; creates?: string; readOnly?: boolean } = {},
): Promise<Store> {
  const display = location.kind === "sqlite" ? location.path : redactUrl(location.url);
  const unwritable = location.kind === "sqlite" ? sqliteUnwritable(location.path) : undefined;
  if (unwritable !== undefined && !options.readOnly) throw new InputError(readOnlyStore(display, unwritable));
  // pg is loaded for a PostgreSQL store only: the embedded default starts without it.
  const postgres = location.kind === "postgres" ? await import("./postgres-db.js") : undefined;
  let db: SqlDb;
  try {
    db =
      location.kind === "sqlite"
        ? openSqliteDb(location.path, { readOnly: unwritable !== undefined })
        : postgres!.openPostgresDb(location.url);
  } catch (err) {
    if (err instanceof SqliteDriverError) throw err; // the installation's, not this file's
    // SQLite says only "unable to open database file" of a folder.
    const folder = location.kind === "sqlite" && isFolder(location.path);
    const why = folder ? "it is a folder, not a SQLite file" : (err as Error).message;
    throw new InputError(`cannot open the database ${display}: ${why}`);
  }
  try {
    const migrations = await migrationsOf(db);
    if (options.existing && (migrations !== "ours" || !(await holdsStore(db))))
      throw new NoStoreError(display, options.creates);
    // Another tool's table of the same name (Rails, golang-migrate) in a shared PostgreSQL database:
    // costguard cannot keep its own beside it. (A SQLite file holding one is refused on opening.)
    if (migrations === "foreign")
      throw new InputError(
        "it has a schema_migrations table of another tool's (Rails, golang-migrate ...), left as it is; costguard keeps its migrations in a table of that name: give costguard a database of its own",
      );
    if (unwritable !== undefined) {
      // Read as it is: a store a migration behind cannot be read by this build, nor upgraded here.
      const pending = await pendingMigrations(db, MIGRATIONS);
      if (pending.length > 0) throw new UpgradeNeededError(upgradeNeeded(display, pending, unwritable));
    } else {
      await migrate(db, MIGRATIONS, now, onUpgrade).catch(async (err: unknown) => {
        // A PostgreSQL user who may read but not write (granted SELECT only, or a standby's).
        if (options.readOnly && deniedWrite(err))
          throw new UpgradeNeededError(
            upgradeNeeded(display, await pendingMigrations(db, MIGRATIONS), describe(err)),
          );
        throw err;
      });
      // A scan into an empty SQLite store builds these at its end; one that died midway left them out.
      // Looked for first: creating takes the write lock, which a scan may hold for a while.
      if (db.dialect === "sqlite" && (await missingFindingIndexes(db))) await db.exec(FINDING_INDEXES);
    }
  } catch (err) {
    await db.close().catch(() => {});
    if (err instanceof Error && err.name === "ConflictError") throw err;
    if (err instanceof NewerStoreError) throw err;
    if (err instanceof NoStoreError) throw err;
    if (err instanceof UpgradeNeededError) throw err;
    if (unreachable(err))
      throw new DatabaseUnreachableError(
        `cannot reach the database ${display}: ${describe(err)} (is the server running, and are the URL's host and port right?)`,
      );
    throw new InputError(`cannot open the database ${display}: ${describe(err)}`);
  }
  const file = location.kind === "sqlite" && location.path !== ":memory:" ? location.path : undefined;
  return createStore(db, display, file);
}

/**
 * Whose `schema_migrations` table the database has (PostgreSQL: in the schema its search path puts
 * first): none yet, costguard's, or another tool's (no `id` column, or ids costguard never writes).
 */
async function migrationsOf(db: SqlDb): Promise<"none" | "ours" | "foreign"> {
  const columns = (
    await db.all<{ name: string }>(
      db.dialect === "sqlite"
        ? "SELECT name FROM pragma_table_info('schema_migrations')"
        : "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'schema_migrations'",
    )
  ).map((r) => r.name);
  if (columns.length === 0) return "none";
  if (!columns.includes("id")) return "foreign";
  const ids = await db.all<{ id: string }>("SELECT id FROM schema_migrations ORDER BY id LIMIT 50");
  return costguardMigrations(ids.map((r) => String(r.id))) ? "ours" : "foreign";
}

/** Whether costguard's migrations include the store's first: an outbox file's alone are no store. */
async function holdsStore(db: SqlDb): Promise<boolean> {
  return (await db.get("SELECT 1 AS found FROM schema_migrations WHERE id = ?", [STORE_MARK])) !== undefined;
}

/** The first migration of a store: a database whose migrations include it holds one. */
export const STORE_MARK = MIGRATIONS[0]!.id;

async function missingFindingIndexes(db: SqlDb): Promise<boolean> {
  const found = await db.all(
    `SELECT name FROM sqlite_master WHERE type = 'index' AND name IN (${placeholders(FINDING_INDEX_NAMES.length)})`,
    FINDING_INDEX_NAMES,
  );
  return found.length < FINDING_INDEX_NAMES.length;
}

function isFolder(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
}

/** Network errors of a connection (node's codes; AggregateError holds one per address tried). */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ETIMEDOUT",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

function unreachable(err: unknown): boolean {
  // A connection that ended while the store was opened: the server's failure too.
  if (err instanceof DatabaseFailedError) return true;
  const e = err as { code?: unknown; errors?: { code?: unknown }[] } | undefined;
  if (typeof e?.code === "string" && UNREACHABLE.has(e.code)) return true;
  return (e?.errors ?? []).some((x) => typeof x?.code === "string" && UNREACHABLE.has(x.code));
}

/** PostgreSQL's refusals to write: no privilege (42501), a read-only transaction or standby (25006). */
function deniedWrite(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === "42501" || code === "25006";
}

function describe(err: unknown): string {
  const e = err as { message?: string; code?: string; errors?: { message: string }[] };
  if (e?.errors?.length) return e.errors.map((x) => x.message).join("; ");
  return e?.message || e?.code || String(err);
}
