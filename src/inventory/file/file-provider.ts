import { closeSync, openSync, readSync, statSync } from "node:fs";
import { extname } from "node:path";
import { OTHER_COMPRESSIONS } from "../../budget/compressions.js";
import { InputError } from "../../errors.js";
import type { InventoryProvider, ReadOptions } from "../types.js";
import { readCsvResources } from "./csv-stream.js";
import { compressedWith, headKind } from "./input-bytes.js";
import { readJsonArray } from "./json-array.js";
import { jsonLineBatches } from "./json-lines.js";
import { fileInventoryName } from "./name.js";
import {
  NotUtf8Error,
  positionIn,
  readLines,
  readTextChunks,
  type TextChunk,
  type TextSource,
} from "./text-chunks.js";
import { refuseNul, toResource } from "./validate.js";
import { readYamlItems } from "./yaml-stream.js";

export type FileFormat = "jsonl" | "json-array" | "yaml" | "csv";

/**
 * `file:PATH`: resources from a file, streamed in constant memory: JSON lines (.jsonl, .ndjson, or
 * .json whose first character is `{`), a JSON array (.json starting with `[`), YAML (.yaml, .yml)
 * or CSV (.csv), gzipped or not. `-` reads standard input as JSON lines.
 */
export function fileProvider(
  path: string,
  options: { format?: FileFormat; displayName?: string } = {},
): InventoryProvider {
  const name = options.displayName ?? path;
  return {
    name: fileInventoryName(name),
    async *read(readOptions: ReadOptions = {}) {
      const input = inspectInput(path, name);
      let format = options.format ?? input.format;
      const total = input.size;
      let resources = 0;
      let done = 0;
      const onBytes = (bytes: number) => {
        done = bytes;
      };
      const progress = () => readOptions.onProgress?.({ resources, done, total });
      let source: TextSource = path;
      if (format === "json") {
        const begun = await beginJson(path, name);
        // An export that came out empty would read as an estate of nothing, exit 0; [] says so.
        if (begun.first === undefined)
          throw new InputError(
            `${name}: no JSON in the file (it is empty): a JSON inventory is an array of resources or JSON lines; an empty estate is []`,
          );
        format = begun.first === "[" ? "json-array" : "jsonl";
        source = { textChunks: begun.chunks };
      }
      if (format === "jsonl") {
        for await (const lines of readLines(source, name, onBytes)) {
          readOptions.signal?.throwIfAborted();
          for (const batch of jsonLineBatches(lines, name)) {
            resources += batch.length;
            yield batch;
          }
          progress();
        }
        return;
      }
      if (format === "json-array") {
        for await (const elements of readJsonArray(source, name, onBytes)) {
          readOptions.signal?.throwIfAborted();
          const batch = elements.map((e) => toResource(e.value, name, e.line));
          resources += batch.length;
          yield batch;
          progress();
        }
        return;
      }
      const items =
        format === "yaml" ? readYamlItems(path, name, onBytes) : readCsvResources(path, name, onBytes);
      for await (const values of items) {
        readOptions.signal?.throwIfAborted();
        const batch = values.map(({ value, where }) => {
          refuseNul(value, where);
          return toResource(value, where);
        });
        resources += batch.length;
        yield batch;
        progress();
      }
    },
  };
}

/** How an inventory file is read, as far as can be told before reading it. */
export interface InventoryInput {
  /** `json`: a JSON array or JSON lines, told by the first character read (a pipe, a gzip file). */
  format: FileFormat | "json";
  /** A regular file of text, which can be read at offsets: cut into pieces for threads. */
  splittable: boolean;
  /** The bytes progress counts against, when known (not for a pipe, nor gzip's text). */
  size: number | undefined;
}

/**
 * The format by extension (`.gz` after it: gzip, read through gunzip); a .json file is a JSON array
 * when its first non-space character is `[`. Stdin (`-`) is JSON lines. A pipe or device — a FIFO,
 * /dev/stdin, `<(gunzip -c estate.jsonl.gz)` — is never opened here (see `isRegularFile`): it is read
 * once, as it comes, by its extension, else as JSON lines, as stdin is; so is a descriptor's name
 * (`/dev/stdin`, `/dev/fd/N`) that stands for a regular file, as `< estate.jsonl` makes it.
 */
