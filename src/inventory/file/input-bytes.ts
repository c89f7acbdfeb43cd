import { statSync } from "node:fs";
import { open } from "node:fs/promises";
import { pipeline, Readable } from "node:stream";
import { createGunzip } from "node:zlib";
import { OTHER_COMPRESSIONS } from "../../budget/compressions.js";
import { fileChunks } from "../../budget/file-chunks.js";
import { InputError } from "../../errors.js";

/** Bytes enough to tell every signature `headKind` knows (xz's is six; UTF-32 without a mark, eight). */
export const HEAD_BYTES = 8;

/** Bytes read from a file per system call. */
const READ_SIZE = 1 << 20;

/**
 * What an inventory's first bytes say it is: text, or gzip (read through gunzip, as billing exports
 * are). A UTF-16 or UTF-32 byte-order mark, or another compression's signature, is refused here by
 * name: read as UTF-8 it would fail on its first byte with an error that says nothing of why (Windows
 * PowerShell 5 writes UTF-16 with `>`; `estate.jsonl` may be a gzip file under the wrong name).
 */
export function headKind(head: Uint8Array, name: string): "text" | "gzip" {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  const b = Buffer.from(head.buffer, head.byteOffset, head.length);
  const utf32 = b.length >= 4 && (b.readUInt32BE(0) === 0xfeff || b.readUInt32LE(0) === 0xfeff);
  const bom = b.length >= 2 ? (b[0]! << 8) | b[1]! : 0;
  if (bom === 0xfffe || bom === 0xfeff || utf32)
    throw new InputError(
      `${name} is ${utf32 ? "UTF-32" : "UTF-16"} (it starts with that byte-order mark); inventories are UTF-8: convert it (iconv -f ${utf32 ? "UTF-32" : "UTF-16"} -t UTF-8, or PowerShell's Out-File -Encoding utf8)`,
    );
  const unmarked = unmarkedWideText(b);
  if (unmarked !== undefined)
    throw new InputError(
      `${name} looks like ${unmarked} without a byte-order mark (NUL bytes between its first characters); inventories are UTF-8: convert it (iconv -f ${unmarked} -t UTF-8, or PowerShell's Out-File -Encoding utf8)`,
    );
  const other = OTHER_COMPRESSIONS.find(
    (c) => b.length >= c.magic.length && b.subarray(0, c.magic.length).equals(c.magic),
  );
  if (other !== undefined) throw compressedWith(other, name);
  return "text";
}

/**
 * UTF-16 or UTF-32 text without a byte-order mark, told by where the NUL bytes of its first characters
 * fall (ASCII in UTF-16LE: `{ 00 " 00`). Read as UTF-8 it failed far from the point: a CSV "needs the
 * columns id and type", YAML "holds a NUL", JSON's message quoted the NUL bytes to the terminal.
 */
function unmarkedWideText(b: Buffer): string | undefined {
  const zeros = (n: number) => Array.from(b.subarray(0, n), (x) => (x === 0 ? "0" : "x")).join("");
  if (b.length >= 8) {
    if (zeros(8) === "x000x000") return "UTF-32LE";
    if (zeros(8) === "000x000x") return "UTF-32BE";
  }
  const n = Math.min(b.length, 8) & ~1;
  if (n < 4) return undefined;
  if (zeros(n) === "x0".repeat(n / 2)) return "UTF-16LE";
  if (zeros(n) === "0x".repeat(n / 2)) return "UTF-16BE";
  return undefined;
}

/** An inventory in a compression costguard does not read, told by its bytes or its extension. */
export function compressedWith(other: (typeof OTHER_COMPRESSIONS)[number], name: string): InputError {
  return new InputError(
    `${name} is compressed with ${other.name}: costguard reads inventories as text or gzip; ${other.name === "zip" ? "unzip it and name the file inside" : other.fix}`,
  );
}

/**
 * Whether a path is a regular file, by `stat` alone. A pipe (a FIFO, /dev/stdin, `<(...)`) or a
 * device is opened once, by the reader, on the thread pool: opening it to look at its first bytes
 * would take its writer's data, and a second open, blocking, would wait on the main thread for a
 * writer that never comes, deaf to signals.
 */
export function isRegularFile(path: string): boolean {
  return path !== "-" && statSync(path, { throwIfNoEntry: false })?.isFile() === true;
}

/**
 * The bytes of an inventory — a file, a pipe, or stdin for `-` — as they come, and gzip's
 * decompressed (each chunk is valid only until the next is asked for). `readAhead`: a regular file
 * is read with the next chunk under way meanwhile (the CSV reader's habit, which copies what it
 * keeps). The first bytes are checked by `headKind`.
 */
export async function* inventoryBytes(path: string, name: string, readAhead = false): AsyncGenerator<Buffer> {
  const raw: AsyncIterable<Buffer> =
    path === "-"
      ? (process.stdin as AsyncIterable<Buffer>)
      : readAhead && isRegularFile(path)
        ? fileChunks(path)
        : sequentialChunks(path);
  yield* checked(raw, name, true);
}

/** `raw` with its first bytes checked by `headKind`; gzip (when `mayBeGzip`) decompressed and checked again. */
async function* checked(
  raw: AsyncIterable<Buffer>,
  name: string,
  mayBeGzip: boolean,
): AsyncGenerator<Buffer> {
  const it = raw[Symbol.asyncIterator]();
  try {
    let r = await it.next();
    if (r.done) return;
    let head = r.value;
    // A pipe may hand over its first bytes a few at a time: gather enough to tell (copied, as the
    // next read may reuse the buffer).
    while (head.length < HEAD_BYTES) {
      head = Buffer.from(head);
      r = await it.next();
      if (r.done) break;
      head = Buffer.concat([head, r.value]);
    }
    if (headKind(head, name) === "gzip" && mayBeGzip) {
      yield* checked(gunzipped(head, it, name), name, false);
      return;
    }
    yield head;
    for (r = await it.next(); !r.done; r = await it.next()) yield r.value;
  } finally {
    await it.return?.();
  }
}

/** The bytes of a gzip stream, `head` then the rest, decompressed. */
async function* gunzipped(head: Buffer, rest: AsyncIterator<Buffer>, name: string): AsyncGenerator<Buffer> {
  // Copies: the stream may hold a chunk while the next is read into the buffer it views.
  async function* compressed(): AsyncGenerator<Buffer> {
    yield Buffer.from(head);
    for (let r = await rest.next(); !r.done; r = await rest.next()) yield Buffer.from(r.value);
  }
  const out = pipeline(Readable.from(compressed(), { objectMode: false }), createGunzip(), () => {});
  try {
    for await (const chunk of out) yield chunk as Buffer;
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith("Z_"))
      throw new InputError(`${name}: not a valid gzip file: ${(err as Error).message}`);
    throw err;
  } finally {
    out.destroy();
  }
}

/**
 * A file's bytes in 1 MiB reads into one reused buffer, from where it stands: a pipe as well as a
 * file (a short read from a pipe is not its end; only nothing read is).
 */
async function* sequentialChunks(path: string): AsyncGenerator<Buffer> {
  const file = await open(path, "r");
  try {
    const buffer = Buffer.allocUnsafe(READ_SIZE);
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, READ_SIZE, null);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await file.close();
  }
}
