import type { Document } from "yaml";
import { InputError } from "./errors.js";

/**
 * The most alias uses one YAML document may make (the yaml library's own default, stated here so every
 * reader uses the same): a few lines of anchors and aliases can otherwise expand into gigabytes.
 */
export const MAX_YAML_ALIASES = 100;

/**
 * A parsed, error-free YAML document's value. What the yaml library refuses while building it — too
 * many aliases, its guard against that expansion (a ReferenceError), or an alias it cannot resolve —
 * is the input's fault, and becomes an InputError that names `where`.
 */
export function yamlValue(doc: Document.Parsed, where: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    throw new InputError(`${where}: not valid YAML: ${(err as Error).message.split("\n")[0]}`);
  }
}
