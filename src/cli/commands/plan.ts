import { closeSync, openSync, readSync } from "node:fs";
import type { Command } from "commander";
import { createUnknownFieldsAnnotator } from "../../decide/unknown-fields.js";
import { InputError } from "../../errors.js";
import { NotUtf8TextError, readText, refuseOverwrite } from "../../files.js";
import { evaluatePlan } from "../../gates/terraform/gate.js";
import { binaryPlanMessage, parsePlan, ZIP_SIGNATURE } from "../../gates/terraform/plan.js";
import { renderPlanJunit } from "../../gates/terraform/render-junit.js";
import { renderPlanSarif } from "../../gates/terraform/render-sarif.js";
import { renderPlanMarkdown, renderPlanTable } from "../../gates/terraform/render-text.js";
import { addBudgetSourceOptions, type BudgetSourceOptions } from "../budget-options.js";
import type { CliContext } from "../context.js";
import { addExceptionGateOptions, type ExceptionGateOptions } from "../exception-options.js";
import { CliExit, EXIT } from "../exit.js";
import { gateDeciderFromCli } from "../gate-decider.js";
import { writeOutputFile } from "../output-file.js";
import { collect, inputFiles, POLICIES_OPTION_HELP } from "../policy-options.js";
import { useColor } from "../table.js";
import { packageVersion } from "../version.js";

const FORMATS = ["table", "json", "markdown", "sarif", "junit"] as const;
type Format = (typeof FORMATS)[number];

export function registerPlan(program: Command, ctx: CliContext): void {
  const command = program
    .command("plan")
    .description("check a Terraform plan (terraform show -json) against policies and price its changes")
    .argument(
      "<plan>",
      "`terraform show -json PLANFILE` output (format_version 1.x, or 0.1 and 0.2 of Terraform 0.12 to 1.0); - reads stdin",
    )
    .option("-p, --policies <path>", POLICIES_OPTION_HELP, collect)
    .option(
      "--price-book <path>",
      "CSV or YAML price table adding to or overriding the embedded book (repeatable)",
      collect,
    )
    .option("--format <format>", `one of ${FORMATS.join(", ")}`, "table")
    .option("-o, --output <file>", "write the report to a file instead of stdout (- is stdout)");
  addExceptionGateOptions(addBudgetSourceOptions(command))
    .addHelpText(
      "after",
      `
Every resource change that creates, updates or replaces a supported resource becomes a request
(aws_instance, aws_launch_template, aws_ebs_volume, aws_db_instance, google_compute_instance,
google_compute_disk, azurerm_linux_virtual_machine, azurerm_windows_virtual_machine,
azurerm_managed_disk; inline disks are checked as their own storage/volume requests). Values known only
after apply are unverified, not guessed. Deletes lower the cost. Other types are listed as skipped.

Approved, unexpired exceptions in the store (--database, or the default file when it exists) are
honoured as by every gate: the violations they cover are listed as excepted, not decided on, and
--no-exceptions decides without them (docs/exceptions.md).

Formats: table (terminal), json, markdown (pull-request comment), sarif (code scanning), junit.
Exit codes: 0 allowed or warned, 1 any resource denied, 2 bad input, 3 the database approved exceptions
are read from failed (unreachable, or failing) or the output cannot be written.

Examples:
  terraform plan -out tfplan && terraform show -json tfplan > plan.json
  costguard plan plan.json --policies policies/
  costguard plan plan.json --policies policies/ --format markdown > comment.md
  costguard plan plan.json --policies policies/ --billing focus.csv.gz     # budgets too (docs/budgets.md)`,
    )
    .action(
      async (
        planPath: string,
        opts: {
          policies?: string[];
          priceBook?: string[];
          format: string;
          output?: string;
        } & BudgetSourceOptions &
          ExceptionGateOptions,
      ) => {
        // `-o -` is stdout, as the plan's own `-` is stdin (not a file named "-").
        const output = opts.output === "-" ? undefined : opts.output;
        if (!(FORMATS as readonly string[]).includes(opts.format))
          throw new InputError(`--format must be one of ${FORMATS.join(", ")}, got ${opts.format}`);
        const format = opts.format as Format;
        const { policies, book, decider } = await gateDeciderFromCli(opts, ctx, [
          createUnknownFieldsAnnotator(),
        ]);
        const { text, name } =
          planPath === "-"
            ? { text: ctx.readStdin(), name: "stdin" }
            : { text: readPlanText(planPath), name: planPath };
        const plan = parsePlan(text, name);
        const report = evaluatePlan(plan, name, { decider, book });
        const rendered =
          format === "json"
            ? `${JSON.stringify(report, null, 2)}\n`
            : format === "markdown"
              ? renderPlanMarkdown(report)
              : format === "sarif"
                ? renderPlanSarif(report, packageVersion())
                : format === "junit"
                  ? renderPlanJunit(report)
                  : renderPlanTable(report, output === undefined && useColor(ctx.stdout));
        if (output !== undefined) {
          refuseOverwrite(output, "--output", [
            { path: planPath, what: "the plan read" },
            ...inputFiles(policies, opts),
          ]);
          writeOutputFile(output, rendered, "--output");
        } else {
          ctx.stdout.write(rendered);
        }
        if (report.decision === "deny") throw new CliExit(EXIT.denied);
      },
    );
}

/** The plan file's text; the binary plan file (a zip, not UTF-8) is named as what it is. */
function readPlanText(path: string): string {
  try {
    return readText(path);
  } catch (err) {
    if (err instanceof NotUtf8TextError) {
      const head = Buffer.alloc(4);
      const fd = openSync(path, "r");
      try {
        readSync(fd, head, 0, 4, 0);
      } finally {
        closeSync(fd);
      }
      if (head.toString("latin1") === ZIP_SIGNATURE) throw new InputError(binaryPlanMessage(path));
    }
    throw err;
  }
}
