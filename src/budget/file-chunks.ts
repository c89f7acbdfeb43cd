import { closeSync, openSync, readSync } from "node:fs";
import { open } from "node:fs/promises";

/**
 * Reads bytes [start, end) of a file in chunks into two reused buffers: no allocation per chunk, so a
 * multi-gigabyte file makes no garbage. The next chunk is read (on libuv's thread pool) while the
 * consumer works on the current one, so the consumer does not sit idle waiting for each read.
 * Each chunk is valid only until the next one is requested; the CSV scanner copies what it keeps (an
 * unfinished record) before asking for more.
 */
export async function* fileChunks(
  file: string,
  start = 0,
  end = Number.POSITIVE_INFINITY,
  chunkSize = 1024 * 1024,
): AsyncGenerator<Buffer> {
  const handle = await open(file, "r");
  const buffers = [Buffer.allocUnsafe(chunkSize), Buffer.allocUnsafe(chunkSize)];
  let position = start;
  let turn = 0;
  const readNext = () => {
    const want = Math.min(chunkSize, end - position);
    if (want <= 0) return null;
    const read = handle
      .read(buffers[turn]!, 0, want, position)
      .then(({ bytesRead }) => ({ bytesRead, want }));
    turn ^= 1;
    position += want;
    return read;
  };
  let pending = readNext();
  try {
    while (pending !== null) {
      const { bytesRead, want } = await pending;
      pending = null;
      if (bytesRead === 0) break;
      const chunk = buffers[turn ^ 1]!.subarray(0, bytesRead);
      // A short read of a regular file is its end: read ahead only while chunks come back full.
      if (bytesRead === want) pending = readNext();
      yield chunk;
    }
  } finally {
    // Let an in-flight read finish before closing the handle it uses.
    if (pending !== null) await pending.catch(() => undefined);
    await handle.close();
  }
}

/**
 * Bytes [start, end) of a file through blocking reads into buffers the caller gives, for a worker thread
 * that does nothing else meanwhile: a blocking read of a cached file costs a third of the CPU time of a
 * thread-pool read and its hand-offs, and never leaves the thread idle waiting for the pool to be
 * scheduled on a busy machine. `read` fills the start of `target` and returns the byte count (0 at the
 * end); `close` releases the file.
 */
export function fileRange(
  file: string,
  start = 0,
  end = Number.POSITIVE_INFINITY,
): { read: (target: Buffer) => number; close: () => void } {
  const fd = openSync(file, "r");
  let position = start;
  return {
    read(target) {
      if (position >= end) return 0;
      const n = readSync(fd, target, 0, Math.min(target.length, end - position), position);
      position += n;
      return n;
    },
    close: () => closeSync(fd),
  };
}
