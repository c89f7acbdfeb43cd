/** A small RFC 4180 reader: quoted fields, doubled quotes, CRLF. Lines starting with `#` are comments. */
export interface CsvRecord {
  line: number;
  fields: string[];
}

export interface CsvText {
  comments: { line: number; text: string }[];
  records: CsvRecord[];
}

/** A quoted field that is never closed, from the line it opens on. */
export class CsvQuoteError extends Error {
  constructor(readonly line: number) {
    super(`a quoted field opened on line ${line} is never closed`);
  }
}

export function readCsv(text: string): CsvText {
  const comments: { line: number; text: string }[] = [];
  const records: CsvRecord[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const startLine = line;
    if (text[i] === "#") {
      const end = text.indexOf("\n", i);
      const stop = end < 0 ? text.length : end;
      comments.push({
        line: startLine,
        text: text
          .slice(i + 1, stop)
          .replace(/\r$/, "")
          .trim(),
      });
      i = stop + 1;
      line++;
      continue;
    }
    const fields: string[] = [];
    let field = "";
    let quoted = false;
    let atFieldStart = true;
    for (; i < text.length; i++) {
      const c = text[i]!;
      if (quoted) {
        if (c === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i++;
          } else quoted = false;
        } else {
          if (c === "\n") line++;
          field += c;
        }
        continue;
      }
      if (c === '"' && atFieldStart) {
        quoted = true;
        atFieldStart = false;
      } else if (c === ",") {
        fields.push(field);
        field = "";
        atFieldStart = true;
      } else if (c === "\n") {
        break;
      } else if (c !== "\r") {
        field += c;
        atFieldStart = false;
      }
    }
    // The text ended inside quotes: the rest of the file was one field (a price of `"0.2` read as 0.2).
    if (quoted) throw new CsvQuoteError(startLine);
    fields.push(field);
    i++;
    line++;
    if (fields.length === 1 && fields[0]!.trim() === "") continue;
    records.push({ line: startLine, fields });
  }
  return { comments, records };
}
