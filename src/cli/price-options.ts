import type { Decider } from "../decide/decider.js";
import { createDecider } from "../decide/decider.js";
import type { CompiledPolicySet } from "../engine/compile.js";
import type { PriceBook } from "../pricing/book.js";
import { createCostAnnotator, createPriceBookEnricher } from "../pricing/enrich.js";
import { loadPriceBook } from "../pricing/load.js";

/** The embedded price book plus every `--price-book PATH` (later files override earlier ones). */
export function loadPriceBookForCli(paths: readonly string[] | undefined): PriceBook {
  return loadPriceBook(paths ?? []);
}

/** The decider every CLI gate uses: price-book enrichment before the engine, the estimate after it. */
export function createPricedDecider(policySet: CompiledPolicySet, book: PriceBook): Decider {
  return createDecider({
    policySet,
    enrichers: [createPriceBookEnricher(book)],
    annotators: [createCostAnnotator(book)],
  });
}
