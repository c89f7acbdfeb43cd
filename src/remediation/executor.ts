import { ConflictError, InputError } from "../errors.js";
import type { AuditSink } from "../exceptions/service.js";
import type { Clock } from "../time/clock.js";
import { isGone, type ResourceActions } from "./actions.js";
import type { RemediationConfig } from "./config.js";
import type { ExceptionLookup } from "./planner.js";
import { ownerNotice } from "./planner.js";
import { blockedReason } from "./safety.js";
import { monthlySaving, sumAmounts } from "./saving.js";
import { inspection, resultText, SkipTask, snapshotWords, stepsFor } from "./steps.js";
import type { SavingsLedger, TaskStore } from "./store.js";
import { updateTask } from "./task.js";
import type { OwnerNotice, RemediationTask, TaskStep } from "./types.js";

/** Steps that put a resource back as it was (a resize's start after its stop): done even for a task excepted midway. */
const RESTORING_STEPS: ReadonlySet<string> = new Set(["start"]);

/** The port owner notices leave through; the edge connects it to the notification outbox. */
export interface OwnerNotifier {
  notify(notice: OwnerNotice): Promise<void>;
  /** Many notices at once (one write to an outbox); without it they are handed over one by one. */
  notifyAll?(notices: readonly OwnerNotice[]): Promise<void>;
}

export type ExecutorEventType =
  | "task-start"
  | "step-start"
  | "step-done"
  | "task-completed"
  | "task-failed"
  | "task-skipped";

export interface ExecutorEvent {
  type: ExecutorEventType;
  task_id: string;
  resource_id: string;
  action: string;
  step?: string;
  message?: string;
}

export interface ExecutorDeps {
  tasks: TaskStore;
  audit?: AuditSink | undefined;
  ledger: SavingsLedger;
  cloud: ResourceActions;
  clock: Clock;
  config: RemediationConfig;
  notifier?: OwnerNotifier | undefined;
  exceptionFor?: ExceptionLookup | undefined;
  /**
   * The exceptions as they stand now, asked again just before each task acts (instead of
   * `exceptionFor`, the run's view from its start): one approved while the run acts is honoured by
   * the tasks it has not reached.
   */
  currentExceptions?: (() => Promise<ExceptionLookup>) | undefined;
  onEvent?: ((e: ExecutorEvent) => void) | undefined;
  /**
   * Runs `fn` with the task store and audit log of one transaction (in a database: both committed, or
   * neither). A task's change and its audit entry (a step done and `remediation.stop`, a task completed
   * and `remediation.completed`) are written through it, so a kill between them cannot leave the change
   * without its entry. Without it (stores that are not one database) they are written one after the other.
   */
  transaction?: (<T>(fn: (tx: TransactionalWrites) => Promise<T>) => Promise<T>) | undefined;
}

/** The writes that go together in `ExecutorDeps.transaction`. */
export interface TransactionalWrites {
  tasks: TaskStore;
  audit: AuditSink;
}

export type TaskOutcomeKind = "completed" | "failed" | "skipped" | "blocked" | "taken";

export interface TaskOutcome {
  task: RemediationTask;
  outcome: TaskOutcomeKind;
  message: string;
}

const AUDIT_ACTOR = "costguard:remediation";

/**
 * The audit entry of what befell a task (`remediation.skipped`, `.completed`, `.failed`, a step): one
 * shape whether the executor wrote it or the planner (a task skipped before it was acted on).
 */
export function taskAuditEntry(
  t: RemediationTask,
  action: string,
  at: Date,
  details: Record<string, unknown>,
): Parameters<NonNullable<ExecutorDeps["audit"]>["append"]>[0] {
  return {
    at: at.toISOString(),
    actor: AUDIT_ACTOR,
    action,
    subject_type: "resource",
    subject_id: t.resource_id,
    details: { task: t.id, action: t.action, policy: t.policy, rule: t.rule, ...details },
  };
}

/**
 * Hands a task's queued notices to the notifier and clears them. Called after the change that queued
 * them is stored, and again at the start of every run for notices a crash left behind.
 */
