import { resourceKey } from "../inventory/types.js";
import { SEVERITIES, type Severity } from "../policy/types.js";
import { formatDuration } from "../time/duration.js";
import { SAFETY_SNAPSHOT_TAG } from "./actions.js";
import type { RemediationConfig } from "./config.js";
import { newTask, ownerOf, updateTask } from "./task.js";
import {
  isActive,
  type OwnerNotice,
  type OwnerNoticeKind,
  type PlannableFinding,
  type RemediationTask,
} from "./types.js";

/** Which approved exception, if any, waives a finding at a given time (the remediation path). */
export type ExceptionLookup = (
  subject: {
    resource_id: string;
    resource_type: string;
    tags?: Record<string, string> | undefined;
    account?: string | null | undefined;
    policy: string;
    rule: string;
  },
  now: Date,
) => string | undefined;

export interface PlanInput {
  findings: readonly PlannableFinding[];
  /** The tasks already stored for these findings, active and finished. */
  tasks: readonly RemediationTask[];
  now: Date;
  config: RemediationConfig;
  exceptionFor?: ExceptionLookup;
  /**
   * The findings are all the inventory has now (a full scan): a stored task whose finding is absent
   * is then no longer needed and is skipped (one in progress is finished instead).
   */
  complete?: boolean;
}

/** A finding the plan does not act on, and why (logged and printed). */
export interface PassedFinding {
  finding_id: string;
  resource_id: string;
  policy: string;
  rule: string;
  reason: string;
  exception_id?: string;
}

export interface RemediationPlan {
  at: string;
  /** New tasks, to insert. */
  created: RemediationTask[];
  /** Existing tasks this run moved on, to store. */
  updated: RemediationTask[];
  /** Owner warnings this run sends (each once: they carry the moment they were decided). */
  warnings: OwnerNotice[];
  /** Tasks whose grace is over (or that a crash interrupted): what acting would act on. */
  due: RemediationTask[];
  /** Tasks still in their grace period. */
  waiting: RemediationTask[];
  passed: PassedFinding[];
}

/**
 * The planning step of a cycle, pure: from the open findings and the stored tasks, which tasks to
 * create, which to move on (warned, escalated, due, skipped), which warnings to send, and what is due.
 */
