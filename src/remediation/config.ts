import { InputError } from "../errors.js";
import { channelList } from "../exceptions/config.js";
import { checkTag } from "../inventory/tag-rules.js";
import { SEVERITIES, type Severity } from "../policy/types.js";
import { DAY_MS, HOUR_MS, MAX_DURATION_DAYS, parseDuration } from "../time/duration.js";

/** The safety rails of acting (documented in docs/remediation.md). */
export interface SafetyConfig {
  /** Snapshot an instance's volumes before stopping it. */
  snapshotBeforeStop: boolean;
  snapshotBeforeResize: boolean;
  /** Terminating instances is off unless enabled. */
  allowTerminate: boolean;
  /** Deleting volumes is off unless enabled (a snapshot is always taken first). */
  allowDeleteVolumes: boolean;
  /** A run that would change more resources than this aborts before its first action. */
  maxActions: number;
  /** ... or more than this share (percent) of the resources scanned. */
  maxActionsPercent: number;
}

export interface RemediationConfig {
  /** How long a finding of each severity waits before costguard acts. */
  grace: Readonly<Record<Severity, number>>;
  /** How long before the grace ends the owner gets the final warning. */
  finalWarning: Readonly<Record<Severity, number>>;
  /** A medium finding whose notice ran out becomes high (with the high grace) instead of being acted on. */
  escalateMedium: boolean;
  /** How often a failed action is tried before the task stays failed. */
  maxAttempts: number;
  /** The tag naming a resource's owner. */
  ownerTag: string;
  /** Who is told when a resource has no owner tag. */
  defaultOwner: string | null;
  /** Tags the tag action always adds. */
  addTags: Readonly<Record<string, string>>;
  /** Values for missing tags; a missing tag with no default gets `missingTagValue`. */
  tagDefaults: Readonly<Record<string, string>>;
  missingTagValue: string;
  /** Channels (`slack:#finops`) that get a copy of every owner notice and the cycle summary. */
  channels: readonly string[];
  safety: SafetyConfig;
}

export const DEFAULT_REMEDIATION_CONFIG: RemediationConfig = {
  grace: { critical: 0, high: 24 * HOUR_MS, medium: 7 * DAY_MS, low: 30 * DAY_MS },
  finalWarning: { critical: 0, high: 6 * HOUR_MS, medium: DAY_MS, low: 3 * DAY_MS },
  escalateMedium: true,
  maxAttempts: 3,
  ownerTag: "owner",
  defaultOwner: null,
  addTags: { "managed-by": "costguard", "compliance-status": "needs-review" },
  tagDefaults: {},
  missingTagValue: "unassigned",
  channels: [],
  safety: {
    snapshotBeforeStop: true,
    snapshotBeforeResize: true,
    allowTerminate: false,
    allowDeleteVolumes: false,
    maxActions: 25,
    maxActionsPercent: 10,
  },
};

const TOP_KEYS = [
  "grace",
  "finalWarning",
  "escalateMedium",
  "maxAttempts",
  "ownerTag",
  "defaultOwner",
  "addTags",
  "tagDefaults",
  "missingTagValue",
  "channels",
  "safety",
];
const SAFETY_KEYS = [
  "snapshotBeforeStop",
  "snapshotBeforeResize",
  "allowTerminate",
  "allowDeleteVolumes",
  "maxActions",
  "maxActionsPercent",
];

