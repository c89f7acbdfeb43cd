import pg from "pg";
import { DatabaseFailedError, InputError } from "../errors.js";
import { unpackRows } from "./packed-rows.js";
import { COPY_MIN_ROWS, copyInsert, copyPlan } from "./postgres-copy.js";
import {
  type HeldLock,
  type Row,
  type SqlDb,
  type SqlTransaction,
  type SqlValue,
  splitInsert,
  unquoted,
} from "./sql.js";

/** PostgreSQL allows 65,535 parameters per statement; stay well under it. */
const MAX_PARAMS = 30_000;

type Queryable = Pick<pg.Pool, "query">;

/**
 * A client's queries one after another. A transaction's caller may send several statements without
 * waiting (a scan does); a pg client would queue them itself, but that is deprecated (pg 8 warns, pg 9
 * refuses), so they wait their turn here, in the order they were sent. Once the connection has ended,
 * every statement fails with the reason it ended (the server's words), not pg's "not queryable".
 */
function oneAtATime(client: pg.PoolClient, connection: Connection): Serial {
  let tail: Promise<unknown> = Promise.resolve();
  const turn = <T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> => {
    const run = tail.then(async () => {
      const ended = connection.ended();
      if (ended !== undefined) throw ended;
      try {
        return await fn(client);
      } catch (err) {
        throw connection.failed(err);
      }
    });
    tail = run.catch(() => {});
    return run;
  };
  const query = (...args: unknown[]) =>
    turn((c) => (c.query as (...a: unknown[]) => Promise<unknown>)(...args));
  return { query: query as pg.Pool["query"], turn, made: new Set() };
}

/** What is known of a client's connection: why it ended, if it has. */
interface Connection {
  /** The reason the connection ended (the first heard), or undefined while it lasts. */
  ended(): Error | undefined;
  /** The error a failed statement reports: the reason the connection ended, when it is what failed. */
  failed(err: unknown): unknown;
}

function connectionOf(): Connection & { heard: (err: unknown) => void } {
  let reason: Error | undefined;
  const heard = (err: unknown) => {
    if (reason === undefined && endsConnection(err)) reason = asDatabaseFailure(err as Error);
  };
  return {
    heard,
    ended: () => reason,
    failed(err) {
      heard(err);
      return reason !== undefined && endsConnection(err) ? reason : err;
    },
  };
}

/**
 * Whether an error is the end of its connection: the server's FATAL (an administrator ended the
 * session, the server shuts down, an idle timeout), the socket's own error, or pg's words for a
 * connection already gone.
 */
function endsConnection(err: unknown): boolean {
  const e = err as { code?: unknown; severity?: unknown; message?: unknown } | undefined;
  if (typeof e?.severity === "string") return e.severity === "FATAL" || e.severity === "PANIC";
  if (typeof e?.code === "string" && /^E[A-Z]+$/.test(e.code)) return true;
  return (
    typeof e?.message === "string" &&
    /^Connection terminated|connection error and is not queryable|was closed and is not queryable/.test(
      e.message,
    )
  );
}

/**
 * A lost connection as the database's failure: the server's own error (a SQLSTATE) as it is, the
 * socket's or pg's words said as a connection lost.
 */
function asDatabaseFailure(err: Error): Error {
  const e = err as { code?: unknown; severity?: unknown };
  if (typeof e.severity === "string" && typeof e.code === "string") return err;
  return new DatabaseFailedError(`lost the connection to the server: ${err.message || String(err)}`, {
    cause: err,
  });
}

/** A transaction's client, one statement (or one COPY and what follows it) at a time. */
interface Serial extends Queryable {
  turn<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  /** Temporary tables for COPY this transaction has made (dropped when it commits). */
  made: Set<string>;
}

/** Rewrites `?` placeholders to `$1, $2, ...`, leaving quoted strings alone. */
export function numberPlaceholders(sql: string): string {
  let out = "";
  let n = 0;
  let last = 0;
  for (const i of unquoted(sql)) {
    if (sql[i] !== "?") continue;
    out += `${sql.slice(last, i)}$${++n}`;
    last = i + 1;
  }
  return out + sql.slice(last);
}

