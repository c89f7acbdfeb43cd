import type { Decision, DecisionKind, ResourceRequest } from "../engine/types.js";
import type { DecisionAnnotator } from "./decider.js";

/**
 * Request fields whose value a gate cannot know yet (a Terraform value known only after apply),
 * as dotted paths: `specs.instance_type`, `tags` (all tags), `tags.team`, or `tags.*`: the keys the
 * request's own tags do not hold (AWS `tags_all` unknown while the resource's `tags` are known: the
 * provider's default tags may add keys, never change the ones the resource sets).
 */
export const UNKNOWN_FIELDS = "unknown_fields";

/** Why a violation's field is not decided, when one of the unknown paths covers it. */
function covered(field: string, unknown: readonly string[], request: ResourceRequest): string | undefined {
  for (const u of unknown) {
    if (u.endsWith(".*")) {
      const map = u.slice(0, -2);
      const key = field.slice(map.length + 1);
      if (field === map || (field.startsWith(`${map}.`) && !holds(request[map], key)))
        return `${field} is known only after apply (the resource does not set ${field === map ? "them all" : "it"}; the provider's defaults may)`;
    } else if (field === u || field.startsWith(`${u}.`)) return `${u} is known only after apply`;
  }
  return undefined;
}

/** Whether the request's map (its tags) holds the key as its own. */
function holds(map: unknown, key: string): boolean {
  return map !== null && typeof map === "object" && Object.hasOwn(map, key);
}

/**
 * A check that failed on a value the gate could not know (say, a required tag while the provider's
 * tags are known only after apply) is not a violation: it becomes `unverified`, and the decision is
 * recomputed from the violations that remain.
 */
export function createUnknownFieldsAnnotator(): DecisionAnnotator {
  return {
    annotate(request: ResourceRequest, decision: Decision): Decision {
      const unknown = request[UNKNOWN_FIELDS];
      if (!Array.isArray(unknown) || unknown.length === 0 || decision.violations.length === 0)
        return decision;
      const paths = unknown.filter((u): u is string => typeof u === "string");
      const violations = [];
      const unverified = [...decision.unverified];
      for (const v of decision.violations) {
        const u = covered(v.field, paths, request);
        if (u === undefined) violations.push(v);
        else
          unverified.push({
            policy: v.policy,
            rule: v.rule,
            field: v.field,
            message: `${v.message} — not decided: ${u}`,
          });
      }
      if (violations.length === decision.violations.length) return decision;
      return { ...decision, decision: decisionOf(violations), violations, unverified };
    },
  };
}

function decisionOf(violations: Decision["violations"]): DecisionKind {
  if (violations.some((v) => v.enforcement === "deny")) return "deny";
  if (violations.some((v) => v.enforcement === "warn")) return "warn";
  return "allow";
}
