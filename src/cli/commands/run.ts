import type { Command } from "commander";
import type { CycleSummary } from "../../cycle/compliance-cycle.js";
import { realisedSavingsText } from "../../remediation/saving.js";
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
import { renderCycleSummary } from "../remediation-output.js";
import { useColor } from "../table.js";
import { refuseUnused } from "../unused-options.js";

function summaryText(s: CycleSummary): string {
  return [
    `Compliance scan complete (${s.mode === "dry-run" ? "dry run" : "executed"})`,
    `Score: ${s.compliance_score.toFixed(2)}%`,
    `Violations Found: ${s.violations_found}`,
    `Actionable: ${s.violations_actionable}`,
    `Remediated: ${s.remediations_completed}`,
    `Failed: ${s.remediations_failed}`,
    `Realised savings: ${realisedSavingsText(s)}`,
    ...(s.aborted ? [`ABORTED: ${s.aborted}`] : []),
  ].join("\n");
}

export function registerRun(program: Command, ctx: CliContext): void {
  addCycleOptions(
    program
      .command("run")
      .description(
        "one compliance cycle: scan (findings an approved exception covers marked excepted) → exception sweep → remediation (dry run unless --execute) → notifications",
      ),
  )
    .addHelpText(
      "after",
      `
The daily job. The inventory is scanned through the same engine as every gate, findings an
approved exception covers marked excepted as they are found (one expiring by the run's time covers
nothing); exceptions are then swept (with --execute expiries are stored and overdue reviews
notified, a dry run counts them); remediation plans (and with --execute, acts on) the rest, and a
summary goes to remediation.channels through the notification outbox. The summary has the fields
of the guide's run_compliance_scan: violations found, actionable, remediated, failed, compliance
score, duration.
Ctrl-C (or SIGTERM) during the scan stops it (kept as failed); during remediation it finishes the
action under way and starts no other (the rest stay due for the next run); a second one stops at once.
Exit codes: 0 done, 1 aborted by the blast-radius cap or an action failed, 2 bad input, 3 the database
failed (unreachable, or failing) or the output cannot be written, 130/143 interrupted.

Examples:
  costguard run --policies examples/policies --inventory sandbox
  costguard run --inventory sandbox --execute --format json     # policies from costguard.yaml
  costguard run -i sandbox --no-store --at 2026-01-01T00:00:00Z  # a what-if: nothing stored
  costguard run -i aws --region all --execute                    # EC2, EBS and RDS (docs/remediation.md)`,
    )
    .action(async (flags: CycleFlags, command: Command) => {
      refuseUnused(command, unusedCycleOptions(flags));
      const result = await runCycleFromCli(flags, ctx, async (r, config, notifier) => {
        const s = r.summary;
        const status = s.compliance_score >= 95 ? "info" : s.compliance_score >= 80 ? "warning" : "critical";
        // A dry run's summary says so where a channel shows it first, not only in its text.
        const dry = s.mode === "dry-run" ? " (dry run)" : "";
        await notifier.announce({
          key: `cycle:${s.scan_id}`,
          channels: config.remediation.channels,
          kind: "compliance.cycle",
          subject: `costguard: compliance ${s.compliance_score.toFixed(2)}% on ${s.inventory}${dry}`,
          text: summaryText(s),
          data: {
            title: `Compliance scan complete${dry}: ${s.compliance_score.toFixed(2)}%`,
            severity: status,
            fields: [
              { label: "Violations found", value: String(s.violations_found) },
              { label: "Actionable", value: String(s.violations_actionable) },
              { label: "Remediated", value: String(s.remediations_completed) },
              { label: "Failed", value: String(s.remediations_failed) },
            ],
            summary: s,
          },
        });
      });
      const s = result.summary;
      if (flags.format === "json") ctx.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
      else ctx.stdout.write(renderCycleSummary(s, useColor(ctx.stdout), inventoryActs(flags.inventory)));
      writeBillingLine(result, flags, ctx);
      stopIfInterrupted(result, ctx);
      if (s.aborted || s.remediations_failed > 0) throw new CliExit(EXIT.denied);
    });
}
