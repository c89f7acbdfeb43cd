/**
 * What remediation needs of an inventory provider that can act (the sandbox, later AWS). Every call is
 * a single change the provider applies atomically; the executor makes the sequence safe to repeat by
 * checking the resource before each step.
 */
export interface ActionableResource {
  id: string;
  type: string;
  /** `running`, `stopped`, `available`, `in-use`, `terminated`, `deleted`, ... */
  state?: string | undefined;
  tags?: Record<string, string> | undefined;
  specs?: { instance_type?: string | undefined; [k: string]: unknown } | undefined;
  /** What the resource costs per month now: decimal text or number. */
  monthly_cost?: string | number | undefined;
  currency?: string | undefined;
}

export interface ResourceActions {
  /** The resource as it is now; undefined once it no longer exists. */
  describe(id: string): Promise<ActionableResource | undefined>;
  /**
   * A snapshot of `resourceId` this task already took, if any: one named `name` (where the provider
   * keeps names), or one taken at or after `since` (when the task began taking it).
   */
  findSnapshot(resourceId: string, taken: { name: string; since: string }): Promise<string | undefined>;
  /** Snapshots a volume, or every volume of an instance; returns the snapshot id. */
  snapshot(resourceId: string, name: string): Promise<string>;
  stop(id: string): Promise<void>;
  start(id: string): Promise<void>;
  resize(id: string, targetType: string): Promise<void>;
  addTags(id: string, tags: Record<string, string>): Promise<void>;
  terminate(id: string): Promise<void>;
  deleteVolume(id: string): Promise<void>;
  /**
   * Whether the provider resizes resources of this type while they run (RDS applies a class change
   * itself, with its own brief outage, and cannot change a stopped database): a resize then neither
   * stops nor starts them. Absent: every resize stops first and starts again after.
   */
  resizesInPlace?(resourceType: string): boolean;
  /**
   * Whether an action's error is one no other task would get past either (the cloud refusing the
   * credentials): the words that say so, or undefined. Such an error stops the run, and the task it
   * failed stays due without the attempt counted, so expired credentials do not use up the retries
   * of every task before anyone renews them.
   */
  stopsTheRun?(err: unknown): string | undefined;
}

/**
 * The tag on a snapshot costguard took for safety before acting, naming the resource it was taken of
 * (`costguard:source=vol-0abc`): on AWS beside `Name=costguard-TASK_ID`, in the sandbox beside the
 * source's own tags (kept for cost allocation). The planner does not tag such a snapshot apart.
 */
export const SAFETY_SNAPSHOT_TAG = "costguard:source";

export const GONE = new Set(["terminated", "deleted", "shutting-down"]);

export function isGone(r: ActionableResource | undefined): boolean {
  return r === undefined || (r.state !== undefined && GONE.has(r.state));
}
