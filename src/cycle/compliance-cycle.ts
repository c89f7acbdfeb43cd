import { performance } from "node:perf_hooks";
import { InputError } from "../errors.js";
import { subjectOf } from "../exceptions/annotator.js";
import { isReviewOverdue } from "../exceptions/lifecycle.js";
import { inEffectAt } from "../exceptions/match.js";
import { exceptedFindings, exceptionIndexOf } from "../exceptions/scan-path.js";
import type { ExceptionService, SweepResult } from "../exceptions/service.js";
import { type InventoryProvider, resourceKey } from "../inventory/types.js";
import { holdActing } from "../remediation/acting.js";
import type { ResourceActions } from "../remediation/actions.js";
import type { RemediationConfig } from "../remediation/config.js";
import { type RemediationDeps, type RemediationRun, runRemediation } from "../remediation/cycle.js";
import type { ExecutorEvent, OwnerNotifier } from "../remediation/executor.js";
import type { ExceptionLookup } from "../remediation/planner.js";
import { monthlySaving, sumAmounts } from "../remediation/saving.js";
import type { PlannableFinding } from "../remediation/types.js";
import type { ScanContext } from "../scan/findings.js";
import { runScan, type ScanResult } from "../scan/run-scan.js";
import type { Finding } from "../scan/types.js";
import type { Store } from "../store/store.js";
import type { Clock } from "../time/clock.js";

export interface CycleOptions {
  provider: InventoryProvider;
  /** How resources are judged; the clock is the cycle's and the inventory its provider's. */
  scan: Omit<ScanContext, "at" | "inventory">;
  store: Store;
  exceptions: ExceptionService;
  remediation: RemediationConfig;
  execute: boolean;
  clock: Clock;
  /** Needed with `execute`. */
  cloud?: ResourceActions | undefined;
  /** What the inventory cannot act on (see RemediationDeps.cannot). */
  cannot?: RemediationDeps["cannot"];
  notifier?: OwnerNotifier | undefined;
  /** Keep the scan, its findings and their lifecycle in the store (default true). */
  storeScan?: boolean;
  onEvent?: ((e: ExecutorEvent) => void) | undefined;
  onProgress?: Parameters<typeof runScan>[0]["onProgress"];
  onStoring?: Parameters<typeof runScan>[0]["onStoring"];
  /** How long the scan waits for another scan of the inventory to finish (see runScan). */
  lockTimeoutMs?: number;
  onWaiting?: Parameters<typeof runScan>[0]["onWaiting"];
  /**
   * How long the approved exceptions read for acting stay current (default a second): a task about to
   * act reads them again once they are older. 0 reads them for every task.
   */
  exceptionsFreshMs?: number;
  /** Told once when another run is acting on the inventory and this one waits for it (execute only). */
  onWaitingToAct?: (() => void) | undefined;
  /** A stored scan that reads no resources may resolve the inventory's findings (see runScan). */
  allowEmpty?: boolean;
  /**
   * Stops the cycle: during the scan between batches (see runScan: a stored scan is kept as failed
   * and the cycle goes no further), during remediation after the action under way (the rest stay
   * due; see RemediationRun.interrupted).
   */
  signal?: AbortSignal | undefined;
  /** Told when the cycle moves from scanning to remediating, and when remediation starts to act. */
  onPhase?: ((phase: "remediation" | "acting") => void) | undefined;
}

export type ComplianceLevel = "compliant" | "partial" | "non_compliant";

