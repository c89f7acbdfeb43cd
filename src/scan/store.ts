import type { Severity } from "../policy/types.js";
import type { HeldLock, SqlValue } from "../store/sql.js";
import type { Finding, FindingStatus, ScanRecord, ScanSummary, StoredFinding } from "./types.js";

export interface NewScan {
  id: string;
  inventory: string;
  started_at: string;
  policy_revision: string;
  policies: string[];
}

export interface StartOptions {
  waitMs?: number;
  /** Hears of the scan being waited for (its description, as the ConflictError would give it). */
  onWaiting?: (running: string) => void;
  signal?: AbortSignal;
}

export interface ScanRepository {
  /**
   * Records a scan as running, as this process's: one scan of an inventory at a time (they would
   * resolve each other's findings). Another process's scan of the same inventory still running is a
   * ConflictError, and so is another one started by this process and not yet completed or failed.
   * Scans of the inventory recorded as running whose process has ended (killed, crashed) are marked
   * failed as interrupted first. The claim lasts until `complete` or `fail`, or until this process ends.
   * With `waitMs`, a scan running is waited for that long (checked every quarter second; `onWaiting`
   * hears once of it, `signal` stops the wait) before the ConflictError.
   */
  start(scan: NewScan, options?: StartOptions): Promise<void>;
  /**
   * Holds `inventory` as a running scan does, without recording a scan, for a change a scan must see
   * whole or not at all (the sandbox re-created): no scan of it starts until `release`. A scan of it
   * running is a ConflictError saying that `doing` waits for it (`re-create the sandbox`).
   */
  hold(inventory: string, doing: string): Promise<HeldLock>;
  /**
   * Throws DatabaseFailedError when the scan no longer holds its inventory (PostgreSQL: the server
   * ended the lock's session), so that it neither resolves findings nor records its end as completed:
   * another scan of the inventory may be running. `complete` checks too.
   */
  checkHeld(id: string): Promise<void>;
  /** Records the end of a scan with its summary (status completed), and lets go of its inventory. */
  complete(id: string, finishedAt: string, summary: ScanSummary): Promise<void>;
  /**
   * Records how many of a completed scan's findings approved exceptions covered (they are marked
   * once the scan has completed: ExceptedFindings.apply).
   */
  recordExcepted(id: string, count: number): Promise<void>;
  /** Records a scan as failed with `error`, and lets go of its inventory. */
  fail(id: string, finishedAt: string, error: string): Promise<void>;
  /**
   * Marks failed, as interrupted, every scan recorded as running whose process has ended without
   * finishing it; returns how many. Scans still running are left alone.
   */
  markInterrupted(): Promise<number>;
  get(id: string): Promise<ScanRecord | undefined>;
  /** The ids that start with `prefix`, in order, at most `limit`: what `scans show scan-20261201` means. */
  idsStartingWith(prefix: string, limit: number): Promise<string[]>;
  /** Newest first. */
  list(filter?: { inventory?: string; limit?: number }): Promise<ScanRecord[]>;
}

export interface FindingFilter {
  status?: FindingStatus | readonly FindingStatus[];
  inventory?: string;
  resourceId?: string;
  policy?: string;
  severity?: Severity | readonly Severity[];
  team?: string;
  /** Only findings of resources in these accounts. */
  account?: string | readonly string[];
  /** Only findings of resources in these regions. */
  region?: string | readonly string[];
  /**
   * Only findings of resources of these types: each exact (`compute/instance`) or a category
   * (`compute/*`), as policy scopes name them.
   */
  resourceType?: readonly string[];
  /** Only findings first seen before this instant (ISO 8601, as stored): open longer than a while. */
  firstSeenBefore?: string;
  /** Only findings this scan saw first (`findings list --new-in`). */
  firstScanId?: string;
  /**
   * Only resolved findings resolved at this instant (ISO 8601, as stored): with the inventory, those
   * the scan of that clock resolved and that are still resolved (`findings list --resolved-in`).
   */
  resolvedAt?: string;
  /** Only findings recommending these actions (`stop`, `delete`, ...). */
  action?: string | readonly string[];
  /** Only findings saving at least this much a month (exact decimal text, in their currency). */
  minSavings?: string;
  /** Only excepted findings this approved exception covered at their last scan. */
  exceptionId?: string;
  /** Keyset pagination: fingerprints after this one (fingerprint order only). */
  after?: string;
  limit?: number;
  /** `fingerprint` (the default: stable, pages with `after`) or `savings`: biggest monthly saving first. */
  order?: "fingerprint" | "savings";
}

