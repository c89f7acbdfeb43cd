import type { CheckNode, RuleNode } from "../rule-tree.js";
import type { CompiledCheck } from "./shared.js";

const SELECTED = 1;

/**
 * A BudgetLimit rule whose selector matches the request. Without billing data the gate cannot know the
 * spend, so the rule is listed under `not_evaluated` — never passed silently.
 */
export function compileBudget(node: Extract<CheckNode, { kind: "budget" }>, rule: RuleNode): CompiledCheck {
  const wanted = Object.entries(node.selector.tags ?? {});
  const reason = "budget not evaluated: no billing data was given to this gate";
  return {
    key: `budget\0${JSON.stringify(wanted)}`,
    measure(request, into) {
      const tags = request.tags;
      into.bits = SELECTED;
      for (const [k, v] of wanted) {
        if (tags?.[k] !== v) {
          into.bits = 0;
          return;
        }
      }
    },
    report(_request, out) {
      out.addNotEvaluated({ policy: rule.policy, rule: rule.rule, reason });
    },
  };
}
