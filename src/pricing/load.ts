import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { InputError } from "../errors.js";
import { readText, systemErrorText } from "../files.js";
import { createPriceBook, type PriceBook } from "./book.js";
import { type PriceTable, parsePriceTable } from "./parse.js";

/** The folder of price tables shipped with the package (`data/pricing`), from source or from dist. */
export function embeddedPriceDir(): string {
  for (const rel of ["../../data/pricing", "../../../data/pricing"]) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(dir)) return dir;
  }
  throw new Error("the embedded price book (data/pricing) is missing from this installation");
}

/** Reads the embedded tables, in file-name order. */
export function readEmbeddedTables(dir = embeddedPriceDir()): PriceTable[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".csv"))
    .sort()
    .map((f) => parsePriceTable(readFileSync(`${dir}/${f}`, "utf8"), `embedded:${f}`));
}

/** Reads one user table (CSV or YAML). */
export function readPriceTable(path: string): PriceTable {
  let text: string;
  try {
    text = readText(path);
  } catch (err) {
    // "no such file or directory", as a missing file is said elsewhere; readText's own errors
    // ("x is a folder, not a file") name the book already.
    const message = (err as Error).message;
    if (message.startsWith(`${path} `)) throw new InputError(`price book ${message}`);
    throw new InputError(`cannot read price book ${path}: ${systemErrorText(err)}`);
  }
  return parsePriceTable(text, path);
}

/** The embedded book with the user's tables on top, later files overriding earlier ones. */
export function loadPriceBook(userPaths: readonly string[] = [], embedded = true): PriceBook {
  return createPriceBook(loadPriceTables(userPaths, embedded));
}

/** The tables of `loadPriceBook`, in order: the embedded ones, then the user's. */
export function loadPriceTables(userPaths: readonly string[] = [], embedded = true): PriceTable[] {
  const tables = embedded ? readEmbeddedTables() : [];
  for (const p of userPaths) tables.push(readPriceTable(p));
  return tables;
}
