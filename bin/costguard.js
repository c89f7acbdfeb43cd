#!/usr/bin/env node
import { processContext, runCli } from "../dist/src/cli/main.js";

const code = await runCli(process.argv.slice(2), processContext());
// Let pending writes to a pipe finish before exiting.
process.exitCode = code;
