import { parse } from "secure-json-parse";
import { MAX_NESTING, NestedTooDeepError } from "./objects.js";

/**
 * What a request holding a `__proto__` key (or `constructor.prototype`) is told, by the server and
 * the CLI alike: no request field has those names, and an object holding one, merged by code that
 * copies keys one by one, changes what it inherits.
 */
export const PROTOTYPE_KEY_MESSAGE =
  "holds a __proto__ key or constructor.prototype, which costguard refuses: no request field has those names";

/** A JSON text (or YAML value) holding a key PROTOTYPE_KEY_MESSAGE refuses. */
export class PrototypeKeyError extends SyntaxError {
  override readonly name = "PrototypeKeyError";
  constructor() {
    super(PROTOTYPE_KEY_MESSAGE);
  }
}

/** JSON.parse, refusing `__proto__` and `constructor.prototype` keys (PrototypeKeyError). */
export function parseJsonSafely(text: string): unknown {
  try {
    return parse(text, { protoAction: "error", constructorAction: "error" });
  } catch (err) {
    if (err instanceof SyntaxError && /forbidden prototype property/.test(err.message))
      throw new PrototypeKeyError();
    throw err;
  }
}

/**
 * Whether a parsed value (a YAML document's) holds such a key anywhere. Nested past MAX_NESTING, it
 * throws NestedTooDeepError: YAML text is refused that deep before it is read, but its aliases can
 * build a value deeper than the text (each a list holding the one before), and this walk recursed.
 */
export function holdsPrototypeKey(value: unknown, levels = MAX_NESTING): boolean {
  if (value === null || typeof value !== "object") return false;
  if (levels === 0) throw new NestedTooDeepError();
  if (Array.isArray(value)) {
    for (const item of value) if (holdsPrototypeKey(item, levels - 1)) return true;
    return false;
  }
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    if (key === "__proto__") return true;
    if (key === "constructor" && v !== null && typeof v === "object" && Object.hasOwn(v, "prototype"))
      return true;
    if (holdsPrototypeKey(v, levels - 1)) return true;
  }
  return false;
}
