import { PassThrough } from "node:stream";
import { runCli } from "../../src/cli/main.js";

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured output, in `cwd`, with `env` (no COSTGUARD_DATABASE_URL unless given). */
export async function cli(
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<CliRun> {
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
  const env = { ...(options.env ?? {}) };
  const code = await runCli(args, {
    stdout: out,
    stderr: err,
    readStdin: () => "",
    cwd: options.cwd,
    env,
  });
  return { code, stdout, stderr };
}
