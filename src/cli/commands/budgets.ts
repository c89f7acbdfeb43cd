import type { Command } from "commander";
import { buildBudgetStateFromFile } from "../../budget/build-state.js";
import { malformedRowLine } from "../../budget/charge.js";
import { InputError } from "../../errors.js";
import { refuseOverwrite } from "../../files.js";
import { fireBudgetAlerts } from "../../notify/budget-alerts.js";
import { deliverDue, toRetry } from "../../notify/deliver.js";
import {
  addAtOption,
  addMaxBillingLagOption,
  oneBillingFile,
  resolveAt,
  resolveCostColumn,
  resolveMaxBillingLag,
  warnStaleBilling,
} from "../budget-options.js";
import { renderBudgetMarkdown, renderBudgetTable } from "../budget-output.js";
import { refuseNotifyingAhead } from "../clock.js";
import type { CliContext } from "../context.js";
import {
  addNotifyConfigOptions,
  type NotifyFlags,
  notifyConfigFromCli,
  openCliOutbox,
  reportFailures,
  reportLost,
  reportSkipped,
} from "../notify-options.js";
import { writeOutputFile } from "../output-file.js";
import { collect, inputFiles, loadPoliciesForCli, POLICIES_OPTION_HELP } from "../policy-options.js";
import { useColor } from "../table.js";
import { refuseUnused } from "../unused-options.js";

interface BudgetsOptions extends NotifyFlags {
  notify?: boolean;
  policies?: string[];
  billing?: string;
  at?: string;
  format: string;
  strict?: boolean;
  costColumn?: string;
  saveState?: string;
  maxBillingLag?: string;
}