export function inspectInput(path: string, name = path): InventoryInput {
  if (path === "-") return { format: "jsonl", splittable: false, size: undefined };
  const stats = statSync(path, { throwIfNoEntry: false });
  // Messages name the path as it was given (`name`), not as resolved.
  if (stats === undefined) throw new InputError(`${name}: no such file or directory`);
  if (stats.isDirectory())
    throw new InputError(
      `${name} is a folder: --inventory file:PATH names one file (JSON, JSON lines, YAML or CSV)`,
    );
  const byName = formatByName(path);
  // A descriptor's name (`/dev/stdin`) reads as a pipe does whatever stands behind it: a shell's
  // `< estate.jsonl` makes it a regular file, with no extension to tell its format by.
  if (!stats.isFile() || isDescriptorName(path))
    return { format: byName ?? "jsonl", splittable: false, size: undefined };
  if (byName === undefined) {
    // `estate.jsonl.bz2`: its bytes name the compression when they can be read, else its extension.
    const compression = compressionByName(path);
    if (compression !== undefined) {
      const start = fileStart(path);
      if (start !== undefined) headKind(start, name);
      throw compressedWith(compression, name);
    }
    throw new InputError(
      `cannot tell the format of ${name} from its extension: use .json, .jsonl, .ndjson, .yaml, .yml or .csv (gzipped too: .jsonl.gz)`,
    );
  }
  const start = fileStart(path);
  // A file that cannot be read: reading it says why.
  if (start === undefined)
    return { format: byName === "json" ? "jsonl" : byName, splittable: true, size: undefined };
  if (headKind(start, name) === "gzip") return { format: byName, splittable: false, size: undefined };
  if (byName !== "json") return { format: byName, splittable: true, size: stats.size };
  const first = firstCharacterOf(start);
  // White space alone so far: told as it is read (refused when nothing else comes).
  if (first === undefined) return { format: "json", splittable: false, size: stats.size };
  return { format: first === "[" ? "json-array" : "jsonl", splittable: true, size: stats.size };
}

/** `/dev/stdin`, `/dev/fd/N`, `/proc/self/fd/N` and the like: a file descriptor, named. */
function isDescriptorName(path: string): boolean {
  return /^\/dev\/(stdin|fd\/\d+)$|^\/proc\/(self|thread-self|\d+)\/fd\/\d+$/.test(path);
}

function compressionByName(path: string): (typeof OTHER_COMPRESSIONS)[number] | undefined {
  const ext = extname(path).toLowerCase();
  return OTHER_COMPRESSIONS.find((c) => c.extensions.includes(ext));
}

function formatByName(path: string): FileFormat | "json" | undefined {
  let ext = extname(path).toLowerCase();
  if (ext === ".gz") ext = extname(path.slice(0, -3)).toLowerCase();
  if (ext === ".jsonl" || ext === ".ndjson") return "jsonl";
  if (ext === ".yaml" || ext === ".yml") return "yaml";
  if (ext === ".csv") return "csv";
  if (ext === ".json") return "json";
  return undefined;
}

/** The first 4 KiB of a regular file; undefined when it cannot be read. */
function fileStart(path: string): Buffer | undefined {
  try {
    const fd = openSync(path, "r");
    try {
      const buf = Buffer.alloc(4096);
      return buf.subarray(0, readSync(fd, buf, 0, buf.length, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
}

/**
 * A .json inventory read as it comes: its first character that is not white space (`[`: a JSON
 * array), and its text chunks, those read to find it included (white space kept as its line feeds,
 * which number the lines after it).
 */
async function beginJson(
  path: string,
  name: string,
): Promise<{ first: string | undefined; chunks: AsyncIterable<TextChunk> }> {
  const it = readTextChunks(path, name);
  const seen: TextChunk[] = [];
  let first: string | undefined;
  let feeds = 0;
  try {
    for (let r = await it.next(); !r.done; r = await it.next()) {
      const text = r.value.text.trimStart();
      if (text !== "") {
        first = text[0];
        seen.push(r.value);
        break;
      }
      const n = positionIn(r.value.text, r.value.text.length).feeds;
      seen.push({ text: "\n".repeat(n), bytes: r.value.bytes });
      feeds += n;
    }
  } catch (err) {
    throw err instanceof NotUtf8Error ? err.at(name, 1 + feeds) : err;
  }
  async function* chunks(): AsyncGenerator<TextChunk> {
    yield* seen;
    yield* it;
  }
  return { first, chunks: chunks() };
}

function firstCharacterOf(start: Buffer): string | undefined {
  return start
    .toString("utf8")
    .replace(/^\uFEFF/, "")
    .trimStart()[0];
}

/** The first character of a file that is not white space or a byte-order mark. */
export function firstCharacter(path: string): string | undefined {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(4096);
    return firstCharacterOf(buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)));
  } finally {
    closeSync(fd);
  }
}
