import { InputError } from "../errors.js";
import { SEVERITIES, type Severity } from "../policy/types.js";
import { DEFAULT_DETECTORS, type DetectorConfig } from "./detectors.js";

interface Shape {
  [key: string]: "number" | "boolean" | "severity" | "strings" | Shape;
}

const SHAPE: Shape = {
  idle: {
    enabled: "boolean",
    cpuPercent: "number",
    networkBytesPerDay: "number",
    windowDays: "number",
    types: "strings",
    severity: "severity",
  },
  unattached: { enabled: "boolean", days: "number", severity: "severity" },
  oversized: { enabled: "boolean", targetCpuPercent: "number" },
  teamTags: "strings",
};

/**
 * Reads detector settings (a YAML/JSON object with any subset of DetectorConfig) over the defaults.
 * Unknown keys and wrong types are errors: a typo must never silently keep a default threshold.
 */
export function parseDetectorConfig(
  value: unknown,
  where: string,
  base: DetectorConfig = DEFAULT_DETECTORS,
): DetectorConfig {
  const problems: string[] = [];
  const merged = merge(base as unknown as Record<string, unknown>, value, SHAPE, "", problems);
  if (problems.length > 0) throw new InputError(`${where}: ${problems.join("; ")}`, problems);
  const cfg = merged as unknown as DetectorConfig;
  if (cfg.oversized.targetCpuPercent <= 0 || cfg.oversized.targetCpuPercent > 100)
    throw new InputError(`${where}: oversized.targetCpuPercent must be in (0, 100]`);
  if (cfg.idle.cpuPercent < 0 || cfg.idle.cpuPercent > 100)
    throw new InputError(`${where}: idle.cpuPercent must be in [0, 100], got ${cfg.idle.cpuPercent}`);
  return cfg;
}

function merge(
  base: Record<string, unknown>,
  value: unknown,
  shape: Shape,
  path: string,
  problems: string[],
): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    problems.push(`${path || "the detector settings"} must be an object`);
    return base;
  }
  const out: Record<string, unknown> = { ...base };
  for (const [key, v] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    const kind = shape[key];
    if (kind === undefined) {
      problems.push(`unknown setting \`${at}\` (known: ${Object.keys(shape).join(", ")})`);
      continue;
    }
    if (typeof kind === "object") {
      out[key] = merge(base[key] as Record<string, unknown>, v, kind, at, problems);
    } else if (kind === "number") {
      if (typeof v !== "number" || !Number.isFinite(v) || v < 0)
        problems.push(`\`${at}\` must be a non-negative number`);
      else out[key] = v;
    } else if (kind === "boolean") {
      if (typeof v !== "boolean") problems.push(`\`${at}\` must be true or false`);
      else out[key] = v;
    } else if (kind === "severity") {
      if (!SEVERITIES.includes(v as Severity))
        problems.push(`\`${at}\` must be one of ${SEVERITIES.join(", ")}`);
      else out[key] = v;
    } else if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
      problems.push(`\`${at}\` must be a list of strings`);
    } else {
      out[key] = [...v];
    }
  }
  return out;
}