/** What a cycle did, in the shape of the guide's run_compliance_scan result. */
export interface CycleSummary {
  mode: "dry-run" | "execute";
  inventory: string;
  scan_id: string;
  scan_start: string;
  scan_end: string;
  duration_seconds: number;
  resources_scanned: number;
  violations_found: number;
  /** Findings the scan was given twice (records sharing a resource id; see ScanSummary). */
  repeated_findings?: number;
  /** Resources priced from their charges in a billing export (see ScanSummary). Present when any. */
  resources_billed?: number;
  violations_excepted: number;
  violations_actionable: number;
  tasks_created: number;
  owner_warnings: number;
  tasks_due: number;
  tasks_waiting: number;
  tasks_blocked: number;
  remediations_completed: number;
  remediations_failed: number;
  remediations_skipped: number;
  aborted: string | null;
  compliance_score: number;
  compliance_level: ComplianceLevel;
  non_compliant_resources: number;
  potential_monthly_savings: string;
  /** What this run's completed actions save per month, measured on the resources (the ledger's sum). */
  realised_monthly_savings: string;
  /** What the safety snapshots those actions took cost per month, kept (those priced). */
  safety_snapshots_monthly_cost: string;
  /** Completed actions whose safety snapshot's cost is not known (AWS), so not taken off. */
  safety_snapshots_unpriced: number;
  /** realised_monthly_savings less safety_snapshots_monthly_cost: what the estate costs less. */
  net_realised_monthly_savings: string;
  currency: string;
  exceptions_active: number;
  exceptions_expired: number;
  /** Active exceptions whose review is overdue at the run's time (reminded now or before). */
  exception_reviews_overdue: number;
  /** Of those, the ones this run reminded their approver and requester of (each is reminded once). */
  exception_review_reminders: number;
  /**
   * What the scan could not judge (see ScanSummary): the compliance score counts a resource without
   * findings as compliant, and these say how much of that rests on missing data.
   */
  not_judged: {
    idle_unmeasured: number;
    /** Instances and databases not judged idle for their state, by state (ScanSummary.idle_other_states). */
    idle_other_states: Record<string, number>;
    unattached_undated: number;
    unverified_checks: Record<string, number>;
    /** Resources of types no rule or detector judges, by type (ScanSummary.unjudged_types). */
    unjudged_types: Record<string, number>;
  };
}

export interface CycleResult {
  summary: CycleSummary;
  scan: ScanResult;
  remediation: RemediationRun;
  sweep: SweepResult;
}

/** The exception lookup remediation uses: the same index, asked at the moment of planning and of acting. */
export function exceptionLookup(
  index: Awaited<ReturnType<ExceptionService["activeIndex"]>>,
): ExceptionLookup {
  return (s, now) =>
    index.find(
      subjectOf({
        id: s.resource_id,
        type: s.resource_type,
        tags: s.tags ?? {},
        ...(s.account ? { account: s.account } : {}),
      }),
      s.policy,
      s.rule,
      now,
    )?.id;
}

export function plannableFinding(f: Finding, tags: Record<string, string> | undefined): PlannableFinding {
  const params: PlannableFinding["params"] = {};
  if (f.recommendation.target) params.target_type = f.recommendation.target.instance_type;
  if (f.recommendation.tags) params.missing_tags = [...f.recommendation.tags];
  return {
    id: f.fingerprint,
    resource_id: f.resource_id,
    resource_type: f.resource_type,
    resource_name: f.resource_name ?? undefined,
    provider: f.provider ?? undefined,
    account: f.account ?? undefined,
    region: f.region ?? undefined,
    tags,
    policy: f.policy,
    rule: f.rule,
    severity: f.severity,
    message: f.message,
    action: f.recommendation.action,
    // Exceptions are asked again at planning time, so one that ends mid-cycle stops applying at once.
    status: "open",
    estimated_monthly_savings: f.savings_monthly,
    currency: f.currency,
    params,
  };
}

/** How long the exceptions read for acting stay current before they are read again. */
const EXCEPTIONS_FRESH_MS = 1000;

/**
 * The approved exceptions as they stand, read again for a task about to act once those read last are
 * a second old: an exception approved while a run acts covers the tasks it has not reached yet (a
 * run of a hundred thousand tasks reads them a few hundred times, not once per task).
 */
function currentExceptions(
  exceptions: ExceptionService,
  atStart: ReturnType<typeof exceptionIndexOf>,
  freshMs = EXCEPTIONS_FRESH_MS,
): () => Promise<ExceptionLookup> {
  let lookup = exceptionLookup(atStart);
  let readAt = performance.now();
  return async () => {
    if (performance.now() - readAt >= freshMs) {
      lookup = exceptionLookup(exceptionIndexOf(await exceptions.list({ status: "approved" })));
      readAt = performance.now();
    }
    return lookup;
  };
}

export function complianceLevel(score: number): ComplianceLevel {
  return score >= 95 ? "compliant" : score >= 80 ? "partial" : "non_compliant";
}

