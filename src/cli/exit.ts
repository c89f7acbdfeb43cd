import {
  ConflictError,
  DatabaseFailedError,
  DatabaseUnreachableError,
  formatProblem,
  InputError,
  NotFoundError,
  PermissionDeniedError,
  PolicyValidationError,
  ServiceFailedError,
  SqliteDriverError,
  StoredDataError,
} from "../errors.js";
import { BUSY_TIMEOUT_MS } from "../store/sqlite-db.js";
import { InterruptedError, writeFailureText } from "./interrupt.js";

/** Exit codes every command shares. */
export const EXIT = { ok: 0, denied: 1, badInput: 2, internal: 3 } as const;

/** Raised by a command to stop with a code after it has printed what it had to say. */
export class CliExit extends Error {
  override readonly name = "CliExit";
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** Maps an error to the lines the user sees and an exit code; stack traces only for the unexpected. */
export function reportError(err: unknown, stderr: NodeJS.WritableStream): number {
  if (err instanceof CliExit) return err.code;
  if (err instanceof PolicyValidationError) {
    for (const p of err.problems) stderr.write(`${formatProblem(p)}\n`);
    return EXIT.badInput;
  }
  if (err instanceof InputError || err instanceof NotFoundError) {
    stderr.write(`costguard: ${err.message}\n`);
    return EXIT.badInput;
  }
  if (err instanceof PermissionDeniedError || err instanceof ConflictError) {
    stderr.write(`costguard: ${err instanceof PermissionDeniedError ? "refused: " : ""}${err.message}\n`);
    return EXIT.denied;
  }
  if (err instanceof InterruptedError) {
    stderr.write(
      `costguard: ${err.message}: stopped; ${err.recorded ? "what was stored so far is kept, the run is recorded as failed" : "nothing was stored or acted on"}\n`,
    );
    return err.exitCode;
  }
  const e = err as { code?: string; message?: string; stack?: string; path?: unknown };
  if (isMachineFailure(e)) {
    // The machine could not take a write (a full disk, a quota, a read-only file system): news, not a bug.
    stderr.write(
      `costguard: ${typeof e.path === "string" ? fileErrorText(e) : `the file system failed: ${writeFailureText(e)}`}\n`,
    );
    return EXIT.internal;
  }
  if (e?.code === "ENOENT" || e?.code === "EACCES" || e?.code === "EISDIR") {
    stderr.write(`costguard: ${fileErrorText(e)}\n`);
    return EXIT.badInput;
  }
  if (typeof e?.code === "string" && e.code.startsWith("SQLITE_BUSY")) {
    // Another process held SQLite's one write lock past the busy timeout: news to act on, not a fault.
    stderr.write(`costguard: ${STORE_BUSY}\n`);
    return EXIT.denied;
  }
  if (
    err instanceof DatabaseUnreachableError ||
    err instanceof ServiceFailedError ||
    err instanceof SqliteDriverError
  ) {
    stderr.write(`costguard: ${err.message}\n`);
    return EXIT.internal;
  }
  if (isDatabaseError(e) || err instanceof StoredDataError || err instanceof DatabaseFailedError) {
    // The database refused or failed (full disk, lost connection, a constraint): its message is the news.
    stderr.write(`costguard: the database failed: ${e?.message}\n`);
    return EXIT.internal;
  }
  stderr.write(`costguard: internal error: ${e?.stack ?? String(err)}\n`);
  return EXIT.internal;
}

/** File system errors that are the machine's, not costguard's nor the input's. */
const MACHINE_FAILURES = new Set(["ENOSPC", "EDQUOT", "EROFS", "EFBIG", "EIO"]);

/** A write the machine could not take: a full disk, a quota, a read-only file system, an I/O error. */
export function isMachineFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && MACHINE_FAILURES.has(code);
}

/** What a SQLITE_BUSY means to the user, and what to do. */
const STORE_BUSY = `the store is busy: another costguard process is writing to the SQLite file and did not finish within ${BUSY_TIMEOUT_MS / 1000} s (a stored scan of a large estate writes its findings for a while: \`costguard scans list\` shows it running). Run this again when it has finished. Several processes writing at once is what PostgreSQL is for (COSTGUARD_DATABASE_URL, docs/store.md)`;

/** An error raised by SQLite (code SQLITE_*) or by a PostgreSQL server (a SQLSTATE and a severity). */
function isDatabaseError(e: { code?: unknown; severity?: unknown } | undefined): boolean {
  if (typeof e?.code !== "string") return false;
  return e.code.startsWith("SQLITE_") || (/^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === "string");
}

/**
 * A file system error as `PATH: what went wrong` (`nope.jsonl: no such file or directory`), not
 * Node's `ENOENT: no such file or directory, stat 'nope.jsonl'`; as Node words it when it names no path.
 */
export function fileErrorText(e: { message?: string; path?: unknown }): string {
  const message = e.message ?? "";
  if (typeof e.path !== "string") return message;
  const reason = writeFailureText(e);
  return reason === message ? message : `${e.path}: ${reason}`;
}
