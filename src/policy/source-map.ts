import { isMap, isScalar, isSeq, type LineCounter, type Node, type ParsedNode } from "yaml";

export type DocPath = readonly (string | number)[];

/**
 * Finds the line and column (1-based) of a path inside a parsed YAML node tree.
 * With `atKey`, points at the map key rather than its value (where "unknown key" belongs).
 * A path that does not exist resolves to its deepest existing ancestor.
 */
export function locateInNode(
  root: ParsedNode | null,
  lineCounter: LineCounter,
  path: DocPath,
  atKey = false,
): { line: number; column: number } {
  let node: Node | null = root;
  let offset = root?.range?.[0] ?? 0;
  for (let i = 0; i < path.length && node; i++) {
    const segment = path[i]!;
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      const keyNode = pair.key as Node;
      if (last && atKey) {
        offset = keyNode.range?.[0] ?? offset;
        break;
      }
      node = (pair.value as Node | null) ?? null;
      offset = node?.range?.[0] ?? keyNode.range?.[0] ?? offset;
    } else if (isSeq(node)) {
      const item = node.items[Number(segment)] as Node | undefined;
      if (!item) break;
      node = item;
      offset = item.range?.[0] ?? offset;
    } else {
      break;
    }
  }
  const pos = lineCounter.linePos(offset);
  return { line: pos.line, column: pos.col };
}
