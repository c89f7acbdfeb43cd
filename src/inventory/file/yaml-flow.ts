import { InputError } from "../../errors.js";
import type { Line } from "./text-chunks.js";

/**
 * One item of a top-level flow sequence, as a piece of YAML of its own: its text from the `[` or
 * `,` before it (written `[`, with what came before that on its line blanked) to the `,` or `]`
 * after it (written `]`), so the library parses it in flow context, as it would the whole
 * sequence, with the file's columns.
 */
export interface FlowItem {
  lines: Line[];
  /** The line the item's own text begins on. */
  first: number;
}

const FLOW_INDICATOR = /[,[\]{}]/;
const SPACE = /[ \t]/;

/**
 * Cuts a document that is a top-level flow sequence — a JSON array saved as `.yaml` — into its items,
 * line by line, so it is parsed an item at a time as a block sequence is (parsed whole, it took ~65
 * times the file's size in memory). It follows brackets, quoted scalars and comments, and nothing
 * else: each item is then parsed by the YAML library, which says what is wrong inside it.
 */
export class FlowSequence {
  /** Open brackets; the first is the sequence's own. */
  private readonly open: string[] = ["["];
  private quote: '"' | "'" | undefined;
  /** Whether a quote here starts a quoted scalar (in a plain one it is a character of it). */
  private expectingNode = true;
  /** Whether the last token was a quoted scalar or a collection, after which `:` is an indicator (JSON's `"a":1`). */
  private afterJsonNode = false;
  /** The item under way: its lines so far, and what its first line begins with (`[`, blanked before). */
  private item: Line[] = [];
  private head: string;
  private first: number | undefined;
  private readonly openedAt: number;

  constructor(
    private readonly name: string,
    line: Line,
    at: number,
  ) {
    this.openedAt = line.number;
    this.head = `${" ".repeat(at)}[`;
  }

  /**
   * The items a line completes, from `from` (on the first line: after the opening `[`), and, once
   * the sequence's `]` is read, where on the line the text after it begins.
   */
  feed(line: Line, from = 0): { items: FlowItem[]; closedAt?: number } {
    const items: FlowItem[] = [];
    const t = line.text;
    let start = from;
    let space = true;
    for (let i = from; i < t.length; i++) {
      const c = t[i]!;
      if (this.quote === '"') {
        if (c === "\\") i++;
        else if (c === '"') this.closeQuote();
        continue;
      }
      if (this.quote === "'") {
        if (c === "'" && t[i + 1] === "'") i++;
        else if (c === "'") this.closeQuote();
        continue;
      }
      if (SPACE.test(c)) {
        space = true;
        continue;
      }
      if (c === "#" && space) break;
      space = false;
      if (this.open.length === 1 && (c === "," || c === "]")) {
        this.finish(t.slice(start, i), line.number, c, items);
        if (c === "]") {
          this.open.pop();
          return { items, closedAt: i + 1 };
        }
        this.head = `${" ".repeat(i)}[`;
        start = i + 1;
        this.expectingNode = true;
        this.afterJsonNode = false;
        continue;
      }
      this.first ??= line.number;
      if (c === "[" || c === "{") {
        this.open.push(c);
        this.expectingNode = true;
        this.afterJsonNode = false;
      } else if (c === "]" || c === "}") {
        const opened = this.open.pop()!;
        if ((opened === "[") !== (c === "]"))
          throw new InputError(
            `${this.name}:${line.number}: not valid YAML, column ${i + 1}: ${c} closes the ${opened} before it`,
          );
        this.expectingNode = false;
        this.afterJsonNode = true;
      } else if (c === ",") {
        this.expectingNode = true;
        this.afterJsonNode = false;
      } else if (c === ":") {
        const next = t[i + 1];
        this.expectingNode =
          this.afterJsonNode || next === undefined || SPACE.test(next) || FLOW_INDICATOR.test(next);
        this.afterJsonNode = false;
      } else if ((c === '"' || c === "'") && this.expectingNode) {
        this.quote = c;
      } else if ((c === "&" || c === "!") && this.expectingNode) {
        // A property: a node still follows it. Its name runs to a space or an indicator.
        while (i + 1 < t.length && !SPACE.test(t[i + 1]!) && !FLOW_INDICATOR.test(t[i + 1]!)) i++;
      } else {
        this.expectingNode = false;
        this.afterJsonNode = false;
      }
    }
    this.push(t.slice(start), line.number);
    return { items };
  }

  /** At the end of the document or file: the sequence must have been closed. */
  end(): void {
    if (this.open.length > 0)
      throw new InputError(
        `${this.name}:${this.openedAt}: not valid YAML: the flow sequence that begins here is not closed with ]`,
      );
  }

  private closeQuote(): void {
    this.quote = undefined;
    this.expectingNode = false;
    this.afterJsonNode = true;
  }

  private push(text: string, number: number): void {
    this.item.push({ text: this.item.length === 0 ? this.head + text : text, number });
  }

  /** Closes the item under way with the text of its last line before its `,` or `]`. */
  private finish(text: string, number: number, by: string, items: FlowItem[]): void {
    this.push(`${text}]`, number);
    const lines = this.item;
    const first = this.first;
    this.item = [];
    this.first = undefined;
    if (first !== undefined) items.push({ lines, first });
    // Nothing between two commas, or before the first (YAML allows a comma after the last item).
    else if (by === ",")
      throw new InputError(
        `${this.name}:${number}: not valid YAML: no item before this comma in the flow sequence`,
      );
  }
}
