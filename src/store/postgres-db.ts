import pg from "pg";
import { type Row, type SqlDb, type SqlTransaction, type SqlValue, splitInsert } from "./sql.js";

/** PostgreSQL allows 65,535 parameters per statement; stay well under it. */
const MAX_PARAMS = 30_000;

type Queryable = Pick<pg.Pool, "query"> | pg.PoolClient;

/** Rewrites `?` placeholders to `$1, $2, ...`, leaving quoted strings alone. */
export function numberPlaceholders(sql: string): string {
  let n = 0;
  let out = "";
  let quote: string | null = null;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (quote) {
      if (c === quote) quote = null;
      out += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      out += c;
    } else if (c === "?") {
      out += `$${++n}`;
    } else {
      out += c;
    }
  }
  return out;
}

export function openPostgresDb(url: string): SqlDb {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // An idle client that loses its connection must not crash the process.
  pool.on("error", () => {});
  return wrap(pool, pool, new Map());
}

function wrap(pool: pg.Pool, q: Queryable, cache: Map<string, string>, inTx = false): SqlDb {
  const text = (sql: string): string => {
    let t = cache.get(sql);
    if (t === undefined) {
      t = numberPlaceholders(sql);
      cache.set(sql, t);
    }
    return t;
  };
  const query = async (sql: string, params: readonly SqlValue[] | undefined) =>
    (q as pg.Pool).query(text(sql), (params ?? []).map(toPg));

  const self: SqlDb = {
    dialect: "postgres",
    run: async (sql, params) => (await query(sql, params)).rowCount ?? 0,
    all: async <T extends Row>(sql: string, params?: readonly SqlValue[]) =>
      (await query(sql, params)).rows as T[],
    get: async <T extends Row>(sql: string, params?: readonly SqlValue[]) =>
      (await query(sql, params)).rows[0] as T | undefined,
    async runMany(sql, rows, options = {}) {
      if (rows.length === 0) return 0;
      const { head, tuple, tail } = splitInsert(sql);
      const width = (tuple.match(/\?/g) ?? []).length;
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
      const result = await (q as pg.Pool).query({
        text: text(sql),
        values: params.map(toPg),
        rowMode: "array",
      });
      for (const values of result.rows as unknown[][]) fn(values);
      return result.rows.length;
    },
    exec: async (sql) => {
      await (q as pg.Pool).query(sql);
    },
    async begin(): Promise<SqlTransaction> {
      if (inTx) throw new Error("a transaction is already open on this handle");
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
      } catch (err) {
        client.release();
        throw err;
      }
      let open = true;
      const end = async (commit: boolean) => {
        if (!open) throw new Error("this transaction has ended");
        open = false;
        try {
          await client.query(commit ? "COMMIT" : "ROLLBACK");
        } catch (err) {
          await client.query("ROLLBACK").catch(() => {});
          throw err;
        } finally {
          client.release();
        }
      };
      return {
        ...wrap(pool, client, cache, true),
        exclusive: false,
        commit: () => end(true),
        async commitAndBegin() {
          if (!open) throw new Error("this transaction has ended");
          await client.query("COMMIT");
          await client.query("BEGIN");
        },
        rollback: () => end(false),
      };
    },
    async transaction<T>(fn: (tx: SqlDb) => Promise<T>): Promise<T> {
      if (inTx) return fn(self);
      const client = await pool.connect();
      try {
        await client.query("BEGIN");
        const result = await fn(wrap(pool, client, cache, true));
        await client.query("COMMIT");
        return result;
      } catch (err) {
        await client.query("ROLLBACK").catch(() => {});
        throw err;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
  return self;
}

function toPg(v: SqlValue): unknown {
  return typeof v === "bigint" ? v.toString() : v;
}
