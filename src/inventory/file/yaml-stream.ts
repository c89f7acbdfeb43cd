import { parseAllDocuments } from "yaml";
import { InputError } from "../../errors.js";
import { type Line, readLines } from "./text-chunks.js";

/**
 * Streams resources from YAML: a top-level sequence (`- id: ...`) or a stream of documents
 * separated by `---`, each a resource or a sequence of them. The text is cut at column-0 item and
 * document boundaries and each piece is parsed on its own, so memory stays flat. (Anchors and
 * aliases therefore work within one item, not across items.)
 */
export async function* readYamlItems(
  path: string,
  name: string,
  onBytes?: (bytes: number) => void,
): AsyncGenerator<{ value: unknown; where: string }[]> {
  let piece: Line[] = [];
  for await (const lines of readLines(path, onBytes)) {
    const out: { value: unknown; where: string }[] = [];
    for (const l of lines) {
      const t = l.text;
      const boundary = t.startsWith("---") || t === "..." || t === "-" || t.startsWith("- ");
      if (boundary && piece.some(significant)) {
        parsePiece(piece, name, out);
        piece = [];
      }
      if (t.startsWith("---") || t === "...") {
        const rest = t.startsWith("---") ? t.slice(3).trim() : "";
        if (rest !== "" && !rest.startsWith("#")) piece.push({ text: rest, number: l.number });
        continue;
      }
      piece.push(l);
    }
    if (out.length > 0) yield out;
  }
  const out: { value: unknown; where: string }[] = [];
  if (piece.some(significant)) parsePiece(piece, name, out);
  if (out.length > 0) yield out;
}

function significant(l: Line): boolean {
  const t = l.text.trim();
  return t !== "" && !t.startsWith("#");
}

function parsePiece(piece: Line[], name: string, out: { value: unknown; where: string }[]): void {
  const first = piece.find(significant)!.number;
  const docs = parseAllDocuments(piece.map((l) => l.text).join("\n"));
  if (!Array.isArray(docs)) return;
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) {
      const pos = err.linePos?.[0];
      const lineNo = pos ? piece[0]!.number + pos.line - 1 : first;
      throw new InputError(`${name}:${lineNo}: not valid YAML: ${err.message.split("\n")[0]}`);
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.push({ value: v, where: `${name}:${first}` });
    else out.push({ value, where: `${name}:${first}` });
  }
}