export function planRemediation(input: PlanInput): RemediationPlan {
  const { now, config } = input;
  const at = now.toISOString();
  const plan: RemediationPlan = {
    at,
    created: [],
    updated: [],
    warnings: [],
    due: [],
    waiting: [],
    passed: [],
  };
  const byFinding = new Map<string, RemediationTask[]>();
  for (const t of input.tasks) {
    const list = byFinding.get(t.finding_id);
    if (list) list.push(t);
    else byFinding.set(t.finding_id, [t]);
  }
  const findings = [...input.findings].sort((a, b) => a.id.localeCompare(b.id));
  const superseded = supersededFindings(findings);

  for (const finding of findings) {
    const history = (byFinding.get(finding.id) ?? []).sort((a, b) =>
      a.created_at.localeCompare(b.created_at),
    );
    const active = history.find((t) => isActive(t.state));
    const pass = (reason: string, exceptionId?: string) =>
      plan.passed.push({
        finding_id: finding.id,
        resource_id: finding.resource_id,
        policy: finding.policy,
        rule: finding.rule,
        reason,
        ...(exceptionId ? { exception_id: exceptionId } : {}),
      });
    // The finding is not acted on: its task is skipped, or finished when it is acting (a resize
    // between stop and start is not left half done).
    const passOver = (reason: string, exceptionId?: string) => {
      if (active && active.state !== "in_progress")
        plan.updated.push(
          updateTask(active, now, { state: "skipped", result: reason }, `skipped: ${reason}`),
        );
      else if (active) advance(active, plan, now, config);
      pass(reason, exceptionId);
    };

    const exceptionId =
      finding.status === "excepted"
        ? (finding.exception_id ?? "an approved exception")
        : input.exceptionFor?.(
            {
              resource_id: finding.resource_id,
              resource_type: finding.resource_type,
              tags: finding.tags,
              account: finding.account,
              policy: finding.policy,
              rule: finding.rule,
            },
            now,
          );

    if (finding.status === "resolved" || exceptionId !== undefined) {
      const reason =
        exceptionId !== undefined
          ? `excepted by ${exceptionId}`
          : "the finding is resolved (a scan no longer sees it)";
      passOver(reason, exceptionId);
      const last = history.at(-1);
      if (finding.status === "resolved" && last?.state === "completed" && !last.finding_resolved_at)
        plan.updated.push(updateTask(last, now, { finding_resolved_at: at }, reason));
      continue;
    }

    const snapshotOf = safetySnapshotSource(finding);
    if (snapshotOf !== undefined) {
      // Its tags are its source's, copied for cost allocation: the finding stays in scans, and the
      // source's own tag task mends them there. Tagged apart, every remediation's snapshot made a task
      // and a notice more.
      passOver(
        `a safety snapshot costguard took of ${snapshotOf} (${SAFETY_SNAPSHOT_TAG}): its tags are its source's, not tagged apart`,
      );
      continue;
    }

    const better = superseded.get(finding.id);
    if (better !== undefined) {
      passOver(`superseded by ${better.id} (${better.action} saves more than ${finding.action})`);
      continue;
    }

    if (active) {
      advance(active, plan, now, config, { finding });
      continue;
    }
    const last = history.at(-1);
    // Not repeated while the finding stays (a placeholder tag that still fails the policy); resolved
    // since and found again (a stopped instance started again), it is a new violation and a new task.
    if (last?.state === "completed" && last.action === finding.action && !last.finding_resolved_at) {
      pass(`already remediated by ${last.id} (${last.action}) and still found: needs a person to look`);
      continue;
    }
    if (last?.state === "failed") {
      if (last.attempts < config.maxAttempts) {
        advance(last, plan, now, config, { finding });
        continue;
      }
      pass(`${last.id} failed ${last.attempts} times (${last.result ?? "no detail"}); not tried again`);
      continue;
    }
    const task = newTask(finding, history.length + 1, now, config);
    plan.created.push(task);
    advance(task, plan, now, config, { isNew: true });
  }
  // A task a crash interrupted is finished even when its finding is gone from this scan (the half
  // done action itself can make the scan stop seeing it: a resize's stop ends an idle finding).
  const planned = new Set(findings.map((f) => f.id));
  for (const t of input.tasks) {
    if (planned.has(t.finding_id)) continue;
    if (t.state === "in_progress") plan.due.push(t);
    else if (input.complete && isActive(t.state)) {
      const reason = "the finding is resolved (a scan no longer sees it)";
      plan.updated.push(updateTask(t, now, { state: "skipped", result: reason }, `skipped: ${reason}`));
    } else if (input.complete && t.state === "completed" && !t.finding_resolved_at)
      plan.updated.push(
        updateTask(t, now, { finding_resolved_at: at }, "the finding is resolved (a scan no longer sees it)"),
      );
  }
  return plan;
}

/**
 * The resource a tag finding's resource is costguard's safety snapshot of (its SAFETY_SNAPSHOT_TAG),
 * or undefined: any other finding, or a resource costguard did not snapshot for safety.
 */
function safetySnapshotSource(finding: PlannableFinding): string | undefined {
  const aboutTags = finding.action === "tag" || (finding.params?.missing_tags?.length ?? 0) > 0;
  return aboutTags ? finding.tags?.[SAFETY_SNAPSHOT_TAG] || undefined : undefined;
}

/** Actions that exclude each other on one resource: stopping an idle instance and resizing it are alternatives. */
const EXCLUSIVE: readonly string[] = ["stop", "resize", "delete", "terminate"];

/**
 * For each resource, keeps the exclusive action that saves most; maps every other one to the kept
 * finding. A resource is its place, type and id (resourceKey): `i-1` in two accounts is two instances,
 * each stopped or resized on its own.
 */
