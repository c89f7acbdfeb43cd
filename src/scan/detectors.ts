import { InputError } from "../errors.js";
import { inState, type Resource } from "../inventory/types.js";
import type { Severity } from "../policy/types.js";
import { parseInstant } from "../time/instant.js";

/**
 * The built-in waste detectors and their thresholds. Defaults are the guide's: idle means average
 * CPU under 5% and network under 1 MB/day over 7 days; a volume is orphaned after more than 7 days
 * unattached. Every number is configurable.
 */
export interface DetectorConfig {
  idle: {
    enabled: boolean;
    /** Idle when average CPU is strictly below this percentage... */
    cpuPercent: number;
    /** ...and average network (in + out) is strictly below this many bytes per day. */
    networkBytesPerDay: number;
    /** The metrics must cover at least this many days (a resource without window_days is taken as covering it). */
    windowDays: number;
    types: readonly string[];
    severity: Severity;
  };
  unattached: {
    enabled: boolean;
    /** Flagged when unattached for strictly more than this many days. */
    days: number;
    severity: Severity;
  };
  oversized: {
    enabled: boolean;
    /** A resize target must run the observed load at or under this CPU percentage. */
    targetCpuPercent: number;
  };
  /** Tags that name who pays, first present wins; `unassigned` when none is. */
  teamTags: readonly string[];
}

export const DEFAULT_DETECTORS: DetectorConfig = {
  idle: {
    enabled: true,
    cpuPercent: 5,
    networkBytesPerDay: 1_000_000,
    windowDays: 7,
    types: ["compute/instance", "database/instance"],
    severity: "medium",
  },
  unattached: { enabled: true, days: 7, severity: "medium" },
  oversized: { enabled: true, targetCpuPercent: 60 },
  teamTags: ["team", "cost-center", "owner"],
};

export const IDLE_POLICY = "idle-resource-detection";
export const IDLE_RULE = "low-utilization";
export const ORPHAN_POLICY = "orphaned-resource-detection";
export const ORPHAN_RULE = "unattached-volume";

/** States the idle detector judges (in any case): EC2, RDS, Google Cloud, and Azure's power state. */
const RUNNING = new Set(["running", "available", "active", "vm running"]);
/**
 * States of an instance or database that is off or on its way (in any case): nothing for the idle
 * detector to judge, and nothing to report. Any other state (`pending`, `modifying`, `rebooting`...)
 * is counted as not judged (idleOtherState).
 */
const OFF = new Set([
  "stopped",
  "stopping",
  "suspended",
  "suspending",
  "deallocated",
  "deallocating",
  "terminated",
  "vm stopped",
  "vm stopping",
  "vm deallocated",
  "vm deallocating",
]);
const DAY_MS = 86_400_000;

export interface IdleVerdict {
  cpu: number;
  network: number;
  windowDays: number;
}

/** Whether the idle detector looks at a resource: enabled, one of its types, and running. */
function idleApplies(r: Resource, cfg: DetectorConfig["idle"]): boolean {
  return cfg.enabled && cfg.types.includes(r.type) && (r.state === undefined || inState(RUNNING, r.state));
}

/** The averages the idle detector judges by: CPU and network, over at least its window; else undefined. */
function idleMeasure(r: Resource, cfg: DetectorConfig["idle"]): IdleVerdict | undefined {
  const m = r.metrics;
  if (!m) return undefined;
  const cpu = m.avg_cpu_percent;
  const network = m.avg_network_bytes;
  if (typeof cpu !== "number" || typeof network !== "number") return undefined;
  const windowDays = typeof m.window_days === "number" ? m.window_days : cfg.windowDays;
  if (windowDays < cfg.windowDays) return undefined;
  return { cpu, network, windowDays };
}

/** Whether a running resource is idle by the thresholds; undefined when it is not (or can't be told). */
export function detectIdle(r: Resource, cfg: DetectorConfig["idle"]): IdleVerdict | undefined {
  if (!idleApplies(r, cfg)) return undefined;
  const m = idleMeasure(r, cfg);
  if (m && m.cpu < cfg.cpuPercent && m.network < cfg.networkBytesPerDay) return m;
  return undefined;
}

/**
 * A running resource the idle detector should judge but cannot: it has no CPU and network averages
 * covering the window (no metrics, a newer resource, monitoring off). A scan counts these, so an
 * estate without metrics is not taken for one without idle resources.
 */
