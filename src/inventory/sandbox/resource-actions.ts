import { setTimeout as sleep } from "node:timers/promises";
import {
  type ActionableResource,
  type ResourceActions,
  SAFETY_SNAPSHOT_TAG,
} from "../../remediation/actions.js";
import type { PriceLookup } from "../../scan/prices.js";
import type { Store } from "../../store/store.js";
import type { Clock } from "../../time/clock.js";
import type { ActionRequest } from "./actions.js";
import { currentMonthlyCost } from "./running-cost.js";
import { actOnSandbox, attachedVolumes, SANDBOX_SOURCE } from "./sandbox.js";

const PAGE = 1000;
/** A snapshot step's detail when there is nothing to snapshot, as the AWS handler words it. */
const NOTHING_TO_SNAPSHOT = "none (the instance has no volume attached)";
/**
 * The sandbox as a target of remediation: every action goes through actOnSandbox, which changes the
 * stored estate and writes the audit entry in one transaction. `latencyMs` simulates a cloud API's
 * round trip (COSTGUARD_SANDBOX_LATENCY_MS on the command line).
 */
export function sandboxResourceActions(
  store: Store,
  prices: PriceLookup,
  clock: Clock,
  options: { actor?: string; latencyMs?: number } = {},
): ResourceActions {
  const actor = options.actor ?? "costguard:remediation";
  const latency = options.latencyMs ?? 0;
  // A cloud API takes time before and after the change lands; the crash tests kill a run in there.
  const act = async (req: ActionRequest) => {
    if (latency > 0) await sleep(latency);
    const outcome = await actOnSandbox(store, prices, req, { at: clock(), actor });
    if (latency > 0) await sleep(latency);
    return outcome;
  };
  return {
    async describe(id) {
      const stored = await store.resources.get(SANDBOX_SOURCE, id);
      if (!stored) return undefined;
      const r = stored.resource;
      const out: ActionableResource = {
        id: r.id,
        type: r.type,
        state: stored.gone_at !== null && r.state !== "terminated" ? "deleted" : r.state,
        tags: r.tags,
        specs: r.specs,
        monthly_cost: currentMonthlyCost(r, stored.gone_at),
        currency: r.currency ?? "USD",
      };
      return out;
    },
    async findSnapshot(resourceId, { since }) {
      // Nothing to snapshot leaves only its audit entry behind: a run cut short after that entry
      // landed does not try (and audit) it again; one cut short before it does.
      const target = await store.resources.get(SANDBOX_SOURCE, resourceId);
      if (
        target?.resource.type === "compute/instance" &&
        (await attachedVolumes(store, resourceId)).length === 0
      ) {
        const tried = await store.audit.list({
          subjectId: resourceId,
          action: "resource.snapshot",
          since,
          limit: 1,
        });
        return tried.length > 0 ? NOTHING_TO_SNAPSHOT : undefined;
      }
      let after: string | undefined;
      for (;;) {
        const page = await store.resources.list(SANDBOX_SOURCE, {
          type: "storage/snapshot",
          limit: PAGE,
          ...(after === undefined ? {} : { after }),
        });
        const hit = page.find((s) => s.specs?.source === resourceId && (s.created_at ?? "") >= since);
        if (hit) return hit.id;
        if (page.length < PAGE) return undefined;
        after = page[page.length - 1]!.id;
      }
    },
    async snapshot(resourceId) {
      // Marked as costguard's safety snapshot, as on AWS: it keeps its source's tags (cost
      // allocation) and the planner does not tag it apart.
      const outcome = await act({
        action: "snapshot",
        id: resourceId,
        tags: { [SAFETY_SNAPSHOT_TAG]: resourceId },
      });
      const snap = outcome.created[0];
      // Nothing to snapshot (an instance with no volume): said as the AWS handler says it of an
      // instance on instance-store volumes only, and the step goes on.
      if (!snap && !outcome.applied) return NOTHING_TO_SNAPSHOT;
      if (!snap) throw new Error(`the sandbox took no snapshot of ${resourceId}: ${outcome.message}`);
      return snap.id;
    },
    stop: async (id) => void (await act({ action: "stop", id })),
    start: async (id) => void (await act({ action: "start", id })),
    resize: async (id, instanceType) => void (await act({ action: "resize", id, instanceType })),
    // As RDS (and the AWS handler): a database's class changes while it runs, no stop and start.
    resizesInPlace: (resourceType) => resourceType === "database/instance",
    addTags: async (id, tags) => void (await act({ action: "tag", id, tags })),
    terminate: async (id) => void (await act({ action: "terminate", id })),
    deleteVolume: async (id) => void (await act({ action: "delete", id })),
  };
}
