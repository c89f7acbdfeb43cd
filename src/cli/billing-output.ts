import { resolve } from "node:path";
import { malformedRowLine } from "../budget/charge.js";
import { BILLING_WINDOW_DAYS, type BillingCosts, readBillingCosts } from "../scan/billing-costs.js";
import type { ScanSummary } from "../scan/types.js";
import type { CliContext } from "./context.js";

/** A billing export read for a scan, with the name it was given by. */
export interface GivenBilling extends BillingCosts {
  given: string;
}

/**
 * `--billing FILE` read as a scan reads it (see readBillingCosts), in USD at `at`, the rows it could not
 * read or count said on stderr.
 */
export async function readBillingForCli(given: string, at: Date, ctx: CliContext): Promise<GivenBilling> {
  const billing = { ...(await readBillingCosts(resolve(ctx.cwd, given), at, "USD")), given };
  reportBillingRows(billing, ctx);
  return billing;
}

/** Billing rows the scan could not read or did not count for a reason worth saying, on stderr. */
function reportBillingRows(billing: BillingCosts, ctx: CliContext): void {
  const { report } = billing;
  const rows = (n: number) => `${n.toLocaleString("en-US")} ${n === 1 ? "row" : "rows"}`;
  for (const p of report.problems.slice(0, 5)) ctx.stderr.write(`${malformedRowLine(report.file, p)}\n`);
  if (report.malformed > 0)
    ctx.stderr.write(
      `costguard: billing: ${rows(report.malformed)} malformed, not counted in any resource's cost${report.malformed > 5 ? " (the first 5 above)" : ""}\n`,
    );
  if (billing.otherCurrency > 0)
    ctx.stderr.write(
      `costguard: billing: ${rows(billing.otherCurrency)} in a currency other than ${billing.currency}, not counted (scans price in ${billing.currency})\n`,
    );
}

/** What the billing export priced, for the end of a scan's (or a cycle's) summary. */
export function billingLine(
  billing: GivenBilling,
  summary: Pick<ScanSummary, "resources_billed" | "resources_scanned" | "resources_gone">,
): string {
  const given = billing.given;
  const billed = summary.resources_billed ?? 0;
  const scanned = summary.resources_scanned - (summary.resources_gone ?? 0);
  const window =
    billing.from && billing.through
      ? `, ${billing.from.slice(0, 10)} to ${billing.through.slice(0, 10)}`
      : "";
  if (billed > 0)
    return `Costs from billing: ${billed.toLocaleString("en-US")} of ${scanned.toLocaleString("en-US")} ${scanned === 1 ? "resource" : "resources"} priced from their charges in ${given} (${billing.column}${window}); the rest from their own cost or the price book\n`;
  const example = billing.costs.keys().next().value;
  const range =
    billing.exportFrom && billing.exportThrough
      ? ` (its charges run from ${billing.exportFrom.slice(0, 10)} to ${billing.exportThrough.slice(0, 10)}: --at scans as of another day)`
      : "";
  if (example === undefined && billing.resourceless > 0 && billing.outside === 0 && billing.tooRecent === 0)
    return `Costs from billing: no charge in ${given} names a resource (its ResourceId is empty or missing); every resource is priced from its own cost or the price book\n`;
  return example === undefined
    ? `Costs from billing: ${given} has no ${billing.currency} charge for any resource in the ${BILLING_WINDOW_DAYS} days before the scan${range}; every resource is priced from its own cost or the price book\n`
    : `Costs from billing: no resource scanned has a charge in ${given} (its ResourceId values name others, e.g. ${example}); every resource is priced from its own cost or the price book\n`;
}
