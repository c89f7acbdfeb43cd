import { createHash } from "node:crypto";
import type { BudgetGateOptions } from "../budget/gate.js";
import { InputError } from "../errors.js";
import type { LoadedPolicy } from "../policy/types.js";
import { checkLoadedPolicies, kindOf } from "../policy/validated.js";
import { compileBudget } from "./checks/budget.js";
import { compileMaxCost } from "./checks/cost.js";
import { compileFieldCheck } from "./checks/field-checks.js";
import { compileMax, compileMembership } from "./checks/limits.js";
import { PatternCache } from "./checks/patterns.js";
import type { CompiledCheck, Measurement } from "./checks/shared.js";
import { compileTag } from "./checks/tags.js";
import { Findings } from "./findings.js";
import { buildRuleTree, type CheckKind, type CheckNode, type RuleNode } from "./rule-tree.js";
import { compileScope, inNamespace, placedNamespace, type ScopeMatcher } from "./scope.js";
import type { Decision, ResourceRequest } from "./types.js";

export { Findings } from "./findings.js";

type NodeCompiler<K extends CheckKind> = (
  node: Extract<CheckNode, { kind: K }>,
  rule: RuleNode,
  patterns: PatternCache,
  options: CompileOptions,
) => CompiledCheck;

export interface CompileOptions {
  /** Budget state computed beforehand from billing data; without it budget rules are not evaluated. */
  budgets?: BudgetGateOptions;
}

/** One compiler per check kind: a kind nobody handles fails the build. */
const COMPILERS: { [K in CheckKind]: NodeCompiler<K> } = {
  max: compileMax,
  maxCost: compileMaxCost,
  allowed: compileMembership,
  denied: compileMembership,
  tag: compileTag,
  check: compileFieldCheck,
  budget: compileBudget,
};

export interface CompiledRule {
  readonly node: RuleNode;
  /** Position in the policy set; violations are listed in this order. */
  readonly ordinal: number;
  readonly matchesType: ScopeMatcher;
  readonly checks: readonly CompiledCheck[];
}

interface Reporter {
  readonly report: CompiledCheck["report"];
  readonly namespace: string | undefined;
  readonly ordinal: number;
}

/** One shared predicate and every rule check that repeats it. */
interface CheckGroup {
  readonly measure: CompiledCheck["measure"];
  readonly found: Measurement;
  readonly reporters: readonly Reporter[];
}

export interface CompiledPolicySet {
  /** A digest of the policy documents: the same set gives the same revision. */
  readonly revision: string;
  readonly rules: readonly CompiledRule[];
  readonly policyNames: readonly string[];
  evaluate(request: ResourceRequest): Decision;
}

const MAX_CACHED_TYPES = 4096;

/**
 * Compiles validated policies once into plain closures; evaluation then does no I/O and compiles
 * nothing. For each resource type, the checks that apply are grouped by predicate, so a predicate that
 * many rules repeat runs once per evaluation, and rules are only visited when it fails.
 */
export function compilePolicySet(
  policies: readonly LoadedPolicy[],
  options: CompileOptions = {},
): CompiledPolicySet {
  checkLoadedPolicies(policies);
  const tree = buildRuleTree(policies);
  const patterns = new PatternCache();
  const rules = tree.map((node, ordinal) => compileRule(node, ordinal, patterns, options));
  const plans = new Map<string, readonly CheckGroup[]>();
  const planFor = (type: string): readonly CheckGroup[] => {
    let plan = plans.get(type);
    if (plan) return plan;
    plan = groupChecks(rules.filter((r) => r.matchesType(type)));
    // Bounded, so a stream of made-up types cannot grow memory.
    if (plans.size < MAX_CACHED_TYPES) plans.set(type, plan);
    return plan;
  };
  const revision = createHash("sha256")
    .update(JSON.stringify(policies.map((p) => p.document)))
    .digest("hex")
    .slice(0, 12);

  return {
    revision,
    rules,
    policyNames: [...new Set(tree.map((r) => r.policy))],
    evaluate(request: ResourceRequest): Decision {
      // A library caller's request unchecked by parseRequest: what is no request is refused, not read.
      if (request === null || typeof request !== "object" || typeof request.type !== "string")
        throw new InputError(notARequest(request));
      const out = new Findings();
      const plan = planFor(request.type);
      for (let g = 0; g < plan.length; g++) {
        const group = plan[g]!;
        const found = group.found;
        group.measure(request, found);
        if (found.bits === 0) continue;
        const reporters = group.reporters;
        for (let r = 0; r < reporters.length; r++) {
          const reporter = reporters[r]!;
          const ns = reporter.namespace;
          if (ns !== undefined && !inNamespace(ns, request.namespace, request.tags)) continue;
          out.ordinal = reporter.ordinal;
          reporter.report(request, out, found);
        }
      }
      forgetValues(plan);
      return out.toDecision();
    },
  };
}

function notARequest(request: unknown): string {
  if (request !== null && typeof request === "object" && !Array.isArray(request))
    return "a request must have a `type` (category/kind, such as compute/instance): check it with parseRequest";
  return `a request must be an object such as {"type": "compute/instance", ...}, got ${kindOf(request)}: check it with parseRequest`;
}

/** Drops references to the last request's values so a plan never keeps a request alive. */
function forgetValues(plan: readonly CheckGroup[]): void {
  for (let g = 0; g < plan.length; g++) plan[g]!.found.value = undefined;
}

function groupChecks(rules: readonly CompiledRule[]): CheckGroup[] {
  const groups = new Map<string, { measure: CompiledCheck["measure"]; reporters: Reporter[] }>();
  for (const rule of rules) {
    for (const check of rule.checks) {
      let group = groups.get(check.key);
      if (!group) {
        group = { measure: check.measure, reporters: [] };
        groups.set(check.key, group);
      }
      group.reporters.push({
        report: check.report,
        // Compared as inNamespace compares: trimmed and lower-cased once here, not per request.
        namespace: placedNamespace(rule.node.namespace),
        ordinal: rule.ordinal,
      });
    }
  }
  return [...groups.values()].map((g) => ({
    measure: g.measure,
    found: { bits: 0, value: undefined },
    reporters: g.reporters,
  }));
}

function compileRule(
  node: RuleNode,
  ordinal: number,
  patterns: PatternCache,
  options: CompileOptions,
): CompiledRule {
  const checks = node.checks.map((c) =>
    (COMPILERS[c.kind] as NodeCompiler<CheckKind>)(c, node, patterns, options),
  );
  return { node, ordinal, matchesType: compileScope(node.scope), checks };
}
