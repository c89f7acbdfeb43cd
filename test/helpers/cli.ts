import { spawnSync } from "node:child_process";
import { resolve } from "node:path";

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