/**
 * A client taken from the pool for a transaction. The pool listens for errors of idle clients only: a
 * checked-out client whose connection dies (the server restarts, an administrator ends the session)
 * emits 'error', which would end the process unheard. Here it is heard — the next statement fails with
 * it — and the broken client is discarded, not returned to the pool.
 */
async function checkOut(
  pool: pg.Pool,
): Promise<{ client: pg.PoolClient; connection: Connection; release: (discard?: boolean) => void }> {
  const client = await pool.connect().catch((err: unknown) => {
    throw timedOut(err, poolTimeouts.get(pool) ?? 0);
  });
  const connection = connectionOf();
  client.on("error", connection.heard);
  return {
    client,
    connection,
    /** Back to the pool; with `discard` (or once broken), its connection closed instead. */
    release(discard = false) {
      client.off("error", connection.heard);
      client.release(connection.ended() ?? discard);
    },
  };
}

/**
 * A connection outside any pool, for a session lock, which lives as long as the session. The server's
 * idle timeouts are off for it (where the server has them: PostgreSQL 14 for idle_session_timeout): it
 * stays idle for as long as the lock is held. An error on it (the server ends the session anyway: an
 * administrator, a failover) is heard, not left to end the process, and kept as `lost()`: the lock
 * went with the session. `release` closes it.
 */
async function ownConnection(url: string): Promise<{
  client: pg.Client;
  release: () => Promise<void>;
  lost: () => Error | undefined;
  /** Keeps `err` as the reason the session was lost, unless one is known already. */
  noteLost: (err: Error) => void;
}> {
  const timeout = connectTimeoutMs(url);
  const client = new pg.Client({ connectionString: url, keepAlive: true, connectionTimeoutMillis: timeout });
  let lost: Error | undefined;
  let ending = false;
  const noteLost = (err: Error) => {
    lost ??= err;
  };
  client.on("error", noteLost);
  client.on("end", () => {
    if (!ending) lost ??= new Error("the server closed the connection");
  });
  try {
    await client.connect();
    // Read from pg_settings, so that a server without a setting is not asked to set it.
    await client.query(
      "SELECT set_config(name, '0', false) FROM pg_settings WHERE name IN ('idle_session_timeout', 'idle_in_transaction_session_timeout')",
    );
  } catch (err) {
    ending = true;
    await client.end().catch(() => {});
    throw timedOut(err, timeout);
  }
  return {
    client,
    lost: () => lost,
    noteLost,
    release: () => {
      ending = true;
      return client.end().catch(() => {});
    },
  };
}

/** Locks each pool's handle holds (SqlDb.tryLock), let go when it closes. */
const heldLocks = new WeakMap<pg.Pool, Set<HeldLock>>();

/** How long each pool's clients wait for a connection (connectTimeoutMs). */
const poolTimeouts = new WeakMap<pg.Pool, number>();

/** The URL each pool connects to: a lock takes a connection of its own there. */
const poolUrls = new WeakMap<pg.Pool, string>();

/** How long a connection may take to be made when the URL's `connect_timeout` does not say. */
export const DEFAULT_CONNECT_TIMEOUT_S = 10;

/**
 * How long to wait for a connection, in milliseconds (0: for ever): the URL's `connect_timeout`, in
 * seconds as libpq reads it (0 or less waits for ever, at least 2), else DEFAULT_CONNECT_TIMEOUT_S. pg
 * reads it only in its native bindings.
 */
export function connectTimeoutMs(url: string): number {
  let text: string | null = null;
  try {
    text = new URL(url).searchParams.get("connect_timeout");
  } catch {
    // A URL pg reads and URL does not: the default.
  }
  if (text === null) return DEFAULT_CONNECT_TIMEOUT_S * 1000;
  if (!/^\s*[-+]?\d+\s*$/.test(text))
    throw new InputError(`connect_timeout=${text} in the URL is not a whole number of seconds`);
  const seconds = Number(text);
  return seconds <= 0 ? 0 : Math.max(2, seconds) * 1000;
}

/**
 * pg's Client with a time limit on making its connection: a server that takes the connection and never
 * answers (a hung server, a firewall that swallows packets) is given up on instead of waited on for
 * ever. Set per client, not on the pool, whose connectionTimeoutMillis would also limit the wait for a
 * free client while long transactions hold them all.
 */
