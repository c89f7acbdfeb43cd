import type { CheckNode, RuleNode } from "../rule-tree.js";
import type { PatternCache } from "./patterns.js";
import { type CompiledCheck, pyList, violation } from "./shared.js";

const MISSING = 1;
const PATTERN = 2;
const NOT_ALLOWED = 4;
const TOO_SHORT = 8;
const TOO_LONG = 16;

/**
 * A required tag: missing is one violation (its other checks are not run on nothing); otherwise the
 * pattern, allowed values and length bounds each report separately. Messages follow the guide's wording.
 */
export function compileTag(
  node: Extract<CheckNode, { kind: "tag" }>,
  rule: RuleNode,
  patterns: PatternCache,
): CompiledCheck {
  const { tag, field } = node;
  const { key, minLength, maxLength, allowedValues } = tag;
  const pattern = tag.pattern === undefined ? undefined : patterns.get(tag.pattern);
  const allowed = allowedValues ? new Set(allowedValues) : undefined;
  const listed = allowedValues ? pyList(allowedValues) : "";
  return {
    key: `tag\0${JSON.stringify([key, tag.pattern, allowedValues, minLength, maxLength])}`,
    measure(request, into) {
      const value = request.tags?.[key];
      into.value = value;
      if (typeof value !== "string") {
        into.bits = MISSING;
        return;
      }
      let bits = 0;
      if (pattern && !pattern.test(value)) bits |= PATTERN;
      if (allowed && !allowed.has(value)) bits |= NOT_ALLOWED;
      if (minLength !== undefined && value.length < minLength) bits |= TOO_SHORT;
      if (maxLength !== undefined && value.length > maxLength) bits |= TOO_LONG;
      into.bits = bits;
    },
    report(request, out, found) {
      const bits = found.bits;
      if (bits === MISSING) {
        out.addViolation(
          violation(rule, request, field, null, "present", `Required tag '${key}' is missing`),
        );
        return;
      }
      const value = found.value as string;
      if (bits & PATTERN) {
        out.addViolation(
          violation(
            rule,
            request,
            field,
            value,
            tag.pattern,
            `Tag '${key}' value '${value}' does not match required pattern`,
          ),
        );
      }
      if (bits & NOT_ALLOWED) {
        out.addViolation(
          violation(
            rule,
            request,
            field,
            value,
            allowedValues,
            `Tag '${key}' value '${value}' is not in allowed values: ${listed}`,
          ),
        );
      }
      if (bits & TOO_SHORT) {
        out.addViolation(
          violation(
            rule,
            request,
            field,
            value,
            { minLength },
            `Tag '${key}' value '${value}' is shorter than ${minLength} characters`,
          ),
        );
      }
      if (bits & TOO_LONG) {
        out.addViolation(
          violation(
            rule,
            request,
            field,
            value,
            { maxLength },
            `Tag '${key}' value is longer than ${maxLength} characters`,
          ),
        );
      }
    },
  };
}
