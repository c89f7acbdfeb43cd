import type { Decider, DecisionAnnotator } from "../decide/decider.js";
import { nearTypeText } from "../decide/request-guard.js";
import { compilePolicySet } from "../engine/compile.js";
import type { LoadedPolicy } from "../policy/types.js";
import type { PriceBook } from "../pricing/book.js";
import { type BudgetSourceOptions, budgetGateFromCli, resolveAt } from "./budget-options.js";
import type { CliContext } from "./context.js";
import { type ExceptionGateOptions, exceptionAnnotatorFromCli } from "./exception-options.js";
import { loadPoliciesForCli } from "./policy-options.js";
import { createPricedDecider, loadPriceBookForCli } from "./price-options.js";

export type GateOptions = { policies?: string[]; priceBook?: string[] } & BudgetSourceOptions &
  ExceptionGateOptions;

/**
 * The decider of a one-shot gate (`evaluate`, `plan`): the policies (--policies, else the
 * configuration's), budget rules from billing data, the price book, `annotators`, and approved
 * exceptions last (they must see every violation), as of --at.
 */
export async function gateDeciderFromCli(
  opts: GateOptions,
  ctx: CliContext,
  annotators: readonly DecisionAnnotator[] = [],
): Promise<{ policies: LoadedPolicy[]; book: PriceBook; decider: Decider }> {
  const policies = loadPoliciesForCli(opts.policies, ctx);
  const budgets = await budgetGateFromCli(policies, opts, ctx);
  const set = compilePolicySet(policies, budgets ? { budgets } : {});
  const book = loadPriceBookForCli(opts.priceBook);
  const at = resolveAt(opts.at, ctx);
  const excepted = await exceptionAnnotatorFromCli(opts, ctx, () => new Date(at));
  const decider = createPricedDecider(set, book, annotators, excepted ? [excepted] : []);
  return { policies, book, decider: warningNearTypes(decider, ctx) };
}

/** Types warned about, at most: a stream of made-up types cannot grow memory. */
const MAX_WARNED_TYPES = 4096;

/**
 * Says on stderr, once per type, when a request's type seems to misspell one (`compute/instnace`):
 * it is decided — a type of the user's own is legitimate — but the rules for the type meant did not
 * apply, and an allow would otherwise come without a word.
 */
function warningNearTypes(decider: Decider, ctx: CliContext): Decider {
  const { guard } = decider;
  if (guard === undefined) return decider;
  const seen = new Set<string>();
  return {
    ...decider,
    decide(request) {
      const decision = decider.decide(request);
      const { type } = request;
      if (!seen.has(type)) {
        if (seen.size < MAX_WARNED_TYPES) seen.add(type);
        const near = guard.nearType(type);
        if (near !== undefined) ctx.stderr.write(`costguard: warning: ${nearTypeText(type, near)}\n`);
      }
      return decision;
    },
  };
}
