/** Typed errors of the core. They carry no transport concerns: the CLI and HTTP layers map them. */

export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

export interface PolicyProblem extends SourcePosition {
  /** JSON-pointer-like path inside the document, e.g. `/spec/rules/0/constraint/maxVCPU`. */
  path: string;
  message: string;
  severity: "error" | "warning";
  suggestion?: string;
  /** Which document of a multi-document file the problem is in. */
  documentIndex?: number;
}

/** Formats a problem as the one line the CLI prints: `file:line:col: message`. */
export function formatProblem(p: PolicyProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  const kind = p.severity === "warning" ? "warning: " : "";
  const at = p.path ? ` (at ${p.path})` : "";
  return `${where}: ${kind}${p.message}${at}`;
}

export class PolicyValidationError extends Error {
  override readonly name = "PolicyValidationError";
  readonly problems: readonly PolicyProblem[];
  constructor(problems: readonly PolicyProblem[]) {
    const errors = problems.filter((p) => p.severity === "error");
    super(
      errors.length === 1
        ? formatProblem(errors[0]!)
        : `${errors.length} problems in policies:\n${errors.map(formatProblem).join("\n")}`,
    );
    this.problems = problems;
  }
}

/** Input that is not what a command or function expects (a malformed request, an unreadable file). */
export class InputError extends Error {
  override readonly name = "InputError";
  readonly details: readonly string[];
  constructor(message: string, details: readonly string[] = []) {
    super(message);
    this.details = details;
  }
}

export class NotFoundError extends Error {
  override readonly name = "NotFoundError";
}

export class ConflictError extends Error {
  override readonly name = "ConflictError";
}

/**
 * What a database holds is not what costguard writes (text that should be JSON and is not): the
 * database was changed by something else, or damaged. Reported as the database's failure, naming what.
 */
export class StoredDataError extends Error {
  override readonly name = "StoredDataError";
}

/**
 * The database failed during a command in a way that is neither a refusal of its own (a SQLSTATE) nor
 * bad data: a connection it ended, a lock it let go of. Reported as the database's failure (exit 3).
 */
export class DatabaseFailedError extends Error {
  override readonly name = "DatabaseFailedError";
}

/**
 * The database server could not be reached (refused, timed out, host unknown): the machine's or the
 * network's failure, not the command's (exit 3, as a database that fails during a command).
 */
export class DatabaseUnreachableError extends Error {
  override readonly name = "DatabaseUnreachableError";
}

/**
 * The SQLite driver's compiled part (better-sqlite3's addon) cannot be loaded: never built, or built
 * for another Node.js. The installation's failure, not the input's, and the same for every SQLite
 * file (exit 3, as a database that fails).
 */
export class SqliteDriverError extends Error {
  override readonly name = "SqliteDriverError";
}

/**
 * A cloud service failed the command after its retries (throttling that did not let up, its own
 * errors): its failure, not the input's (exit 3, as a database that fails).
 */
export class ServiceFailedError extends Error {
  override readonly name = "ServiceFailedError";
}

export class PermissionDeniedError extends Error {
  override readonly name = "PermissionDeniedError";
}
