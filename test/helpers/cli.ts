import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { PassThrough } from "node:stream";
import { runCli } from "../../src/cli/main.js";

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

const BIN = resolve("bin/costguard.js");

/** Runs the built costguard binary as a user would (npm test builds dist/ first). */
export function costguard(
  args: readonly string[],
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): CliRun {
  const run = spawnSync(process.execPath, [BIN, ...args], {
    input: options.input ?? "",
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "", FORCE_COLOR: "0", ...options.env },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

export interface InProcessRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI in-process with captured output, in `cwd`, with `env` (no COSTGUARD_DATABASE_URL unless
 * given) and, with `now`, a clock stopped at that time.
 */
export async function cli(
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; input?: string; now?: string },
): Promise<InProcessRun> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = "";
  let stderr = "";
  out.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  err.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const code = await runCli(args, {
    stdout: out,
    stderr: err,
    readStdin: () => options.input ?? "",
    cwd: options.cwd,
    env: { ...(options.env ?? {}) },
    ...(options.now !== undefined ? { now: () => Date.parse(options.now!) } : {}),
  });
  await new Promise((r) => setImmediate(r)); // let the last writes arrive
  return { code, stdout, stderr };
}
