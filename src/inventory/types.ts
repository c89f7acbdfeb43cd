import type { ResourceRequest } from "../engine/types.js";

/** Utilisation over a window, as a provider measured it. */
export interface ResourceMetrics {
  /** Average CPU utilisation in percent over the window. */
  avg_cpu_percent?: number;
  /** Average network traffic (in + out) per day, in bytes, over the window. */
  avg_network_bytes?: number;
  window_days?: number;
}

/**
 * An existing resource: the request shape every gate uses, plus what only a running estate knows.
 * Costs are decimal numbers or decimal text in the resource's currency (USD unless `currency` says).
 */
export interface Resource extends ResourceRequest {
  id: string;
  state?: string;
  created_at?: string | null;
  hourly_cost?: number | string | null;
  monthly_cost?: number | string | null;
  currency?: string;
  /** The instance a volume is attached to; absent or null when detached. */
  attached_to?: string | null;
  detached_at?: string | null;
  metrics?: ResourceMetrics;
}

/**
 * Where a resource is and what it is, as findings, remediation findings and tasks name it: an id is
 * unique only within its place (a file inventory may list `i-1` in two accounts or regions, or an
 * instance and a volume both named `i-1`).
 */
export interface ResourcePlace {
  inventory?: string | null | undefined;
  provider?: string | null | undefined;
  account?: string | null | undefined;
  region?: string | null | undefined;
  resource_type: string;
  resource_id: string;
}

/**
 * One resource's key for a map or a set: its inventory, provider, account, region, type and id, as a
 * scan counts each record and the store's totals count a resource. Parts not known are null. Keys
 * compare only when made alike: a cycle keys one inventory's findings and resources without it.
 */
export function resourceKey(r: ResourcePlace): string {
  return JSON.stringify([
    r.inventory ?? null,
    r.provider ?? null,
    r.account ?? null,
    r.region ?? null,
    r.resource_type,
    r.resource_id,
  ]);
}

/** States in which a resource no longer exists (and no longer costs anything). */
export const GONE_STATES: ReadonlySet<string> = new Set(["terminated", "deleted", "shutting-down"]);

/**
 * Whether `state` is one of `states` (written in lower case), in any case: Google Cloud lists
 * `RUNNING` and `STOPPED`, people write `Running`. Not for GONE_STATES: a Google Cloud instance
 * `TERMINATED` is stopped, not gone, and judging it (tags, limits) is right.
 */
export function inState(states: ReadonlySet<string>, state: string | undefined): boolean {
  return state !== undefined && (states.has(state) || states.has(state.toLowerCase()));
}

export interface InventoryProgress {
  /** Resources read so far. */
  resources: number;
  /** Work done and total, in the provider's own unit (bytes of a file, pages, resources). */
  done: number;
  total: number | undefined;
}

export interface ReadOptions {
  onProgress?: (p: InventoryProgress) => void;
  signal?: AbortSignal;
}

/**
 * Where resources come from. `read` yields them in batches (a batch is a few hundred to a few
 * thousand resources), so a million-resource estate streams through in constant memory.
 */
export interface InventoryProvider {
  /** What the scan history records as the inventory, e.g. `file:estate.jsonl`, `sandbox`, `aws`. */
  readonly name: string;
  read(options?: ReadOptions): AsyncIterable<Resource[]>;
}
