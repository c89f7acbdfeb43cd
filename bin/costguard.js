#!/usr/bin/env node
import { outputClosed, processContext, runCli } from "../dist/src/cli/main.js";

// A reader that stops early (`costguard ... | head`) closes the pipe: stop quietly, as Unix tools do —
// a command writing to the store first ends its work cleanly (see src/cli/interrupt.ts).
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (err) => {
    if (err.code === "EPIPE" || err.code === "ERR_STREAM_DESTROYED") {
      if (stream === process.stdout && outputClosed()) return;
      process.exit(process.exitCode ?? 0);
    }
    throw err;
  });
}

const code = await runCli(process.argv.slice(2), processContext());
// Let pending writes to a pipe finish before exiting.
process.exitCode = code;