function clientWithTimeout(ms: number): typeof pg.Client {
  return class extends pg.Client {
    constructor(config?: string | pg.ClientConfig) {
      super({
        ...(typeof config === "string" ? { connectionString: config } : config),
        connectionTimeoutMillis: ms,
      });
    }
  };
}

/** pg's word for a connection given up on, as a network timeout opening the store reports. */
function timedOut(err: unknown, ms: number): unknown {
  const e = err as { message?: unknown; code?: unknown } | undefined;
  if (e?.code !== undefined || e?.message !== "timeout expired") return err;
  return Object.assign(
    new Error(`no answer within ${ms / 1000} s (connect_timeout in the URL sets the wait)`),
    { code: "ETIMEDOUT", cause: err },
  );
}

export function openPostgresDb(url: string): SqlDb {
  const timeout = connectTimeoutMs(url);
  const pool = new pg.Pool({ connectionString: url, max: 4, Client: clientWithTimeout(timeout) });
  poolUrls.set(pool, url);
  poolTimeouts.set(pool, timeout);
  // An idle client that loses its connection must not crash the process.
  pool.on("error", () => {});
  return wrap(pool, pooled(pool, timeout), new Map());
}

/**
 * The pool's queries, a connection that ended mid-query said as the database's failure (pg's
 * "Connection terminated unexpectedly" has no code); the socket's errors keep theirs, and a connection
 * given up on gets one, for opening to tell a server it cannot reach.
 */
function pooled(pool: pg.Pool, timeout: number): Queryable {
  const query = async (...args: unknown[]) => {
    try {
      return await (pool.query as (...a: unknown[]) => Promise<unknown>)(...args);
    } catch (caught) {
      const err = timedOut(caught, timeout);
      const code = (err as { code?: unknown }).code;
      throw code === undefined && endsConnection(err) ? asDatabaseFailure(err as Error) : err;
    }
  };
  return { query: query as pg.Pool["query"] };
}

