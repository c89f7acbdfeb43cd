import { InputError } from "../errors.js";
import { createLineWriter, type LineWriter } from "./line-writer.js";

/** The fields of a decision log line that come before the decision's own. */
export interface DecisionLogHeader {
  id: string;
  time: string;
  gate: "evaluate" | "admission";
  policy_revision: string;
  request_id: string;
  /** Admission only: uid, kind, operation, namespace, name, user, dry_run. */
  admission?: Record<string, unknown>;
  /** The request as evaluated. */
  input: unknown;
}

export interface DecisionLog {
  readonly enabled: boolean;
  /**
   * Writes one line: the header, then the decision's fields as already serialised for the answer
   * (`EncodedDecision.logFields`), so a decision is serialised once.
   */
  write(header: DecisionLogHeader, decisionFields: string): void;
  /** Opens the file again (after logrotate moved it). */
  reopen(): void;
  /** Writes out everything buffered and closes the file. */
  close(): Promise<void>;
}

export interface DecisionLogOptions {
  /** For `-`: hand chunks of lines to this instead of writing standard output (a cluster worker). */
  relay?: (chunk: string, done: (err?: Error | null) => void) => void;
  /** Called with the number of lines dropped because the writer fell too far behind. */
  onDrop?: (lines: number) => void;
  onError?: (err: Error) => void;
}

// If the disk can't keep up, drop rather than grow without bound or block requests (drops are counted).
const MAX_QUEUED_CHARS = 128 * 1024 * 1024;

export const DISABLED_DECISION_LOG: DecisionLog = {
  enabled: false,
  write() {},
  reopen() {},
  close: async () => {},
};

/** A decision log to a file (appended, folder created) or `-` for standard output. */
/** A decision log to a file (appended, folder created) or `-` for standard output. */
export function createDecisionLog(target: string | null, options: DecisionLogOptions = {}): DecisionLog {
  if (target === null) return DISABLED_DECISION_LOG;
  let writer: LineWriter;
  try {
    const to = target !== "-" ? { path: target } : options.relay ? { send: options.relay } : { fd: 1 };
    writer = createLineWriter(to, {
      maxQueuedChars: MAX_QUEUED_CHARS,
      ...(options.onDrop ? { onDrop: options.onDrop } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
    });
  } catch (err) {
    throw new InputError(`cannot open the decision log ${target}: ${(err as Error).message}`);
  }
  return {
    enabled: true,
    // The header is a non-empty object: drop its closing brace and continue with the decision.
    write: (header, fields) => writer.write(`${JSON.stringify(header).slice(0, -1)},${fields}}\n`),
    reopen: () => writer.reopen(),
    close: () => writer.close(),
  };
}
