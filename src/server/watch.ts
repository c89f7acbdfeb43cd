import { type FSWatcher, statSync, watch } from "node:fs";
import { basename, dirname, extname, join, resolve } from "node:path";
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
 *
 * Only a change to what is watched counts: in a file's folder, that file (and a Kubernetes swap's
 * `..data`); in a folder of files, a name with one of `extensions` or a folder. Another file written
 * beside them — a server's own log or decision log in the policies' folder — is not a change: it
 * reloaded the policies every time the reload's own log line was written, for ever.
 */
export function watchPaths(
  paths: readonly string[],
  debounceMs: number,
  onChange: () => void,
  onError: (err: Error) => void,
  extensions: ReadonlySet<string> = new Set(),
): PathWatcher {
  const watchers = new Map<string, FSWatcher>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  let wanted = new Map<string, Watched>();
  const changed = (dir: string, name: string | null) => {
    if (name !== null && !counts(dir, name)) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = undefined;
      if (closed) return;
      sync();
      onChange();
    }, debounceMs);
  };

  /** Whether a change to `name` in `dir` is a change to what is watched. */
  const counts = (dir: string, name: string): boolean => {
    const w = wanted.get(dir);
    // Unknown (a name the platform leaves out), a Kubernetes atomic swap, or a folder's own file.
    if (w === undefined || name.startsWith("..") || w.files.has(name)) return true;
    if (!w.folder) return false;
    if (extensions.has(extname(name).toLowerCase()) || wanted.has(join(dir, name))) return true;
    try {
      return statSync(join(dir, name)).isDirectory();
    } catch {
      return false;
    }
  };

  const sync = () => {
    wanted = foldersToWatch(paths);
    for (const [dir, w] of watchers) {
      if (!wanted.has(dir)) {
        w.close();
        watchers.delete(dir);
      }
    }
    for (const dir of wanted.keys()) {
      if (watchers.has(dir)) continue;
      try {
        const w = watch(dir, { persistent: false }, (_event, name) =>
          changed(dir, typeof name === "string" ? name : null),
        );
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

/** A watched folder: its files that count (a file path's name), and whether it is a folder path's. */
interface Watched {
  files: Set<string>;
  folder: boolean;
}

/** The folders that hold the paths: each folder path with its subfolders, each file's folder. */
function foldersToWatch(paths: readonly string[]): Map<string, Watched> {
  const out = new Map<string, Watched>();
  const at = (dir: string) => {
    const w = out.get(dir) ?? { files: new Set<string>(), folder: false };
    out.set(dir, w);
    return w;
  };
  for (const path of paths) {
    const full = resolve(path);
    let isDir = false;
    try {
      isDir = statSync(full).isDirectory();
    } catch {
      // Not there (yet): watch the folder it would appear in.
    }
    if (isDir)
      walk(full, (folder) => {
        at(folder).folder = true;
      });
    else at(dirname(full)).files.add(basename(full));
  }
  return out;
}

/** The folder and those under it the policy loader reads, linked ones too (hidden ones and node_modules skipped). */
function walk(dir: string, onFolder: (folder: string) => void): void {
  // A folder that went away or cannot be read meanwhile is watched for what is found; the next change looks again.
  walkFolder(dir, () => {}, { onFolder, onUnreadable: () => {} });
}
