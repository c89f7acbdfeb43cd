import sonicBoom from "sonic-boom";
import type { Decision } from "../engine/types.js";

// sonic-boom is CommonJS and its named exports are not visible to ESM imports.
const { SonicBoom } = sonicBoom;

/** One line of the decision log: enough to explain any decision later. */
export interface DecisionLogEntry {
  id: string;
  time: string;
  gate: "evaluate" | "admission";
  policy_revision: string;
  request_id: string;
  input: unknown;
  decision: string;
  violations: unknown[];
  [field: string]: unknown;
}

type LoggedDecision = Omit<Decision, "estimated_monthly_cost"> & { estimated_monthly_cost?: object };

/**
 * The decision as logged: everything answered, except that the cost estimate keeps its figures and
 * drops its provenance text (method, components with their source lines), which the price book and
 * the logged input reproduce. It would otherwise be most of every line.
 */
export function loggedDecision(decision: Decision): LoggedDecision {
  const cost = decision.estimated_monthly_cost;
  if (cost === undefined) return decision;
  const compact: Record<string, unknown> = { status: cost.status };
  if (cost.currency !== undefined) compact.currency = cost.currency;
  if (cost.hourly !== undefined) compact.hourly = cost.hourly;
  if (cost.monthly !== undefined) compact.monthly = cost.monthly;
  if (cost.reason !== undefined) compact.reason = cost.reason;
  return { ...decision, estimated_monthly_cost: compact };
}

export interface DecisionLog {
  readonly enabled: boolean;
  write(entry: DecisionLogEntry): void;
  /** Opens the file again (after logrotate moved it). */
  reopen(): void;
  /** Writes out everything buffered and closes the file. */
  close(): Promise<void>;
}

export interface DecisionLogOptions {
  /** Called with the number of lines dropped because the writer fell too far behind. */
  onDrop?: (lines: number) => void;
  onError?: (err: Error) => void;
}

// Lines are gathered to 64 KiB (or a second) and written by one async write, off the request path.
const BUFFER_BYTES = 64 * 1024;
const FLUSH_EVERY_MS = 1000;
// If the disk can't keep up, drop rather than grow without bound or block requests (drops are counted).
const MAX_BUFFERED_BYTES = 256 * 1024 * 1024;

export const DISABLED_DECISION_LOG: DecisionLog = {
  enabled: false,
  write() {},
  reopen() {},
  close: async () => {},
};

/** A decision log to a file (appended, folder created) or `-` for standard output. */
export function createDecisionLog(target: string | null, options: DecisionLogOptions = {}): DecisionLog {
  if (target === null) return DISABLED_DECISION_LOG;
  const stream = new SonicBoom({
    ...(target === "-" ? { fd: 1 } : { dest: target, append: true, mkdir: true }),
    minLength: BUFFER_BYTES,
    maxWrite: 4 * BUFFER_BYTES,
    maxLength: MAX_BUFFERED_BYTES,
    periodicFlush: FLUSH_EVERY_MS,
    sync: false,
    // Buffers, not strings: appending to one growing string makes sonic-boom measure its byte length
    // on every write, which costs as much as the whole buffer (hundreds of µs per line at 64 KiB).
    contentMode: "buffer",
  });
  stream.on("drop", (data: string) => options.onDrop?.(countLines(data)));
  stream.on("error", (err: Error) => options.onError?.(err));
  let closed = false;
  return {
    enabled: true,
    write(entry) {
      // (sonic-boom's types only admit strings; in buffer mode it takes buffers.)
      if (!closed) stream.write(Buffer.from(`${JSON.stringify(entry)}\n`) as unknown as string);
    },
    reopen() {
      if (target !== "-" && !closed) stream.reopen();
    },
    close() {
      if (closed) return Promise.resolve();
      closed = true;
      return new Promise<void>((resolve) => {
        stream.once("close", () => resolve());
        stream.once("error", () => resolve());
        stream.end();
      });
    },
  };
}

function countLines(data: string): number {
  let n = 0;
  for (let i = data.indexOf("\n"); i !== -1; i = data.indexOf("\n", i + 1)) n++;
  return n;
}
