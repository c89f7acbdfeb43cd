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
