import { InputError } from "../errors.js";
import type { Dialect, SqlDb } from "./sql.js";

/**
 * A versioned schema change. `id` is unique and never changes once released; its prefix names the
 * feature that owns it (`core-0001-...`, `exceptions-0001-...`), so features developed in parallel
 * never collide on a number. Migrations run in the order of the MIGRATIONS list, each in its own
 * transaction, and each runs once per database.
 */
export interface Migration {
  id: string;
  description: string;
  /** The same SQL for both databases, or one text per dialect. */
  sql: string | Record<Dialect, string>;
  /**
   * What SQL alone cannot do (values computed as costguard computes them, such as fingerprints), run
   * after `sql` in the same transaction: a failure rolls the whole migration back.
   */
  apply?: (db: SqlDb) => Promise<void>;
}

/**
 * A database with migrations this build does not know: made by a newer costguard, which this one
 * cannot read or write. Bad input to this version (exit 2), not a lock or a finding to act on.
 */
export class NewerStoreError extends InputError {}

const LOCK_KEY = 7_320_417_011; // any fixed number: serialises concurrent migrators on one database

/**
 * Applies every migration the database has not seen; returns the ids it applied. `onUpgrade` hears of
 * each before it runs on a database that had migrations already (an upgrade, which may take a while on
 * a big store), not on a new one.
 */
export async function migrate(
  db: SqlDb,
  migrations: readonly Migration[],
  now: Date,
  onUpgrade?: (m: Migration) => void,
): Promise<string[]> {
  assertUniqueIds(migrations);
  // Up to date (the usual case): nothing to write, so no write lock to wait for — a store that a
  // long scan is writing to opens at once for everything else.
  if (await upToDate(db, migrations)) return [];
  const applied: string[] = [];
  await db.transaction(async (tx) => {
    if (tx.dialect === "postgres") await tx.run("SELECT pg_advisory_xact_lock(?)", [LOCK_KEY]);
    // In the transaction: a first migration that fails leaves no empty table behind.
    await tx.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)",
    );
    const rows = await tx.all<{ id: string }>("SELECT id FROM schema_migrations");
    const done = new Set(rows.map((r) => r.id));
    refuseNewer(done, migrations);
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      if (done.size > 0) onUpgrade?.(m);
      const sql = typeof m.sql === "string" ? m.sql : m.sql[tx.dialect];
      if (sql.trim() !== "") await tx.exec(sql).catch((err: unknown) => clash(err, done.size === 0));
      await m.apply?.(tx);
      await tx.run("INSERT INTO schema_migrations (id, description, applied_at) VALUES (?, ?, ?)", [
        m.id,
        m.description,
        now.toISOString(),
      ]);
      applied.push(m.id);
    }
  });
  return applied;
}

/**
 * The migrations the database has not had, for a database only read (nothing written, no lock
 * taken): every one when it has no schema_migrations table. One it has that this build does not know
 * is a NewerStoreError, as migrate says it.
 */
export async function pendingMigrations(db: SqlDb, migrations: readonly Migration[]): Promise<Migration[]> {
  let rows: { id: string }[];
  try {
    rows = await db.all<{ id: string }>("SELECT id FROM schema_migrations");
  } catch {
    return [...migrations];
  }
  const done = new Set(rows.map((r) => r.id));
  refuseNewer(done, migrations);
  return migrations.filter((m) => !done.has(m.id));
}

/** Migrations done that this build does not know: the database was made by a newer costguard. */
function refuseNewer(done: ReadonlySet<string>, migrations: readonly Migration[]): void {
  const known = new Set(migrations.map((m) => m.id));
  const unknown = [...done].filter((id) => !known.has(id));
  if (unknown.length > 0)
    throw new NewerStoreError(
      `the database has migrations this costguard does not know (${unknown.join(", ")}): it was created by a newer version`,
    );
}

/**
 * Whether the database has every migration applied and none unknown, read without a transaction
 * (false when it has no schema_migrations table yet). Anything else goes through the locked check.
 */
async function upToDate(db: SqlDb, migrations: readonly Migration[]): Promise<boolean> {
  let rows: { id: string }[];
  try {
    rows = await db.all<{ id: string }>("SELECT id FROM schema_migrations");
  } catch {
    return false;
  }
  const done = new Set(rows.map((r) => r.id));
  return done.size === migrations.length && migrations.every((m) => done.has(m.id));
}

/**
 * A new store's table that the database (a PostgreSQL schema shared with another application) holds
 * already: said as the clash it is, not as PostgreSQL's `relation "resources" already exists`.
 */
function clash(err: unknown, newStore: boolean): never {
  const e = err as { code?: unknown; message?: unknown };
  const name =
    typeof e?.message === "string" ? /^relation "([^"]+)" already exists$/.exec(e.message)?.[1] : undefined;
  if (newStore && e?.code === "42P07" && name !== undefined)
    throw new InputError(
      `it already has a table or index named ${name}, not costguard's, left as it is; costguard's tables go by such names: give costguard a database or schema of its own (?options=-c search_path=NAME)`,
    );
  throw err;
}

function assertUniqueIds(migrations: readonly Migration[]): void {
  const seen = new Set<string>();
  for (const m of migrations) {
    if (seen.has(m.id)) throw new Error(`duplicate migration id ${m.id}`);
    seen.add(m.id);
  }
}
