import type { AuditSink } from "../exceptions/service.js";
import type { Clock } from "../time/clock.js";
import type { ResourceActions } from "./actions.js";
import type { RemediationConfig } from "./config.js";
import {
  type ExecutorDeps,
  type ExecutorEvent,
  executeTasks,
  type OwnerNotifier,
  type TaskOutcome,
  taskAuditEntry,
} from "./executor.js";
import { type ExceptionLookup, planRemediation, type RemediationPlan } from "./planner.js";
import { checkSafety, type SafetyVerdict } from "./safety.js";
import type { SavingsLedger, TaskStore } from "./store.js";
import { updateTask } from "./task.js";
import {
  ACTIVE_TASK_STATES,
  type PlannableFinding,
  type RemediationAction,
  type RemediationTask,
} from "./types.js";

export interface RemediationDeps {
  tasks: TaskStore;
  ledger: SavingsLedger;
  clock: Clock;
  config: RemediationConfig;
  /** Needed to act; a dry run only reads the store. */
  cloud?: ResourceActions | undefined;
  /**
   * Why the inventory cannot take an action on a type of resource (AWS acts on EC2 instances and EBS
   * volumes, not yet on RDS databases); undefined when it can. Such a finding is planned as `notify`
   * (its owner is told, with why), in a dry run as when acting.
   */
  cannot?: ((action: RemediationAction, resourceType: string) => string | undefined) | undefined;
  notifier?: OwnerNotifier | undefined;
  exceptionFor?: ExceptionLookup | undefined;
  /** The exceptions as they stand now, for each task just before it acts (see ExecutorDeps). */
  currentExceptions?: (() => Promise<ExceptionLookup>) | undefined;
  audit?: AuditSink | undefined;
  /** Tasks and audit in one transaction, so a change and its audit entry are written together (see ExecutorDeps). */
  transaction?: ExecutorDeps["transaction"];
  onEvent?: ((e: ExecutorEvent) => void) | undefined;
}

export interface RemediationRun {
  mode: "dry-run" | "execute";
  at: string;
  plan: RemediationPlan;
  safety: SafetyVerdict;
  outcomes: TaskOutcome[];
  /** Why the run acted on nothing (blast radius). */
  aborted: string | null;
  /** Due tasks left unacted because the run was interrupted (they stay due for the next run). */
  interrupted: { reason: string; left: number } | null;
}

/**
 * One remediation pass. A dry run (the default) plans and checks the safety rules and changes nothing:
 * no task is stored, no notice sent, no resource touched. Executing stores the plan (tasks, their
 * warnings), sends the owner notices, then — unless the blast-radius cap aborts the run — acts on the
 * due tasks.
 */
export async function runRemediation(input: {
  findings: readonly PlannableFinding[];
  /** Resources scanned: the base of `maxActionsPercent`. */
  inventorySize: number;
  execute: boolean;
  /** The findings are everything the inventory has (a full scan): tasks of absent findings are skipped. */
  complete?: boolean;
  /**
   * The inventory the findings were scanned from: only its tasks are planned beside them (another
   * inventory's tasks are neither skipped as absent nor acted on here).
   */
  inventory?: string;
  deps: RemediationDeps;
  /** Stops acting: the task under way is finished, the rest stay due (see `interrupted`). */
  signal?: AbortSignal | undefined;
  /** Told once the plan is stored, before the first action. */
  onActing?: (() => void) | undefined;
}): Promise<RemediationRun> {
  const { deps } = input;
  const now = deps.clock();
  const cannot = deps.cannot;
  const findings = cannot
    ? input.findings.map((f) => {
        const why = f.action === "notify" ? undefined : cannot(f.action, f.resource_type);
        return why === undefined
          ? f
          : { ...f, action: "notify" as const, message: `${f.message} (to ${f.action}: ${why})` };
      })
    : input.findings;
  const findingIds = [...new Set(findings.map((f) => f.id))];
  const stored = await deps.tasks.list({ finding_ids: findingIds });
  const known = new Set(stored.map((t) => t.id));
  const others = await deps.tasks.list({
    states: input.complete ? ACTIVE_TASK_STATES : ["in_progress"],
    ...(input.inventory !== undefined ? { inventory: input.inventory } : {}),
  });
  // A full scan also reads the completed tasks whose finding it has not yet seen resolved: one it no
  // longer sees is marked so, and the finding seen again later gets a new task.
  if (input.complete)
    others.push(
      ...(await deps.tasks.list({
        states: ["completed"],
        finding_resolved: false,
        ...(input.inventory !== undefined ? { inventory: input.inventory } : {}),
      })),
    );
  for (const t of others) if (!known.has(t.id)) stored.push(t);
  const plan = planRemediation({
    findings,
    tasks: stored,
    now,
    config: deps.config,
    complete: input.complete === true,
    ...(deps.exceptionFor ? { exceptionFor: deps.exceptionFor } : {}),
  });
  const safety = checkSafety(plan.due, deps.config.safety, input.inventorySize, now);
  const run: RemediationRun = {
    mode: input.execute ? "execute" : "dry-run",
    at: now.toISOString(),
    plan,
    safety,
    outcomes: [],
    aborted: safety.abort ?? null,
    interrupted: null,
  };
  if (!input.execute) return run;
  if (!deps.cloud) throw new Error("acting needs an inventory provider that can act");

  // Store the plan first: a crash after this point re-plans from the stored tasks. A batch of tasks
  // is committed at a time (a crash loses at most the batch under way, which the next run plans
  // again), and between batches the process answers signals. Interrupted, it stops there as a crash
  // would: nothing is acted on, the next run plans the rest and sends the notices already stored.
  const byId = new Map(stored.map((t) => [t.id, t]));
  const latest = new Map<string, RemediationTask>();
  const signal = input.signal;
  // Tasks the plan skipped (an exception covers them now, the finding is resolved or superseded):
  // audited as the executor audits its skips, once they are stored.
  // Given a transaction over tasks and audit, each skip's entry is written in its batch's transaction
  // (a kill cannot store the skip without it); else once every batch is stored.
  const together = deps.transaction && deps.audit ? deps.transaction : undefined;
  const skipped: RemediationTask[] = [];
  const complete =
    (await inBatches(plan.created, deps.tasks, signal, async (tasks, t) => {
      if (await tasks.insert(t)) latest.set(t.id, t);
    })) &&
    (await auditedSkips(
      skipped,
      deps,
      now,
      inBatches(
        plan.updated,
        deps.tasks,
        signal,
        async (tasks, t, audit) => {
          await tasks.update(t, byId.get(t.id)!.version);
          latest.set(t.id, t);
          if (t.state !== "skipped" || byId.get(t.id)!.state === "skipped") return;
          if (audit) await audit.append(taskAuditEntry(t, "remediation.skipped", now, { reason: t.result }));
          else skipped.push(t);
        },
        together,
      ),
    )) &&
    (await inBatches(safety.updated, deps.tasks, signal, async (tasks, t) => {
      const base = latest.get(t.id) ?? byId.get(t.id);
      if (!base) return;
      await tasks.update({ ...t, version: base.version + 1 }, base.version);
    }));
  if (!complete) {
    run.interrupted = { reason: reasonOf(signal), left: safety.abort ? 0 : safety.actionable.length };
    return run;
  }
  await flushPending(deps);
  if (safety.abort) return run;

  const created = new Set(plan.created);
  const actionable = safety.actionable.filter((t) => !created.has(t) || latest.has(t.id));
  input.onActing?.();
  run.outcomes = await executeTasks(actionable, { ...deps, cloud: deps.cloud }, input.signal);
  if (run.outcomes.length < actionable.length)
    run.interrupted = { reason: reasonOf(input.signal), left: actionable.length - run.outcomes.length };
  return run;
}

