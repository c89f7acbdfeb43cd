import type { Severity } from "../policy/types.js";

/** What a finding recommends; the scanner's `recommended_action` values. */
export const REMEDIATION_ACTIONS = ["notify", "tag", "stop", "resize", "terminate", "delete"] as const;
export type RemediationAction = (typeof REMEDIATION_ACTIONS)[number];

export const TASK_STATES = [
  "pending",
  "notified",
  "due",
  "in_progress",
  "completed",
  "failed",
  "skipped",
] as const;
export type TaskState = (typeof TASK_STATES)[number];

/** States a task can still move from; the others are final. */
export const ACTIVE_TASK_STATES: readonly TaskState[] = ["pending", "notified", "due", "in_progress"];

export function isActive(state: TaskState): boolean {
  return ACTIVE_TASK_STATES.includes(state);
}

/** What the planner needs of a finding; the scanner's findings map onto it. */
export interface PlannableFinding {
  /** The finding's stable fingerprint. */
  id: string;
  resource_id: string;
  resource_type: string;
  resource_name?: string | undefined;
  /**
   * Where the resource is: with its type and id (and the inventory), one resource (see resourceKey).
   * A file inventory may list one id in two accounts or regions, each its own resource and task.
   */
  provider?: string | undefined;
  account?: string | undefined;
  region?: string | undefined;
  tags?: Record<string, string> | undefined;
  policy: string;
  rule: string;
  severity: Severity;
  message: string;
  action: RemediationAction;
  status: "open" | "resolved" | "excepted";
  exception_id?: string | null | undefined;
  owner?: string | null | undefined;
  /** Exact decimal text, per month. */
  estimated_monthly_savings?: string | null | undefined;
  currency?: string | undefined;
  params?: TaskParams | undefined;
  /** The inventory the finding was scanned from (`sandbox`, `aws:us-east-1`): its task acts there. */
  inventory?: string | undefined;
}

export interface TaskParams {
  /** Resize target (instance or database class), from the finding / the price book. */
  target_type?: string;
  /** Tag keys the finding says are missing. */
  missing_tags?: string[];
}

/** One step of the executor's progress, persisted before and after it acts (crash recovery). */
export interface TaskStep {
  name: string;
  status: "started" | "done";
  at: string;
  detail?: string;
}

export interface TaskEvent {
  at: string;
  from: TaskState | null;
  to: TaskState;
  note: string;
}

export interface RemediationTask {
  id: string;
  finding_id: string;
  /**
   * The inventory the finding came from; a cycle over one inventory plans and acts on its own tasks
   * only. Absent on tasks made before remediation-0003 (all of the sandbox, the one that could act).
   */
  inventory?: string;
  resource_id: string;
  resource_type: string;
  resource_name: string | null;
  /** Where the resource is (see PlannableFinding); absent when not known, and on tasks made before they were kept. */
  provider?: string;
  account: string | null;
  region?: string;
  tags: Record<string, string>;
  policy: string;
  rule: string;
  message: string;
  action: RemediationAction;
  /** Current severity: a medium finding whose notice ran out is escalated to high. */
  severity: Severity;
  initial_severity: Severity;
  state: TaskState;
  owner: string | null;
  created_at: string;
  updated_at: string;
  grace_started_at: string;
  grace_ends_at: string;
  start_warned_at: string | null;
  end_warned_at: string | null;
  escalated_at: string | null;
  params: TaskParams;
  estimated_monthly_savings: string | null;
  currency: string;
  attempts: number;
  steps: TaskStep[];
  result: string | null;
  /** Exact decimal text: what the action saves per month, measured on the resource. */
  realised_monthly_saving: string | null;
  /**
   * Exact decimal text: what the snapshot taken before acting costs per month, kept ("0" when none
   * was taken); null when its cost is not known. Absent before the task completes, and on tasks
   * completed before it was kept.
   */
  safety_snapshot_monthly_cost?: string | null;
  /**
   * When a full scan of a run that acts first no longer saw the finding, after the task completed.
   * A finding seen again since is a new violation (the instance stopped was started again): it gets
   * a new task. Without it, a completed action whose finding is still there is not repeated.
   * Absent on tasks not completed, and null until then.
   */
  finding_resolved_at?: string | null;
  /**
   * Notices decided but not yet handed to the notifier. They are written with the change that
   * decided them and cleared once sent, so a crash in between loses none (keys make resending harmless).
   */
  notices: OwnerNotice[];
  version: number;
  history: TaskEvent[];
}

export type OwnerNoticeKind =
  | "grace-started"
  | "grace-ending"
  | "escalated"
  | "severity-raised"
  | "manual-action-required"
  | "violation"
  | "remediated"
  | "remediation-failed";

/** A message to a resource's owner; `key` makes sending it twice harmless. */
export interface OwnerNotice {
  kind: OwnerNoticeKind;
  key: string;
  task_id: string;
  resource_id: string;
  owner: string | null;
  severity: Severity;
  action: RemediationAction;
  acts_at: string;
  text: string;
}
