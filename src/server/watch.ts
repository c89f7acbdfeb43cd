import { type FSWatcher, statSync, watch } from "node:fs";
import { dirname, resolve } from "node:path";

export interface PathWatcher {
  close(): void;
}

/**
 * Calls `onChange` once things settle after any change under the given paths. A file is watched
 * through its folder: editors save by renaming a new file into place, and Kubernetes updates a
 * mounted ConfigMap by swapping a `..data` symlink, and both replace the inode a file watch holds.
 */
export function watchPaths(
  paths: readonly string[],
  debounceMs: number,
  onChange: () => void,
  onError: (err: Error) => void,
): PathWatcher {
  const targets = new Map<string, boolean>();
  for (const path of paths) {
    const full = resolve(path);
    let isDir = false;
    try {
      isDir = statSync(full).isDirectory();
    } catch {
      // A path that does not exist yet: watch the folder it would appear in.
    }
    const dir = isDir ? full : dirname(full);
    targets.set(dir, (targets.get(dir) ?? false) || isDir);
  }
  let timer: NodeJS.Timeout | undefined;
  const changed = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      onChange();
    }, debounceMs);
  };
  const watchers: FSWatcher[] = [];
  for (const [dir, recursive] of targets) {
    try {
      const w = watch(dir, { recursive, persistent: false }, changed);
      w.on("error", onError);
      watchers.push(w);
    } catch (err) {
      onError(err as Error);
    }
  }
  return {
    close() {
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}
