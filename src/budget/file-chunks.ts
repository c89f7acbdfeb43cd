import { open } from "node:fs/promises";

/**
 * Reads bytes [start, end) of a file in chunks into one reused buffer: no allocation per chunk, so a
 * multi-gigabyte file makes no garbage. Each chunk is valid only until the next one is requested; the
 * CSV scanner copies what it keeps (an unfinished record) before asking for more.
 */
export async function* fileChunks(
  file: string,
  start = 0,
  end = Number.POSITIVE_INFINITY,
  chunkSize = 1024 * 1024,
): AsyncGenerator<Buffer> {
  const handle = await open(file, "r");
  try {
    const buffer = Buffer.allocUnsafe(chunkSize);
    let position = start;
    while (position < end) {
      const want = Math.min(chunkSize, end - position);
      const { bytesRead } = await handle.read(buffer, 0, want, position);
      if (bytesRead === 0) break;
      position += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}
