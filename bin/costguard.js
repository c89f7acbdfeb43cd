#!/usr/bin/env node
import {
  outputClosed,
  outputFailed,
  outputFailureNote,
  processContext,
  runCli,
  writeFailureText,
} from "../dist/src/cli/main.js";

// A reader that stops early (`costguard ... | head`) closes the pipe: stop quietly, as Unix tools do —
// a command writing to the store first ends its work cleanly (see src/cli/interrupt.ts). Output that
// cannot be written (a full disk, a quota, an I/O error) is said in a line, exit 3, never a stack trace.
process.stdout.on("error", (err) => {
  if (err.code === "EPIPE" || err.code === "ERR_STREAM_DESTROYED") {
    if (outputClosed()) return;
    process.exit(process.exitCode ?? 0);
  }
  if (outputFailed(err)) return;
  try {
    process.stderr.write(
      `costguard: cannot write the output: ${writeFailureText(err)}${outputFailureNote()}\n`,
    );
  } catch {
    // Standard error is gone too: the exit code is all that is left to say it.
  }
  process.exit(3);
});
// Messages that cannot be shown (standard error closed or on a full disk) do not stop the command
// half way through its work: it goes on, and its exit code still says how it went.
process.stderr.on("error", () => {});

const code = await runCli(process.argv.slice(2), processContext());
// Let pending writes to a pipe finish before exiting.
process.exitCode = code;
