import { normalize } from "node:path";

/**
 * The inventory a file's findings belong to, `file:PATH`: `./estate.jsonl` and `estate.jsonl` are one
 * file, so one inventory (errors keep the path as it was typed).
 */
export function fileInventoryName(path: string): string {
  return `file:${normalize(path)}`;
}
