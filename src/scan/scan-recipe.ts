import { compilePolicySet } from "../engine/compile.js";
import type { LoadedPolicy, PolicyDocument } from "../policy/types.js";
import { markValidated } from "../policy/validated.js";
import { createPriceBook } from "../pricing/book.js";
import type { PriceTable } from "../pricing/parse.js";
import type { BilledCost } from "./billing-costs.js";
import type { DetectorConfig } from "./detectors.js";
import type { ScanContext } from "./findings.js";
import { priceLookupFromBook } from "./prices.js";
import { createScanDecider } from "./scan-decider.js";

/**
 * What a scan context is built from, as plain data: a worker thread given the same recipe builds a
 * context that judges every resource as the main thread's does.
 */
export interface ScanRecipe {
  /** The inventory judged: part of every fingerprint (a scan binds it to its provider's name). */
  inventory: string;
  /** The loaded policy documents, in load order (compiled as loaded: same order, same revision). */
  policies: { document: PolicyDocument; file: string; index: number }[];
  /** The price tables, embedded first, then the user's (later ones override earlier ones). */
  priceTables: PriceTable[];
  detectors: DetectorConfig;
  at: Date;
  currency: string;
  /** Running costs from a billing export, by resource (see BillingCosts). */
  billed?: Map<string, BilledCost> | undefined;
}

export function scanRecipe(
  inventory: string,
  policies: readonly LoadedPolicy[],
  priceTables: readonly PriceTable[],
  detectors: DetectorConfig,
  at: Date,
  currency: string,
  billed?: Map<string, BilledCost>,
): ScanRecipe {
  return {
    ...(billed ? { billed } : {}),
    inventory,
    policies: policies.map((p) => ({ document: p.document, file: p.source.file, index: p.source.index })),
    priceTables: [...priceTables],
    detectors,
    at,
    currency,
  };
}

/** Compiles the recipe's policies and builds its price book: the scan's context. */
export function scanContextFromRecipe(recipe: ScanRecipe): ScanContext {
  const policies: LoadedPolicy[] = recipe.policies.map((p) => ({
    // Validated by the loading thread: compiled here without checking it again.
    document: markValidated(p.document),
    // Positions only serve validation messages, which the loading thread has already reported.
    source: { file: p.file, index: p.index, locate: () => ({ line: 0, column: 0 }) },
  }));
  const policySet = compilePolicySet(policies);
  const book = createPriceBook(recipe.priceTables);
  return {
    inventory: recipe.inventory,
    decider: createScanDecider(policySet, book, recipe.billed),
    prices: priceLookupFromBook(book),
    detectors: recipe.detectors,
    at: recipe.at,
    currency: recipe.currency,
    ...(recipe.billed ? { billed: recipe.billed } : {}),
  };
}
