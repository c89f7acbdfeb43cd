import { shownValue } from "../../objects.js";
import { compileField } from "../field.js";
import type { CheckNode, RuleNode } from "../rule-tree.js";
import type { Unverified } from "../types.js";
import { type CompiledCheck, pyList, violation, withHint } from "./shared.js";

const UNVERIFIED = 1;
const FAILED = 2;
/**
 * The request carries the field, but not as the check compares it (NaN or text for a limit, a number
 * for a family): the check fails, as the rule enforces it. Unverified would let it through (a note
 * only), and NaN compared with a limit is never above it: a request changed after parseRequest, or
 * never given to it, got past the limit.
 */
const WRONG_TYPE = 4;

type Node<K> = Extract<CheckNode, { kind: K }>;

/** `maxVCPUs`, `maxMemoryGB`, `maxSizeGB`, `maxStorageGB`: inclusive upper bounds on a number. */
export function compileMax(node: Node<"max">, rule: RuleNode): CompiledCheck {
  const read = compileField(node.field);
  const { limit, noun, unit, field, constraint } = node;
  // The same note every time: made once, shared by every decision (frozen, so none can change it).
  const unverified: Unverified = Object.freeze({
    policy: rule.policy,
    rule: rule.rule,
    field,
    message: `${constraint} not checked: request has no numeric ${field}`,
  });
  return {
    key: `max\0${field}\0${limit}`,
    measure(request, into) {
      const actual = read(request as Record<string, unknown>);
      into.value = actual;
      into.bits =
        typeof actual === "number"
          ? actual <= limit
            ? 0
            : actual > limit
              ? FAILED
              : WRONG_TYPE // NaN
          : actual === undefined || actual === null
            ? UNVERIFIED
            : WRONG_TYPE;
    },
    report(request, out, found) {
      if (found.bits === UNVERIFIED) {
        out.addUnverified(withHint(unverified, request));
        return;
      }
      if (found.bits === WRONG_TYPE) {
        const message = `${field} is ${shownValue(found.value)}, not a number: it cannot be within ${constraint} ${limit}`;
        out.addViolation(violation(rule, request, field, found.value, limit, message));
        return;
      }
      const actual = found.value as number;
      const message =
        noun === "vCPUs"
          ? `Requested ${actual} vCPUs exceeds limit of ${limit}`
          : `Requested ${actual}${unit} ${noun} exceeds limit of ${limit}${unit}`;
      out.addViolation(violation(rule, request, field, actual, limit, message));
    },
  };
}

/** `allowedInstanceFamilies` / `allowedTypes` (must be listed) and the `denied…` twins (must not be). */
export function compileMembership(node: Node<"allowed"> | Node<"denied">, rule: RuleNode): CompiledCheck {
  const read = compileField(node.field);
  const { field, noun, constraint, values, kind } = node;
  const set = new Set(values);
  // The list a violation names as its limit: made once, frozen, shared by every decision (a copy per
  // violation cost the worst case, ~100 violations a decision, a third of its speed).
  const limitList = Object.freeze(values.slice());
  const mustBeIn = kind === "allowed";
  const listed = pyList(values);
  const unverified: Unverified = Object.freeze({
    policy: rule.policy,
    rule: rule.rule,
    field,
    message: `${constraint} not checked: request has no ${field}`,
  });
  return {
    key: `${kind}\0${field}\0${JSON.stringify([...values].sort())}`,
    measure(request, into) {
      const actual = read(request as Record<string, unknown>);
      into.value = actual;
      into.bits =
        typeof actual === "string"
          ? set.has(actual) !== mustBeIn
            ? FAILED
            : 0
          : actual === undefined || actual === null
            ? UNVERIFIED
            : WRONG_TYPE;
    },
    report(request, out, found) {
      if (found.bits === UNVERIFIED) {
        out.addUnverified(withHint(unverified, request));
        return;
      }
      if (found.bits === WRONG_TYPE) {
        const message = `${field} is ${shownValue(found.value)}, not text: it cannot be checked against ${constraint} ${listed}`;
        out.addViolation(violation(rule, request, field, found.value, limitList, message));
        return;
      }
      const actual = found.value as string;
      const message = mustBeIn
        ? `${noun} '${actual}' is not in allowed values: ${listed}`
        : `${noun} '${actual}' is not allowed`;
      out.addViolation(violation(rule, request, field, actual, limitList, message));
    },
  };
}
