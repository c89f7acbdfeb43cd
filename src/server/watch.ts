import { type FSWatcher, statSync, watch } from "node:fs";
import { dirname, resolve } from "node:path";
import { walkFolder } from "../files.js";

export interface PathWatcher {
  close(): void;
}

/**
 * Calls `onChange` once things settle after any change under the given paths.
 *
 * Every folder is watched on its own, not recursively: Node 20's recursive watch on Linux stops
 * reporting a file once it has been replaced by a rename. A file is watched through its folder too:
 * editors save by renaming a new file into place, and Kubernetes updates a mounted ConfigMap by
 * swapping a `..data` symlink, and both replace the inode a watch on the file itself would hold.
 * The set of folders is looked at again after each change, so new subfolders are picked up.
 */
export function watchPaths(
  paths: readonly string[],
  debounceMs: number,
  onChange: () => void,
  onError: (err: Error) => void,
): PathWatcher {
  const watchers = new Map<string, FSWatcher>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const changed = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (closed) return;
      sync();
      onChange();
    }, debounceMs);
  };

  const sync = () => {
    const wanted = foldersToWatch(paths);
    for (const [dir, w] of watchers) {
      if (!wanted.has(dir)) {
        w.close();
        watchers.delete(dir);
      }
    }
    for (const dir of wanted) {
      if (watchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, changed);
        w.on("error", (err) => {
          // A watched folder that was removed: forget it; the next change looks again.
          w.close();
          watchers.delete(dir);
          onError(err);
        });
        watchers.set(dir, w);
      } catch (err) {
        onError(err as Error);
      }
    }
  };

  sync();
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      for (const w of watchers.values()) w.close();
      watchers.clear();
    },
  };
}

/** The folders that hold the paths: each folder path with its subfolders, each file's folder. */
function foldersToWatch(paths: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const path of paths) {
    const full = resolve(path);
    let isDir = false;
    try {
      isDir = statSync(full).isDirectory();
    } catch {
      // Not there (yet): watch the folder it would appear in.
    }
    if (isDir) walk(full, out);
    else out.add(dirname(full));
  }
  return out;
}

/** The folder and those under it the policy loader reads, linked ones too (hidden ones and node_modules skipped). */
function walk(dir: string, out: Set<string>): void {
  // A folder that went away or cannot be read meanwhile is watched for what is found; the next change looks again.
  walkFolder(dir, () => {}, { onFolder: (folder) => out.add(folder), onUnreadable: () => {} });
}
