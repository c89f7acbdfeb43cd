import { Document, isAlias, isNode, isSeq, parseAllDocuments, type Tags, visit, YAMLSeq } from "yaml";
import { InputError } from "../../errors.js";
import { MAX_YAML_ALIASES, NESTED_TOO_DEEP, QUIET_YAML, yamlTooDeep } from "../../yaml-value.js";
import { type Line, positionIn, readLines } from "./text-chunks.js";
import { FlowSequence } from "./yaml-flow.js";

type Item = { value: unknown; where: string };

/**
 * The items of the current document that define anchors, kept so a later item's aliases resolve:
 * YAML scopes anchors to a document, and a sequence's items often share a template
 * (`- &base {...}` then `- <<: *base`). Only defining items are kept, parsed, the latest 4 MiB of
 * them (by text); an aliasing item is resolved in one sequence with just the ones its aliases need.
 */
const MAX_ANCHOR_TEXT = 4 * 1024 * 1024;
/** Names of anchors let go that are remembered, to say why an alias to one fails. */
const MAX_DROPPED = 100_000;

interface Kept {
  /** Its place in the document: an alias resolves to the latest anchor of its name before it. */
  seq: number;
  /** One top-level sequence item as parsed (or a few items, cut together), and its text's length. */
  nodes: readonly unknown[];
  bytes: number;
  /** The anchors it defines, and the aliases it takes from earlier items. */
  names: readonly string[];
  uses: readonly string[];
}

interface Anchors {
  /** Oldest first. */
  kept: Kept[];
  bytes: number;
  /** Each anchor's kept definers, oldest first. */
  definers: Map<string, Kept[]>;
  /** Anchors whose every definer was let go to stay within the bound: an alias to one is an error. */
  dropped: Set<string>;
  seq: number;
  /** The bound on kept text (MAX_ANCHOR_TEXT; smaller in tests). */
  limit: number;
}

const noAnchors = (limit: number): Anchors => ({
  kept: [],
  bytes: 0,
  definers: new Map(),
  dropped: new Set(),
  seq: 0,
  limit,
});

/**
 * Streams resources from YAML: a top-level sequence (`- id: ...`, or a flow sequence `[...]`) or a
 * stream of documents separated by `---`, each a resource or a sequence of them. The text is cut at
 * column-0 item and document boundaries (a flow sequence at its items' commas, see FlowSequence)
 * and each piece is parsed on its own, so memory stays flat. Merge keys
 * (`<<: *base`) are honoured, and an alias may name an anchor an earlier item of the same document
 * defined (see Anchors).
 */
export async function* readYamlItems(
  path: string,
  name: string,
  onBytes?: (bytes: number) => void,
  anchorLimit = MAX_ANCHOR_TEXT,
): AsyncGenerator<Item[]> {
  let piece: Line[] = [];
  let anchors = noAnchors(anchorLimit);
  // A document that is a flow sequence (`[{...}, {...}]`, a JSON array saved as YAML) is cut into its
  // items as it comes; `closed`: its `]` has been read, and only comments may follow in the document.
  let flow: FlowSequence | undefined;
  let closed = false;
  let begun = false;
  let seen = false;
  const feed = (l: Line, from: number, out: Item[]) => {
    const { items, closedAt } = flow!.feed(l, from);
    for (const item of items) parsePiece(item.lines, name, anchors, out, item.first);
    if (closedAt === undefined) return;
    flow = undefined;
    closed = true;
    refuseAfterFlow(l, closedAt, name);
  };
  for await (const lines of readLines(path, name, onBytes)) {
    const out: Item[] = [];
    for (const l of lines) {
      const t = l.text;
      seen ||= significant(l);
      const document = t.startsWith("---") || t === "...";
      if (flow !== undefined && !document) {
        feed(l, 0, out);
        continue;
      }
      if (closed && !document) {
        refuseAfterFlow(l, 0, name);
        continue;
      }
      const boundary = document || t === "-" || t.startsWith("- ");
      if (boundary && piece.some(significant)) {
        parsePiece(piece, name, anchors, out);
        piece = [];
      }
      if (document) {
        flow?.end();
        closed = false;
        begun = false;
        anchors = noAnchors(anchorLimit);
        const rest = t.startsWith("---") ? t.slice(3).trim() : "";
        if (rest === "" || rest.startsWith("#")) continue;
        begun = true;
        if (rest.startsWith("[")) {
          flow = new FlowSequence(name, l, t.indexOf("["));
          feed(l, t.indexOf("[") + 1, out);
        } else piece.push({ text: rest, number: l.number });
        continue;
      }
      if (!begun && significant(l)) {
        begun = true;
        const at = t.search(/\S/);
        if (t[at] === "[") {
          flow = new FlowSequence(name, l, at);
          feed(l, at + 1, out);
          continue;
        }
      }
      piece.push(l);
    }
    if (out.length > 0) yield out;
  }
  flow?.end();
  const out: Item[] = [];
  if (piece.some(significant)) parsePiece(piece, name, anchors, out);
  if (out.length > 0) yield out;
  // An export that came out empty would read as an estate of nothing, exit 0; [] says so.
  if (!seen)
    throw new InputError(
      `${name}: no YAML in the file (it is empty, or comments alone): a YAML inventory is a list of resources; an empty estate is []`,
    );
}

