import type { Command } from "commander";
import { buildBudgetStateFromFile, readBudgetStateFile } from "../budget/build-state.js";
import { COST_COLUMNS, type CostColumn } from "../budget/focus-columns.js";
import type { BudgetGateOptions } from "../budget/gate.js";
import { parseAt } from "../budget/periods.js";
import { InputError } from "../errors.js";
import type { LoadedPolicy } from "../policy/types.js";
import type { CliContext } from "./context.js";

/** `--at TIME`, else the context's clock: every time-dependent command takes it (replay, what-if). */
export function resolveAt(at: string | undefined, ctx: CliContext): number {
  if (at === undefined) return ctx.now?.() ?? Date.now();
  try {
    return parseAt(at);
  } catch (err) {
    throw new InputError(`--at: ${(err as Error).message}`);
  }
}

export function resolveCostColumn(value: string | undefined): CostColumn | undefined {
  if (value === undefined) return undefined;
  if (!(COST_COLUMNS as readonly string[]).includes(value))
    throw new InputError(`--cost-column must be one of ${COST_COLUMNS.join(", ")}, got ${value}`);
  return value as CostColumn;
}

export function addAtOption(command: Command): Command {
  return command.option(
    "--at <time>",
    "evaluate as of this time (ISO, UTC by default, e.g. 2024-09-30T23:00:00Z or 2024-09-30); default now",
  );
}

export interface BudgetSourceOptions {
  billing?: string;
  budgetState?: string;
  at?: string;
  strict?: boolean;
  costColumn?: string;
}

/** Adds the options every gate command shares to know budgets: --billing, --budget-state, --at, --strict. */
export function addBudgetSourceOptions(command: Command): Command {
  command
    .option("-b, --billing <file>", "FOCUS billing export (CSV, CSV.gz, Parquet): budget rules are evaluated")
    .option(
      "--budget-state <file>",
      "budget state saved by `costguard budgets --save-state` (instead of --billing)",
    )
    .option("--strict", "with --billing: fail on the first malformed billing row")
    .option("--cost-column <column>", "with --billing: EffectiveCost (default), BilledCost or ListCost");
  return addAtOption(command);
}

/** Budget state for a gate from `--billing` or `--budget-state`; undefined when neither is given. */
export async function budgetGateFromCli(
  policies: readonly LoadedPolicy[],
  opts: BudgetSourceOptions,
  ctx: CliContext,
): Promise<BudgetGateOptions | undefined> {
  const at = resolveAt(opts.at, ctx);
  if (opts.billing && opts.budgetState) throw new InputError("give --billing or --budget-state, not both");
  if (opts.budgetState) return { state: readBudgetStateFile(opts.budgetState), at };
  if (!opts.billing) return undefined;
  const costColumn = resolveCostColumn(opts.costColumn);
  const { state, report } = await buildBudgetStateFromFile(policies, opts.billing, {
    at,
    strict: opts.strict ?? false,
    ...(costColumn ? { costColumn } : {}),
  });
  if (report.malformed > 0) {
    const first = report.problems[0];
    ctx.stderr.write(
      `costguard: ${opts.billing}: ${report.malformed} malformed billing ${report.malformed === 1 ? "row" : "rows"} not counted` +
        (first ? ` (first: line ${first.line}, column ${first.column}: ${first.message})` : "") +
        "; run costguard budgets to list them\n",
    );
  }
  return { state, at };
}
