import { randomBytes } from "node:crypto";
import { InputError } from "../errors.js";
import type { InventoryProgress, InventoryProvider } from "../inventory/types.js";
import type { Store } from "../store/store.js";
import { findingsForResource, type ScanContext } from "./findings.js";
import type { ScanRecording } from "./store.js";
import { ScanTally } from "./summary.js";
import type { Finding, ScanSummary } from "./types.js";

export interface ScanOptions {
  provider: InventoryProvider;
  context: ScanContext;
  /** Where findings, the scan record and the lifecycle are kept; nothing is stored when absent. */
  store?: Store;
  /** Receives every batch of findings as it is found (streamed output). */
  onFindings?: (findings: readonly Finding[]) => void | Promise<void>;
  onProgress?: (p: InventoryProgress) => void;
  topCount?: number;
  scanId?: string;
}

export interface ScanResult {
  id: string;
  inventory: string;
  started_at: string;
  finished_at: string;
  stored: boolean;
  policy_revision: string;
  policies: string[];
  summary: ScanSummary;
  top_findings: Finding[];
}

/**
 * Runs one scan: streams the inventory through the findings of every resource, streams findings to
 * the output and the store, then resolves what the store knew but this scan no longer saw.
 * The scan's clock is `context.at`; the history records it as started_at and finished_at.
 */
export async function runScan(options: ScanOptions): Promise<ScanResult> {
  const { provider, context, store } = options;
  const id = options.scanId ?? newScanId(context.at);
  const at = context.at.toISOString();
  const policySet = context.decider.policySet;
  const tally = new ScanTally(context.currency, options.topCount ?? 10);
  const policies = [...policySet.policyNames];

  if (store) {
    await store.scans.start({
      id,
      inventory: provider.name,
      started_at: at,
      policy_revision: policySet.revision,
      policies,
    });
  }
  let recording: ScanRecording | undefined;
  try {
    recording = store ? await store.findings.beginScan(id, provider.name, at) : undefined;
    const readOptions = options.onProgress ? { onProgress: options.onProgress } : {};
    for await (const resources of provider.read(readOptions)) {
      const batchFindings: Finding[] = [];
      for (let i = 0; i < resources.length; i++) {
        const scoredFindings = findingsForResource(resources[i]!, context);
        tally.addResource(scoredFindings);
        for (let j = 0; j < scoredFindings.length; j++) {
          const f = scoredFindings[j]!.finding;
          if (f.currency !== context.currency) {
            throw new InputError(
              `resource ${f.resource_id} is priced in ${f.currency}, the scan in ${context.currency}: scan one currency at a time`,
            );
          }
          batchFindings.push(f);
        }
      }
      if (batchFindings.length === 0) continue;
      if (options.onFindings) await options.onFindings(batchFindings);
      // Written as they come, while young: the recording commits in big transactions.
      if (recording) await recording.add(batchFindings);
    }
    const stored = recording ? await recording.finish() : null;
    const summary = tally.summary(stored);
    if (store) await store.scans.complete(id, at, summary);
    return {
      id,
      inventory: provider.name,
      started_at: at,
      finished_at: at,
      stored: store !== undefined,
      policy_revision: policySet.revision,
      policies,
      summary,
      top_findings: tally.topFindings(),
    };
  } catch (err) {
    await recording?.abort().catch(() => {});
    if (store) await store.scans.fail(id, at, (err as Error).message ?? String(err)).catch(() => {});
    throw err;
  }
}

/** Scan ids sort by time: `scan-20260601T000000Z-3f9a1c`. */
export function newScanId(at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `scan-${stamp}-${randomBytes(3).toString("hex")}`;
}