function supersededFindings(findings: readonly PlannableFinding[]): Map<string, PlannableFinding> {
  const best = new Map<string, PlannableFinding>();
  const saving = (f: PlannableFinding) => Number(f.estimated_monthly_savings ?? 0);
  for (const f of findings) {
    if (f.status !== "open" || !EXCLUSIVE.includes(f.action)) continue;
    const key = resourceKey(f);
    const current = best.get(key);
    // Ranking only (sums stay exact elsewhere): more saving first, then the gentler action.
    if (
      !current ||
      saving(f) > saving(current) ||
      (saving(f) === saving(current) && EXCLUSIVE.indexOf(f.action) < EXCLUSIVE.indexOf(current.action))
    )
      best.set(key, f);
  }
  const out = new Map<string, PlannableFinding>();
  for (const f of findings) {
    if (f.status !== "open" || !EXCLUSIVE.includes(f.action)) continue;
    const kept = best.get(resourceKey(f));
    if (kept && kept !== f) out.set(f.id, kept);
  }
  return out;
}

function sameTags(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

/** Whether `to` is more severe than `from` (SEVERITIES runs from the most severe down). */
const isRaise = (to: Severity, from: Severity) => SEVERITIES.indexOf(to) < SEVERITIES.indexOf(from);

/**
 * Moves one active task along its grace period; records the change in the plan. Given its finding as
 * this scan sees it, the task follows a raised severity first (see raiseSeverity).
 */
function advance(
  task: RemediationTask,
  plan: RemediationPlan,
  now: Date,
  config: RemediationConfig,
  options: { isNew?: boolean; finding?: PlannableFinding } = {},
): void {
  const t0 = now.getTime();
  let t = task;
  const change = (changes: Partial<RemediationTask>, note?: string) => {
    t = updateTask(t, now, changes, note);
  };
  const warn = (kind: OwnerNoticeKind, text: string, keyPart?: string) => {
    const notice = ownerNotice(t, kind, text, keyPart);
    plan.warnings.push(notice);
    t = { ...t, notices: [...t.notices, notice] };
  };

  // The owner as the resource is tagged now (else defaultOwner): a task made before the owner tag
  // changed warns and reports to the new owner, not the one it was made with. The tags follow too,
  // so an exception's tag selector is asked about them as they are when the task acts.
  const finding = options.finding;
  if (finding?.tags !== undefined && !sameTags(finding.tags, t.tags)) change({ tags: { ...finding.tags } });
  const owner = finding === undefined ? t.owner : ownerOf(finding, config);
  if (owner !== t.owner) {
    const was = t.owner;
    change({ owner }, `owner is now ${owner ?? "no one"}, was ${was ?? "no one"}`);
    // The new owner did not get the warning the grace started with: told now what it said.
    const ends = Date.parse(t.grace_ends_at);
    if (owner !== null && t.state === "notified" && t0 < ends)
      warn(
        "grace-started",
        `${t.resource_id}: ${t.message} (${t.policy}/${t.rule}, ${t.severity}). Its owner is now ${owner} (was ${was ?? "no one"}): costguard will ${t.action} it after ${t.grace_ends_at} (in ${formatDuration(ends - t0)}) unless it is fixed or excepted.`,
        `owner:${owner}`,
      );
  }

  if (t.state === "failed" && t.attempts < config.maxAttempts)
    change({ state: "due" }, "retry after a failure");

  if (t.state === "pending" || t.state === "notified") {
    const escalates = () =>
      t.severity === "medium" && config.escalateMedium && t.escalated_at === null && config.grace.high > 0;
    const raisedTo = options.finding?.severity;
    // A finding whose severity was raised during its grace (the policy changed): the grace is cut to
    // what the new severity allows from its start, and the owner told. A lowered one leaves the
    // notice already given as it is (neither lengthened nor escalated differently).
    if (raisedTo !== undefined && isRaise(raisedTo, t.severity)) {
      const from = t.severity;
      const wasEnding = t.grace_ends_at;
      const start = Date.parse(t.grace_started_at);
      const until = Math.min(Date.parse(t.grace_ends_at), start + config.grace[raisedTo]);
      const untilText = new Date(until).toISOString();
      const over = until <= t0;
      const finalAt = until - Math.min(config.finalWarning[raisedTo], (until - start) / 2);
      change(
        {
          severity: raisedTo,
          grace_ends_at: untilText,
          // The notice below says when: no last warning right after it.
          end_warned_at: t.end_warned_at ?? (t0 >= finalAt ? now.toISOString() : null),
        },
        `severity raised from ${from} to ${raisedTo}: ${over ? "grace period over" : `action after ${untilText}`}`,
      );
      // A medium one whose notice is already over is escalated below, which tells the owner.
      if (!(over && escalates()))
        warn(
          "severity-raised",
          `${t.resource_id}: ${t.message} (${t.policy}/${t.rule}) is now ${raisedTo}, was ${from}. ${
            over
              ? `Its grace period as ${raisedTo} is over: costguard will ${t.action} it now unless it is excepted.`
              : `costguard will ${t.action} it after ${untilText} (in ${formatDuration(until - t0)}), not ${wasEnding}, unless it is fixed or excepted.`
          }`,
          raisedTo,
        );
    }
    let ends = Date.parse(t.grace_ends_at);
    if (t0 >= ends && t.severity === "medium" && config.escalateMedium && t.escalated_at === null) {
      // The notice as given (grace.medium when the task was made), not a fixed seven days.
      const notice = formatDuration(ends - Date.parse(t.grace_started_at));
      const grace = config.grace.high;
      const until = new Date(t0 + grace).toISOString();
      change(
        {
          severity: "high",
          escalated_at: now.toISOString(),
          grace_started_at: now.toISOString(),
          grace_ends_at: until,
          start_warned_at: grace > 0 ? now.toISOString() : t.start_warned_at,
          end_warned_at: null,
          state: grace > 0 ? "notified" : "due",
        },
        `notice expired: escalated from medium to high, ${grace > 0 ? `action after ${until}` : "due now"}`,
      );
      if (grace > 0)
        warn(
          "escalated",
          `The ${notice} notice for ${t.resource_id} (${t.policy}/${t.rule}) ran out: escalated to high. costguard will ${t.action} it after ${until} unless it is fixed or excepted.`,
        );
      ends = Date.parse(t.grace_ends_at);
    }
    if (t.state === "pending" && t0 < ends) {
      change({ state: "notified", start_warned_at: now.toISOString() }, "owner warned: grace period started");
      warn(
        "grace-started",
        `${t.resource_id}: ${t.message} (${t.policy}/${t.rule}, ${t.severity}). costguard will ${t.action} it after ${t.grace_ends_at} (in ${formatDuration(ends - t0)}) unless it is fixed or excepted.`,
      );
    }
    const finalAt =
      ends - Math.min(config.finalWarning[t.severity], (ends - Date.parse(t.grace_started_at)) / 2);
    if (t.state === "notified" && t.end_warned_at === null && t0 >= finalAt && t0 < ends) {
      change({ end_warned_at: now.toISOString() });
      warn(
        "grace-ending",
        `Last warning: costguard will ${t.action} ${t.resource_id} after ${t.grace_ends_at} (in ${formatDuration(ends - t0)}): ${t.message}`,
      );
    }
    if (t0 >= ends) change({ state: "due" }, "grace period over: due");
  }

  if (t.state === "due" || t.state === "in_progress") plan.due.push(t);
  else if (t.state === "pending" || t.state === "notified") plan.waiting.push(t);
  if (options.isNew) plan.created[plan.created.length - 1] = t;
  else if (t !== task) plan.updated.push(t);
}

/** An owner notice about a task; `keyPart` tells apart notices of one kind within one grace period. */
export function ownerNotice(
  task: RemediationTask,
  kind: OwnerNoticeKind,
  text: string,
  keyPart?: string,
): OwnerNotice {
  return {
    kind,
    key: `remediation:${task.id}:${kind}:${task.grace_started_at}${keyPart === undefined ? "" : `:${keyPart}`}`,
    task_id: task.id,
    resource_id: task.resource_id,
    owner: task.owner,
    severity: task.severity,
    action: task.action,
    acts_at: task.grace_ends_at,
    text,
  };
}