/**
 * One compliance cycle: scan through the same engine as the gates, findings covered by an approved
 * exception (not one expiring by now) marked excepted as they are found → exceptions swept (with
 * `execute` expiries stored and overdue reviews notified, else only counted) → remediation (a dry run
 * unless `execute`) → a summary. Notifications leave through `notifier` (owner notices) and the
 * caller (the summary).
 */
export async function runComplianceCycle(options: CycleOptions): Promise<CycleResult> {
  // Acting, one run per inventory at a time: taken before anything is scanned or planned.
  const acting = options.execute
    ? await holdActing(options.store.tasks, options.provider.name, {
        waitMs: options.lockTimeoutMs,
        signal: options.signal,
        onWaiting: options.onWaitingToAct,
      })
    : undefined;
  try {
    if (options.execute) await refuseActingBackwards(options.store, options.provider.name, options.clock());
    return await cycle(options);
  } finally {
    await acting?.release();
  }
}

/**
 * Acting as of a time before the inventory's tasks last changed would write their history backwards
 * (a task acted on before it was planned, a grace period that ends before it began): refused, as a
 * stored scan as of a time before the latest is. `--no-store` does not lift it: tasks are stored when
 * acting whether the scan is or not.
 */
async function refuseActingBackwards(store: Store, inventory: string, now: Date): Promise<void> {
  const last = await store.tasks.lastChange(inventory);
  if (last !== undefined && last > now.toISOString())
    throw new InputError(
      `cannot act on ${inventory} as of ${now.toISOString()}: its remediation tasks last changed at ${last}, and their history only moves forward. Act as of that time or later (--at), or plan without --execute for a what-if.`,
    );
}

/** A store's tasks and audit log in one transaction, for remediation (see ExecutorDeps.transaction). */
export function taskAndAuditTransaction(store: Store): NonNullable<RemediationDeps["transaction"]> {
  return (fn) => store.transaction((tx) => fn({ tasks: tx.tasks, audit: tx.audit }));
}

