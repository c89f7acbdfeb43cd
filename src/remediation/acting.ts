import { setTimeout as delay } from "node:timers/promises";
import { ConflictError } from "../errors.js";
import type { ActingLock, TaskStore } from "./store.js";

/** How often a run waiting to act looks again. */
const WAIT_STEP_MS = 250;

/**
 * Takes the right to act on an inventory's remediation tasks for one run (`run` or `remediate` with
 * `--execute`): two runs acting at once would both take a task in progress (a snapshot taken twice,
 * an action done twice), and the slower would fail half way when the other changed its task. The
 * second run waits up to `waitMs` for the first to finish, then is refused before it scans, plans or
 * acts on anything. A run whose process ended (killed, crashed) holds nothing: the next one takes
 * over its tasks in progress, as crash recovery does.
 */
export async function holdActing(
  tasks: TaskStore,
  inventory: string,
  options: {
    waitMs?: number | undefined;
    signal?: AbortSignal | undefined;
    onWaiting?: (() => void) | undefined;
  } = {},
): Promise<ActingLock> {
  const waitMs = options.waitMs ?? 0;
  const began = Date.now();
  let told = false;
  for (;;) {
    const lock = await tasks.tryActing(inventory);
    if (lock !== undefined) return lock;
    const waited = Date.now() - began;
    if (waited >= waitMs) {
      const after = waitMs > 0 ? ` (waited ${Math.round(waitMs / 100) / 10} s)` : "";
      throw new ConflictError(
        `cannot act on ${inventory}: another run is acting on it (run or remediate with --execute)${after}. One run acts on an inventory at a time; this one did not scan, plan or act on anything. Wait for the other to finish (--lock-timeout waits for it), then run again.`,
      );
    }
    if (!told) options.onWaiting?.();
    told = true;
    await delay(Math.min(WAIT_STEP_MS, waitMs - waited), undefined, { signal: options.signal }).catch(
      () => {},
    );
    options.signal?.throwIfAborted();
  }
}
