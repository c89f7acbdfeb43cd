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
  // Each way a present value can fail: its flag, the limit it broke (made once, frozen, shared by every
  // decision: the length bounds were shared and could be changed through one), and the guide-style message.
  const failures: { bit: number; limit: unknown; message: (value: string) => string }[] = [
    {
      bit: PATTERN,
      limit: tag.pattern,
      message: (v) => `Tag '${key}' value '${v}' does not match required pattern`,
    },
    {
      bit: NOT_ALLOWED,
      limit: allowedValues === undefined ? undefined : Object.freeze(allowedValues.slice()),
      message: (v) => `Tag '${key}' value '${v}' is not in allowed values: ${listed}`,
    },
    {
      bit: TOO_SHORT,
      limit: Object.freeze({ minLength }),
      message: (v) => `Tag '${key}' value '${v}' is shorter than ${minLength} characters`,
    },
    {
      bit: TOO_LONG,
      limit: Object.freeze({ maxLength }),
      message: () => `Tag '${key}' value is longer than ${maxLength} characters`,
    },
  ];
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
      for (const failure of failures) {
        if (bits & failure.bit) {
          out.addViolation(violation(rule, request, field, value, failure.limit, failure.message(value)));
        }
      }
    },
  };
}