export function idleUnmeasured(r: Resource, cfg: DetectorConfig["idle"]): boolean {
  return idleApplies(r, cfg) && idleMeasure(r, cfg) === undefined;
}

/**
 * The state of an instance or database the idle detector would judge but for its state: neither
 * running nor off (`pending`, `modifying`, `backing-up`, or a state costguard does not know). A scan
 * counts these by state, so an estate whose states it cannot read is not taken for one without idle
 * resources. Undefined for anything else.
 */
export function idleOtherState(r: Resource, cfg: DetectorConfig["idle"]): string | undefined {
  const state = r.state;
  if (state === undefined || !cfg.enabled || !cfg.types.includes(r.type)) return undefined;
  if (inState(RUNNING, state) || inState(OFF, state)) return undefined;
  return state;
}

/**
 * How long an unattached volume has been unattached, when that is over the threshold: whole days,
 * the time as the resource gives it, and that time in milliseconds (its UTC date, unlike the day
 * count, stays the same from one scan to the next).
 */
export function detectUnattached(
  r: Resource,
  cfg: DetectorConfig["unattached"],
  at: Date,
): { days: number; since: string; sinceMs: number } | undefined {
  if (!unattachedApplies(r, cfg)) return undefined;
  // Never attached: unattached since it was created.
  const since = r.detached_at ?? r.created_at;
  if (typeof since !== "string") return undefined;
  const t = parseTimestamp(since);
  if (t === undefined) {
    const field = r.detached_at !== undefined ? "detached_at" : "created_at";
    throw new InputError(`resource ${r.id}: ${field} \`${since}\` is not a date`);
  }
  const elapsed = at.getTime() - t;
  if (elapsed <= cfg.days * DAY_MS) return undefined;
  return { days: Math.floor(elapsed / DAY_MS), since, sinceMs: t };
}

/**
 * States of a volume attached to something (in any case): EBS `in-use`, Azure's `Attached` and
 * `Reserved` (attached to a deallocated machine).
 */
const ATTACHED = new Set(["in-use", "attached", "reserved"]);

/** Whether the unattached detector looks at a resource: enabled, a volume, attached to nothing. */
function unattachedApplies(r: Resource, cfg: DetectorConfig["unattached"]): boolean {
  return cfg.enabled && r.type === "storage/volume" && !r.attached_to && !inState(ATTACHED, r.state);
}

/**
 * An unattached volume the detector cannot date: neither `detached_at` nor `created_at`. A scan
 * counts these, as it counts resources it cannot judge idle.
 */
export function unattachedUndated(r: Resource, cfg: DetectorConfig["unattached"]): boolean {
  return unattachedApplies(r, cfg) && typeof (r.detached_at ?? r.created_at) !== "string";
}

export function teamOf(r: Resource, teamTags: readonly string[]): string {
  const tags = r.tags;
  if (tags) {
    for (const k of teamTags) {
      const v = tags[k];
      if (typeof v === "string" && v !== "") return v;
    }
  }
  return "unassigned";
}

/**
 * Human figures for messages: 340KB/day, 1.2MB/day. `limit`: a threshold the figure is below, which
 * rounding must not show it at (999,999 bytes is 999.999KB/day under a limit of 1,000,000, not 1000KB).
 */
export function formatBytesPerDay(bytes: number, limit = Number.POSITIVE_INFINITY): string {
  if (bytes >= 1_000_000) return `${belowLimit(bytes / 1_000_000, limit / 1_000_000, 1)}MB/day`;
  return `${belowLimit(bytes / 1000, limit / 1000, 0)}KB/day`;
}

/**
 * `value` (below `limit`) to `places` decimals, or as many more as it takes for the text to stay below
 * `limit`: the idle rule is strictly below its thresholds, and CPU 4.999 shown as 5.0% reads as at it.
 */
export function belowLimit(value: number, limit: number, places: number): string {
  for (let p = places; p <= places + 6; p++) {
    const text = value.toFixed(p);
    if (value >= limit || Number(text) < limit) return text;
  }
  return String(value);
}

/**
 * A time an inventory gives: ISO 8601 checked against the calendar (UTC when it names no zone, not
 * the scanning machine's zone); other forms `Date.parse` reads (RFC 2822, as some exports write).
 */
function parseTimestamp(text: string): number | undefined {
  const iso = parseInstant(text);
  if (iso !== undefined || /^\d{4}-\d{2}-\d{2}/.test(text)) return iso;
  const t = Date.parse(text);
  return Number.isNaN(t) ? undefined : t;
}
