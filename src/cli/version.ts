import { readFileSync } from "node:fs";

/** The package version, from source or from dist. */
export function packageVersion(): string {
  for (const rel of ["../../package.json", "../../../package.json"]) {
    try {
      return (JSON.parse(readFileSync(new URL(rel, import.meta.url), "utf8")) as { version: string }).version;
    } catch {
      // try the next layout (source vs dist)
    }
  }
  return "unknown";
}
