import { closeSync, openSync, readSync } from "node:fs";
import { extname } from "node:path";
import { InputError } from "../../errors.js";
import type { InventoryProvider, ReadOptions } from "../types.js";
import { readCsvResources } from "./csv-stream.js";
import { readJsonArray } from "./json-array.js";
import { jsonLineBatches } from "./json-lines.js";
import { fileSize, readLines } from "./text-chunks.js";
import { toResource } from "./validate.js";
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
    name: `file:${name}`,
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
        for await (const lines of readLines(path, onBytes)) {
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
        let index = 0;
        for await (const values of readJsonArray(path, name, onBytes)) {
          readOptions.signal?.throwIfAborted();
          const batch = values.map((v) => toResource(v, `${name} item ${index++}`));
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
        const batch = values.map(({ value, where }) => toResource(value, where));
        resources += batch.length;
        yield batch;
        progress();
      }
    },
  };
}

/** By extension; a .json (or stdin) is a JSON array when its first non-space character is `[`. */
export function detectFormat(path: string): FileFormat {
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
