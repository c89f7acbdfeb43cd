import { createDecider, type Decider, type DecisionAnnotator } from "../decide/decider.js";
import { compileRequestGuard } from "../decide/request-guard.js";
import type { CompiledPolicySet } from "../engine/compile.js";
import type { PriceBook } from "./book.js";
import { createCostAnnotator, createPriceBookEnricher } from "./enrich.js";

/**
 * The decider every gate uses when it has a price book: the book fills the request before the
 * engine runs, and the estimate goes on the decision after. `annotators` run before the cost one
 * (the plan gate adds its unknown-until-apply rule there); `last` run after it (exceptions, which
 * must see every violation the others added). A request holding a misspelt spec the policies or the
 * book read is refused (request-guard.ts).
 */
export function createPricedDecider(
  policySet: CompiledPolicySet,
  book: PriceBook,
  annotators: readonly DecisionAnnotator[] = [],
  last: readonly DecisionAnnotator[] = [],
): Decider {
  return createDecider({
    policySet,
    guard: compileRequestGuard(policySet, true),
    enrichers: [createPriceBookEnricher(book)],
    annotators: [...annotators, createCostAnnotator(book), ...last],
  });
}
