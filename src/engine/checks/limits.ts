import { compileField } from "../field.js";
import type { CheckNode, RuleNode } from "../rule-tree.js";
import type { Unverified } from "../types.js";
import { type CompiledCheck, pyList, violation, withHint } from "./shared.js";

const UNVERIFIED = 1;
const FAILED = 2;

type Node<K> = Extract<CheckNode, { kind: K }>;

/** `maxVCPUs`, `maxMemoryGB`, `maxSizeGB`, `maxStorageGB`: inclusive upper bounds on a number. */
export function compileMax(node: Node<"max">, rule: RuleNode): CompiledCheck {
  const read = compileField(node.field);
  const { limit, noun, unit, field, constraint } = node;
  // The same note every time: made once (frozen); each decision gets its own copy (withHint).
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
      into.bits = typeof actual !== "number" ? UNVERIFIED : actual > limit ? FAILED : 0;
    },
    report(request, out, found) {
      if (found.bits === UNVERIFIED) {
        out.addUnverified(withHint(unverified, request));
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
      into.bits = typeof actual !== "string" ? UNVERIFIED : set.has(actual) !== mustBeIn ? FAILED : 0;
    },
    report(request, out, found) {
      if (found.bits === UNVERIFIED) {
        out.addUnverified(withHint(unverified, request));
        return;
      }
      const actual = found.value as string;
      const message = mustBeIn
        ? `${noun} '${actual}' is not in allowed values: ${listed}`
        : `${noun} '${actual}' is not allowed`;
      out.addViolation(violation(rule, request, field, actual, values.slice(), message));
    },
  };
}
