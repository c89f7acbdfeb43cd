import { jsonText, shownValue } from "../../objects.js";
import { compileField } from "../field.js";
import type { CheckNode, RuleNode } from "../rule-tree.js";
import type { Unverified } from "../types.js";
import type { PatternCache } from "./patterns.js";
import { type CompiledCheck, violation, withHint } from "./shared.js";

const MISSING = 1;
const FAILED = 2;

const WORDS = { lt: "below", lte: "at most", gt: "above", gte: "at least" } as const;

/** How each operator decides; `undefined` actual values never reach these (they are unverified). */
function predicate(op: CheckNode & { kind: "check" }, patterns: PatternCache): (actual: unknown) => boolean {
  const { value } = op;
  switch (op.op) {
    case "eq":
      return (a) => a === value;
    case "ne":
      return (a) => a !== value;
    case "in": {
      const set = new Set(value as unknown[]);
      return (a) => set.has(a);
    }
    case "not-in": {
      const set = new Set(value as unknown[]);
      return (a) => !set.has(a);
    }
    case "regex": {
      const pattern = patterns.get(value as string);
      return (a) => typeof a === "string" && pattern.test(a);
    }
    case "lt":
      return (a) => typeof a === "number" && a < (value as number);
    case "lte":
      return (a) => typeof a === "number" && a <= (value as number);
    case "gt":
      return (a) => typeof a === "number" && a > (value as number);
    case "gte":
      return (a) => typeof a === "number" && a >= (value as number);
    case "present":
    case "absent":
      return () => true; // decided on presence alone, below
  }
}

/** A generic `{field, op, value}` check from a rule's `checks` list. */
export function compileFieldCheck(
  node: Extract<CheckNode, { kind: "check" }>,
  rule: RuleNode,
  patterns: PatternCache,
): CompiledCheck {
  const read = compileField(node.field);
  const { field, op, value } = node;
  const passes = predicate(node, patterns);
  const numeric = op === "lt" || op === "lte" || op === "gt" || op === "gte";
  const show = jsonText;
  const describe = (actual: unknown): string => {
    switch (op) {
      case "present":
        return `${field} must be present`;
      case "absent":
        return `${field} must be absent, found ${show(actual)}`;
      case "eq":
      case "ne":
        return `${field} is ${show(actual)}, must ${op === "eq" ? "be" : "not be"} ${show(value)}`;
      case "in":
      case "not-in":
        return `${field} is ${show(actual)}, must ${op === "in" ? "be one of" : "not be one of"} ${show(value)}`;
      case "regex":
        return `${field} ${show(actual)} does not match ${show(value)}`;
      default:
        return typeof actual === "number"
          ? `${field} is ${String(actual)}, must be ${WORDS[op]} ${String(value)}`
          : `${field} is ${shownValue(actual)}, not a number: it must be ${WORDS[op]} ${String(value)}`;
    }
  };
  // The same note every time: made once, shared by every decision (frozen, so none can change it).
  const unverified: Unverified = Object.freeze({
    policy: rule.policy,
    rule: rule.rule,
    field,
    message: `check ${op} not applied: request has no ${numeric ? "numeric " : ""}${field}`,
  });
  return {
    key: `check\0${field}\0${op}\0${JSON.stringify(value)}`,
    measure(request, into) {
      const actual = read(request as Record<string, unknown>);
      into.value = actual;
      const absent = actual === undefined || actual === null;
      if (op === "present") into.bits = absent ? FAILED : 0;
      else if (op === "absent") into.bits = absent ? 0 : FAILED;
      else if (absent) into.bits = MISSING;
      // A value that is no number (text, NaN) fails a comparison: it is never let through as unverified.
      else into.bits = passes(actual) ? 0 : FAILED;
    },
    report(request, out, found) {
      if (found.bits === MISSING) {
        out.addUnverified(withHint(unverified, request));
        return;
      }
      const actual = found.value ?? null;
      out.addViolation(
        violation(rule, request, field, actual, value ?? null, node.message ?? describe(actual)),
      );
    },
  };
}
