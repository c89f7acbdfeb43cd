import type { Finding, FindingStatus, ScanRecord, ScanSummary, StoredFinding } from "./types.js";

export interface NewScan {
  id: string;
  inventory: string;
  started_at: string;
  policy_revision: string;
  policies: string[];
}

export interface ScanRepository {
  /** Records a scan as running. */
  start(scan: NewScan): Promise<void>;
  /** Records the end of a scan with its summary (status completed). */
  complete(id: string, finishedAt: string, summary: ScanSummary): Promise<void>;
  fail(id: string, finishedAt: string, error: string): Promise<void>;
  get(id: string): Promise<ScanRecord | undefined>;
  /** Newest first. */
  list(filter?: { inventory?: string; limit?: number }): Promise<ScanRecord[]>;
}

export interface FindingFilter {
  status?: FindingStatus | readonly FindingStatus[];
  inventory?: string;
  resourceId?: string;
  policy?: string;
  /** Keyset pagination: fingerprints after this one. */
  after?: string;
  limit?: number;
}

export interface FindingRepository {
  /**
   * Records what a scan saw: a new fingerprint is inserted as open with first_seen = last_seen = at;
   * a known one gets last_seen, its latest message and saving, and is reopened if it was resolved
   * (an excepted finding stays excepted).
   */
  record(scanId: string, inventory: string, at: string, findings: readonly Finding[]): Promise<void>;
  /**
   * Moves to resolved every open or excepted finding of `inventory` that scan `scanId` did not see.
   * Returns how many it resolved.
   */
  resolveUnseen(scanId: string, inventory: string, at: string): Promise<number>;
  /** How many findings scan `scanId` saw for the first time. */
  countFirstSeen(scanId: string): Promise<number>;
  get(fingerprint: string): Promise<StoredFinding | undefined>;
  /** Ordered by fingerprint (stable keyset pagination). */
  list(filter?: FindingFilter): Promise<StoredFinding[]>;
  count(filter?: Omit<FindingFilter, "after" | "limit">): Promise<number>;
  /** Sets the status of one finding (exceptions mark findings excepted and back). */
  setStatus(fingerprint: string, status: FindingStatus, at: string): Promise<void>;
}
