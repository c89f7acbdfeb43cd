import { Writable } from "node:stream";
import { runCli } from "../../src/cli/main.js";
import { compilePolicySet } from "../../src/engine/compile.js";
import type { PolicyProblem } from "../../src/errors.js";
import { parsePolicyText } from "../../src/policy/load.js";
import type { LoadedPolicy } from "../../src/policy/types.js";

/** Compiles policy YAML given inline; fails the test on any problem. */
export function policiesFrom(yaml: string) {
  const policies: LoadedPolicy[] = [];
  const problems: PolicyProblem[] = [];
  parsePolicyText(yaml, "inline.yaml", policies, problems);
  const errors = problems.filter((p) => p.severity === "error");
  if (errors.length > 0) throw new Error(errors.map((p) => p.message).join("\n"));
  return compilePolicySet(policies);
}

export function policyProblems(yaml: string): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  parsePolicyText(yaml, "inline.yaml", [], problems);
  return problems;
}

class Sink extends Writable {
  text = "";
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** Runs the CLI in-process and returns its exit code and output. */
export async function cli(
  args: string[],
  stdin = "",
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Sink();
  const stderr = new Sink();
  const code = await runCli(args, {
    stdout,
    stderr,
    readStdin: () => stdin,
    cwd: process.cwd(),
    env: {},
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}