/** After the `]` that closes a top-level flow sequence, a document holds nothing but comments. */
function refuseAfterFlow(l: Line, from: number, name: string): void {
  const rest = l.text.slice(from);
  const at = rest.search(/\S/);
  if (at === -1 || rest[at] === "#") return;
  throw new InputError(
    `${name}:${l.number}: not valid YAML, column ${from + at + 1}: text after the ] that closes the document's sequence`,
  );
}

function significant(l: Line): boolean {
  const t = l.text.trim();
  return t !== "" && !t.startsWith("#");
}

/**
 * YAML 1.2 reads `0x10` and `0o17` as integers and `.inf`/`.nan` as floats: an inventory's numbers are
 * decimal, as JSON's and CSV's are, so these stay text (which a cost or metric refuses, with its line,
 * as it refuses JSON's "0x10"; a tag keeps what was written).
 */
const decimalNumbersOnly = (tags: Tags): Tags =>
  tags.filter(
    (t) =>
      typeof t !== "object" ||
      !(
        (t.tag === "tag:yaml.org,2002:int" && (t.format === "HEX" || t.format === "OCT")) ||
        (t.tag === "tag:yaml.org,2002:float" && t.format === undefined && t.test?.test(".nan"))
      ),
  );

const OPTIONS = { merge: true, customTags: decimalNumbersOnly, ...QUIET_YAML } as const;
const TO_JS = { maxAliasCount: MAX_YAML_ALIASES } as const;

/** `flowItem`: the piece is one item of a top-level flow sequence, wrapped in `[...]`; its first line. */
function parsePiece(piece: Line[], name: string, anchors: Anchors, out: Item[], flowItem?: number): void {
  const head = piece.find(significant)!;
  const first = flowItem ?? head.number;
  const isItem = flowItem !== undefined || head.text.startsWith("-");
  const where = `${name}:${first}`;
  const text = piece.map((l) => l.text).join("\n");
  const deep = yamlTooDeep(text);
  if (deep !== undefined)
    throw new InputError(`${name}:${piece[0]!.number + deep.line - 1}:${deep.column}: ${NESTED_TOO_DEEP}`);
  const docs = parseAllDocuments(text, OPTIONS);
  if (!Array.isArray(docs)) return;
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) {
      // The library counts lines from the item's start: the message names the file's line instead.
      const pos = err.linePos?.[0];
      const lineNo = pos ? piece[0]!.number + pos.line - 1 : first;
      const column = pos ? `, column ${pos.col}` : "";
      const message = err.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
      throw new InputError(`${name}:${lineNo}: not valid YAML${column}: ${message}`);
    }
    // Cheap test first: most items have neither anchors nor aliases.
    const marked = text.includes("&") || text.includes("*");
    const { names, uses, usedAt } = marked ? anchorsOf(doc) : { names: [], uses: [], usedAt: new Map() };
    const items = isItem && isSeq(doc.contents) ? doc.contents.items : undefined;
    // An alias's own line in the file, for what is wrong with it.
    const aliasLine = (alias: string): number => {
      const at = usedAt.get(alias);
      return at === undefined ? first : piece[0]!.number + positionIn(text, at).feeds;
    };
    const value: unknown =
      uses.length === 0 ? toJS(doc, name, first) : withAnchors(items, uses, anchors, name, first, aliasLine);
    if (names.length > 0 && items) keepAnchors(anchors, { nodes: items, bytes: text.length, names, uses });
    if (value === null || value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push({ value: v, where });
    else out.push({ value, where });
  }
}

