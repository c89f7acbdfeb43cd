import type { Command } from "commander";
import { buildBudgetStateFromFile, readBudgetStateFile } from "../budget/build-state.js";
import { COST_COLUMNS, type CostColumn } from "../budget/focus-columns.js";
import type { BudgetGateOptions } from "../budget/gate.js";
import { type BudgetState, MAX_DATA_LAG_HOURS, staleBillingData } from "../budget/state.js";
import { InputError } from "../errors.js";
import type { LoadedPolicy } from "../policy/types.js";
import { parseAt } from "./clock.js";
import type { CliContext } from "./context.js";
import { givenOnce } from "./given-once.js";

/** `--at TIME`, else the context's clock: every time-dependent command takes it (replay, what-if). */
export function resolveAt(at: string | undefined, ctx: CliContext): number {
  if (at === undefined) return ctx.now?.() ?? Date.now();
  return parseAt(at).getTime();
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
  maxBillingLag?: string;
}

/** `--max-billing-lag HOURS`: how long before the evaluation time billing data may end and still count. */
export function addMaxBillingLagOption(command: Command): Command {
  return command.option(
    "--max-billing-lag <hours>",
    `billing data ending longer than this before the evaluation time is too old to judge budgets by (default ${MAX_DATA_LAG_HOURS})`,
  );
}

export function resolveMaxBillingLag(value: string | undefined): number {
  if (value === undefined) return MAX_DATA_LAG_HOURS;
  if (!/^\d+(\.\d+)?$/.test(value) || Number(value) <= 0)
    throw new InputError(`--max-billing-lag must be a positive number of hours, got ${value}`);
  return Number(value);
}

/** One line on stderr when billing data is too old to judge budgets by at `at`; returns why (or undefined). */
export function warnStaleBilling(
  state: BudgetState,
  at: number,
  maxLagHours: number,
  what: string,
  ctx: CliContext,
): string | undefined {
  const stale = staleBillingData(state, at, maxLagHours);
  if (stale === undefined) return undefined;
  ctx.stderr.write(
    `costguard: warning: ${stale}: ${what} (--at evaluates as of the data, --max-billing-lag allows an older export)\n`,
  );
  return stale;
}

/**
 * `--billing` read once: given twice, the first export was dropped in silence (the option keeps the
 * last value) and a period split over two files was budgeted from one of them.
 */
export const oneBillingFile = givenOnce(
  "--billing",
  "names one export file",
  "costguard reads one file a run; join an export split over several CSV files into one first (its header once)",
);

/** Adds the options every gate command shares to know budgets: --billing, --budget-state, --at, --strict. */
export function addBudgetSourceOptions(command: Command): Command {
  command
    .option(
      "-b, --billing <file>",
      "FOCUS billing export (CSV, CSV.gz, Parquet): budget rules are evaluated",
      oneBillingFile,
    )
    .option(
      "--budget-state <file>",
      "budget state saved by `costguard budgets --save-state` (instead of --billing)",
    )
    .option("--strict", "with --billing: fail on the first malformed billing row")
    .option("--cost-column <column>", "with --billing: EffectiveCost (default), BilledCost or ListCost");
  return addAtOption(addMaxBillingLagOption(command));
}

/**
 * Refuses the billing options given without what they apply to (each would change nothing): --strict
 * and --cost-column read a billing file (a saved budget state was counted when it was saved),
 * --max-billing-lag judges billing data or a state made from it.
 */
export function checkBudgetSource(opts: BudgetSourceOptions): void {
  if (opts.billing && opts.budgetState) throw new InputError("give --billing or --budget-state, not both");
  if (opts.billing) return;
  const counted = opts.budgetState ? ": a --budget-state was counted when it was saved" : "";
  if (opts.strict) throw new InputError(`--strict needs --billing${counted}`);
  if (opts.costColumn !== undefined) throw new InputError(`--cost-column needs --billing${counted}`);
  if (opts.maxBillingLag !== undefined && !opts.budgetState)
    throw new InputError("--max-billing-lag needs --billing or --budget-state");
}

/** Budget state for a gate from `--billing` or `--budget-state`; undefined when neither is given. */
export async function budgetGateFromCli(
  policies: readonly LoadedPolicy[],
  opts: BudgetSourceOptions,
  ctx: CliContext,
): Promise<BudgetGateOptions | undefined> {
  checkBudgetSource(opts);
  const at = resolveAt(opts.at, ctx);
  const maxDataLagHours = resolveMaxBillingLag(opts.maxBillingLag);
  const notJudged = "budget rules it does not show blocked are listed under not_evaluated";
  if (opts.budgetState) {
    const state = readBudgetStateFile(opts.budgetState);
    warnStaleBilling(state, at, maxDataLagHours, notJudged, ctx);
    return { state, at, maxDataLagHours };
  }
  if (!opts.billing) return undefined;
  const costColumn = resolveCostColumn(opts.costColumn);
  const { state, report, unmatched } = await buildBudgetStateFromFile(policies, opts.billing, {
    at,
    strict: opts.strict ?? false,
    ...(costColumn ? { costColumn } : {}),
  });
  for (const line of unmatched) ctx.stderr.write(`costguard: warning: ${line}\n`);
  if (report.malformed > 0) {
    const first = report.problems[0];
    ctx.stderr.write(
      `costguard: ${opts.billing}: ${report.malformed} malformed billing ${report.malformed === 1 ? "row" : "rows"} not counted` +
        (first ? ` (first: line ${first.line}, column ${first.column}: ${first.message})` : "") +
        "; run costguard budgets to list them\n",
    );
  }
  warnStaleBilling(state, at, maxDataLagHours, notJudged, ctx);
  return { state, at, maxDataLagHours };
}