/**
 * How many findings a filter matches and what acting on them would save a month, per currency (exact
 * decimal text): per resource the largest of its findings' savings, as a scan's summary counts.
 */
export interface FindingTotals {
  count: number;
  savings_monthly: Record<string, string>;
}

/** What findings can be grouped by (`findings summary --by`): a column every finding has. */
export const FINDING_GROUPS = [
  "team",
  "account",
  "region",
  "resource_type",
  "inventory",
  "policy",
  "severity",
  "action",
  /** The approved exception covering an excepted finding (none for the others). */
  "exception",
] as const;
export type FindingGroup = (typeof FINDING_GROUPS)[number];

/**
 * FindingTotals for one group of findings (one team, account, ...; null where findings have none),
 * with how many resources they are about.
 */
export interface GroupTotals extends FindingTotals {
  group: string | null;
  resources: number;
}

/**
 * A batch of findings as the store needs them, made by `prepareFindings` on the thread that judged
 * them (typed arrays and bytes: cheap to send between threads).
 */
export interface PreparedFindings {
  count: number;
  /**
   * The fingerprints that are not 16 hex digits (keyed[i] = 0), one after another; finding i's ends
   * at fingerprintEnds[i] (a keyed finding's is empty: its fingerprint is in `keys`).
   */
  fingerprints: string;
  fingerprintEnds: Uint32Array;
  /**
   * Each fingerprint's two 32-bit halves when it is 16 hex digits (keyed[i] = 1), so the recording
   * thread looks it up without making a string; other fingerprints are read from `fingerprints`.
   */
  keys: Uint32Array;
  keyed: Uint8Array;
  /** The content digest of each finding, two 32-bit lanes each. */
  lanes: Uint32Array;
  /** Each finding's own column values packed (packRow in store/packed-rows.ts), UTF-8; finding i's from rowStarts[i] to rowStarts[i + 1]. */
  rows: Uint8Array;
  rowStarts: Uint32Array;
  /**
   * Rows of the kinds (finding_kinds) that these rows name and the thread that made them had not sent
   * before in this scan: written before the findings.
   */
  kinds: SqlValue[][];
}

/** What a finished recording wrote. */
export interface RecordedScan {
  newFindings: number;
  resolvedFindings: number;
  /**
   * Findings given a second time in the scan (the same fingerprint: the same resource id, policy
   * and rule twice, from records sharing an id); the last of each is stored.
   */
  repeatedFindings: number;
}

/** One scan's findings on their way into the store (see FindingRepository.beginScan). */
export interface ScanRecording {
  /** Records a batch of the scan's findings (a fingerprint seen twice: the last one wins). */
  add(findings: readonly Finding[]): Promise<void>;
  /**
   * The same as `add` for findings prepared where they were judged (`prepareFindings`, in a scan
   * worker): digests and rows come ready, and only rows to write are decoded. Starts at finding
   * `from`. A finding prepared without its row (its digest matched `snapshot`) whose row is needed
   * after all — it was seen earlier in this scan with other content — stops the call: it returns that
   * finding's index, to be called again with the findings prepared with every row, from there.
   */
  addPrepared(prepared: PreparedFindings, from?: number): Promise<number | undefined>;
  /**
   * The stored digests of the inventory's open and excepted findings, as a hash table in shared
   * memory, for `prepareFindings` on other threads (undefined when the store has none to share).
   */
  readonly snapshot?: SharedArrayBuffer | undefined;
  /**
   * Ends the scan: resolves what it did not see, and records the scan as its inventory's confirmed
   * one, which is what last_seen of the findings it saw unchanged reads from. Call once, after the
   * last add.
   */
  finish(): Promise<RecordedScan>;
  /** Ends a scan that failed: what was added stays recorded; nothing is resolved. */
  abort(): Promise<void>;
}

