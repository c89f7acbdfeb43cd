import { existsSync, mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";

/**
 * `mkdir -p` that always ends: creates the missing folders from the nearest existing one down, each
 * on its own, so a place no folder can be made (under /proc, a file in the way, no permission)
 * fails with that folder's error. (Node 20's `mkdirSync(path, { recursive: true })` never returns
 * for a path under /proc.)
 */
export function makeFolders(folder: string): void {
  const missing: string[] = [];
  for (let at = resolve(folder); !existsSync(at); ) {
    missing.push(at);
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  for (const f of missing.reverse()) {
    try {
      mkdirSync(f);
    } catch (err) {
      // Made meanwhile by someone else: as good as made here.
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
  }
}