export function registerBudgets(program: Command, ctx: CliContext): void {
  const command = program
    .command("budgets")
    .description("spend, forecast and thresholds of every BudgetLimit rule, from FOCUS billing data")
    .option("-p, --policies <path>", POLICIES_OPTION_HELP, collect)
    .option(
      "-b, --billing <file>",
      "FOCUS 1.0-1.2 billing export: CSV, gzipped CSV or Parquet",
      oneBillingFile,
    )
    .option("--format <format>", "table, json or markdown", "table")
    .option("--strict", "fail on the first malformed billing row (default: count and report them)")
    .option(
      "--cost-column <column>",
      "EffectiveCost (default), BilledCost or ListCost, for rules naming none",
    )
    .option("--save-state <file>", "also write the budget state as JSON, for gates: evaluate --budget-state")
    .option("--notify", "alert on thresholds newly reached this period (once each), through the outbox");
  addNotifyConfigOptions(command);
  addAtOption(addMaxBillingLagOption(command)).addHelpText(
    "after",
    `
Budgets are calendar months and quarters in UTC. Spend sums the matching charges' cost column by
ChargePeriodStart, up to --at. The forecast adds the recent run-rate (last 7 days of data) over the
time left in the period. A threshold is reached on "actual" spend or only on the "forecast".
Billing data that ends more than 72 hours (--max-billing-lag) before --at is too old to judge by:
a warning says so, and gates list budget rules under not_evaluated rather than pass them.
Malformed rows are counted and listed on stderr with their line and column (--strict stops instead).

Exit codes: 0 ok, 2 bad input (or a malformed row with --strict), 3 the outbox's database (--notify)
failed or the output cannot be written.

Examples:
  costguard budgets --policies examples/budgets --billing examples/billing/focus-1.0-sample.csv --at 2024-09-30T23:00:00Z
  costguard budgets -p policies/ -b export.parquet --format json --save-state budget-state.json
  costguard budgets -p policies/ -b export.csv.gz --notify --config costguard.yaml`,
  );
  command.action(async (opts: BudgetsOptions) => {
    if (!["table", "json", "markdown"].includes(opts.format))
      throw new InputError(`--format must be table, json or markdown, got ${opts.format}`);
    const notifying = !opts.notify && "does nothing without --notify: it says where alerts go";
    const named = (opts.policies?.length ?? 0) > 0;
    refuseUnused(command, {
      // Without --policies the configuration names them; with them it only says where alerts go.
      config: named && !opts.notify && "does nothing with --policies and without --notify",
      outbox: notifying,
      database: notifying,
    });
    if (!opts.billing)
      throw new InputError("--billing FILE is required (a FOCUS CSV, CSV.gz or Parquet export)");
    const at = resolveAt(opts.at, ctx);
    // Before the export is read: a look ahead is a what-if, made without queueing alerts.
    if (opts.notify) refuseNotifyingAhead(at, opts.at, ctx.now?.() ?? Date.now(), "queue");
    const maxLag = resolveMaxBillingLag(opts.maxBillingLag);
    const costColumn = resolveCostColumn(opts.costColumn);
    const policies = loadPoliciesForCli(opts.policies, ctx, opts.config);
    // A wrong --policies (the gates' folder, say) would report nothing and pass a CI step.
    if (!policies.some((p) => p.document.spec.type === "BudgetLimit"))
      throw new InputError(
        `no BudgetLimit policy among the ${policies.length} ${policies.length === 1 ? "policy" : "policies"} loaded${named ? ` from ${opts.policies!.join(", ")}` : ""}: nothing to evaluate (a budget is a policy of type: BudgetLimit; docs/budgets.md)`,
      );
    // Said before the export is read (minutes for a big one), not after.
    if (opts.saveState)
      refuseOverwrite(opts.saveState, "--save-state", inputFiles(policies, { billing: opts.billing }));
    const { state, report, unmatched } = await buildBudgetStateFromFile(policies, opts.billing, {
      at,
      strict: opts.strict ?? false,
      ...(costColumn ? { costColumn } : {}),
    });
    for (const p of report.problems) {
      ctx.stderr.write(`${malformedRowLine(report.file, p)}\n`);
    }
    if (report.malformed > 0) {
      const more = report.malformed - report.problems.length;
      ctx.stderr.write(
        `costguard: ${report.malformed} malformed ${report.malformed === 1 ? "row" : "rows"} not counted in any budget${more > 0 ? ` (${more} not listed)` : ""}; --strict fails on them\n`,
      );
    }
    for (const line of unmatched) ctx.stderr.write(`costguard: warning: ${line}\n`);
    const stale = warnStaleBilling(
      state,
      at,
      maxLag,
      "these figures miss what was spent since, and gates will not judge budgets by them",
      ctx,
    );
    if (opts.saveState) {
      writeOutputFile(opts.saveState, `${JSON.stringify(state, null, 2)}\n`, "--save-state");
    }
    if (opts.notify) {
      const config = notifyConfigFromCli(opts, ctx);
      const outbox = await openCliOutbox(config, opts, ctx);
      try {
        const fired = await fireBudgetAlerts(state, {
          outbox,
          ledger: outbox,
          now: at,
          defaultChannels: config.defaultChannels,
          stale,
        });
        ctx.stderr.write(
          `costguard: ${fired.fired.length} ${fired.fired.length === 1 ? "threshold" : "thresholds"} newly reached${fired.staleReported ? ", stale billing data reported" : ""}, ${fired.enqueued} notifications queued\n`,
        );
        const result = await deliverDue({ outbox, config, now: () => ctx.now?.() ?? Date.now() });
        if (result.attempted > 0) {
          ctx.stderr.write(
            `costguard: notifications: ${result.delivered} delivered, ${toRetry(result)} to retry (costguard notify deliver)\n`,
          );
          reportFailures(result.failed, ctx);
          reportSkipped(result.skipped, ctx);
          reportLost(result.lost, ctx);
        }
      } finally {
        await outbox.close();
      }
    }
    if (opts.format === "json") {
      ctx.stdout.write(
        `${JSON.stringify({ ...state, staleBillingData: stale ?? null, problems: report.problems }, null, 2)}\n`,
      );
    } else if (opts.format === "markdown") {
      ctx.stdout.write(renderBudgetMarkdown(state, report, stale));
    } else {
      ctx.stdout.write(renderBudgetTable(state, report, useColor(ctx.stdout), stale));
    }
  });
}
