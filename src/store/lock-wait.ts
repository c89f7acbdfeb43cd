import { setTimeout as delay } from "node:timers/promises";

/** How often a command waiting for a lock looks again. */
const WAIT_STEP_MS = 250;

/**
 * Takes a lock another process may hold (a scan's inventory lock, a run's acting lock): at once, or
 * by looking again every 250 ms for up to `waitMs`. `onWaiting` hears once that the wait began; once
 * it is over, `refusal` gives the error to throw. Stopped by `signal` while waiting (its reason is the
 * error, as anywhere in a command).
 */
export async function takeLockWaiting<L>(
  take: () => Promise<L | undefined>,
  options: {
    waitMs?: number | undefined;
    signal?: AbortSignal | undefined;
    onWaiting?: (() => Promise<void> | void) | undefined;
    refusal: () => Promise<Error> | Error;
  },
): Promise<L> {
  const waitMs = options.waitMs ?? 0;
  const began = Date.now();
  let told = false;
  for (;;) {
    const lock = await take();
    if (lock !== undefined) return lock;
    const waited = Date.now() - began;
    if (waited >= waitMs) throw await options.refusal();
    if (!told) await options.onWaiting?.();
    told = true;
    await delay(Math.min(WAIT_STEP_MS, waitMs - waited), undefined, { signal: options.signal }).catch(
      () => {},
    );
    options.signal?.throwIfAborted();
  }
}
