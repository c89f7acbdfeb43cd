import { once } from "node:events";

/**
 * Writes `text` to `out` and resolves once a slow reader has taken it in: a command streaming a large
 * output (`costguard scan --format json | jq ...`) waits for its reader instead of holding everything
 * the reader has not read yet in memory. With `signal`, an interrupt (Ctrl-C, the reader gone) ends
 * the wait at once, rejecting with the signal's reason.
 */
export async function written(
  out: NodeJS.WritableStream,
  text: string | Uint8Array,
  signal?: AbortSignal,
): Promise<void> {
  if (text.length === 0 || out.write(text)) return;
  try {
    await once(out, "drain", signal ? { signal } : {});
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    throw err;
  }
}
