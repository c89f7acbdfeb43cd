import { type Document, isCollection, visit } from "yaml";
import { InputError } from "./errors.js";

/**
 * The most alias uses one YAML document may make (the yaml library's own default, stated here so every
 * reader uses the same): a few lines of anchors and aliases can otherwise expand into gigabytes.
 */
export const MAX_YAML_ALIASES = 100;

/**
 * Options every reader of YAML passes: a list or map used as a key (`? [a, b] : c`), which JSON has no
 * such thing as, is turned into text without the library's process warning on stderr; the readers'
 * own checks then refuse the odd key (or `collectionKeyAt` finds it first).
 */
export const QUIET_YAML = { logLevel: "error" } as const;

/** What is wrong with a list or map used as a key. */
export const COLLECTION_KEY = "a key must be a plain value (text or a number), not a list or map";

/** Where a document first uses a list or map as a key (its offset in the text), if it does. */
export function collectionKeyAt(doc: Document): number | undefined {
  let at: number | undefined;
  visit(doc, {
    Pair(_, pair) {
      if (!isCollection(pair.key)) return undefined;
      at = pair.key.range?.[0] ?? 0;
      return visit.BREAK;
    },
  });
  return at;
}

/**
 * A parsed, error-free YAML document's value. What the yaml library refuses while building it — too
 * many aliases, its guard against that expansion (a ReferenceError), or an alias it cannot resolve —
 * is the input's fault, and becomes an InputError that names `where`.
 */
export function yamlValue(doc: Document.Parsed, where: string): unknown {
  if (collectionKeyAt(doc) !== undefined)
    throw new InputError(`${where}: not valid YAML here: ${COLLECTION_KEY}`);
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    throw new InputError(`${where}: not valid YAML: ${(err as Error).message.split("\n")[0]}`);
  }
}