/** Checks the `remediation:` section of costguard.yaml over the defaults. */
export function parseRemediationConfig(value: unknown, where = "remediation"): RemediationConfig {
  if (value === undefined || value === null) return DEFAULT_REMEDIATION_CONFIG;
  const obj = mapping(value, where, TOP_KEYS);
  const d = DEFAULT_REMEDIATION_CONFIG;
  const grace = severityDurations(obj.grace, d.grace, `${where}.grace`);
  const finalWarning = severityDurations(obj.finalWarning, d.finalWarning, `${where}.finalWarning`);
  const s = obj.safety === undefined ? {} : mapping(obj.safety, `${where}.safety`, SAFETY_KEYS);
  const maxActions = count(s.maxActions, d.safety.maxActions, `${where}.safety.maxActions`);
  const maxActionsPercent = s.maxActionsPercent ?? d.safety.maxActionsPercent;
  // NaN (YAML's .nan) is below nothing and above nothing: it passed, and no share capped a run.
  if (
    typeof maxActionsPercent !== "number" ||
    !Number.isFinite(maxActionsPercent) ||
    maxActionsPercent < 0 ||
    maxActionsPercent > 100
  )
    throw new InputError(`${where}.safety.maxActionsPercent must be a number from 0 to 100`);
  return {
    grace,
    finalWarning,
    escalateMedium: flag(obj.escalateMedium, d.escalateMedium, `${where}.escalateMedium`),
    maxAttempts: Math.max(1, count(obj.maxAttempts, d.maxAttempts, `${where}.maxAttempts`)),
    ownerTag: text(obj.ownerTag, d.ownerTag, `${where}.ownerTag`),
    // null, as the documented defaults write it, is no default owner.
    defaultOwner:
      obj.defaultOwner === undefined || obj.defaultOwner === null
        ? d.defaultOwner
        : text(obj.defaultOwner, "", `${where}.defaultOwner`),
    addTags: tags(obj.addTags, d.addTags, `${where}.addTags`),
    tagDefaults: tags(obj.tagDefaults, d.tagDefaults, `${where}.tagDefaults`),
    missingTagValue: text(obj.missingTagValue, d.missingTagValue, `${where}.missingTagValue`),
    channels: channelList(obj.channels, `${where}.channels`),
    safety: {
      snapshotBeforeStop: flag(
        s.snapshotBeforeStop,
        d.safety.snapshotBeforeStop,
        `${where}.safety.snapshotBeforeStop`,
      ),
      snapshotBeforeResize: flag(
        s.snapshotBeforeResize,
        d.safety.snapshotBeforeResize,
        `${where}.safety.snapshotBeforeResize`,
      ),
      allowTerminate: flag(s.allowTerminate, d.safety.allowTerminate, `${where}.safety.allowTerminate`),
      allowDeleteVolumes: flag(
        s.allowDeleteVolumes,
        d.safety.allowDeleteVolumes,
        `${where}.safety.allowDeleteVolumes`,
      ),
      maxActions,
      maxActionsPercent,
    },
  };
}

function mapping(value: unknown, where: string, known: readonly string[]): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new InputError(`${where} must be a mapping`);
  for (const k of Object.keys(value))
    if (!known.includes(k))
      throw new InputError(`${where}.${k} is not a known setting (${known.join(", ")})`);
  return value as Record<string, unknown>;
}

function severityDurations(
  value: unknown,
  fallback: Readonly<Record<Severity, number>>,
  where: string,
): Record<Severity, number> {
  const out = { ...fallback };
  if (value === undefined) return out;
  const obj = mapping(value, where, SEVERITIES);
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v !== "string" && typeof v !== "number")
      throw new InputError(`${where}.${k} must be a duration such as 24h or 7d`);
    const ms = parseDuration(v, `${where}.${k}`);
    if (ms > MAX_DURATION_DAYS * DAY_MS)
      throw new InputError(
        `${where}.${k} must be at most ${MAX_DURATION_DAYS}d (a hundred years), got '${v}'`,
      );
    out[k as Severity] = ms;
  }
  return out;
}

function flag(value: unknown, fallback: boolean, where: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new InputError(`${where} must be true or false`);
  return value;
}

function count(value: unknown, fallback: number, where: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0)
    throw new InputError(`${where} must be a whole number (0 or more)`);
  return value;
}

function text(value: unknown, fallback: string, where: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || value === "") throw new InputError(`${where} must be a non-empty string`);
  return value;
}

function tags(
  value: unknown,
  fallback: Readonly<Record<string, string>>,
  where: string,
): Record<string, string> {
  if (value === undefined) return { ...fallback };
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new InputError(`${where} must be a mapping of tag keys to values`);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string") throw new InputError(`${where}.${k} must be a string`);
    // Remediation writes these tags: one the cloud refuses failed every tag action, at run time.
    checkTag(k, v, where);
  }
  // A copy: the caller's object changed later (or the result changed) never changes the other.
  return Object.fromEntries(Object.entries(value)) as Record<string, string>;
}
