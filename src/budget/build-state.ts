import { stat } from "node:fs/promises";
import { InputError } from "../errors.js";
import { readText } from "../files.js";
import type { LoadedPolicy } from "../policy/types.js";
import { schemaCheck } from "../schema-check.js";
import { createSpendAggregator, selectorColumnGroups, unmatchedBudgets } from "./aggregate.js";
import type { IngestReport } from "./charge.js";
import { type BudgetDefinitionOptions, budgetDefinitions } from "./definitions.js";
import { COST_COLUMNS } from "./focus-columns.js";
import { ingestCsvInParallel, threadsFor } from "./parallel-ingest.js";
import { BUDGET_PERIODS } from "./periods.js";
import { readFocusFile, sniffFormat } from "./read-focus.js";
import { type BudgetState, computeBudgetState } from "./state.js";

export interface BuildBudgetStateOptions extends BudgetDefinitionOptions {
  /** The instant to evaluate at (ms since the epoch): the injected clock. */
  at: number;
  strict?: boolean;
  maxReportedProblems?: number;
  /**
   * Threads for a plain CSV file: default by size (files from 64 MiB are split across the cores);
   * 1 reads in one pass.
   */
  threads?: number;
}

export interface BuiltBudgetState {
  state: BudgetState;
  report: IngestReport;
  /** Budgets whose selector matched no charge in their periods, each with why (unmatchedBudgets). */
  unmatched: string[];
}

/**
 * Reads a FOCUS billing file and computes the state of every BudgetLimit rule at `options.at`.
 * This is the one function gates call to (re)build budget state: the CLI for `--billing`, and the HTTP
 * server when it sees the billing file change.
 */
export async function buildBudgetStateFromFile(
  policies: readonly LoadedPolicy[],
  billingFile: string,
  options: BuildBudgetStateOptions,
): Promise<BuiltBudgetState> {
  const definitions = budgetDefinitions(policies, options);
  const aggregator = createSpendAggregator(definitions, options.at);
  const ingest: Parameters<typeof readFocusFile>[2] = {
    costColumns: aggregator.costColumns.length > 0 ? aggregator.costColumns : ["EffectiveCost"],
    dimensions: aggregator.dimensions,
    requiredDimensions: selectorColumnGroups(definitions),
  };
  if (options.strict !== undefined) ingest.strict = options.strict;
  if (options.maxReportedProblems !== undefined) ingest.maxReportedProblems = options.maxReportedProblems;
  if ((await sniffFormat(billingFile)) === "csv") {
    const threads = options.threads ?? threadsFor((await stat(billingFile)).size);
    if (threads > 1) {
      const parallel = await ingestCsvInParallel(billingFile, definitions, options.at, ingest, threads);
      if (parallel) {
        const totals = parallel.aggregator.totals();
        return {
          state: computeBudgetState(totals, parallel.report),
          report: parallel.report,
          unmatched: unmatchedBudgets(totals),
        };
      }
    }
  }
  const report = await readFocusFile(billingFile, aggregator.sink, ingest);
  const totals = aggregator.totals();
  return { state: computeBudgetState(totals, report), report, unmatched: unmatchedBudgets(totals) };
}

/** Loads a state saved with `costguard budgets --save-state`. */
export function readBudgetStateFile(file: string): BudgetState {
  let value: unknown;
  try {
    value = JSON.parse(readText(file));
  } catch (err) {
    if ((err as { code?: string }).code || err instanceof InputError) throw err;
    throw new InputError(`${file}: not JSON: ${(err as Error).message}`);
  }
  const v = value as Partial<BudgetState>;
  if (v?.kind !== "costguard.budget-state" || v.version !== 1 || !Array.isArray(v.budgets)) {
    throw new InputError(
      `${file}: not a costguard budget state (write one with costguard budgets --save-state)`,
    );
  }
  // Gates block by it: a hand-edited `"blocked": "yes"` blocked with no threshold to name.
  return states.parse(v, file);
}

const DECIMAL_TEXT = { type: "string", pattern: "^-?\\d+(\\.\\d+)?$" };
const PERCENT = { type: "number", maximum: Number.MAX_VALUE, minimum: -Number.MAX_VALUE };
const COUNT = { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER };
const INSTANT = { type: "string", minLength: 1 };

/** What `costguard budgets --save-state` writes, as gates read it back. */
export const BUDGET_STATE_SCHEMA = {
  type: "object",
  required: ["kind", "version", "at", "budgets"],
  properties: {
    at: INSTANT,
    dataThrough: { anyOf: [INSTANT, { type: "null" }] },
    budgets: {
      type: "array",
      items: {
        type: "object",
        required: [
          "policy",
          "rule",
          "period",
          "periodLabel",
          "periodStart",
          "periodEnd",
          "currency",
          "limit",
          "spend",
          "percent",
          "forecast",
          "forecastPercent",
          "thresholds",
          "blocked",
          "state",
        ],
        properties: {
          policy: { type: "string", minLength: 1 },
          rule: { type: "string", minLength: 1 },
          period: { enum: [...BUDGET_PERIODS] },
          periodLabel: { type: "string" },
          periodStart: INSTANT,
          periodEnd: INSTANT,
          currency: { type: "string", pattern: "^[A-Z]{3}$" },
          costColumn: { enum: [...COST_COLUMNS] },
          limit: DECIMAL_TEXT,
          spend: DECIMAL_TEXT,
          percent: PERCENT,
          forecast: DECIMAL_TEXT,
          forecastPercent: PERCENT,
          runRatePerDay: DECIMAL_TEXT,
          matchedCharges: COUNT,
          otherCurrencyCharges: COUNT,
          thresholds: {
            type: "array",
            items: {
              type: "object",
              required: ["percent", "action", "reached"],
              properties: {
                percent: { type: "number", exclusiveMinimum: 0, maximum: Number.MAX_VALUE },
                action: { enum: ["notify", "block-new-resources"] },
                reached: { enum: ["actual", "forecast", null] },
              },
            },
          },
          blocked: { type: "boolean" },
          state: { enum: ["ok", "alert", "at-risk", "over", "blocked"] },
        },
      },
    },
  },
} as const;

const states = schemaCheck<BudgetState>(BUDGET_STATE_SCHEMA, (field, e) => {
  if (e.keyword === "pattern" && e.parentSchema === DECIMAL_TEXT)
    return `\`${field}\` must be decimal text such as "123.45"`;
  return undefined;
});