export interface FindingRepository {
  /**
   * Starts recording a whole scan of `inventory`: the same end state as `record` for every batch
   * followed by `resolveUnseen` and `countFirstSeen`, in bulk. New findings are inserted and changed
   * ones rewritten as they come; findings seen again unchanged are not written: `finish` confirms the
   * scan for its inventory, and reads give them its last_seen and last_scan_id. A scan that never
   * finishes resolves nothing and leaves the last_seen of unchanged findings where it was.
   */
  beginScan(scanId: string, inventory: string, at: string): Promise<ScanRecording>;
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
  /**
   * The fingerprints that start with `prefix`, in order, at most `limit` of them: what a shortened
   * fingerprint (`findings show 8979c0c6`) may stand for.
   */
  fingerprintsStartingWith(prefix: string, limit: number): Promise<string[]>;
  /**
   * The values of a kind's `column` that stored findings have (none: not counted), in order: those of
   * `among` only when given, at most `limit` when given. What a filter naming none of them might have
   * meant (a misspelt region). Read from the kinds alone (24,690 of them for 702,470 findings), which
   * keep the values of findings since pruned.
   */
  kindValues(
    column: "region" | "account",
    options?: { among?: readonly string[]; limit?: number },
  ): Promise<string[]>;
  /** Ordered by fingerprint (stable keyset pagination with `after`), or biggest saving first (`order`). */
  list(filter?: FindingFilter): Promise<StoredFinding[]>;
  count(filter?: Omit<FindingFilter, "after" | "limit" | "order">): Promise<number>;
  /**
   * Every matching finding, `batchSize` at a time, in the order the database reads fastest (SQLite:
   * as stored; PostgreSQL: by fingerprint); the next batch is read once `onBatch` has resolved, and
   * not at all if it returns false. Memory stays flat however many there are. Returns how many it read.
   */
  forEach(
    filter: Omit<FindingFilter, "after" | "limit" | "order">,
    onBatch: (findings: StoredFinding[]) => Promise<boolean | undefined> | boolean | undefined,
    batchSize?: number,
  ): Promise<number>;
  /**
   * As `forEach`, each finding as the JSON text `JSON.stringify` makes of it (the same keys, order and
   * escapes), for exports: SQLite builds the text itself, which spares a million findings their
   * objects (an export of 680,286 in a third of the time).
   */
  forEachJson(
    filter: Omit<FindingFilter, "after" | "limit" | "order">,
    onBatch: (findings: string[]) => Promise<boolean | undefined> | boolean | undefined,
    batchSize?: number,
  ): Promise<number>;
  /** The count and summed savings of the findings a filter matches. */
  totals(filter?: Omit<FindingFilter, "after" | "limit" | "order">): Promise<FindingTotals>;
  /**
   * totals per value of `by` (a resource in two groups, as by policy, counts in each), the largest
   * savings first (in one currency: the first by name of those present), then the most findings;
   * and the whole, as `totals` gives it (each resource once).
   */
  totalsBy(
    by: FindingGroup,
    filter?: Omit<FindingFilter, "after" | "limit" | "order">,
  ): Promise<{ groups: GroupTotals[]; total: FindingTotals }>;
  /** Sets the status of one finding (exceptions mark findings excepted and back). */
  setStatus(fingerprint: string, status: FindingStatus, at: string): Promise<void>;
  /**
   * Moves each of `fingerprints` whose status is `from` to `to`, in one transaction (a scan's
   * exceptions mark tens of thousands of findings at once); others, and unknown fingerprints, are
   * left as they are. Returns how many moved.
   */
  moveStatus(
    fingerprints: readonly string[],
    from: FindingStatus,
    to: FindingStatus,
    at: string,
  ): Promise<number>;
  /**
   * Records which approved exception covers each excepted finding (exception id → fingerprints), as a
   * scan matched them; findings not excepted are left alone. Returns how many were set.
   */
  setExceptions(byException: ReadonlyMap<string, readonly string[]>): Promise<number>;
  /**
   * Deletes the resolved findings resolved before `before` (ISO 8601), of one inventory or of all;
   * open and excepted findings are never touched. Each inventory is pruned under its scan's lock (a
   * scan of it running at the time is left alone and named in `busy`). A resolved finding seen again
   * after it is pruned comes back as new. With `dryRun`, counts without deleting (an inventory whose
   * scan is running is in `busy` all the same).
   */
  pruneResolved(before: string, options?: { inventory?: string; dryRun?: boolean }): Promise<PrunedFindings>;
}

/** What FindingRepository.pruneResolved deleted (or, in a dry run, would delete). */
export interface PrunedFindings {
  /** Findings deleted, in all. */
  deleted: number;
  /** The same by inventory, those with any, by name. */
  byInventory: Record<string, number>;
  /** Inventories left alone because a scan of them was running, with how many they hold to prune. */
  busy: Record<string, number>;
}
