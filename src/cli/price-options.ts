import type { PriceBook } from "../pricing/book.js";
import { loadPriceBook } from "../pricing/load.js";

export { createPricedDecider } from "../pricing/priced-decider.js";

/** The embedded price book plus every `--price-book PATH` (later files override earlier ones). */
export function loadPriceBookForCli(paths: readonly string[] | undefined): PriceBook {
  return loadPriceBook(paths ?? []);
}