export async function flushNotices(
  task: RemediationTask,
  deps: Pick<ExecutorDeps, "tasks" | "notifier" | "clock">,
): Promise<RemediationTask> {
  if (task.notices.length === 0 || !deps.notifier) return task;
  for (const n of task.notices) await deps.notifier.notify(n);
  const next = updateTask(task, deps.clock(), { notices: [] });
  await deps.tasks.update(next, task.version);
  return next;
}

/**
 * Acts on due tasks one at a time. Each step is written to the store as `started` before it acts and
 * `done` after; before acting, a step checks whether its effect is already there. So a run killed at
 * any point and started again neither repeats an action nor loses one. Once `signal` is aborted, the
 * task under way is finished and no other is started: the outcomes are those of the tasks acted on.
 */
export async function executeTasks(
  tasks: readonly RemediationTask[],
  deps: ExecutorDeps,
  signal?: AbortSignal,
): Promise<TaskOutcome[]> {
  const outcomes: TaskOutcome[] = [];
  for (const task of tasks) {
    // A turn of the event loop first: on the sandbox every store and cloud call is synchronous, so
    // without it a signal's handler never ran while tasks were left, and an interrupt acted on them all.
    if (signal !== undefined) await new Promise((resolve) => setImmediate(resolve));
    if (signal?.aborted) break;
    outcomes.push(await executeTask(task, deps));
  }
  return outcomes;
}

/** A step's detail as the audit log says it: a snapshot step's in words (`no snapshot: why`). */
function auditDetail(step: string, detail: string): string {
  return step === "snapshot" ? snapshotWords(detail) : detail;
}

