import { ConflictError, NotFoundError } from "../errors.js";
import type { RemediationAction, RemediationTask, TaskState } from "./types.js";

export interface TaskFilter {
  states?: readonly TaskState[];
  finding_ids?: readonly string[];
  resource_id?: string;
  /** Only tasks of this inventory (see RemediationTask.inventory). */
  inventory?: string;
  /** Only tasks with notices still to send. */
  with_notices?: boolean;
  /** Only tasks whose finding was (true) or was not (false) seen resolved since (finding_resolved_at). */
  finding_resolved?: boolean;
  /** At most this many (the oldest). */
  limit?: number;
}

/** Where remediation tasks live; every change is written before the action it announces. */
export interface TaskStore {
  /** Inserts a new task; false when a task with that id exists (a plan made again after a crash). */
  insert(task: RemediationTask): Promise<boolean>;
  /** Replaces a task if the stored one still has `expectedVersion`; else ConflictError (someone else has it). */
  update(task: RemediationTask, expectedVersion: number): Promise<void>;
  get(id: string): Promise<RemediationTask | undefined>;
  /** Oldest first. */
  list(filter?: TaskFilter): Promise<RemediationTask[]>;
  /**
   * Runs `fn` with a task store whose writes are committed together (in a database, one transaction):
   * storing a plan of a hundred thousand tasks costs a commit per batch, not per task. Inside, use
   * only the store passed in, and nothing else that writes to the same database.
   */
  batch<T>(fn: (tasks: TaskStore) => Promise<T>): Promise<T>;
  /**
   * Takes the right to act on an inventory's tasks (see holdActing): undefined while another run
   * holds it. Let go by `release`, or when the process that took it ends.
   */
  tryActing(inventory: string): Promise<ActingLock | undefined>;
  /** When a task of the inventory last changed (ISO 8601), or undefined when it has none. */
  lastChange(inventory: string): Promise<string | undefined>;
}

/** A run's hold on acting in one inventory. */
export interface ActingLock {
  release(): Promise<void>;
}

/** What one completed action saves per month, measured on the resource before and after. */
export interface LedgerEntry {
  task_id: string;
  resource_id: string;
  resource_type: string;
  action: RemediationAction;
  policy: string;
  rule: string;
  /** Exact decimal text. */
  cost_before: string;
  cost_after: string;
  monthly_saving: string;
  currency: string;
  recorded_at: string;
}

export interface SavingsLedger {
  /** Records a task's saving once; false when that task is already in the ledger. */
  record(entry: LedgerEntry): Promise<boolean>;
  list(): Promise<LedgerEntry[]>;
}

export function matchesTaskFilter(t: RemediationTask, f: TaskFilter | undefined): boolean {
  if (!f) return true;
  return (
    (f.states === undefined || f.states.includes(t.state)) &&
    (f.finding_ids === undefined || f.finding_ids.includes(t.finding_id)) &&
    (f.resource_id === undefined || t.resource_id === f.resource_id) &&
    (f.inventory === undefined || t.inventory === f.inventory) &&
    (!f.with_notices || t.notices.length > 0) &&
    (f.finding_resolved === undefined || f.finding_resolved === Boolean(t.finding_resolved_at))
  );
}

export function createMemoryTaskStore(): TaskStore {
  const rows = new Map<string, RemediationTask>();
  const acting = new Set<string>();
  const self: TaskStore = {
    batch: (fn) => fn(self),
    async tryActing(inventory) {
      if (acting.has(inventory)) return undefined;
      acting.add(inventory);
      let held = true;
      return {
        async release() {
          if (held) acting.delete(inventory);
          held = false;
        },
      };
    },
    async insert(task) {
      if (rows.has(task.id)) return false;
      rows.set(task.id, structuredClone(task));
      return true;
    },
    async update(task, expectedVersion) {
      const current = rows.get(task.id);
      if (!current) throw new NotFoundError(`no remediation task ${task.id}`);
      if (current.version !== expectedVersion)
        throw new ConflictError(`remediation task ${task.id} was changed by another run`);
      rows.set(task.id, structuredClone(task));
    },
    async get(id) {
      const t = rows.get(id);
      return t ? structuredClone(t) : undefined;
    },
    async lastChange(inventory) {
      let latest: string | undefined;
      for (const t of rows.values())
        if (t.inventory === inventory && (latest === undefined || t.updated_at > latest))
          latest = t.updated_at;
      return latest;
    },
    async list(filter) {
      return [...rows.values()]
        .filter((t) => matchesTaskFilter(t, filter))
        .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id))
        .slice(0, filter?.limit)
        .map((t) => structuredClone(t));
    },
  };
  return self;
}

export function createMemoryLedger(): SavingsLedger {
  const rows = new Map<string, LedgerEntry>();
  return {
    async record(entry) {
      if (rows.has(entry.task_id)) return false;
      rows.set(entry.task_id, { ...entry });
      return true;
    },
    async list() {
      return [...rows.values()].sort((a, b) => a.recorded_at.localeCompare(b.recorded_at));
    },
  };
}
