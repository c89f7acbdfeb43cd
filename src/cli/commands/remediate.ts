import type { Command } from "commander";
import { InputError } from "../../errors.js";
import type { CliContext } from "../context.js";
import {
  addCycleOptions,
  type CycleFlags,
  inventoryActs,
  runCycleFromCli,
  stopIfInterrupted,
  unusedCycleOptions,
  writeBillingLine,
} from "../cycle-options.js";
import { CliExit, EXIT } from "../exit.js";
import { writeJsonDocument } from "../json-document.js";
import { renderRemediation } from "../remediation-output.js";
import { useColor } from "../table.js";
import { refuseUnused } from "../unused-options.js";

/** The table's --limit: a whole number, 0 for no limit. */
function tableLimit(value: string): number {
  if (!/^(0|[1-9][0-9]{0,8})$/.test(value))
    throw new InputError(`--limit must be a whole number (0: every task), got ${value}`);
  return Number(value) === 0 ? Number.POSITIVE_INFINITY : Number(value);
}

export function registerRemediate(program: Command, ctx: CliContext): void {
  addCycleOptions(
    program
      .command("remediate")
      .description("scan, then plan remediation with grace periods and safety rails; --execute acts")
      .option(
        "--limit <n>",
        "rows of the table: the due tasks first (0: every one; json lists every one)",
        "200",
      ),
  )
    .addHelpText(
      "after",
      `
Without --execute this is a dry run: it prints the plan (what is due, what waits in its grace
period, which owners would be warned, what the safety rules withhold) and changes nothing.
With --execute it stores the tasks, warns owners once, and acts on what is due — unless the
blast-radius cap would be exceeded, in which case nothing is acted on. Settings: docs/remediation.md.
Ctrl-C (or SIGTERM) finishes the action under way and starts no other (the rest stay due for the
next run); a second one stops at once.
Exit codes: 0 done, 1 aborted or an action failed, 2 bad input, 3 the database failed (unreachable, or
failing) or the output cannot be written, 130/143 interrupted.

Examples:
  costguard remediate --policies examples/policies --inventory sandbox
  costguard remediate --policies examples/policies --inventory sandbox --execute --verbose
  costguard remediate -i aws --region us-east-1                  # what acting on AWS would do`,
    )
    .action(async (flags: CycleFlags & { limit: string }, command: Command) => {
      refuseUnused(command, {
        ...unusedCycleOptions(flags),
        limit: flags.format === "json" && "does nothing with --format json: it lists every task",
      });
      const limit = tableLimit(flags.limit);
      const result = await runCycleFromCli(flags, ctx, async () => {});
      const run = result.remediation;
      if (flags.format === "json") {
        await writeJsonDocument(ctx.stdout, {
          mode: run.mode,
          at: run.at,
          aborted: run.aborted,
          interrupted: run.interrupted,
          blast_radius: { changes: run.safety.changes, cap: run.safety.cap },
          created: run.plan.created,
          updated: run.plan.updated,
          warnings: [...run.plan.warnings, ...run.safety.warnings],
          due: run.plan.due,
          waiting: run.plan.waiting,
          blocked: run.safety.blocked.map((b) => ({ task_id: b.task.id, reason: b.reason })),
          passed: run.plan.passed,
          outcomes: run.outcomes.map((o) => ({
            task_id: o.task.id,
            outcome: o.outcome,
            message: o.message,
            task: o.task,
          })),
        });
      } else {
        ctx.stdout.write(renderRemediation(run, useColor(ctx.stdout), limit, inventoryActs(flags.inventory)));
      }
      writeBillingLine(result, flags, ctx);
      stopIfInterrupted(result, ctx);
      if (run.aborted || run.outcomes.some((o) => o.outcome === "failed")) throw new CliExit(EXIT.denied);
    });
}