export async function executeTask(task: RemediationTask, deps: ExecutorDeps): Promise<TaskOutcome> {
  const { tasks, cloud, clock, config } = deps;
  let t = (await tasks.get(task.id)) ?? task;
  const emit = (type: ExecutorEventType, extra: { step?: string; message?: string } = {}) =>
    deps.onEvent?.({ type, task_id: t.id, resource_id: t.resource_id, action: t.action, ...extra });
  const save = async (changes: Partial<RemediationTask>, note?: string) => {
    const next = updateTask(t, clock(), changes, note);
    await tasks.update(next, t.version);
    t = next;
  };
  /** A change and its audit entry, committed together (see ExecutorDeps.transaction). */
  const saveAudited = async (
    changes: Partial<RemediationTask>,
    note: string | undefined,
    action: string,
    details: Record<string, unknown>,
  ) => {
    const next = updateTask(t, clock(), changes, note);
    const entry = taskAuditEntry(next, action, clock(), details);
    const audit = deps.audit;
    if (deps.transaction && audit)
      await deps.transaction(async (tx) => {
        await tx.tasks.update(next, t.version);
        await tx.audit.append(entry);
      });
    else {
      await tasks.update(next, t.version);
      await audit?.append(entry);
    }
    t = next;
  };
  const stepChange = (name: string, status: TaskStep["status"], detail?: string) => {
    const step: TaskStep = { name, status, at: clock().toISOString(), ...(detail ? { detail } : {}) };
    return { steps: [...t.steps.filter((s) => s.name !== name), step] };
  };
  const recordStep = (name: string, status: TaskStep["status"], detail?: string) =>
    save(stepChange(name, status, detail));
  /** A step recorded done, with its audit entry in the same write (the inspection has none). */
  const recordDone = (name: string, detail: string, audited?: Record<string, unknown>) =>
    audited === undefined
      ? recordStep(name, "done", detail)
      : saveAudited(stepChange(name, "done", detail), undefined, `remediation.${name}`, audited);

  /** A step's action: stored as started, done, audited (but the inspection) and said; its detail. */
  const act = async (
    step: ReturnType<typeof stepsFor>[number],
    current: Awaited<ReturnType<typeof cloud.describe>>,
    audited: Record<string, unknown> = {},
  ): Promise<string> => {
    await recordStep(step.name, "started");
    emit("step-start", { step: step.name });
    const detail = await step.act(current);
    await recordDone(
      step.name,
      detail,
      step.name === "inspect" ? undefined : { detail: auditDetail(step.name, detail), ...audited },
    );
    emit("step-done", { step: step.name, message: detail });
    return detail;
  };

  if (t.state !== "due" && t.state !== "in_progress")
    return { task: t, outcome: "taken", message: `task is ${t.state}` };

  /** The task skipped for `reason`: stored, audited and said. */
  const skip = async (reason: string): Promise<TaskOutcome> => {
    await saveAudited({ state: "skipped", result: reason }, `skipped: ${reason}`, "remediation.skipped", {
      reason,
    });
    emit("task-skipped", { message: reason });
    return { task: t, outcome: "skipped", message: reason };
  };
  const exceptionNow = async (): Promise<string | undefined> => {
    const lookup = deps.currentExceptions ? await deps.currentExceptions() : deps.exceptionFor;
    return lookup?.({ ...t, tags: t.tags, account: t.account ?? undefined }, clock()) ?? undefined;
  };
  // A task a crash cut short is finished, unless an exception approved since covers it: then only
  // what puts the resource back in service is done (a resize's start after its stop), nothing more.
  const exceptedSince = t.state === "in_progress" ? await exceptionNow() : undefined;
  const leftUndone: string[] = [];

  if (t.state !== "in_progress") {
    const blocked = blockedReason(t.action, config.safety);
    if (blocked) return { task: t, outcome: "blocked", message: blocked };
    const exceptionId = await exceptionNow();
    if (exceptionId) {
      return skip(`excepted by ${exceptionId}`);
    }
    try {
      await save(
        { state: "in_progress", attempts: t.attempts + 1 },
        `acting: ${t.action} (attempt ${t.attempts + 1})`,
      );
    } catch (err) {
      if (err instanceof ConflictError)
        return { task: t, outcome: "taken", message: "another run took this task" };
      throw err;
    }
  }
  emit("task-start");

  try {
    for (const step of stepsFor(t, deps, () => t)) {
      if (t.steps.some((s) => s.name === step.name && s.status === "done")) continue;
      if (exceptedSince !== undefined && !RESTORING_STEPS.has(step.name)) {
        leftUndone.push(step.name);
        continue;
      }
      const current = await cloud.describe(t.resource_id);
      const already = await step.already(current);
      if (already !== undefined) {
        // Begun by a run that ended before it recorded the step done: the action happened then, and
        // its audit entry is written now (said so), not lost with that run.
        const begun = t.steps.some((s) => s.name === step.name && s.status === "started");
        await recordDone(
          step.name,
          already,
          begun && step.name !== "inspect"
            ? { detail: auditDetail(step.name, already), recovered: true }
            : undefined,
        );
        continue;
      }
      await act(step, current);
    }
    if (exceptedSince !== undefined) {
      const done = t.steps.filter((s) => s.status === "done" && s.name !== "inspect").map((s) => s.name);
      return skip(
        `excepted by ${exceptedSince} after it began: ${done.length > 0 ? `done ${done.join(", ")}` : "nothing done"}; left undone ${leftUndone.join(", ") || "nothing"}`,
      );
    }
    return await finish();
  } catch (err) {
    if (err instanceof SkipTask) return skip(err.message);
    const stops = cloud.stopsTheRun?.(err);
    if (stops !== undefined) {
      await save(
        { state: "due", attempts: Math.max(0, t.attempts - 1) },
        `not acted: ${stops}; not counted as an attempt`,
      );
      // Bad input, as its cause is (credentials to renew).
      throw new InputError(
        `${stops}\nacting stopped at ${t.id} (${t.action} ${t.resource_id}): it and the tasks not reached stay due, no attempt counted; run again once that is mended`,
      );
    }
    const message = (err instanceof Error ? err.message : String(err)) + (await restoreAfterFailure());
    const notice = ownerNotice(
      t,
      "remediation-failed",
      `costguard could not ${t.action} ${t.resource_id}: ${message}`,
    );
    await saveAudited(
      {
        state: "failed",
        result: message,
        notices: [...t.notices, { ...notice, key: `${notice.key}:${t.attempts}` }],
      },
      `failed: ${message}`,
      "remediation.failed",
      { error: message, attempt: t.attempts },
    );
    emit("task-failed", { message });
    t = await flushNotices(t, deps);
    return { task: t, outcome: "failed", message };
  }

  /**
   * After a step failed: a resource this task took out of service (a resize's stop) is put back as
   * it was (its start), not left down until someone notices. Said in the failure's message. Once it
   * is back, the steps after the snapshot are forgotten, so a retry stops it again before resizing;
   * if it cannot be brought back, they are kept, and a retry goes on from where this one failed.
   */
  async function restoreAfterFailure(): Promise<string> {
    const done = (name: string) => t.steps.some((s) => s.name === name && s.status === "done");
    const restoring = stepsFor(t, deps, () => t).filter((s) => RESTORING_STEPS.has(s.name) && !done(s.name));
    // Only a task whose own steps put it back (a resize's start) has anything to put back.
    if (!done("stop") || restoring.length === 0) return "";
    try {
      const said: string[] = [];
      for (const step of restoring) {
        const current = await cloud.describe(t.resource_id);
        if ((await step.already(current)) !== undefined) continue;
        said.push(await act(step, current, { after_failure: true }));
      }
      await save({ steps: t.steps.filter((s) => s.name === "inspect" || s.name === "snapshot") });
      return said.length > 0 ? `; ${said.join(", ")} again, as it was before` : "";
    } catch (err) {
      return `; it is left stopped: starting it again failed too (${err instanceof Error ? err.message : String(err)})`;
    }
  }

  /**
   * What the snapshot this task took before acting costs per month, as the provider prices it (exact
   * decimal text): "0" when it took none, null when a snapshot's cost is not known (AWS: the price
   * book does not price snapshots) or is in another currency.
   */
  async function safetySnapshotCost(currency: string): Promise<string | null> {
    const detail = t.steps.find((s) => s.name === "snapshot" && s.status === "done")?.detail;
    if (detail === undefined || /^none \(/.test(detail)) return "0";
    const costs: string[] = [];
    for (const id of detail.split(",")) {
      const snap = await cloud.describe(id.trim());
      if (snap?.monthly_cost === undefined || (snap.currency ?? currency) !== currency) return null;
      costs.push(String(snap.monthly_cost));
    }
    return sumAmounts(costs);
  }

  async function finish(): Promise<TaskOutcome> {
    const before = inspection(t);
    const after = await cloud.describe(t.resource_id);
    const costAfter = isGone(after) ? "0" : String(after?.monthly_cost ?? before.monthly_cost);
    const saving = monthlySaving(before.monthly_cost, costAfter);
    const snapshotCost = await safetySnapshotCost(before.currency);
    await deps.ledger.record({
      task_id: t.id,
      resource_id: t.resource_id,
      resource_type: t.resource_type,
      action: t.action,
      policy: t.policy,
      rule: t.rule,
      cost_before: before.monthly_cost,
      cost_after: costAfter,
      monthly_saving: saving,
      currency: before.currency,
      recorded_at: clock().toISOString(),
    });
    const result = resultText(t);
    const notice = ownerNotice(
      t,
      "remediated",
      `costguard did ${t.action} on ${t.resource_id} (${t.policy}/${t.rule}): ${result}`,
    );
    await saveAudited(
      {
        state: "completed",
        result,
        realised_monthly_saving: saving,
        safety_snapshot_monthly_cost: snapshotCost,
        notices: [...t.notices, notice],
      },
      `completed: ${result}`,
      "remediation.completed",
      {
        result,
        monthly_saving: saving,
        safety_snapshot_monthly_cost: snapshotCost,
        currency: before.currency,
      },
    );
    emit("task-completed", { message: result });
    t = await flushNotices(t, deps);
    return { task: t, outcome: "completed", message: result };
  }
}
