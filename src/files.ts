import { isUtf8 } from "node:buffer";
import {
  chmodSync,
  type Dirent,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { InputError } from "./errors.js";

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

/** A text file holding bytes that are not UTF-8: where, and what to do. */
export class NotUtf8TextError extends InputError {
  static readonly REASON =
    "not UTF-8 text (nor UTF-16 with a byte-order mark): convert it (iconv -f WINDOWS-1252 -t UTF-8, say) or save it as UTF-8";
  constructor(
    readonly where: string,
    readonly line: number,
  ) {
    super(`${where}:${line}: ${NotUtf8TextError.REASON}`);
  }
}

/**
 * What a file system error means in words, from Node's `ENOENT: no such file or directory, open
 * 'x.csv'`: "no such file or directory" (the caller names the file); the message itself when it has
 * no such shape.
 */
export function systemErrorText(err: unknown): string {
  const message = (err as { message?: unknown } | undefined)?.message;
  if (typeof message !== "string") return String(err);
  return /^E[A-Z]+: (.+?)(?:, \w+(?: '.*')?)?$/s.exec(message)?.[1] ?? message;
}

/**
 * A whole text file (or standard input, fd 0) as a string, whatever Unicode encoding marks it: UTF-8
 * with or without a byte-order mark, or UTF-16 with one — what Windows PowerShell 5's `>` writes
 * (`terraform show -json plan > plan.json`). The mark itself is not part of the text.
 */
export function readText(file: string | number): string {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    // Node names no path for a folder ("EISDIR: illegal operation on a directory, read").
    if ((err as NodeJS.ErrnoException).code === "EISDIR")
      throw new InputError(`${String(file)} is a folder, not a file`);
    throw err;
  }
  return decodeText(bytes, file === 0 ? "stdin" : String(file));
}

/** The bytes of a whole text (`name`: what it is called in an error) as readText reads them. */
export function decodeText(bytes: Buffer, name: string): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder("utf-16le").decode(bytes.subarray(2));
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder("utf-16be").decode(bytes.subarray(2));
  // Bytes that are not UTF-8 (Latin-1 `café` from an old editor) would be read as U+FFFD and compared
  // as such (`allowedValues: [caf�]` denying `café`): refused, saying where.
  const text = bytes.toString("utf8");
  if (!isUtf8(bytes)) {
    // The line of the first byte that is not UTF-8 (read as U+FFFD).
    const line = text.slice(0, Math.max(0, text.indexOf("\uFFFD"))).split("\n").length;
    throw new NotUtf8TextError(name, line);
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Refuses to write `output` (given with `flag`) over one of the files a command reads, `inputs`:
 * `plan p.json -o p.json` replaced the plan with its report. The same file by path, or by device and
 * inode (a link, another spelling); a file that does not exist yet is nobody's input. `effect` says
 * what writing there would do.
 */
export function refuseOverwrite(
  output: string,
  flag: string,
  inputs: readonly { path: string; what: string }[],
  effect = "writing there would replace it",
): void {
  const target = resolve(output);
  const stat = statOf(target);
  for (const input of inputs) {
    if (input.path === "-") continue;
    const source = resolve(input.path);
    const other = statOf(source);
    const same = source === target || (stat && other && stat.dev === other.dev && stat.ino === other.ino);
    if (same) throw new InputError(`${flag} ${output} is ${input.what}: ${effect}`);
  }
}

function statOf(path: string): { dev: number; ino: number } | undefined {
  try {
    const s = statSync(path);
    return s.isFile() ? { dev: s.dev, ino: s.ino } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where to write `path` so that it appears whole or not at all: a hidden file beside it, unique to this
 * process, renamed over it once written (`replace`), with the permissions of the file it replaces.
 * `path` itself when a rename would replace something other than the file: a link (`/dev/stdout` is
 * one, and a rename over it replaces the link, not what it points to), a device or a pipe, or a file
 * with other names (hard links), which would keep the old content.
 */
export function partialFile(path: string): { target: string; replace(): void; discard(): void } {
  const existing = lstatOf(path);
  if (existing && (!existing.isFile() || existing.nlink > 1))
    return { target: path, replace() {}, discard() {} };
  const target = join(dirname(path), `.${basename(path)}.${process.pid}.partial`);
  return {
    target,
    replace: () => {
      if (existing) chmodSync(target, existing.mode & 0o7777);
      renameSync(target, path);
    },
    discard: () => rmSync(target, { force: true }),
  };
}

function lstatOf(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Writes `text` to `path` whole or not at all (see `partialFile`): a disk that fills up half way leaves
 * the file that was there before, not half a report.
 */
export function writeFileWhole(path: string, text: string): void {
  const partial = partialFile(path);
  try {
    writeFileSync(partial.target, text);
    partial.replace();
  } catch (err) {
    partial.discard();
    throw err;
  }
}

/** A link met by `walkFolder` that leads back to a folder being walked: where it is, where it leads. */
export interface FolderCycle {
  link: string;
  target: string;
}

/**
 * Calls `onFile` for every file under `dir`, depth first in name order, skipping hidden entries and
 * node_modules; with `onFolder`, for `dir` and each folder under it too. Symbolic links are followed
 * to what they point at — a linked folder is walked, as a real one is (Dirent.isDirectory() is false
 * for a link, and a linked folder of policies was skipped without a word). A folder reached again
 * through another link is not walked twice; one that leads back to a folder being walked (an
 * ancestor: it would loop forever) is told to `onCycle` and skipped, nothing under it is lost.
 * An entry that cannot be looked through (a dangling link) is passed as a file: reading it says why.
 */
export function walkFolder(
  dir: string,
  onFile: (path: string, name: string) => void,
  options: {
    onCycle?: (cycle: FolderCycle) => void;
    onFolder?: (path: string) => void;
    /** A folder that cannot be listed: skipped when given (else its error is thrown). */
    onUnreadable?: (path: string, err: Error) => void;
  } = {},
): void {
  const walked = new Set<string>();
  const walking = new Set<string>();
  const walk = (folder: string) => {
    const real = realPath(folder);
    walked.add(real);
    walking.add(real);
    options.onFolder?.(folder);
    let entries: Dirent[];
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch (err) {
      if (!options.onUnreadable) throw err;
      options.onUnreadable(folder, err as Error);
      entries = [];
    }
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
      const full = join(folder, entry.name);
      if (!isFolder(entry, full)) {
        onFile(full, entry.name);
        continue;
      }
      const target = realPath(full);
      if (walking.has(target)) options.onCycle?.({ link: full, target });
      else if (!walked.has(target)) walk(full);
    }
    walking.delete(real);
  };
  walk(dir);
}

/** Whether a folder entry is a folder, looked at through a link (or a file system that does not say). */
function isFolder(entry: { isDirectory(): boolean; isFile(): boolean }, full: string): boolean {
  if (entry.isDirectory()) return true;
  if (entry.isFile()) return false;
  try {
    return statSync(full).isDirectory();
  } catch {
    return false;
  }
}

/** Where a path really is (links resolved); the path resolved as written when it cannot be (not there). */
export function realPath(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}
