import type { Decider, DecisionAnnotator } from "../decide/decider.js";
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
  return { policies, book, decider };
}
