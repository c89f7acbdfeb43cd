import type { InstanceShape, PriceLookup } from "./prices.js";

export interface ResizeLimits {
  maxVcpus?: number;
  maxMemoryGb?: number;
  /** Observed average CPU over the metrics window, in percent. */
  avgCpuPercent?: number;
  /** The utilisation the target may run at: it needs vCPUs ≥ current × avg / this. */
  targetCpuPercent: number;
  /** Only these sizes may be proposed (databases: the RDS classes the price book knows). */
  offered?: (s: InstanceShape) => boolean;
}

/**
 * The cheapest type of the same family series (m5 stays m5) that is within the limits, smaller than
 * the current type, and still fits the observed load. With no load observed (no CPU average), the
 * largest such type instead: the least change that complies, not a guess that the load is nil.
 * Bare-metal sizes are never proposed. Undefined when no such type exists (the finding then
 * recommends notify).
 */
export function resizeTarget(
  current: InstanceShape,
  limits: ResizeLimits,
  prices: PriceLookup,
): InstanceShape | undefined {
  const avg = limits.avgCpuPercent;
  const measured = avg !== undefined;
  const needed = measured ? (current.vcpus * Math.max(0, avg)) / limits.targetCpuPercent : 0;
  let largest: InstanceShape | undefined;
  for (const s of prices.seriesTypes(current.series)) {
    // seriesTypes is cheapest first: with a load observed, the first that fits is the answer.
    if (s.hourly >= current.hourly) break;
    if (s.instance_type.endsWith(".metal")) continue;
    if (limits.maxVcpus !== undefined && s.vcpus > limits.maxVcpus) continue;
    if (limits.maxMemoryGb !== undefined && s.memory_gb > limits.maxMemoryGb) continue;
    if (s.vcpus < needed) continue;
    if (s.gpus < current.gpus) continue;
    if (limits.offered && !limits.offered(s)) continue;
    if (measured) return s;
    largest = s;
  }
  return largest;
}
