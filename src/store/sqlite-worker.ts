import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { forEachPackedRow, PackedRows } from "./packed-rows.js";
import type { Row, SqlTransaction, SqlValue } from "./sql.js";

/**
 * A SQLite transaction on a connection in a worker thread: statements are posted to it and run
 * there in order, so a writer (a scan recording its findings) goes on with its own work while the
 * database writes, on the second core. Every method resolves when the worker has run it.
 *
 * The worker runs plain JavaScript (evaluated, so it loads the same way from the sources under tsx
 * and from the build) and opens the file with the same settings as the main connection.
 */
export async function openWorkerTransaction(
  path: string,
  pragmas: readonly string[],
): Promise<SqlTransaction> {
  const driver = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, pragmas, driver } });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let broken: Error | undefined;
  const failAll = (err: Error) => {
    broken ??= err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  // The thread keeps the process alive only while a call waits on it: a transaction its owner
  // forgot never holds the process open.
  worker.unref();
  worker.on("message", (m: { id: number; result?: unknown; error?: { message: string; code?: string } }) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (pending.size === 0) worker.unref();
    if (m.error) p.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
    else p.resolve(m.result);
  });
  worker.on("error", (err) => failAll(err));
  worker.on("exit", (code) => failAll(new Error(`the SQLite writer thread exited (${code})`)));
  const call = <T>(message: Record<string, unknown>, transfer?: ArrayBuffer[]): Promise<T> => {
    if (broken) return Promise.reject(broken);
    const id = nextId++;
    if (pending.size === 0) worker.ref();
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ ...message, id }, transfer);
    });
  };
  let open = true;
  const ended = () => {
    if (!open) throw new Error("this transaction has ended");
  };
  const end = async (sql: "COMMIT" | "ROLLBACK") => {
    ended();
    open = false;
    try {
      await call({ op: "end", sql });
    } finally {
      await worker.terminate();
    }
  };
  try {
    await call({ op: "exec", sql: "BEGIN IMMEDIATE" });
  } catch (err) {
    await worker.terminate();
    throw err;
  }
  const self: SqlTransaction = {
    dialect: "sqlite",
    exclusive: false,
    run: (sql, params) => call<number>({ op: "run", sql, params: params ?? [] }),
    all: <T extends Row>(sql: string, params?: readonly SqlValue[]) =>
      call<T[]>({ op: "all", sql, params: params ?? [] }),
    get: <T extends Row>(sql: string, params?: readonly SqlValue[]) =>
      call<T | undefined>({ op: "get", sql, params: params ?? [] }),
    async each(sql, params, fn) {
      const rows = await call<unknown[][]>({ op: "raw", sql, params });
      for (const values of rows) fn(values);
      return rows.length;
    },
    runMany: (sql, rows, options = {}) => {
      if (rows.length === 0) return Promise.resolve(0);
      if (!(rows instanceof PackedRows))
        return call<number>({ op: "runMany", sql, rows, orElse: options.orElse });
      // Packed rows go over as their buffers, moved (not copied): the caller gives them up.
      const { bytes, ends } = rows;
      return call<number>({ op: "runPacked", sql, bytes, ends, orElse: options.orElse }, [
        bytes.buffer as ArrayBuffer,
        ends.buffer as ArrayBuffer,
      ]);
    },
    exec: (sql) => call<void>({ op: "exec", sql }),
    transaction: (fn) => fn(self),
    begin: () => Promise.reject(new Error("a transaction is already open on this handle")),
    tryLock: () => Promise.reject(new Error("locks are taken on the database's handle, not a transaction's")),
    commit: () => end("COMMIT"),
    async commitAndBegin() {
      ended();
      await call({ op: "exec", sql: "COMMIT; BEGIN IMMEDIATE" });
    },
    rollback: () => end("ROLLBACK"),
    async close() {
      if (open) await end("ROLLBACK");
    },
  };
  return self;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
const db = new Database(workerData.path);
for (const p of workerData.pragmas) db.pragma(p);
const statements = new Map();
const forEachPackedRow = ${forEachPackedRow.toString()};
const prepare = (sql, raw) => {
  const key = raw ? "raw\\n" + sql : sql;
  let s = statements.get(key);
  if (!s) {
    s = db.prepare(sql);
    if (raw) s.raw(true);
    statements.set(key, s);
  }
  return s;
};
parentPort.on("message", (m) => {
  let result;
  try {
    switch (m.op) {
      case "exec": db.exec(m.sql); break;
      case "run": result = prepare(m.sql).run(m.params).changes; break;
      case "all": result = prepare(m.sql).all(m.params); break;
      case "get": result = prepare(m.sql).get(m.params); break;
      case "raw": result = prepare(m.sql, true).all(m.params); break;
      case "runMany": {
        const s = prepare(m.sql);
        const orElse = m.orElse === undefined ? undefined : prepare(m.orElse);
        let changes = 0;
        for (const row of m.rows) {
          const changed = s.run(row).changes;
          changes += changed;
          if (changed === 0 && orElse) orElse.run(row);
        }
        result = changes;
        break;
      }
      case "runPacked": {
        const s = prepare(m.sql);
        const orElse = m.orElse === undefined ? undefined : prepare(m.orElse);
        let changes = 0;
        forEachPackedRow(m.bytes, m.ends, (row) => {
          const changed = s.run(row).changes;
          changes += changed;
          if (changed === 0 && orElse) orElse.run(row);
        });
        result = changes;
        break;
      }
      case "end":
        try {
          if (m.sql === "COMMIT" || db.inTransaction) db.exec(m.sql);
        } catch (err) {
          if (db.inTransaction) db.exec("ROLLBACK");
          throw err;
        } finally {
          db.close();
        }
        break;
      default: throw new Error("unknown operation " + m.op);
    }
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: { message: err.message, code: err.code } });
    return;
  }
  parentPort.postMessage({ id: m.id, result });
});
`;
