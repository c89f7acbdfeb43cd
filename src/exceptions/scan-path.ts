import { type InventoryProvider, type Resource, resourceKey } from "../inventory/types.js";
import { type Amount, ZERO } from "../money/exact.js";
import type { ScoredFinding } from "../scan/findings.js";
import type { FindingRepository, ScanRepository } from "../scan/store.js";
import type { Finding } from "../scan/types.js";
import { subjectOf } from "./annotator.js";
import { buildExceptionIndex, type ExceptionIndex } from "./match.js";
import type { PolicyException } from "./types.js";

/** What the scan saw of a resource that has findings: enough to match selectors and to find its owner. */
export interface SeenResource {
  tags: Record<string, string>;
  account: string | undefined;
}

export interface ExceptedFindings {
  /** The provider to scan through: it remembers each batch's resources while their findings are judged. */
  wrap(provider: InventoryProvider): InventoryProvider;
  /** Give it every batch of findings (the scan's onFindings): remembers their resources' tags and account. */
  remember(findings: readonly Finding[]): void;
  /**
   * A finding an exception covers, matched where it was judged (`ScanOptions.exceptions`, in a
   * scan's worker threads too).
   */
  cover(fingerprint: string, exceptionId: string): void;
  /** fingerprint → the exception that covers it. */
  readonly excepted: ReadonlyMap<string, string>;
  /**
   * Tags and account of each resource with findings, by resourceKey of the finding (without the
   * inventory): one id in two accounts or regions, or of two types, is two resources.
   */
  readonly resources: ReadonlyMap<string, SeenResource>;
  /**
   * Brings the stored findings of a completed scan in line: covered ones become `excepted`, and ones
   * this scan saw whose exception has ended are `open` again; the scan's history records how many
   * its exceptions covered. Returns how many changed each way.
   */
  apply(
    store: { findings: FindingRepository; scans: ScanRepository },
    scanId: string,
    inventory: string,
    at: string,
  ): Promise<{
    excepted: number;
    reopened: number;
  }>;
}

/**
 * The scanner's path of exceptions. A scan judges findings without exceptions (so a waived violation
 * is still a finding) and matches each against the approved ones where it was judged
 * (`exceptResource`, told here through `cover`); a stored scan then marks those excepted (`apply`).
 */
export function exceptedFindings(): ExceptedFindings {
  // The page being judged, by id (its last record of each, as the store keeps a finding given
  // twice); the records of an id the page lists more than once (in two accounts, regions or of two
  // types: rare) by resourceKey too, so nothing more is made per resource read.
  let batch = new Map<string, Resource>();
  let repeated = new Map<string, Resource>();
  const readOf = (f: Finding, key: string): Resource | undefined =>
    (repeated.size > 0 ? repeated.get(key) : undefined) ?? batch.get(f.resource_id);
  const excepted = new Map<string, string>();
  const resources = new Map<string, SeenResource>();
  const remember = (found: readonly Finding[]) => {
    for (const f of found) {
      const key = resourceKey(f);
      if (resources.has(key)) continue;
      const read = readOf(f, key);
      const subject = read === undefined ? undefined : subjectOf(read);
      resources.set(key, {
        tags: { ...(subject?.tags ?? {}) },
        account: subject ? subject.account : (f.account ?? undefined),
      });
    }
  };
  return {
    excepted,
    resources,
    wrap(provider) {
      return {
        name: provider.name,
        async *read(options) {
          for await (const page of provider.read(options)) {
            batch = new Map();
            repeated = new Map();
            for (const r of page) {
              const before = batch.get(r.id);
              if (before !== undefined) {
                repeated.set(keyOfRead(before), before);
                repeated.set(keyOfRead(r), r);
              }
              batch.set(r.id, r);
            }
            yield page;
          }
        },
      };
    },
    remember,
    cover(fingerprint, exceptionId) {
      excepted.set(fingerprint, exceptionId);
    },
    async apply({ findings: repo, scans }, scanId, inventory, at) {
      const markedExcepted = await repo.moveStatus([...excepted.keys()], "open", "excepted", at);
      // Which exception covers each: kept with the finding, for `findings show` and `findings list --exception`.
      const byException = new Map<string, string[]>();
      for (const [fingerprint, exceptionId] of excepted) {
        const list = byException.get(exceptionId);
        if (list) list.push(fingerprint);
        else byException.set(exceptionId, [fingerprint]);
      }
      await repo.setExceptions(byException);
      // Excepted findings this scan saw that no exception covers any more: open again.
      const ended: string[] = [];
      await repo.forEach({ status: "excepted", inventory }, (page) => {
        for (const f of page)
          if (f.last_scan_id === scanId && !excepted.has(f.fingerprint)) ended.push(f.fingerprint);
      });
      const reopened = await repo.moveStatus(ended, "excepted", "open", at);
      await scans.recordExcepted(scanId, excepted.size);
      return { excepted: markedExcepted, reopened };
    },
  };
}

/** resourceKey of a resource as read: the same as its findings' (their absent parts are null). */
function keyOfRead(r: Resource): string {
  return resourceKey({
    provider: r.provider,
    account: r.account,
    region: r.region,
    resource_type: r.type,
    resource_id: r.id,
  });
}

/**
 * How many strings `exceptResource` appends per finding covered: the finding's fingerprint, the
 * covering exception's id and the finding's severity (what `--fail-on` leaves out of an unstored
 * scan). A flat list of strings crosses from a worker thread cheaply.
 */
export const EXCEPTED_STRIDE = 3;

/** Approved exceptions matched where resources are judged (`judgeBatch`). */
export interface ResourceExceptions {
  index: ExceptionIndex;
  /** The scan's clock: an exception counts when approved and unexpired then. */
  now: Date;
  /** Each finding covered: fingerprint, exception id and severity in turn (EXCEPTED_STRIDE). */
  out: string[];
}

/**
 * Matches the findings of one resource, as it was read, against approved exceptions: each one
 * covered goes to `exceptions.out` (EXCEPTED_STRIDE strings each). Returns what they take off the resource's
 * savings at stake: a resource counts the largest of its findings' savings (alternatives do not add
 * up), so the largest of all less the largest of those left open.
 */
export function exceptResource(
  exceptions: ResourceExceptions,
  resource: Resource,
  findings: readonly ScoredFinding[],
): Amount {
  const { index, now, out } = exceptions;
  if (index.size === 0 || findings.length === 0) return ZERO;
  const subject = subjectOf(resource);
  let all = ZERO;
  let open = ZERO;
  let covered = false;
  for (const s of findings) {
    const f = s.finding;
    const exc = index.find(subject, f.policy, f.rule, now);
    if (s.savings > all) all = s.savings;
    if (exc) {
      out.push(f.fingerprint, exc.id, f.severity);
      covered = true;
    } else if (s.savings > open) open = s.savings;
  }
  return covered ? all - open : ZERO;
}

const indexes = new WeakMap<readonly PolicyException[], ExceptionIndex>();

/** The index of a list of approved exceptions, built once per list (a scan hands the same list round). */
export function exceptionIndexOf(approved: readonly PolicyException[]): ExceptionIndex {
  let index = indexes.get(approved);
  if (index === undefined) {
    index = buildExceptionIndex(approved);
    indexes.set(approved, index);
  }
  return index;
}
