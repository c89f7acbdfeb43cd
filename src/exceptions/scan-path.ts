import type { InventoryProvider } from "../inventory/types.js";
import type { FindingRepository } from "../scan/store.js";
import type { Finding } from "../scan/types.js";
import type { Clock } from "../time/clock.js";
import type { ExceptionIndex } from "./match.js";
import type { ExceptionSubject } from "./types.js";

/** What the scan saw of a resource that has findings: enough to match selectors and to find its owner. */
export interface SeenResource {
  tags: Record<string, string>;
  account: string | undefined;
}

export interface ExceptedFindings {
  /** The provider to scan through: it remembers each batch's resources while their findings are judged. */
  wrap(provider: InventoryProvider): InventoryProvider;
  /** Give it every batch of findings (the scan's onFindings). */
  observe(findings: readonly Finding[]): void;
  /** fingerprint → the exception that covers it. */
  readonly excepted: ReadonlyMap<string, string>;
  /** resource id → tags and account, for resources with findings. */
  readonly resources: ReadonlyMap<string, SeenResource>;
  /**
   * Brings the stored findings in line: covered ones become `excepted`, and ones this scan saw whose
   * exception has ended are `open` again. Returns how many changed each way.
   */
  apply(
    findings: FindingRepository,
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
 * is still a finding), then each finding an approved, unexpired exception covers is marked excepted.
 */
export function exceptedFindings(index: ExceptionIndex, clock: Clock): ExceptedFindings {
  let batch = new Map<string, ExceptionSubject>();
  const excepted = new Map<string, string>();
  const resources = new Map<string, SeenResource>();
  return {
    excepted,
    resources,
    wrap(provider) {
      return {
        name: provider.name,
        async *read(options) {
          for await (const page of provider.read(options)) {
            batch = new Map(
              page.map((r) => [
                r.id,
                {
                  id: r.id,
                  type: r.type,
                  tags: r.tags,
                  account: typeof r.account === "string" ? r.account : undefined,
                },
              ]),
            );
            yield page;
          }
        },
      };
    },
    observe(found) {
      const now = clock();
      for (const f of found) {
        const subject = batch.get(f.resource_id) ?? {
          id: f.resource_id,
          type: f.resource_type,
          account: f.account ?? undefined,
        };
        if (!resources.has(f.resource_id))
          resources.set(f.resource_id, { tags: { ...(subject.tags ?? {}) }, account: subject.account });
        const exc = index.size > 0 ? index.find(subject, f.policy, f.rule, now) : undefined;
        if (exc) excepted.set(f.fingerprint, exc.id);
      }
    },
    async apply(repo, scanId, inventory, at) {
      let markedExcepted = 0;
      let reopened = 0;
      for (const fingerprint of excepted.keys()) {
        const stored = await repo.get(fingerprint);
        if (stored && stored.status === "open") {
          await repo.setStatus(fingerprint, "excepted", at);
          markedExcepted++;
        }
      }
      let after: string | undefined;
      for (;;) {
        const page = await repo.list({
          status: "excepted",
          inventory,
          limit: 1000,
          ...(after === undefined ? {} : { after }),
        });
        for (const f of page) {
          if (f.last_scan_id === scanId && !excepted.has(f.fingerprint)) {
            await repo.setStatus(f.fingerprint, "open", at);
            reopened++;
          }
        }
        if (page.length < 1000) break;
        after = page[page.length - 1]!.fingerprint;
      }
      return { excepted: markedExcepted, reopened };
    },
  };
}