/** A document's value; what the YAML library refuses there (too many aliases, say) is the input's fault. */
function toJS(doc: Document.Parsed | Document, name: string, first: number): unknown {
  try {
    return doc.toJS(TO_JS);
  } catch (err) {
    throw new InputError(`${name}:${first}: not valid YAML: ${(err as Error).message.split("\n")[0]}`);
  }
}

/**
 * The anchors a piece defines, and the aliases it uses that none of its own anchors before them names,
 * with where in the piece's text each is first used.
 */
function anchorsOf(doc: ReturnType<typeof parseAllDocuments>[number]): {
  names: string[];
  uses: string[];
  usedAt: Map<string, number>;
} {
  const names: string[] = [];
  const uses: string[] = [];
  const usedAt = new Map<string, number>();
  visit(doc, (_key, node) => {
    if (isAlias(node)) {
      if (!names.includes(node.source) && !uses.includes(node.source)) {
        uses.push(node.source);
        if (node.range) usedAt.set(node.source, node.range[0]);
      }
    } else if (isNode(node) && node.anchor) names.push(node.anchor);
  });
  return { names, uses, usedAt };
}

/**
 * The kept items a piece's aliases need, and those theirs need, in document order. `lineOf` names the
 * line of an alias the piece uses (a kept item's own were resolved when it was read).
 */
function needed(
  anchors: Anchors,
  uses: readonly string[],
  name: string,
  lineOf: (alias: string) => number,
): Kept[] {
  const chosen = new Set<Kept>();
  const todo: [alias: string, before: number][] = uses.map((u) => [u, Number.POSITIVE_INFINITY]);
  for (let next = todo.pop(); next !== undefined; next = todo.pop()) {
    const [alias, before] = next;
    const list = anchors.definers.get(alias) ?? [];
    let k: Kept | undefined;
    for (let i = list.length - 1; i >= 0 && k === undefined; i--) if (list[i]!.seq < before) k = list[i];
    if (k === undefined)
      throw new InputError(
        anchors.dropped.has(alias)
          ? `${name}:${lineOf(alias)}: the alias *${alias} names an anchor more than 4 MiB of anchored items back, which costguard no longer holds (move the template nearer, or expand the alias)`
          : `${name}:${lineOf(alias)}: the alias *${alias} names no anchor defined before it in this YAML document`,
      );
    if (chosen.has(k)) continue;
    chosen.add(k);
    for (const u of k.uses) todo.push([u, k.seq]);
  }
  return [...chosen].sort((a, b) => a.seq - b.seq);
}

/**
 * A piece's items, with its aliases resolved against the kept items they name: those items' parsed
 * nodes and the piece's, in document order, make one sequence (as if nothing had been cut out
 * between them), so anchors resolve as YAML resolves them, without parsing anything again.
 */
function withAnchors(
  items: readonly unknown[] | undefined,
  uses: readonly string[],
  anchors: Anchors,
  name: string,
  first: number,
  lineOf: (alias: string) => number,
): unknown[] {
  if (!items)
    throw new InputError(
      `${name}:${lineOf(uses[0]!)}: the alias *${uses[0]} names no anchor defined before it in this YAML document`,
    );
  const prelude = needed(anchors, uses, name, lineOf);
  const seq = new YAMLSeq();
  seq.items = [...prelude.flatMap((k) => k.nodes), ...items];
  const doc = new Document(null, OPTIONS);
  doc.contents = seq;
  const all = toJS(doc, name, first) as unknown[];
  return all.slice(all.length - items.length);
}

function keepAnchors(anchors: Anchors, piece: Omit<Kept, "seq">): void {
  const kept: Kept = { ...piece, seq: ++anchors.seq };
  anchors.kept.push(kept);
  anchors.bytes += kept.bytes;
  for (const n of kept.names) {
    const list = anchors.definers.get(n);
    if (list) list.push(kept);
    else anchors.definers.set(n, [kept]);
    anchors.dropped.delete(n);
  }
  // Past the bound, the oldest go: most anchors serve their own item or the next few.
  while (anchors.bytes > anchors.limit && anchors.kept.length > 1) {
    const oldest = anchors.kept.shift()!;
    anchors.bytes -= oldest.bytes;
    for (const n of oldest.names) {
      const list = anchors.definers.get(n)!;
      if (list[0] === oldest) list.shift();
      if (list.length === 0) {
        anchors.definers.delete(n);
        if (anchors.dropped.size >= MAX_DROPPED) anchors.dropped.clear();
        anchors.dropped.add(n);
      }
    }
  }
}
