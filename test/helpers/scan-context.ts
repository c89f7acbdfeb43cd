import { createDecider } from "../../src/decide/decider.js";
import { compilePolicySet } from "../../src/engine/compile.js";
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
