import { Big } from "big.js";
import { shownValue } from "../../objects.js";
import { DEFAULT_CURRENCY, numberAmount } from "../../pricing/money.js";
import { compileField } from "../field.js";
import type { CheckNode, RuleNode } from "../rule-tree.js";
import { type CompiledCheck, violation } from "./shared.js";

const UNVERIFIED = 1;
const FAILED = 2;
/** A cost.monthly that is there but no amount (NaN, "lots"): the check fails, never unverified. */
const NOT_AN_AMOUNT = 8;
/** An estimate in another currency than the limit's: not compared, no exchange rate guessed. */
const OTHER_CURRENCY = 4;
const DECIMAL = /^-?\d+(\.\d+)?$/;

/**
 * `maxMonthlyCost`: an inclusive bound on `cost.monthly`, the exact decimal the price book put on the
 * request. Compared as decimals, never through binary floating point; no estimate is unverified.
 */
export function compileMaxCost(node: Extract<CheckNode, { kind: "maxCost" }>, rule: RuleNode): CompiledCheck {
  const read = compileField(node.field);
  const { field, constraint } = node;
  const limit = new Big(node.limit);
  const { currency } = node;
  return {
    key: `maxCost\0${field}\0${node.limit}\0${currency}`,
    measure(request, into) {
      const raw = read(request as Record<string, unknown>);
      // Spaces around an amount are allowed in a request's own cost (" 12.50 "), as parseRequest does.
      const text =
        typeof raw === "number" && Number.isFinite(raw)
          ? numberAmount(raw)
          : typeof raw === "string"
            ? raw.trim()
            : raw;
      into.value = text;
      if (raw === undefined || raw === null) {
        into.bits = UNVERIFIED;
        return;
      }
      if (typeof text !== "string" || !DECIMAL.test(text)) {
        into.bits = NOT_AN_AMOUNT;
        return;
      }
      // An estimate says its currency (the price book's, USD when a request's own cost names none).
      const said = (request.cost as { currency?: unknown } | undefined)?.currency;
      if ((typeof said === "string" ? said : DEFAULT_CURRENCY) !== currency) {
        into.bits = OTHER_CURRENCY;
        return;
      }
      into.bits = new Big(text).gt(limit) ? FAILED : 0;
    },
    report(request, out, found) {
      const cost = request.cost as { reason?: unknown; currency?: unknown } | undefined;
      if (found.bits === OTHER_CURRENCY) {
        out.addUnverified({
          policy: rule.policy,
          rule: rule.rule,
          field,
          message: `${constraint} not checked: the estimate is ${found.value as string} ${String(cost?.currency)}, the limit ${node.limit} ${currency} (no exchange rate is assumed; set constraint.currency or price in ${currency})`,
        });
        return;
      }
      if (found.bits === NOT_AN_AMOUNT) {
        const message = `${field} is ${shownValue(found.value)}, not an amount: it cannot be within ${constraint} ${node.limit} ${currency}`;
        out.addViolation(violation(rule, request, field, found.value, node.limit, message));
        return;
      }
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
      out.addViolation(
        violation(
          rule,
          request,
          field,
          actual,
          node.limit,
          `Estimated monthly cost ${actual} ${currency} exceeds limit of ${node.limit} ${currency}`,
        ),
      );
    },
  };
}
