/**
 * The small SQL surface every repository is written against, once, for both databases.
 *
 * Statements use `?` placeholders; the PostgreSQL driver numbers them (`$1`, `$2`, ...). Both
 * dialects accept the same DDL types we use (TEXT, INTEGER, BIGINT) and the same upsert syntax
 * (`INSERT ... ON CONFLICT (...) DO UPDATE SET col = excluded.col`), so a repository needs no
 * dialect branches except where a migration says otherwise.
 */
import { StoredDataError } from "../errors.js";
import type { PackedRows } from "./packed-rows.js";

/**
 * Text a store wrote as JSON, parsed; `what` names it (`the checks of finding 3f9a…`) when it is not
 * JSON: a database changed by something other than costguard, or damaged, is said so, not a stack trace.
 */
export function storedJson<T>(text: string, what: () => string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new StoredDataError(
      `${what()}: not JSON as costguard stores it (${(err as Error).message}); the database was changed by something other than costguard, or is damaged`,
    );
  }
}

/** Money as costguard stores it: exact decimal text (`12.5`, `0.000000000001`). */
const STORED_AMOUNT = /^-?\d+(?:\.\d+)?$/;

/**
 * An amount a store wrote, checked as `storedJson` checks JSON: text that is not one (a row changed by
 * hand) is the database's failure naming `what`, not bad input of the command that read it.
 */
export function storedAmount(text: string, what: () => string): string {
  if (STORED_AMOUNT.test(text)) return text;
  throw new StoredDataError(
    `${what()}: \`${text}\` is not an amount as costguard stores it; the database was changed by something other than costguard, or is damaged`,
  );
}

export type Dialect = "sqlite" | "postgres";

export type SqlValue = string | number | bigint | null;

/** `?, ?, ?` — `n` placeholders, for an `IN (...)` list. */
export const placeholders = (n: number): string => Array.from({ length: n }, () => "?").join(", ");
export type Row = Record<string, unknown>;

export interface SqlDb {
  readonly dialect: Dialect;
  /** Runs one statement; returns the number of rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
  all<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /**
   * Calls `fn` with each row's values in column order, without building every row object at once
   * (SQLite steps through the result; PostgreSQL reads it whole, as rows of values). Returns the count.
   */
  each(sql: string, params: readonly SqlValue[], fn: (values: unknown[]) => void): Promise<number>;
  get<T extends Row = Row>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /**
   * Runs one statement per row of parameters, as fast as the driver allows (a prepared statement
   * in SQLite; multi-row VALUES in PostgreSQL). `sql` must be `INSERT INTO t (cols) VALUES (?, ...)`
   * optionally followed by an `ON CONFLICT` clause. Returns the number of rows `sql` changed.
   * With `orElse` (a statement of the same shape), rows `sql` did not change are run through it
   * at once (per row in SQLite; per multi-row statement in PostgreSQL, whose rows it then all gets).
   * Packed rows (packed-rows.ts) are given up: a transaction on another thread takes their buffers.
   */
  runMany(
    sql: string,
    rows: readonly (readonly SqlValue[])[] | PackedRows,
    options?: { orElse?: string },
  ): Promise<number>;
  /** Runs several statements separated by semicolons (DDL); no parameters. */
  exec(sql: string): Promise<void>;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (db: SqlDb) => Promise<T>): Promise<T>;
  /**
   * Opens a transaction that stays open across calls until `commit` or `rollback` (for work that
   * streams, such as a scan), on a connection of its own where the database allows. Statements sent
   * through it run in the order they are sent, so a caller may send several before awaiting them.
   */
  begin(): Promise<SqlTransaction>;
  /**
   * Takes the lock named `name` if no one holds it, or gives undefined at once. The lock is held
   * until `release` or until this process ends, however it ends (killed, crashed, its machine gone):
   * the database or the operating system lets go of it then, so a lock is never left behind by a
   * process that no longer runs. Another handle in this process is refused like another process.
   * PostgreSQL: a session advisory lock, on a connection of its own, per database and schema. SQLite:
   * an exclusive lock on a small file beside the database's real file, symlinks followed, so every
   * name of one file takes one lock (`<file>-lock-<hash of name>`, kept afterwards: removing it could
   * let two processes lock two different files); an in-memory database locks within this process only.
   */
  tryLock(name: string): Promise<HeldLock | undefined>;
  close(): Promise<void>;
}

export interface HeldLock {
  /** Lets go of the lock (once; later calls do nothing). */
  release(): Promise<void>;
  /**
   * Where a lock can be lost while held (PostgreSQL: the server ends its session, for an idle timeout,
   * an administrator, a failover): asks the database whether it still is, and throws the reason it was
   * lost when not. Absent where only the process's end lets go of it (SQLite).
   */
  check?(): Promise<void>;
}

export interface SqlTransaction extends SqlDb {
  /**
   * True when the handle's other calls wait until this transaction ends (an in-memory SQLite
   * database has no second connection): do not keep it open across waits on other work.
   */
  readonly exclusive: boolean;
  commit(): Promise<void>;
  /** Commits what was done so far and goes on in a new transaction on the same connection. */
  commitAndBegin(): Promise<void>;
  rollback(): Promise<void>;
}

/** Indexes of `text`'s characters outside quoted text ('...' and "..."; the quotes not included). */
export function* unquoted(text: string): Generator<number> {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"') quote = c;
    else yield i;
  }
}

/**
 * Splits `INSERT INTO t (a, b) VALUES (?, ?) <rest>` so drivers can repeat the VALUES tuple, and counts
 * the tuple's placeholders. Quoted text ('it''s (a) ?', "name") is read past, not parsed.
 */
export function splitInsert(sql: string): {
  head: string;
  tuple: string;
  tail: string;
  placeholders: number;
} {
  let start = -1;
  let depth = 0;
  let placeholders = 0;
  for (const i of unquoted(sql)) {
    const c = sql[i]!;
    if (start < 0) {
      const m = /^VALUES\s*\(/i.exec(sql.slice(i, i + 64));
      if (m && (i === 0 || !/\w/.test(sql[i - 1]!))) {
        start = i + m[0].length - 1;
        depth = 1;
      }
    } else if (i <= start) continue;
    else if (c === "?") placeholders++;
    else if (c === "(") depth++;
    else if (c === ")" && --depth === 0)
      return {
        head: sql.slice(0, start),
        tuple: sql.slice(start, i + 1),
        tail: sql.slice(i + 1),
        placeholders,
      };
  }
  throw new Error(`runMany needs an INSERT ... VALUES (...) statement: ${sql.slice(0, 80)}`);
}
