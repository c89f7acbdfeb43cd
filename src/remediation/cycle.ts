import type { AuditSink } from "../exceptions/service.js";
import type { Clock } from "../time/clock.js";
import type { ResourceActions } from "./actions.js";
import type { RemediationConfig } from "./config.js";
import {
  type ExecutorEvent,
  executeTasks,
  flushNotices,
  type OwnerNotifier,
  type TaskOutcome,
} from "./executor.js";
import { type ExceptionLookup, planRemediation, type RemediationPlan } from "./planner.js";
import { checkSafety, type SafetyVerdict } from "./safety.js";
import type { SavingsLedger, TaskStore } from "./store.js";
import { ACTIVE_TASK_STATES, type PlannableFinding, type RemediationTask } from "./types.js";

export interface RemediationDeps {
  tasks: TaskStore;
  ledger: SavingsLedger;
  clock: Clock;
  config: RemediationConfig;
  /** Needed to act; a dry run only reads the store. */
  cloud?: ResourceActions | undefined;
  notifier?: OwnerNotifier | undefined;
  exceptionFor?: ExceptionLookup | undefined;
  audit?: AuditSink | undefined;
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
  deps: RemediationDeps;
  /** Stops acting: the task under way is finished, the rest stay due (see `interrupted`). */
  signal?: AbortSignal | undefined;
}): Promise<RemediationRun> {
  const { deps } = input;
  const now = deps.clock();
  const findingIds = [...new Set(input.findings.map((f) => f.id))];
  const stored = await deps.tasks.list({ finding_ids: findingIds });
  const known = new Set(stored.map((t) => t.id));
  const others = await deps.tasks.list({ states: input.complete ? ACTIVE_TASK_STATES : ["in_progress"] });
  for (const t of others) if (!known.has(t.id)) stored.push(t);
  const plan = planRemediation({
    findings: input.findings,
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

  // Store the plan first: a crash after this point re-plans from the stored tasks.
  const versions = new Map(stored.map((t) => [t.id, t.version]));
  const latest = new Map<string, RemediationTask>();
  for (const t of plan.created) {
    if (await deps.tasks.insert(t)) latest.set(t.id, t);
  }
  for (const t of plan.updated) {
    await deps.tasks.update(t, versions.get(t.id)!);
    latest.set(t.id, t);
  }
  for (const t of safety.updated) {
    const base = latest.get(t.id) ?? stored.find((s) => s.id === t.id);
    if (!base) continue;
    const merged = { ...t, version: base.version + 1 };
    await deps.tasks.update(merged, base.version);
  }
  await flushPending(deps);
  if (safety.abort) return run;

  const actionable = safety.actionable.filter((t) => !plan.created.includes(t) || latest.has(t.id));
  run.outcomes = await executeTasks(actionable, { ...deps, cloud: deps.cloud }, input.signal);
  if (run.outcomes.length < actionable.length) {
    const reason = input.signal?.reason;
    run.interrupted = {
      reason: reason instanceof Error ? reason.message : String(reason ?? "interrupted"),
      left: actionable.length - run.outcomes.length,
    };
  }
  return run;
}

/** Sends every notice still queued on a task (this run's, and any a crash left behind). */
export async function flushPending(
  deps: Pick<RemediationDeps, "tasks" | "notifier" | "clock">,
): Promise<number> {
  if (!deps.notifier) return 0;
  let sent = 0;
  for (const t of await deps.tasks.list({ with_notices: true })) {
    sent += t.notices.length;
    await flushNotices(t, deps);
  }
  return sent;
}