async function cycle(options: CycleOptions): Promise<CycleResult> {
  const started = performance.now();
  const { clock, store } = options;
  // What the sweep finds is seen first and kept only once the scan has worked, by a run that acts: a
  // dry run stores and sends nothing, and a run that fails on its input leaves the exceptions alone.
  const preview = await options.exceptions.sweep({ dryRun: true });
  const ended = new Set(preview.expired.map((e) => e.id));
  const approved = (await options.exceptions.list({ status: "approved" })).filter((e) => !ended.has(e.id));
  const index = exceptionIndexOf(approved);
  const scanStart = clock();
  const tracker = exceptedFindings();
  const found: Finding[] = [];
  const storeScan = options.storeScan ?? true;
  const scan = await runScan({
    provider: tracker.wrap(options.provider),
    context: { ...options.scan, inventory: options.provider.name, at: scanStart },
    ...(storeScan ? { store } : {}),
    // Matched where each resource is judged, at the scan's clock, as `costguard scan` matches them:
    // the scan's summary and history then say what they took off the savings at stake.
    ...(approved.length > 0
      ? {
          exceptions: {
            approved,
            onExcepted: (fingerprint: string, id: string) => tracker.cover(fingerprint, id),
          },
        }
      : {}),
    onFindings: (batch) => {
      tracker.remember(batch);
      for (const f of batch) found.push(f);
    },
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.onStoring ? { onStoring: options.onStoring } : {}),
    ...(options.lockTimeoutMs ? { lockTimeoutMs: options.lockTimeoutMs } : {}),
    ...(options.onWaiting ? { onWaiting: options.onWaiting } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.allowEmpty ? { allowEmpty: true } : {}),
  });
  if (storeScan) await tracker.apply(store, scan.id, scan.inventory, scan.started_at);
  const sweep = options.execute ? await options.exceptions.sweep() : preview;

  options.onPhase?.("remediation");
  const remediation = await runRemediation({
    signal: options.signal,
    onActing: () => options.onPhase?.("acting"),
    findings: found.map((f) => ({
      ...plannableFinding(f, tracker.resources.get(resourceKey(f))?.tags),
      inventory: scan.inventory,
    })),
    inventory: scan.inventory,
    inventorySize: scan.summary.resources_scanned,
    execute: options.execute,
    complete: true,
    deps: {
      tasks: store.tasks,
      ledger: store.ledger,
      clock,
      config: options.remediation,
      cloud: options.cloud,
      cannot: options.cannot,
      notifier: options.notifier,
      exceptionFor: exceptionLookup(index),
      currentExceptions: currentExceptions(options.exceptions, index, options.exceptionsFreshMs),
      audit: store.audit,
      transaction: taskAndAuditTransaction(store),
      onEvent: options.onEvent,
    },
  });

  // A resource is its place, type and id: `i-1` in two accounts is two resources, each non-compliant.
  const nonCompliant = new Set<string>();
  for (const f of found) if (!tracker.excepted.has(f.fingerprint)) nonCompliant.add(resourceKey(f));
  // Resources gone or going were judged on nothing: they are not part of the estate to score.
  const total = scan.summary.resources_scanned - (scan.summary.resources_gone ?? 0);
  const score = total > 0 ? Math.round(((total - nonCompliant.size) / total) * 10000) / 100 : 100;
  const outcome = (kind: string) => remediation.outcomes.filter((o) => o.outcome === kind);
  const completed = outcome("completed");
  const realised = sumAmounts(completed.map((o) => o.task.realised_monthly_saving ?? "0"));
  const snapshots = sumAmounts(completed.map((o) => o.task.safety_snapshot_monthly_cost ?? "0"));
  const summary: CycleSummary = {
    mode: remediation.mode,
    inventory: scan.inventory,
    scan_id: scan.id,
    scan_start: scanStart.toISOString(),
    scan_end: clock().toISOString(),
    duration_seconds: Math.round(performance.now() - started) / 1000,
    resources_scanned: total,
    violations_found: found.length,
    ...(scan.summary.repeated_findings ? { repeated_findings: scan.summary.repeated_findings } : {}),
    ...(scan.summary.resources_billed ? { resources_billed: scan.summary.resources_billed } : {}),
    violations_excepted: tracker.excepted.size,
    violations_actionable: found.length - tracker.excepted.size,
    tasks_created: remediation.plan.created.length,
    owner_warnings: remediation.plan.warnings.length + remediation.safety.warnings.length,
    tasks_due: remediation.plan.due.length,
    tasks_waiting: remediation.plan.waiting.length,
    tasks_blocked: remediation.safety.blocked.length,
    remediations_completed: completed.length,
    remediations_failed: outcome("failed").length,
    // Skipped when acting (an exception approved meanwhile, nothing left to do) and, by a run that
    // stores its plan, when planning (the finding resolved, excepted or superseded).
    remediations_skipped:
      outcome("skipped").length +
      (remediation.mode === "execute"
        ? remediation.plan.updated.filter((t) => t.state === "skipped").length
        : 0),
    aborted: remediation.aborted,
    compliance_score: score,
    compliance_level: complianceLevel(score),
    non_compliant_resources: nonCompliant.size,
    potential_monthly_savings: scan.summary.savings_monthly,
    realised_monthly_savings: realised,
    safety_snapshots_monthly_cost: snapshots,
    safety_snapshots_unpriced: completed.filter((o) => o.task.safety_snapshot_monthly_cost === null).length,
    net_realised_monthly_savings: monthlySaving(realised, snapshots),
    currency: scan.summary.currency,
    // In effect as of the scan: one approved after a look back (--at) is not yet.
    exceptions_active: approved.filter((e) => inEffectAt(e, scanStart)).length,
    exceptions_expired: sweep.expired.length,
    exception_reviews_overdue: approved.filter((e) => isReviewOverdue(e, scanStart)).length,
    exception_review_reminders: sweep.reviewRequested.length,
    not_judged: {
      idle_unmeasured: scan.summary.idle_unmeasured ?? 0,
      idle_other_states: scan.summary.idle_other_states ?? {},
      unattached_undated: scan.summary.unattached_undated ?? 0,
      unverified_checks: scan.summary.unverified_checks ?? {},
      unjudged_types: scan.summary.unjudged_types ?? {},
    },
  };
  return { summary, scan, remediation, sweep };
}