/**
 * Waits for `storing` (the plan's updated tasks), then appends `remediation.skipped` for each task it
 * stored as skipped — those of the batches stored before an interruption too, since they stay skipped
 * (a batch whose transaction fails throws here, and nothing is audited as skipped that was not stored).
 */
async function auditedSkips(
  skipped: readonly RemediationTask[],
  deps: RemediationDeps,
  now: Date,
  storing: Promise<boolean>,
): Promise<boolean> {
  const stored = await storing;
  for (const t of skipped)
    await deps.audit?.append(taskAuditEntry(t, "remediation.skipped", now, { reason: t.result }));
  return stored;
}

function reasonOf(signal: AbortSignal | undefined): string {
  const reason: unknown = signal?.reason;
  return reason instanceof Error ? reason.message : String(reason ?? "interrupted");
}

/** Tasks written per transaction when a plan is stored. */
const TASKS_PER_BATCH = 500;

/**
 * `write` for every item, TASKS_PER_BATCH to a transaction, yielding to the event loop between them
 * (so signals are heard). Given `transaction`, each batch is one over tasks and audit, and `write` gets
 * the audit log of it. False when `signal` stopped it before the last batch.
 */
async function inBatches<T>(
  items: readonly T[],
  store: TaskStore,
  signal: AbortSignal | undefined,
  write: (tasks: TaskStore, item: T, audit?: AuditSink) => Promise<void>,
  transaction?: ExecutorDeps["transaction"],
): Promise<boolean> {
  for (let start = 0; start < items.length; start += TASKS_PER_BATCH) {
    if (signal?.aborted) return false;
    const batch = items.slice(start, start + TASKS_PER_BATCH);
    if (transaction)
      await transaction(async (tx) => {
        for (const item of batch) await write(tx.tasks, item, tx.audit);
      });
    else
      await store.batch(async (tasks) => {
        for (const item of batch) await write(tasks, item);
      });
    await new Promise((resolve) => setImmediate(resolve));
  }
  return true;
}

/**
 * Sends every notice still queued on a task (this run's, and any a crash left behind): a batch of
 * tasks at a time, their notices handed over together, then the tasks cleared in one transaction. A
 * crash in between hands the batch's notices over again next time; the outbox keeps one message per
 * notice key.
 */
export async function flushPending(
  deps: Pick<RemediationDeps, "tasks" | "notifier" | "clock">,
): Promise<number> {
  const notifier = deps.notifier;
  if (!notifier) return 0;
  let sent = 0;
  // A batch at a time, read afresh: a batch handed over leaves the list (or its update fails and
  // throws), so memory holds one batch however many tasks wait.
  for (;;) {
    const batch = await deps.tasks.list({ with_notices: true, limit: TASKS_PER_BATCH });
    if (batch.length === 0) return sent;
    const notices = batch.flatMap((t) => t.notices);
    if (notifier.notifyAll) await notifier.notifyAll(notices);
    else for (const n of notices) await notifier.notify(n);
    sent += notices.length;
    await deps.tasks.batch(async (tasks) => {
      for (const t of batch) await tasks.update(updateTask(t, deps.clock(), { notices: [] }), t.version);
    });
    await new Promise((resolve) => setImmediate(resolve));
  }
}
