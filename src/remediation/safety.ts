import { resourceKey } from "../inventory/types.js";
import type { SafetyConfig } from "./config.js";
import { ownerNotice } from "./planner.js";
import { updateTask } from "./task.js";
import type { OwnerNotice, RemediationAction, RemediationTask } from "./types.js";

/** Actions that change a resource (a notification does not count towards the blast radius). */
export const CHANGING_ACTIONS: readonly RemediationAction[] = [
  "tag",
  "stop",
  "resize",
  "terminate",
  "delete",
];

export interface SafetyVerdict {
  /** Tasks that may act. */
  actionable: RemediationTask[];
  /** Tasks a safety rule withholds (terminate or delete not enabled). */
  blocked: { task: RemediationTask; reason: string }[];
  /** Blocked tasks newly marked as such (to store), with one warning each to the owner. */
  updated: RemediationTask[];
  warnings: OwnerNotice[];
  /** Resources the actionable tasks would change. */
  changes: number;
  /** The blast-radius cap in force for this run. */
  cap: number;
  /** Set when the run must stop before its first action. */
  abort?: string;
}

export function blockedReason(action: RemediationAction, safety: SafetyConfig): string | undefined {
  if (action === "terminate" && !safety.allowTerminate)
    return "terminating instances is disabled (remediation.safety.allowTerminate: false): manual action required";
  if (action === "delete" && !safety.allowDeleteVolumes)
    return "deleting volumes is disabled (remediation.safety.allowDeleteVolumes: false): manual action required";
  return undefined;
}

/**
 * The rails checked before anything acts: destructive actions only when enabled, and a blast-radius
 * cap — more changed resources than `maxActions`, or than `maxActionsPercent` of the resources
 * scanned, and the whole run aborts before its first action.
 */
export function checkSafety(
  due: readonly RemediationTask[],
  safety: SafetyConfig,
  inventorySize: number,
  now: Date,
): SafetyVerdict {
  const verdict: SafetyVerdict = {
    actionable: [],
    blocked: [],
    updated: [],
    warnings: [],
    changes: 0,
    cap: 0,
  };
  const changed = new Set<string>();
  for (const task of due) {
    // A task a crash interrupted is finished whatever the settings say now: it already began changing things.
    const reason = task.state === "in_progress" ? undefined : blockedReason(task.action, safety);
    if (reason === undefined) {
      verdict.actionable.push(task);
      // One resource is its place, type and id: `i-1` in two accounts is two resources changed.
      if (CHANGING_ACTIONS.includes(task.action)) changed.add(resourceKey(task));
      continue;
    }
    verdict.blocked.push({ task, reason });
    const note = `blocked: ${reason}`;
    if (!task.history.some((h) => h.note === note)) {
      const notice = ownerNotice(
        task,
        "manual-action-required",
        `${task.resource_id}: ${task.message}. costguard would ${task.action} it, but ${reason}.`,
      );
      verdict.updated.push(updateTask(task, now, { notices: [...task.notices, notice] }, note));
      verdict.warnings.push(notice);
    }
  }
  verdict.changes = changed.size;
  const byShare = Math.floor((safety.maxActionsPercent / 100) * inventorySize);
  verdict.cap = Math.min(safety.maxActions, byShare);
  // Every cap exceeded is named (the summary's cap is the smaller one).
  const over: string[] = [];
  if (changed.size > safety.maxActions) over.push(`remediation.safety.maxActions (${safety.maxActions})`);
  if (changed.size > byShare)
    over.push(`remediation.safety.maxActionsPercent (${safety.maxActionsPercent}% = ${byShare})`);
  if (over.length > 0)
    verdict.abort = `blast radius: this run would change ${changed.size} of ${inventorySize} resources, more than ${over.join(" and ")}; nothing was done`;
  return verdict;
}