function wrap(pool: pg.Pool, q: Queryable | Serial, cache: Map<string, string>, inTx = false): SqlDb {
  const text = (sql: string): string => {
    let t = cache.get(sql);
    if (t === undefined) {
      t = numberPlaceholders(sql);
      cache.set(sql, t);
    }
    return t;
  };
  const query = async (sql: string, params: readonly SqlValue[] | undefined) =>
    q.query(text(sql), (params ?? []).map(toPg));

  const self: SqlDb = {
    dialect: "postgres",
    run: async (sql, params) => (await query(sql, params)).rowCount ?? 0,
    all: async <T extends Row>(sql: string, params?: readonly SqlValue[]) =>
      (await query(sql, params)).rows as T[],
    get: async <T extends Row>(sql: string, params?: readonly SqlValue[]) =>
      (await query(sql, params)).rows[0] as T | undefined,
    async runMany(sql, packed, options = {}) {
      if (packed.length === 0) return 0;
      const rows = unpackRows(packed);
      const plan = rows.length >= COPY_MIN_ROWS ? copyPlan(sql) : undefined;
      const orElsePlan = plan && options.orElse !== undefined ? copyPlan(options.orElse) : undefined;
      if (plan && (options.orElse === undefined || orElsePlan?.temp === plan.temp)) {
        // COPY needs a transaction's client (the temporary table lives in it).
        if (!("turn" in q)) return self.transaction((tx) => tx.runMany(sql, rows, options));
        const serial = q;
        return serial.turn((client) => copyInsert(client, serial.made, plan, rows, orElsePlan));
      }
      const { head, tuple, tail, placeholders: width } = splitInsert(sql);
      const perStatement = Math.max(1, Math.floor(MAX_PARAMS / Math.max(1, width)));
      const orElse = options.orElse === undefined ? undefined : splitInsert(options.orElse);
      const send = async (db: SqlDb) => {
        let changes = 0;
        for (let start = 0; start < rows.length; start += perStatement) {
          const chunk = rows.slice(start, start + perStatement);
          const values = chunk.map(() => tuple).join(", ");
          const changed = await db.run(`${head}${values}${tail}`, chunk.flat());
          changes += changed;
          if (orElse && changed < chunk.length) {
            await db.run(
              `${orElse.head}${chunk.map(() => orElse.tuple).join(", ")}${orElse.tail}`,
              chunk.flat(),
            );
          }
        }
        return changes;
      };
      return inTx || rows.length <= perStatement ? send(self) : self.transaction(send);
    },
    async each(sql, params, fn) {
      const result = await q.query({
        text: text(sql),
        values: params.map(toPg),
        rowMode: "array",
      });
      for (const values of result.rows as unknown[][]) fn(values);
      return result.rows.length;
    },
    exec: async (sql) => {
      await q.query(sql);
    },
    async tryLock(name): Promise<HeldLock | undefined> {
      // Named per schema: two stores in one database lock apart.
      const key = "hashtextextended(current_schema() || ':' || $1, 0)";
      // A session lock lives as long as its connection: each on a connection of its own, not one of
      // the pool's, so scans running at once in one process (one lock each) never take every
      // connection the pool has and leave their own queries waiting for one for ever.
      const { client, release, lost, noteLost } = await ownConnection(poolUrls.get(pool)!);
      let got = false;
      try {
        const r = await client.query<{ got: boolean }>(`SELECT pg_try_advisory_lock(${key}) AS got`, [name]);
        got = r.rows[0]?.got === true;
      } finally {
        if (!got) await release();
      }
      if (!got) return undefined;
      let held = true;
      const locks = heldLocks.get(pool) ?? new Set<HeldLock>();
      heldLocks.set(pool, locks);
      const lock: HeldLock = {
        async release() {
          if (!held) return;
          held = false;
          locks.delete(lock);
          // Unlocked, then the connection closed (which alone lets go of it, once the server notices
          // a connection that could not say so).
          await client.query(`SELECT pg_advisory_unlock(${key}) AS done`, [name]).catch(() => {});
          await release();
        },
        async check() {
          // Asked, not only listened for: a session the server has just ended may not have said so yet.
          if (lost() === undefined) await client.query("SELECT 1").catch(noteLost);
          const reason = lost();
          if (reason !== undefined) throw reason;
        },
      };
      locks.add(lock);
      return lock;
    },
    async begin(): Promise<SqlTransaction> {
      if (inTx) throw new Error("a transaction is already open on this handle");
      const { client, connection, release } = await checkOut(pool);
      const serial = oneAtATime(client, connection);
      try {
        await serial.query("BEGIN");
      } catch (err) {
        release();
        throw err;
      }
      let open = true;
      const end = async (commit: boolean) => {
        if (!open) throw new Error("this transaction has ended");
        open = false;
        try {
          await serial.query(commit ? "COMMIT" : "ROLLBACK");
        } catch (err) {
          await serial.query("ROLLBACK").catch(() => {});
          throw err;
        } finally {
          release();
        }
      };
      return {
        ...wrap(pool, serial, cache, true),
        exclusive: false,
        commit: () => end(true),
        async commitAndBegin() {
          if (!open) throw new Error("this transaction has ended");
          // One turn: a statement sent meanwhile runs in the new transaction, not between the two.
          await serial.turn(async (c) => {
            await c.query("COMMIT");
            serial.made.clear();
            await c.query("BEGIN");
          });
        },
        rollback: () => end(false),
      };
    },
    async transaction<T>(fn: (tx: SqlDb) => Promise<T>): Promise<T> {
      if (inTx) return fn(self);
      const { client, connection, release } = await checkOut(pool);
      const serial = oneAtATime(client, connection);
      try {
        await serial.query("BEGIN");
        const result = await fn(wrap(pool, serial, cache, true));
        await serial.query("COMMIT");
        return result;
      } catch (err) {
        await serial.query("ROLLBACK").catch(() => {});
        throw err;
      } finally {
        release();
      }
    },
    async close() {
      // Locks still held (a scan that never ended) go with their connections.
      for (const lock of [...(heldLocks.get(pool) ?? [])]) await lock.release();
      await pool.end();
    },
  };
  return self;
}

function toPg(v: SqlValue): unknown {
  return typeof v === "bigint" ? v.toString() : v;
}
