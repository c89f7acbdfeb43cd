import { createDecider } from "../../src/decide/decider.js";
import { compilePolicySet } from "../../src/engine/compile.js";
import type { Resource } from "../../src/inventory/types.js";
import { loadPolicies, parsePolicyText } from "../../src/policy/load.js";
import type { LoadedPolicy } from "../../src/policy/types.js";
import { DEFAULT_DETECTORS, type DetectorConfig } from "../../src/scan/detectors.js";
import type { ScanContext } from "../../src/scan/findings.js";
import { loadPrices } from "../../src/scan/prices.js";

export const PRICES = loadPrices();

/** Policies from inline YAML (failing loudly on any problem). */
export function policiesFromYaml(text: string): LoadedPolicy[] {
  const policies: LoadedPolicy[] = [];
  const problems: { message: string }[] = [];
  parsePolicyText(text, "inline.yaml", policies, problems as never);
  if (problems.length > 0) throw new Error(problems.map((p) => p.message).join("; "));
  return policies;
}

export function scanContext(
  options: {
    yaml?: string;
    paths?: string[];
    at?: Date;
    detectors?: DetectorConfig;
    inventory?: string;
  } = {},
): ScanContext {
  const policies = options.yaml
    ? policiesFromYaml(options.yaml)
    : loadPolicies(options.paths ?? ["examples/policies"]).policies;
  return {
    inventory: options.inventory ?? "file:estate.jsonl",
    decider: createDecider({ policySet: compilePolicySet(policies) }),
    prices: PRICES,
    detectors: options.detectors ?? DEFAULT_DETECTORS,
    at: options.at ?? new Date("2026-06-01T00:00:00Z"),
    currency: "USD",
  };
}

/** No policies at all: only the built-in detectors speak. */
export const NO_POLICIES = `
apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: nothing}
spec:
  type: TagRequirement
  rules:
    - name: never
      scope: nothing/at-all
      requiredTags: [{key: x}]
`;

/**
 * An idle, fully tagged instance `i-0twin` in `account`: a file inventory listing it in two accounts
 * holds two resources of one id (each its own task, owner and score).
 */
export function twinInstance(account: string, owner: string, type: string, hourly: string): Resource {
  return {
    id: "i-0twin",
    type: "compute/instance",
    name: `twin-${account}`,
    provider: "aws",
    account,
    region: "us-east-1",
    state: "running",
    created_at: "2025-01-01T00:00:00Z",
    tags: {
      team: "payments",
      "cost-center": "CC-104200",
      environment: "staging",
      owner,
      project: "checkout",
    },
    specs: { vcpus: 2, memory_gb: 8, instance_family: "general-purpose", instance_type: type },
    hourly_cost: hourly,
    currency: "USD",
    metrics: { avg_cpu_percent: 1, avg_network_bytes: 1000, window_days: 7 },
  };
}
