import type { Command } from "commander";
import { InputError } from "../errors.js";
import { parseDuration } from "../time/duration.js";
import type { CliContext } from "./context.js";

/**
 * `--lock-timeout` of `scan`: how long to wait for a scan of the same inventory that is already
 * running (one runs at a time).
 */
export const LOCK_TIMEOUT_OPTION = [
  "--lock-timeout <duration>",
  "wait this long (30s, 10m, 1h) for a stored scan of the same inventory already running to finish",
  "0",
] as const;

/**
 * `--lock-timeout` of the commands that can act (`run`, `remediate`): with `--execute` it waits for
 * another run acting on the inventory (holdActing) too, before the scan's wait.
 */
export const CYCLE_LOCK_TIMEOUT_OPTION = [
  LOCK_TIMEOUT_OPTION[0],
  "wait this long (30s, 10m, 1h) for another run acting on the same inventory (--execute) or a stored scan of it already running to finish",
  LOCK_TIMEOUT_OPTION[2],
] as const;

/** `--allow-empty`, for the same commands: see runScan's `allowEmpty`. */
export const ALLOW_EMPTY_OPTION = [
  "--allow-empty",
  "let a stored scan that reads no resources resolve the inventory's open findings (the estate really is empty)",
] as const;

/** `--lock-timeout` on `run` and `remediate`. */
export function addLockTimeoutOption(cmd: Command): Command {
  return cmd.option(...CYCLE_LOCK_TIMEOUT_OPTION);
}

/** What runScan takes for the flag: the wait in milliseconds, and the notice that it is waiting. */
export function lockWait(
  flags: { lockTimeout: string; inventory?: string | undefined },
  ctx: CliContext,
): { lockTimeoutMs: number; onWaiting: (running: string) => void } {
  return {
    lockTimeoutMs: parseLockTimeout(flags.lockTimeout),
    onWaiting: (running) =>
      ctx.stderr.write(
        `costguard: ${flags.inventory} is being scanned by ${running}: waiting up to ${flags.lockTimeout.trim()} for it to finish\n`,
      ),
  };
}

/** `0`, seconds (`30s`) or a duration (`10m`, `1h`), in milliseconds. */
export function parseLockTimeout(text: string): number {
  const seconds = /^\s*(\d+(?:\.\d+)?)s\s*$/.exec(text);
  if (seconds) return Math.round(Number(seconds[1]) * 1000);
  try {
    return parseDuration(text, "--lock-timeout");
  } catch {
    throw new InputError(`--lock-timeout must look like 30s, 10m or 1h (or 0), got '${text}'`);
  }
}
