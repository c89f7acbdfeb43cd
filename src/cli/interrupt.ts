import { systemErrorText } from "../files.js";
/**
 * Long commands that write to the store (a stored scan) stop cleanly when interrupted: while one holds
 * the interrupts, SIGINT and SIGTERM — and a reader closing standard output (`costguard scan | head`) —
 * abort its signal instead of ending the process, so the command ends its transaction and records
 * itself as failed. A second signal ends the process at once. Without a holder, the process keeps
 * Node's defaults (and the binary's quiet exit on a closed pipe).
 */

/**
 * Why a held command was stopped: the signal's name, that the output was closed, or that it could not
 * be written (`detail` says why: "no space left on device").
 */
export class InterruptedError extends Error {
  override readonly name = "InterruptedError";
  constructor(
    readonly reason: "SIGINT" | "SIGTERM" | "output closed" | "output failed",
    /**
     * The exit code a shell expects: 128 + the signal's number (SIGPIPE's for a closed output); an
     * output that failed is a failure of the machine's (3).
     */
    readonly exitCode: number,
    /** Whether the command records itself in the store (and is now kept there as failed). */
    readonly recorded = true,
    detail?: string,
  ) {
    super(
      reason === "output closed"
        ? "the output was closed"
        : reason === "output failed"
          ? `cannot write the output: ${detail ?? "write failed"}`
          : `interrupted by ${reason}`,
    );
  }
}

let holder: { controller: AbortController; recorded: boolean } | undefined;

const SIGNALS = { SIGINT: 130, SIGTERM: 143 } as const;

/**
 * Takes the interrupts for the duration of a command; `release` gives them back. On the first signal
 * `notice` (if given) is told what the command finishes before stopping (`finishing()`: "the current
 * batch" unless said otherwise), so the user knows a second one ends the process at once.
 */
export function holdInterrupts(
  notice?: (text: string) => void,
  finishing: () => string = () => "the current batch",
  /**
   * `recorded: false`: the command keeps nothing in the store, and its interrupt says so.
   * `signals: false`: only its output closing or failing stops it; SIGINT and SIGTERM keep Node's
   * defaults (a command that stores nothing has nothing to finish: it stops at once).
   */
  options: { recorded?: boolean; signals?: boolean } = {},
): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const recorded = options.recorded ?? true;
  const held = { controller, recorded };
  holder = held;
  const taken = options.signals === false ? [] : Object.entries(SIGNALS);
  const handlers = taken.map(([name, code]) => {
    const handler = () => {
      // A second interrupt (or one after the abort) ends the process as Node would.
      if (controller.signal.aborted) process.exit(code);
      notice?.(`costguard: ${name}: stopping after ${finishing()} (again to stop at once)\n`);
      controller.abort(new InterruptedError(name as keyof typeof SIGNALS, code, recorded));
    };
    process.on(name, handler);
    return [name, handler] as const;
  });
  return {
    signal: controller.signal,
    release() {
      for (const [name, handler] of handlers) process.off(name, handler);
      if (holder === held) holder = undefined;
    },
  };
}

/**
 * Standard output was closed by its reader: stops the command holding the interrupts, if any.
 * Returns false when none does (the caller exits).
 */
export function outputClosed(): boolean {
  if (holder === undefined) return false;
  const { controller, recorded } = holder;
  if (!controller.signal.aborted) controller.abort(new InterruptedError("output closed", 141, recorded));
  return true;
}

/**
 * Standard output could not be written (`costguard scan --format json > /full/disk/out.json`: no space
 * left, a quota, an I/O error): stops the command holding the interrupts, which then says so and ends
 * its transaction as for a closed output. Returns false when none does: the caller says so and exits
 * with 3.
 */
export function outputFailed(err: unknown): boolean {
  if (holder === undefined) return false;
  const { controller, recorded } = holder;
  if (!controller.signal.aborted)
    controller.abort(new InterruptedError("output failed", 3, recorded, writeFailureText(err)));
  return true;
}

/**
 * What a failed write means in words, from Node's `ENOSPC: no space left on device, write`: "no space
 * left on device"; Node's own message when it has no such shape.
 */
export function writeFailureText(err: unknown): string {
  return systemErrorText(err);
}

let doneNote = "";

/**
 * What a command's output failing no longer undoes, said with the failure (`outputFailureNote`): a
 * stored scan that completed before its report could be written is kept as completed, and the line
 * says where to read it. Empty (the default) says nothing.
 */
export function noteDoneWork(note: string): void {
  doneNote = note;
}

/** The note `noteDoneWork` left, with its separator (empty when none). */
export function outputFailureNote(): string {
  return doneNote === "" ? "" : `; ${doneNote}`;
}
