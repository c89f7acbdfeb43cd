import { Big } from "big.js";
import { compileField } from "../field.js";
import type { CheckNode, RuleNode } from "../rule-tree.js";
import { type CompiledCheck, violation } from "./shared.js";

const UNVERIFIED = 1;
const FAILED = 2;
const DECIMAL = /^-?\d+(\.\d+)?$/;

/**
 * `maxMonthlyCost`: an inclusive bound on `cost.monthly`, the exact decimal the price book put on the
 * request. Compared as decimals, never through binary floating point; no estimate is unverified.
 */
export function compileMaxCost(node: Extract<CheckNode, { kind: "maxCost" }>, rule: RuleNode): CompiledCheck {
  const read = compileField(node.field);
  const { field, constraint } = node;
  const limit = new Big(node.limit);
  return {
    key: `maxCost\0${field}\0${node.limit}`,
    measure(request, into) {
      const raw = read(request as Record<string, unknown>);
      const text = typeof raw === "number" && Number.isFinite(raw) ? String(raw) : raw;
      into.value = text;
      into.bits =
        typeof text !== "string" || !DECIMAL.test(text) ? UNVERIFIED : new Big(text).gt(limit) ? FAILED : 0;
    },
    report(request, out, found) {
      const cost = request.cost as { reason?: unknown; currency?: unknown } | undefined;
      if (found.bits === UNVERIFIED) {
        const why = typeof cost?.reason === "string" ? `: ${cost.reason}` : "";
        out.addUnverified({
          policy: rule.policy,
          rule: rule.rule,
          field,
          message: `${constraint} not checked: no cost estimate${why}`,
        });
        return;
      }
      const actual = found.value as string;
      const currency = typeof cost?.currency === "string" ? ` ${cost.currency}` : "";
      out.addViolation(
        violation(
          rule,
          request,
          field,
          actual,
          node.limit,
          `Estimated monthly cost ${actual}${currency} exceeds limit of ${node.limit}${currency}`,
        ),
      );
    },
  };
}
