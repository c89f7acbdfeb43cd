import { compileBudgetGate, compileRequestSelector } from "../../budget/gate.js";
import type { CompileOptions } from "../compile.js";
import type { CheckNode, RuleNode } from "../rule-tree.js";
import type { PatternCache } from "./patterns.js";
import { type CompiledCheck, violation } from "./shared.js";

const SELECTED = 1;

/**
 * A BudgetLimit rule whose selector matches the request. With budget state (computed beforehand from
 * billing data) a reached block-new-resources threshold denies and a forecast overrun warns (denies
 * with denyOnForecastOverrun); without it the rule is listed under `not_evaluated` — never passed silently.
 */
export function compileBudget(
  node: Extract<CheckNode, { kind: "budget" }>,
  rule: RuleNode,
  _patterns: PatternCache,
  options: CompileOptions,
): CompiledCheck {
  const matches = compileRequestSelector(node.selector);
  const gate = options.budgets
    ? compileBudgetGate(options.budgets, {
        policy: rule.policy,
        rule: rule.rule,
        enforcement: rule.enforcement,
        denyOnForecastOverrun: node.denyOnForecastOverrun,
      })
    : null;
  const reason = options.budgets
    ? "budget not evaluated: the budget state has no figures for this rule"
    : "budget not evaluated: no billing data was given to this gate";
  return {
    // Checks share a measurement by key: only the selector decides whether the budget applies.
    key: `budget\0${JSON.stringify(node.selector)}`,
    measure(request, into) {
      into.bits = matches(request) ? SELECTED : 0;
    },
    report(request, out) {
      if (gate === null) {
        out.addNotEvaluated({ policy: rule.policy, rule: rule.rule, reason });
        return;
      }
      for (const f of gate(request)) {
        if (f.kind === "blocked" || f.kind === "forecast-overrun") {
          out.addViolation({
            ...violation(rule, request, f.field, f.actual, f.limit, f.message),
            enforcement: f.enforcement,
          });
        } else if (f.kind === "no-estimate") {
          out.addUnverified({ policy: rule.policy, rule: rule.rule, field: f.field, message: f.message });
        } else {
          out.addNotEvaluated({ policy: rule.policy, rule: rule.rule, reason: f.message });
        }
      }
    },
  };
}
