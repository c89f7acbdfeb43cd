import type { Command } from "commander";
import { formatProblem, InputError } from "../../errors.js";
import { readPolicies } from "../../policy/load.js";
import type { CliContext } from "../context.js";
import { CliExit, EXIT } from "../exit.js";
import { configInUse, policyPaths } from "../policy-options.js";

export function registerValidate(program: Command, ctx: CliContext): void {
  program
    .command("validate")
    .description("check policy files: schema, unknown keys, RE2 patterns, duplicate names, contradictions")
    .argument(
      "[paths...]",
      "policy files or folders (.yaml, .yml, .json; multi-document YAML allowed); default: policies: in costguard.yaml",
    )
    .option("--format <format>", "text or json", "text")
    .addHelpText(
      "after",
      "\nExit codes: 0 valid (warnings allowed), 2 problems found (one file:line:col line each).",
    )
    .action((given: string[], opts: { format: string }) => {
      if (opts.format !== "text" && opts.format !== "json")
        throw new InputError(`--format must be text or json, got ${opts.format}`);
      // What every other command would read: the configuration's policies when no path is given.
      const paths = policyPaths(given, ctx, undefined, "PATH");
      const result = readPolicies(paths, { skip: configInUse(ctx) });
      const errors = result.problems.filter((p) => p.severity === "error");
      if (result.files.length === 0 && errors.length === 0) {
        ctx.stderr.write(`costguard: no policy files (.yaml, .yml, .json) under ${paths.join(", ")}\n`);
        throw new CliExit(EXIT.badInput);
      }
      if (opts.format === "json") {
        ctx.stdout.write(
          `${JSON.stringify({ valid: errors.length === 0, files: result.files.length, policies: result.policies.length, problems: result.problems }, null, 2)}\n`,
        );
      } else {
        for (const p of result.problems)
          (p.severity === "error" ? ctx.stderr : ctx.stdout).write(`${formatProblem(p)}\n`);
        if (errors.length === 0) {
          const rules = result.policies.reduce((n, p) => n + p.document.spec.rules.length, 0);
          ctx.stdout.write(
            `${result.policies.length} ${result.policies.length === 1 ? "policy" : "policies"} (${rules} ${rules === 1 ? "rule" : "rules"}) in ${result.files.length} ${result.files.length === 1 ? "file" : "files"}: valid\n`,
          );
        } else {
          ctx.stderr.write(`${errors.length} ${errors.length === 1 ? "problem" : "problems"} found\n`);
        }
      }
      if (errors.length > 0) throw new CliExit(EXIT.badInput);
    });
}
