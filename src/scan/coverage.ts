import type { CompiledRule } from "../engine/compile.js";
import type { DetectorConfig } from "./detectors.js";

/**
 * What a scan's rules and detectors judge, by resource type: so that a summary can say which
 * resources nothing judged (an inventory whose types no policy names: `aws/ec2` where the policies say
 * `compute/instance`) and which rules judged nothing, instead of counting both as compliant in silence.
 */
export interface TypeCoverage {
  /** Whether any rule a scan checks (not a budget) or any enabled detector judges resources of `type`. */
  judges(type: string): boolean;
  /** The rules (`policy/rule`) that judge no resource of any of `types`. */
  idleRules(types: Iterable<string>): string[];
}

/** Rules of budget checks alone are not judged by scans (budgets come from billing data). */
const judgedByScans = (rule: CompiledRule) => rule.node.checks.some((c) => c.kind !== "budget");

export function typeCoverage(rules: readonly CompiledRule[], detectors: DetectorConfig): TypeCoverage {
  const scanned = rules.filter(judgedByScans);
  const detected = (type: string) =>
    (detectors.idle.enabled && detectors.idle.types.includes(type)) ||
    (detectors.unattached.enabled && type === "storage/volume");
  return {
    judges: (type) => detected(type) || scanned.some((r) => r.matchesType(type)),
    idleRules(types) {
      const list = [...types];
      return scanned
        .filter((r) => !list.some((type) => r.matchesType(type)))
        .map((r) => `${r.node.policy}/${r.node.rule}`);
    },
  };
}

/**
 * Which of the types judged (`byType`: resources by type) no rule or detector judges, and which rules
 * judged nothing — unknown, so left out, when `complete` is false (some types were not kept).
 */
export function uncovered(
  coverage: TypeCoverage,
  byType: ReadonlyMap<string, number>,
  complete: boolean,
): { types: Map<string, number>; rules: string[] } {
  const types = new Map([...byType].filter(([type]) => !coverage.judges(type)));
  const rules = complete && byType.size > 0 ? coverage.idleRules(byType.keys()) : [];
  return { types, rules };
}
