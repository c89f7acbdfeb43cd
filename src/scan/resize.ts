import type { InstanceShape, PriceLookup } from "./prices.js";

export interface ResizeLimits {
  maxVcpus?: number;
  maxMemoryGb?: number;
  /** Observed average CPU over the metrics window, in percent. */
  avgCpuPercent?: number;
  /** The utilisation the target may run at: it needs vCPUs ≥ current × avg / this. */
  targetCpuPercent: number;
}

/**
 * The cheapest type of the same family series (m5 stays m5) that is within the limits, smaller than
 * the current type, and still fits the observed load. Bare-metal sizes are never proposed.
 * Undefined when no such type exists (the finding then recommends notify).
 */
export function resizeTarget(
  current: InstanceShape,
  limits: ResizeLimits,
  prices: PriceLookup,
): InstanceShape | undefined {
  const needed =
    limits.avgCpuPercent === undefined
      ? 0
      : (current.vcpus * Math.max(0, limits.avgCpuPercent)) / limits.targetCpuPercent;
  for (const s of prices.seriesTypes(current.series)) {
    // seriesTypes is cheapest first: the first that fits is the answer.
    if (s.hourly >= current.hourly) break;
    if (s.instance_type.endsWith(".metal")) continue;
    if (limits.maxVcpus !== undefined && s.vcpus > limits.maxVcpus) continue;
    if (limits.maxMemoryGb !== undefined && s.memory_gb > limits.maxMemoryGb) continue;
    if (s.vcpus < needed) continue;
    if (s.gpus < current.gpus) continue;
    return s;
  }
  return undefined;
}
