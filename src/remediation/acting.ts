import { ConflictError } from "../errors.js";
import { SANDBOX_SOURCE } from "../inventory/sandbox/sandbox.js";
import { takeLockWaiting } from "../store/lock-wait.js";
import type { ActingLock, TaskStore } from "./store.js";

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
  return takeLockWaiting(() => tasks.tryActing(inventory), {
    waitMs,
    signal: options.signal,
    onWaiting: options.onWaiting,
    refusal: () => {
      const after = waitMs > 0 ? ` (waited ${Math.round(waitMs / 100) / 10} s)` : "";
      // sandbox init and reset hold the same lock while they replace the estate.
      const holders =
        inventory === SANDBOX_SOURCE
          ? "another run is acting on it (run or remediate with --execute), or sandbox init or reset is replacing it"
          : "another run is acting on it (run or remediate with --execute)";
      return new ConflictError(
        `cannot act on ${inventory}: ${holders}${after}. One run acts on an inventory at a time; this one did not scan, plan or act on anything. Wait for the other to finish (--lock-timeout waits for it), then run again.`,
      );
    },
  });
}
