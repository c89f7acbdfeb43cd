import { createHash } from "node:crypto";
import type { RemediationConfig } from "./config.js";
import type { PlannableFinding, RemediationTask, TaskState } from "./types.js";

/**
 * A task's id follows from its finding and how many tasks that finding had before, so planning the
 * same state twice (say, after a crash) yields the same task, which the store then refuses to duplicate.
 */
export function taskId(findingId: string, episode: number): string {
  return `task-${createHash("sha256").update(`${findingId}#${episode}`).digest("hex").slice(0, 16)}`;
}

/**
 * A resource's owner as tagged, or null when the tag names no one: absent, empty, or the placeholder
 * costguard's own `tag` action writes into a missing tag (`missingTagValue`, `unassigned`). That
 * placeholder says nobody owns it yet; taken as an owner, it became the owner of every later task
 * (and of the snapshots copying its tags), and `defaultOwner` was never told.
 */
export function taggedOwner(value: string | null | undefined, config: RemediationConfig): string | null {
  return value && value !== config.missingTagValue ? value : null;
}

/** Who is told about a task: the finding's owner tag, else `defaultOwner` (docs/remediation.md). */
export function ownerOf(finding: PlannableFinding, config: RemediationConfig): string | null {
  return (
    taggedOwner(finding.owner, config) ??
    taggedOwner(finding.tags?.[config.ownerTag], config) ??
    (config.defaultOwner || null)
  );
}

export function newTask(
  finding: PlannableFinding,
  episode: number,
  now: Date,
  config: RemediationConfig,
): RemediationTask {
  const at = now.toISOString();
  const grace = config.grace[finding.severity];
  const due = grace <= 0;
  const state: TaskState = due ? "due" : "pending";
  return {
    id: taskId(finding.id, episode),
    finding_id: finding.id,
    ...(finding.inventory !== undefined ? { inventory: finding.inventory } : {}),
    resource_id: finding.resource_id,
    resource_type: finding.resource_type,
    resource_name: finding.resource_name ?? null,
    ...(finding.provider !== undefined ? { provider: finding.provider } : {}),
    account: finding.account ?? null,
    ...(finding.region !== undefined ? { region: finding.region } : {}),
    tags: { ...(finding.tags ?? {}) },
    policy: finding.policy,
    rule: finding.rule,
    message: finding.message,
    action: finding.action,
    severity: finding.severity,
    initial_severity: finding.severity,
    state,
    owner: ownerOf(finding, config),
    created_at: at,
    updated_at: at,
    grace_started_at: at,
    grace_ends_at: new Date(now.getTime() + grace).toISOString(),
    start_warned_at: null,
    end_warned_at: null,
    escalated_at: null,
    params: { ...(finding.params ?? {}) },
    estimated_monthly_savings: finding.estimated_monthly_savings ?? null,
    currency: finding.currency ?? "USD",
    attempts: 0,
    steps: [],
    result: null,
    realised_monthly_saving: null,
    notices: [],
    version: 1,
    history: [
      {
        at,
        from: null,
        to: state,
        note: due
          ? `${finding.severity} finding: no grace period, due now`
          : `${finding.severity} finding: grace until ${new Date(now.getTime() + grace).toISOString()}`,
      },
    ],
  };
}

/** A copy of the task with changes applied, its version bumped and, when the state moves, a history entry. */
export function updateTask(
  task: RemediationTask,
  now: Date,
  changes: Partial<RemediationTask>,
  note?: string,
): RemediationTask {
  const at = now.toISOString();
  const to = changes.state ?? task.state;
  const history = note === undefined ? task.history : [...task.history, { at, from: task.state, to, note }];
  return { ...task, ...changes, updated_at: at, version: task.version + 1, history };
}
