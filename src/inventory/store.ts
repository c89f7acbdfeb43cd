import type { Resource } from "./types.js";

/** A resource as the store keeps it: the resource and when it last changed. */
export interface StoredResource {
  resource: Resource;
  updated_at: string;
  /** When it was terminated or deleted; null while it exists. */
  gone_at: string | null;
}

/**
 * Resources kept in the store, partitioned by `source` (the sandbox estate is `sandbox`). The sandbox
 * keeps its whole simulated cloud here, so actions change state that a later scan reads back.
 */
export interface ResourceRepository {
  /** Inserts or replaces resources by (source, id). */
  put(source: string, resources: readonly Resource[], at: string): Promise<void>;
  /**
   * `lock`, inside a transaction: the row is held until it ends (PostgreSQL's FOR UPDATE; a SQLite
   * transaction holds the whole database already), so a change made from what was read is not lost
   * to another transaction's made from the same read.
   */
  get(source: string, id: string, options?: { lock?: boolean }): Promise<StoredResource | undefined>;
  /** Ordered by id; keyset pagination with `after`. Gone resources only when `includeGone`. */
  list(
    source: string,
    options?: { after?: string; limit?: number; includeGone?: boolean; type?: string },
  ): Promise<Resource[]>;
  count(source: string, options?: { includeGone?: boolean }): Promise<number>;
  /** Removes every resource of a source; returns how many. */
  clear(source: string): Promise<number>;
}
