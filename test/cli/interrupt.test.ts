import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, test } from "node:test";
import { reportError } from "../../src/cli/exit.js";
import { holdInterrupts, InterruptedError, outputClosed } from "../../src/cli/interrupt.js";

/** What reportError writes for `err`, and the exit code it gives. */
function reported(err: unknown): { text: string; code: number } {
  const out = new PassThrough();
  const code = reportError(err, out);
  return { text: String(out.read() ?? ""), code };
}

describe("interrupts held by a command", () => {
  test("the first Ctrl-C aborts the command's signal with the reason, says what it finishes, exit 130", () => {
    const notices: string[] = [];
    const held = holdInterrupts(
      (t) => notices.push(t),
      () => "the plan",
    );
    try {
      process.emit("SIGINT");
      assert.ok(held.signal.aborted);
      const reason = held.signal.reason as InterruptedError;
      assert.ok(reason instanceof InterruptedError);
      assert.equal(reason.exitCode, 130);
      assert.equal(reason.recorded, true);
      assert.deepEqual(notices, ["costguard: SIGINT: stopping after the plan (again to stop at once)\n"]);
      assert.deepEqual(reported(reason), {
        text: "costguard: interrupted by SIGINT: stopped; what was stored so far is kept, the run is recorded as failed\n",
        code: 130,
      });
    } finally {
      held.release();
    }
  });

  test("a command that stores nothing does not say it was recorded", () => {
    const held = holdInterrupts(undefined, undefined, { recorded: false });
    try {
      process.emit("SIGTERM");
      const reason = held.signal.reason as InterruptedError;
      assert.equal(reason.recorded, false);
      assert.deepEqual(reported(reason), {
        text: "costguard: interrupted by SIGTERM: stopped; nothing was stored or acted on\n",
        code: 143,
      });
    } finally {
      held.release();
    }
  });

  test("the reader closing the output stops the holder (exit 141); without one the caller exits", () => {
    const held = holdInterrupts(undefined, undefined, { recorded: false });
    try {
      assert.equal(outputClosed(), true);
      const reason = held.signal.reason as InterruptedError;
      assert.equal(reason.reason, "output closed");
      assert.equal(reason.exitCode, 141);
      assert.equal(reason.recorded, false);
    } finally {
      held.release();
    }
    assert.equal(outputClosed(), false);
  });
});
