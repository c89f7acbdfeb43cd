import { isAlias, isNode, parseAllDocuments, visit } from "yaml";
import { InputError } from "../../errors.js";
import { type Line, readLines } from "./text-chunks.js";

type Item = { value: unknown; where: string };

/**
 * The items of the current document that define anchors, kept so a later item's aliases resolve:
 * YAML scopes anchors to a document, and a sequence's items often share a template
 * (`- &base {...}` then `- <<: *base`). Only defining items are kept, up to 4 MiB of them, and an
 * aliasing item is parsed after just the ones its aliases need.
 */
const MAX_ANCHOR_TEXT = 4 * 1024 * 1024;

interface Kept {
  /** One top-level sequence item's text (or a few items, cut together). */
  text: string;
  /** The anchors it defines, and the aliases it takes from earlier items. */
  names: readonly string[];
  uses: readonly string[];
  /** How many sequence items it parses to. */
  items: number;
}

interface Anchors {
  kept: Kept[];
  bytes: number;
}

/**
 * Streams resources from YAML: a top-level sequence (`- id: ...`) or a stream of documents
 * separated by `---`, each a resource or a sequence of them. The text is cut at column-0 item and
 * document boundaries and each piece is parsed on its own, so memory stays flat. Merge keys
 * (`<<: *base`) are honoured, and an alias may name an anchor an earlier item of the same document
 * defined (the items that define anchors are kept for that, up to 4 MiB of them).
 */
export async function* readYamlItems(
  path: string,
  name: string,
  onBytes?: (bytes: number) => void,
): AsyncGenerator<Item[]> {
  let piece: Line[] = [];
  let anchors: Anchors = { kept: [], bytes: 0 };
  for await (const lines of readLines(path, onBytes)) {
    const out: Item[] = [];
    for (const l of lines) {
      const t = l.text;
      const document = t.startsWith("---") || t === "...";
      const boundary = document || t === "-" || t.startsWith("- ");
      if (boundary && piece.some(significant)) {
        parsePiece(piece, name, anchors, out);
        piece = [];
      }
      if (document) {
        anchors = { kept: [], bytes: 0 };
        const rest = t.startsWith("---") ? t.slice(3).trim() : "";
        if (rest !== "" && !rest.startsWith("#")) piece.push({ text: rest, number: l.number });
        continue;
      }
      piece.push(l);
    }
    if (out.length > 0) yield out;
  }
  const out: Item[] = [];
  if (piece.some(significant)) parsePiece(piece, name, anchors, out);
  if (out.length > 0) yield out;
}

function significant(l: Line): boolean {
  const t = l.text.trim();
  return t !== "" && !t.startsWith("#");
}

const OPTIONS = { merge: true } as const;
const TO_JS = { maxAliasCount: 100 } as const;

function parsePiece(piece: Line[], name: string, anchors: Anchors, out: Item[]): void {
  const head = piece.find(significant)!;
  const first = head.number;
  const isItem = head.text.startsWith("-");
  const where = `${name}:${first}`;
  const text = piece.map((l) => l.text).join("\n");
  const docs = parseAllDocuments(text, OPTIONS);
  if (!Array.isArray(docs)) return;
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) {
      const pos = err.linePos?.[0];
      const lineNo = pos ? piece[0]!.number + pos.line - 1 : first;
      throw new InputError(`${name}:${lineNo}: not valid YAML: ${err.message.split("\n")[0]}`);
    }
    // Cheap test first: most items have neither anchors nor aliases.
    const marked = text.includes("&") || text.includes("*");
    const { names, uses } = marked ? anchorsOf(doc) : { names: [], uses: [] };
    const value: unknown =
      uses.length === 0 ? doc.toJS(TO_JS) : withAnchors(text, uses, anchors, name, first);
    if (names.length > 0 && isItem)
      keepAnchors(
        anchors,
        { text, names, uses, items: Array.isArray(value) ? value.length : 1 },
        name,
        first,
      );
    if (value === null || value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push({ value: v, where });
    else out.push({ value, where });
  }
}

/** The anchors a piece defines, and the aliases it uses that none of its own anchors before them names. */
function anchorsOf(doc: ReturnType<typeof parseAllDocuments>[number]): { names: string[]; uses: string[] } {
  const names: string[] = [];
  const uses: string[] = [];
  visit(doc, (_key, node) => {
    if (isAlias(node)) {
      if (!names.includes(node.source) && !uses.includes(node.source)) uses.push(node.source);
    } else if (isNode(node) && node.anchor) names.push(node.anchor);
  });
  return { names, uses };
}

/** The kept items a piece's aliases need (and theirs need), latest definition first found, in file order. */
function needed(anchors: Anchors, uses: readonly string[], name: string, first: number): Kept[] {
  const wanted = new Set(uses);
  const out: Kept[] = [];
  for (let i = anchors.kept.length - 1; i >= 0 && wanted.size > 0; i--) {
    const k = anchors.kept[i]!;
    if (!k.names.some((n) => wanted.has(n))) continue;
    out.push(k);
    for (const n of k.names) wanted.delete(n);
    for (const u of k.uses) wanted.add(u);
  }
  const missing = [...wanted][0];
  if (missing !== undefined)
    throw new InputError(
      `${name}:${first}: the alias *${missing} names no anchor defined before it in this YAML document`,
    );
  return out.reverse();
}

/** Parses a piece after the kept items its aliases need, and returns the piece's own items. */
function withAnchors(
  text: string,
  uses: readonly string[],
  anchors: Anchors,
  name: string,
  first: number,
): unknown[] {
  const prelude = needed(anchors, uses, name, first);
  const [doc] = parseAllDocuments(`${prelude.map((k) => k.text).join("\n")}\n${text}`, OPTIONS);
  if (!doc || Array.isArray(doc) || doc.errors.length > 0)
    throw new InputError(`${name}:${first}: this item does not parse after the items defining its anchors`);
  const all = doc.toJS(TO_JS) as unknown;
  // The kept pieces are top-level sequence items: the document is one sequence, theirs first.
  if (!Array.isArray(all))
    throw new InputError(`${name}:${first}: an alias here names an anchor of a sequence item, outside one`);
  return all.slice(prelude.reduce((n, k) => n + k.items, 0));
}

function keepAnchors(anchors: Anchors, kept: Kept, name: string, first: number) {
  // An earlier item whose every anchor this one redefines is no longer needed, unless a kept item
  // after it takes one of them (that item is parsed after it).
  anchors.kept = anchors.kept.filter((k, i) => {
    if (!k.names.every((n) => kept.names.includes(n))) return true;
    if (anchors.kept.slice(i + 1).some((later) => later.uses.some((u) => k.names.includes(u)))) return true;
    anchors.bytes -= k.text.length;
    return false;
  });
  anchors.kept.push(kept);
  anchors.bytes += kept.text.length;
  if (anchors.bytes > MAX_ANCHOR_TEXT)
    throw new InputError(
      `${name}:${first}: more than 4 MiB of items define YAML anchors; costguard keeps them to resolve later aliases (split the file, or expand the aliases)`,
    );
}
