import { closeSync, openSync, readSync, statSync } from "node:fs";
import { extname } from "node:path";
import { InputError } from "../../errors.js";
import type { InventoryProvider, ReadOptions } from "../types.js";
import { readCsvResources } from "./csv-stream.js";
import { readJsonArray } from "./json-array.js";
import { jsonLineBatches } from "./json-lines.js";
import { fileInventoryName } from "./name.js";
import { fileSize, readLines } from "./text-chunks.js";
import { refuseNul, toResource } from "./validate.js";
import { readYamlItems } from "./yaml-stream.js";

export type FileFormat = "jsonl" | "json-array" | "yaml" | "csv";

/**
 * `file:PATH`: resources from a file, streamed in constant memory: JSON lines (.jsonl, .ndjson, or
 * .json whose first character is `{`), a JSON array (.json starting with `[`), YAML (.yaml, .yml)
 * or CSV (.csv). `-` reads standard input as JSON lines.
 */
export function fileProvider(
  path: string,
  options: { format?: FileFormat; displayName?: string } = {},
): InventoryProvider {
  const name = options.displayName ?? path;
  return {
    name: fileInventoryName(name),
    async *read(readOptions: ReadOptions = {}) {
      const format = options.format ?? detectFormat(path);
      const total = fileSize(path);
      let resources = 0;
      let done = 0;
      const onBytes = (bytes: number) => {
        done = bytes;
      };
      const progress = () => readOptions.onProgress?.({ resources, done, total });
      if (format === "jsonl") {
        for await (const lines of readLines(path, name, onBytes)) {
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
        for await (const elements of readJsonArray(path, name, onBytes)) {
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

/** By extension; a .json (or stdin) is a JSON array when its first non-space character is `[`. */
export function detectFormat(path: string): FileFormat {
  if (path !== "-" && statSync(path, { throwIfNoEntry: false })?.isDirectory())
    throw new InputError(
      `${path} is a folder: --inventory file:PATH names one file (JSON, JSON lines, YAML or CSV)`,
    );
  if (path !== "-") refuseUtf16(path);
  const ext = extname(path).toLowerCase();
  if (ext === ".jsonl" || ext === ".ndjson") return "jsonl";
  if (ext === ".yaml" || ext === ".yml") return "yaml";
  if (ext === ".csv") return "csv";
  if (ext === ".json" || path === "-") {
    if (path === "-") return "jsonl";
    return firstCharacter(path) === "[" ? "json-array" : "jsonl";
  }
  throw new InputError(
    `cannot tell the format of ${path} from its extension: use .json, .jsonl, .ndjson, .yaml, .yml or .csv`,
  );
}

/**
 * Inventories are UTF-8 (a UTF-8 byte-order mark is fine). Windows PowerShell 5 writes UTF-16 with
 * `>`; read as UTF-8 it fails on its first byte with an error that says nothing of why.
 */
function refuseUtf16(path: string): void {
  let head: Buffer;
  try {
    const fd = openSync(path, "r");
    try {
      head = Buffer.alloc(4);
      head = head.subarray(0, readSync(fd, head, 0, 4, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return; // unreadable: reading it says why
  }
  const bom = head.length >= 2 ? (head[0]! << 8) | head[1]! : 0;
  const utf32 = head.length === 4 && (head.readUInt32BE(0) === 0xfeff || head.readUInt32LE(0) === 0xfeff);
  if (bom === 0xfffe || bom === 0xfeff || utf32)
    throw new InputError(
      `${path} is ${utf32 ? "UTF-32" : "UTF-16"} (it starts with that byte-order mark); inventories are UTF-8: convert it (iconv -f ${utf32 ? "UTF-32" : "UTF-16"} -t UTF-8, or PowerShell's Out-File -Encoding utf8)`,
    );
}

/** The first character of a file that is not white space or a byte-order mark. */
export function firstCharacter(path: string): string | undefined {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return buf
      .toString("utf8", 0, n)
      .replace(/^\uFEFF/, "")
      .trimStart()[0];
  } finally {
    closeSync(fd);
  }
}
