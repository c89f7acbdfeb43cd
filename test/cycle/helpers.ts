import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CycleOptions, runComplianceCycle } from "../../src/cycle/compliance-cycle.js";
import { createDecider } from "../../src/decide/decider.js";
import { compilePolicySet } from "../../src/engine/compile.js";
import { policyCatalog } from "../../src/exceptions/catalog.js";
import { DEFAULT_EXCEPTION_CONFIG } from "../../src/exceptions/config.js";
import { createExceptionService, type ExceptionService } from "../../src/exceptions/service.js";
import { sandboxResourceActions } from "../../src/inventory/sandbox/resource-actions.js";
import { initSandbox, SANDBOX_SOURCE, sandboxProvider } from "../../src/inventory/sandbox/sandbox.js";
import type { Resource } from "../../src/inventory/types.js";
import { loadPolicies } from "../../src/policy/load.js";
import { DEFAULT_REMEDIATION_CONFIG, type RemediationConfig } from "../../src/remediation/config.js";
import type { OwnerNotice } from "../../src/remediation/types.js";
import { DEFAULT_DETECTORS } from "../../src/scan/detectors.js";
import { loadPrices } from "../../src/scan/prices.js";
import { openStore } from "../../src/store/open.js";
import type { Store } from "../../src/store/store.js";
import { type ManualClock, manualClock } from "../../src/time/clock.js";
import { APPROVERS } from "../exceptions/helpers.js";

export const T0 = "2025-03-03T09:00:00.000Z";
export const prices = loadPrices();
export const policies = loadPolicies(["examples/policies"]).policies;

/** No grace, generous caps, destructive actions enabled: everything found is acted on at once. */
export const ACT_NOW: RemediationConfig = {
  ...DEFAULT_REMEDIATION_CONFIG,
  grace: { critical: 0, high: 0, medium: 0, low: 0 },
  safety: {
    ...DEFAULT_REMEDIATION_CONFIG.safety,
    allowTerminate: true,
    allowDeleteVolumes: true,
    maxActions: 10_000,
    maxActionsPercent: 100,
  },
};

export interface Sandbox {
  store: Store;
  clock: ManualClock;
  exceptions: ExceptionService;
  notices: OwnerNotice[];
  cycle(
    options: { execute: boolean; remediation?: RemediationConfig } & Partial<CycleOptions>,
  ): ReturnType<typeof runComplianceCycle>;
  resources(): Promise<Map<string, Resource>>;
  close(): Promise<void>;
}

/** A sandbox estate in a fresh SQLite file, with the exception service and a cycle runner over it. */
export async function sandbox(resources = 120, seed = "remediation"): Promise<Sandbox> {
  const dir = mkdtempSync(join(tmpdir(), "costguard-cycle-"));
  const clock = manualClock(T0);
  const store = await openStore({ kind: "sqlite", path: join(dir, "state.db") }, clock.now());
  await initSandbox(store, prices, { resources, seed, at: clock.now() });
  const notices: OwnerNotice[] = [];
  const exceptions = createExceptionService({
    store: store.exceptions,
    audit: store.audit,
    clock: clock.now,
    config: { ...DEFAULT_EXCEPTION_CONFIG, approvers: APPROVERS },
    catalog: policyCatalog(policies),
  });
  return {
    store,
    clock,
    exceptions,
    notices,
    cycle: (o) =>
      runComplianceCycle({
        provider: sandboxProvider(store),
        scan: {
          decider: createDecider({ policySet: compilePolicySet(policies) }),
          prices,
          detectors: DEFAULT_DETECTORS,
          currency: "USD",
        },
        store,
        exceptions,
        remediation: o.remediation ?? DEFAULT_REMEDIATION_CONFIG,
        clock: clock.now,
        cloud: sandboxResourceActions(store, prices, clock.now),
        notifier: { notify: async (n) => void notices.push(n) },
        ...o,
      }),
    async resources() {
      const out = new Map<string, Resource>();
      for (const r of await store.resources.list(SANDBOX_SOURCE, { includeGone: true, limit: 100_000 }))
        out.set(r.id, r);
      return out;
    },
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
