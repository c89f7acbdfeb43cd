import { Command, CommanderError } from "commander";
import { InputError } from "../errors.js";
import { readText } from "../files.js";
import { registerAudit } from "./commands/audit.js";
import { registerBudgets } from "./commands/budgets.js";
import { registerEvaluate } from "./commands/evaluate.js";
import { registerExceptions } from "./commands/exceptions.js";
import { registerFindings, registerScans } from "./commands/findings.js";
import { registerNotify } from "./commands/notify.js";
import { registerPlan } from "./commands/plan.js";
import { registerPrice } from "./commands/price.js";
import { registerRemediate } from "./commands/remediate.js";
import { registerRun } from "./commands/run.js";
import { registerSandbox } from "./commands/sandbox.js";
import { registerScan } from "./commands/scan.js";
import { registerServe } from "./commands/serve.js";
import { registerStore } from "./commands/store.js";
import { registerTest } from "./commands/test.js";
import { registerValidate } from "./commands/validate.js";
import type { CliContext } from "./context.js";
import { EXIT, reportError } from "./exit.js";
import { noteDoneWork } from "./interrupt.js";
import { packageVersion } from "./version.js";

export type { CliContext } from "./context.js";
export { outputClosed, outputFailed, outputFailureNote, writeFailureText } from "./interrupt.js";

/** Every command, registered in one place. */
const COMMANDS: ((program: Command, ctx: CliContext) => void)[] = [
  registerValidate,
  registerEvaluate,
  registerTest,
  registerBudgets,
  registerNotify,
  registerPrice,
  registerPlan,
  registerScan,
  registerFindings,
  registerScans,
  registerStore,
  registerSandbox,
  registerExceptions,
  registerRemediate,
  registerRun,
  registerAudit,
  registerServe,
];

export function buildProgram(ctx: CliContext): Command {
  const program = new Command("costguard")
    .description("Cloud cost policies as YAML, enforced before and after resources exist.")
    .version(packageVersion())
    .showHelpAfterError("(run with --help for usage)")
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    })
    .exitOverride()
    // An empty argument (`findings show "$ID"` with ID unset) names nothing: said as such, not as
    // "no finding with fingerprint " or ": no such file or directory". So does an empty option value
    // (`--region "$REGION"` unset): taken, it would mean the default, an estate nobody asked for.
    .hook("preAction", (_program, action) => {
      for (const option of action.options) {
        const value = action.getOptionValue(option.attributeName());
        if ([value].flat().some((v) => typeof v === "string" && v.trim() === ""))
          throw new InputError(`${option.long ?? option.short} needs a value`);
      }
      for (const [i, arg] of action.registeredArguments.entries()) {
        const values = [action.processedArgs[i]].flat();
        if (values.some((v) => typeof v === "string" && v.trim() === "")) {
          const names: string[] = [];
          for (let c: Command | null = action; c?.parent; c = c.parent) names.unshift(c.name());
          throw new InputError(`${names.join(" ")}: the argument <${arg.name()}> is empty`);
        }
      }
    });
  for (const register of COMMANDS) register(program, ctx);
  const configure = (cmd: Command) => {
    for (const sub of cmd.commands) {
      sub
        .exitOverride()
        .configureOutput({ writeOut: (s) => ctx.stdout.write(s), writeErr: (s) => ctx.stderr.write(s) });
      configure(sub);
    }
  };
  configure(program);
  return program;
}

/** Runs the CLI with the given arguments (without `node` and the script) and returns the exit code. */
export async function runCli(args: readonly string[], ctx: CliContext): Promise<number> {
  noteDoneWork("");
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...args], { from: "user" });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end with code 0; usage mistakes are bad input.
      return err.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    }
    return reportError(err, ctx.stderr);
  }
}

/** Standard input, whole; more than one string holds is a clear error (a file's path streams it). */
function readStdin(): string {
  try {
    return readText(0);
  } catch (err) {
    if ((err as { code?: string }).code === "ERR_STRING_TOO_LONG")
      throw new InputError(
        "standard input is too large to read whole (over 512 MiB): pass the file's path instead, where JSON lines and JSON arrays are read as a stream",
      );
    throw err;
  }
}

export function processContext(): CliContext {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    readStdin,
    stdinChunks: () => process.stdin,
    cwd: process.cwd(),
    env: process.env,
  };
}
