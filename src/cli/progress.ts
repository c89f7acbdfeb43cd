import type { InventoryProgress } from "../inventory/types.js";

export interface ProgressBar {
  update(p: InventoryProgress): void;
  /**
   * Replaces the bar with a line of its own (work after the counted part, such as storing what a
   * scan found), its time going on until done().
   */
  phase(text: string): void;
  /** Clears the bar so the summary starts on a clean line. */
  done(): void;
}

const WIDTH = 28;
const EVERY_MS = 100;

/**
 * A one-line progress bar on stderr, redrawn at most ten times a second; nothing at all when stderr
 * is not a terminal (piped output stays clean).
 */
export function progressBar(
  stream: NodeJS.WritableStream,
  label: string,
  clock: () => number = Date.now,
  /** What `resources` counts, in the plural. */
  noun = "resources",
): ProgressBar {
  const tty = (stream as NodeJS.WriteStream).isTTY === true;
  if (!tty) return { update() {}, phase() {}, done() {} };
  const started = clock();
  let last = 0;
  let drawn = false;
  let ticking: NodeJS.Timeout | undefined;
  /** Seconds since the bar started, as drawn. */
  const elapsed = (now = clock()) => ((now - started) / 1000).toFixed(1);
  return {
    phase(text) {
      clearInterval(ticking);
      const draw = () => {
        stream.write(`\r\x1b[2K${text}  ${elapsed()}s`);
        drawn = true;
      };
      draw();
      // Redrawn while the work goes on, so the line never looks stuck; never holds the process open.
      ticking = setInterval(draw, EVERY_MS * 5);
      ticking.unref();
    },
    update(p) {
      const now = clock();
      if (now - last < EVERY_MS) return;
      last = now;
      const seconds = elapsed(now);
      const count = `${p.resources.toLocaleString("en-US")} ${noun}`;
      let line: string;
      if (p.total !== undefined && p.total > 0) {
        const share = Math.min(1, p.done / p.total);
        const filled = Math.round(share * WIDTH);
        line = `${label} [${"█".repeat(filled)}${"░".repeat(WIDTH - filled)}] ${Math.floor(share * 100)
          .toString()
          .padStart(3)}%  ${count}  ${seconds}s`;
      } else {
        line = `${label} ${count}  ${seconds}s`;
      }
      stream.write(`\r\x1b[2K${line}`);
      drawn = true;
    },
    done() {
      clearInterval(ticking);
      ticking = undefined;
      if (drawn) stream.write("\r\x1b[2K");
      drawn = false;
    },
  };
}

/** What a stored scan's onStoring draws on its bar while the store finishes. */
export function showStoring(bar: ProgressBar): (findings: number) => void {
  return (findings) => bar.phase(`storing ${findings.toLocaleString("en-US")} findings…`);
}
