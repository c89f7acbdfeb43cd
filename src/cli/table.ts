import { styleText } from "node:util";
import stringWidth from "string-width";

export type Style = Parameters<typeof styleText>[0];

/** Colour only for a terminal, honouring NO_COLOR and FORCE_COLOR. */
export function useColor(stream: NodeJS.WritableStream): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "") return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== "0") return true;
  return Boolean((stream as NodeJS.WriteStream).isTTY);
}

export function paint(color: boolean, style: Style, text: string): string {
  return color ? styleText(style, text, { validateStream: false }) : text;
}

/** Control characters (C0, DEL, C1) and the Unicode marks that reorder how text is shown. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding them is the point
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text from outside (resource names, tag values, Terraform addresses, messages that quote them) as a
 * terminal shows it: an escape sequence in a tag value could otherwise retitle the window, hide or
 * recolour lines, and a line break or tab would break a table's columns. Breaks and tabs become
 * spaces, other control characters `\xNN` (`\u202e` for the direction marks); the text is otherwise
 * left as it is. JSON and CSV output keep values exactly.
 */
export function printable(text: string): string {
  UNPRINTABLE.lastIndex = 0;
  if (!UNPRINTABLE.test(text)) return text;
  return text.replace(UNPRINTABLE, (c) => {
    if (c === "\n" || c === "\r" || c === "\t") return " ";
    const code = c.charCodeAt(0);
    return code > 0xff ? `\\u${code.toString(16)}` : `\\x${code.toString(16).padStart(2, "0")}`;
  });
}

export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
  style?: (row: Row) => Style | undefined;
  align?: "left" | "right";
}

/**
 * The columns a text takes on a terminal: a wide character (CJK, most emoji) takes two, a combining
 * mark none, so a team named in Japanese does not push the rest of its row out of line. Printable
 * ASCII, nearly every cell, is its length.
 */
export function displayWidth(text: string): number {
  return PRINTABLE_ASCII.test(text) ? text.length : stringWidth(text);
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Renders rows as aligned columns; colours do not disturb the alignment. */
export function renderTable<Row>(
  rows: readonly Row[],
  columns: readonly Column<Row>[],
  color: boolean,
): string {
  const cells = rows.map((row) => columns.map((c) => printable(c.value(row))));
  const cellWidths = cells.map((r) => r.map(displayWidth));
  // A loop, not Math.max(...cells): a table of a hundred thousand rows is more arguments than a call takes.
  const widths = columns.map((c) => c.header.length);
  for (const r of cellWidths) for (let i = 0; i < widths.length; i++) widths[i] = Math.max(widths[i]!, r[i]!);
  const pad = (text: string, width: number, i: number) => {
    const fill = " ".repeat(Math.max(0, widths[i]! - width));
    return columns[i]!.align === "right" ? fill + text : text + fill;
  };
  const lines = [
    columns
      .map((c, i) => paint(color, "bold", pad(c.header, c.header.length, i)))
      .join("  ")
      .trimEnd(),
  ];
  rows.forEach((row, r) => {
    const line = columns.map((c, i) => {
      const text = pad(cells[r]![i]!, cellWidths[r]![i]!, i);
      const style = c.style?.(row);
      return style ? paint(color, style, text) : text;
    });
    lines.push(line.join("  ").trimEnd());
  });
  return `${lines.join("\n")}\n`;
}
