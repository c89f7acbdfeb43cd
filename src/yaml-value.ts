import { CST, type Document, isCollection, Lexer, visit } from "yaml";
import { InputError } from "./errors.js";
import { lineAndColumn } from "./json-duplicates.js";
import { MAX_NESTING } from "./objects.js";

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

/** What is said where YAML text nests past MAX_NESTING. */
export const NESTED_TOO_DEEP = `lists and maps nest more than ${MAX_NESTING} levels deep here (costguard reads ${MAX_NESTING})`;

/**
 * Where YAML (or JSON) `text` first nests lists and maps more than MAX_NESTING levels deep, if it does:
 * to be refused before the yaml library reads it. Its parser and composer recurse once a level and,
 * some hundreds of levels in, ran out of stack: a RangeError at the caller (exit 3), an error saying only
 * "Maximum call stack size exceeded", or, a second such text in one process, V8 aborting the process
 * as it compiled a regular expression that deep. The library's lexer does not recurse; its
 * tokens are followed here as the parser follows them: `[` and `{` open a level until they close, and
 * `-` (an item) or `key:` a block collection at its column, until a line less indented, or as much
 * (another kind of entry), ends it.
 */
export function yamlTooDeep(text: string): { line: number; column: number } | undefined {
  if (!enoughOpeners(text)) return undefined;
  // The block collections open (the column each starts at, and whether a list or a map), and the flow
  // collections within the innermost.
  const blocks: { column: number; list: boolean }[] = [];
  let flows = 0;
  let offset = 0;
  let column = 0;
  // Where the entry under way starts (its first token since the line's start or the last indicator):
  // a key's place, when a `:` follows it.
  let start: { column: number; offset: number } | undefined;
  let scalar = false;
  const opens = (at: number, list: boolean): boolean => {
    // A list ends at a key written at its own column (`a:` then `- x` then `b:`): its map goes on.
    let top = blocks.at(-1);
    while (top !== undefined && (top.column > at || (top.column === at && top.list && !list))) {
      blocks.pop();
      top = blocks.at(-1);
    }
    if (top === undefined || top.column !== at || top.list !== list) blocks.push({ column: at, list });
    return blocks.length + flows > MAX_NESTING;
  };
  for (const token of new Lexer().lex(text)) {
    // The lexer's markers (a document's start, a scalar's) are not in the text.
    const type = scalar ? "scalar" : CST.tokenType(token);
    scalar = token === CST.SCALAR;
    if (scalar || token === CST.DOCUMENT || token === CST.FLOW_END) continue;
    let deepAt: number | undefined;
    switch (type) {
      case "doc-start":
      case "doc-end":
        blocks.length = 0;
        flows = 0;
        break;
      case "flow-seq-start":
      case "flow-map-start":
        start ??= { column, offset };
        flows++;
        if (blocks.length + flows > MAX_NESTING) deepAt = offset;
        break;
      case "flow-seq-end":
      case "flow-map-end":
        if (flows > 0) flows--;
        break;
      case "seq-item-ind":
        if (flows === 0) {
          if (opens(column, true)) deepAt = offset;
          start = undefined;
        }
        break;
      case "explicit-key-ind":
      case "map-value-ind":
        if (flows === 0) {
          const key = type === "map-value-ind" && start !== undefined ? start : { column, offset };
          if (opens(key.column, false)) deepAt = key.offset;
          start = undefined;
        }
        break;
      case "newline":
        start = undefined;
        break;
      case "space":
      case "comment":
      case "comma":
        break;
      default:
        start ??= { column, offset };
    }
    if (deepAt !== undefined) return lineAndColumn(text, deepAt);
    offset += token.length;
    const feed = token.lastIndexOf("\n");
    if (feed < 0) column += token.length;
    else {
      // A block scalar's text, or a quoted one over lines: what follows starts a line of its own.
      column = token.length - feed - 1;
      start = undefined;
    }
  }
  return undefined;
}

/**
 * Whether `text` holds more than MAX_NESTING of the characters that open a level (`[`, `{`, `-`, `?`,
 * `:`): each level needs one, so text with fewer (an inventory's items, read one at a time) needs no
 * lexing.
 */
function enoughOpeners(text: string): boolean {
  let openers = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 91 || c === 123 || c === 45 || c === 63 || c === 58) {
      if (++openers > MAX_NESTING) return true;
    }
  }
  return false;
}
