import type { Decision } from "../engine/types.js";
import { createLineWriter } from "./line-writer.js";

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
  const writer = createLineWriter(target === "-" ? { fd: 1 } : { path: target }, {
    maxQueuedChars: MAX_QUEUED_CHARS,
    ...(options.onDrop ? { onDrop: options.onDrop } : {}),
    ...(options.onError ? { onError: options.onError } : {}),
  });
  return {
    enabled: true,
    write: (entry) => writer.write(`${JSON.stringify(entry)}\n`),
    reopen: () => writer.reopen(),
    close: () => writer.close(),
  };
}
