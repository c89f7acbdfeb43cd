import { formatMoney, parseAmount } from "../money/exact.js";
import { csvFindingColumns, csvText } from "../scan/finding-text.js";
import type { FindingGroup, FindingTotals, GroupTotals } from "../scan/store.js";
import type { ScanRecord, StoredFinding } from "../scan/types.js";
import { FINDING_COLUMNS, NAME_WIDTH, SEVERITY_STYLE, truncate } from "./scan-output.js";
import { type Column, paint, printable, renderTable, type Style } from "./table.js";

const STATUS_STYLE: Record<string, Style> = { open: "yellow", excepted: "cyan", resolved: "green" };

const n = (x: number) => x.toLocaleString("en-US");
const day = (iso: string | null) => (iso ? iso.slice(0, 10) : "");

function money(totals: Record<string, string>): string {
  const entries = Object.entries(totals);
  if (entries.length === 0) return formatMoney(0n, "USD");
  return entries.map(([currency, amount]) => formatMoney(parseAmount(amount), currency)).join(" + ");
}

/** What findings listed are, said of so many of them: `open findings`, `1 finding new in scan-...`. */
export type Counted = (count: number) => string;

/** The findings table: what is wrong where, what to do, what it saves, since when. */
export function renderStoredFindings(
  findings: readonly StoredFinding[],
  totals: FindingTotals,
  what: Counted,
  bySavings: boolean,
  color: boolean,
  /** Which statuses the findings listed have: the total is at stake only while they are not resolved. */
  stakeOf: Stake = "open",
): string {
  if (totals.count === 0) return `No ${what(0)}.\n`;
  const columns: Column<StoredFinding>[] = [
    { header: "FINGERPRINT", value: (f) => f.fingerprint },
    { header: "STATUS", value: (f) => f.status, style: (f) => STATUS_STYLE[f.status] },
    FINDING_COLUMNS.severity,
    { header: "RESOURCE", value: (f) => f.resource_id },
    { header: "TEAM", value: (f) => truncate(f.team, NAME_WIDTH) },
    FINDING_COLUMNS.policyRule,
    FINDING_COLUMNS.action,
    FINDING_COLUMNS.savings,
    { header: "FIRST SEEN", value: (f) => day(f.first_seen) },
    { header: "LAST SEEN", value: (f) => day(f.last_seen) },
    { header: "MESSAGE", value: (f) => truncate(f.message, 60) },
  ];
  const shown =
    findings.length < totals.count
      ? `${n(findings.length)} of ${n(totals.count)} ${what(totals.count)}${bySavings ? ", biggest savings first" : ""}`
      : `${n(totals.count)} ${what(totals.count)}`;
  return `${renderTable(findings, columns, color)}\n${paint(color, "bold", shown)}: ${money(totals.savings_monthly)} per month ${stake(stakeOf)} in all ${n(totals.count)} (per resource the largest of its findings' savings)\n`;
}

/** The exception covering an excepted finding, and how it stands now when it no longer applies. */
export interface Covering {
  id: string;
  /** Revoked, expired, ...: it covered the finding at its last scan, and the next opens it again. */
  ended?: string;
}

/** One finding in full, as people read it. */
export function renderStoredFinding(
  f: StoredFinding,
  color: boolean,
  /** For an excepted finding: the exception covering it, if one was found. */
  coveredBy: Covering | null = null,
): string {
  const excepted =
    f.status !== "excepted"
      ? ""
      : coveredBy === null
        ? ` at its last scan (costguard exceptions list --status approved --resource ${f.resource_id}; one selecting by tag covers it too)`
        : coveredBy.ended
          ? ` at its last scan by ${coveredBy.id}, ${coveredBy.ended} since: the next scan opens it again (costguard exceptions show ${coveredBy.id})`
          : ` by ${coveredBy.id} (costguard exceptions show ${coveredBy.id})`;
  const lines = [
    paint(color, "bold", `${f.fingerprint}  ${f.policy}/${f.rule}`),
    printable(
      `  resource      ${f.resource_id}${f.resource_name ? ` (${f.resource_name})` : ""}, ${f.resource_type}`,
    ),
    printable(`  where         ${[f.provider, f.account, f.region].filter((x) => x).join(" / ") || "-"}`),
    printable(`  team          ${f.team}`),
    `  status        ${paint(color, STATUS_STYLE[f.status] ?? "white", f.status)}${f.resolved_at ? ` since ${f.resolved_at}` : ""}${printable(excepted)}`,
    `  severity      ${paint(color, SEVERITY_STYLE[f.severity] ?? "white", f.severity)} (${f.enforcement}, ${f.source})`,
    printable(`  message       ${f.message}`),
    printable(
      `  action        ${f.recommendation.action}${f.recommendation.target ? ` → ${f.recommendation.target.instance_type}` : ""}${f.recommendation.tags?.length ? ` (${f.recommendation.tags.join(", ")})` : ""}`,
    ),
    printable(
      `  savings       ${formatMoney(parseAmount(f.savings_monthly), f.currency)} per month: ${f.recommendation.basis}`,
    ),
    `  first seen    ${f.first_seen} (scan ${f.first_scan_id})`,
    `  last seen     ${f.last_seen} (scan ${f.last_scan_id})`,
    printable(`  inventory     ${f.inventory}`),
  ];
  if (f.checks.length > 0) {
    lines.push("  checks");
    for (const c of f.checks)
      lines.push(
        printable(
          `    - ${c.message} (${c.field}: ${JSON.stringify(c.actual)}, limit ${JSON.stringify(c.limit)})`,
        ),
      );
  }
  return `${lines.join("\n")}\n`;
}

/** Stored findings as CSV: the scan's columns, then their lifecycle. */
const STORED_CSV: readonly [string, (f: StoredFinding) => string][] = [
  ...csvFindingColumns,
  ["status", (f) => f.status],
  ["inventory", (f) => f.inventory],
  ["first_seen", (f) => f.first_seen],
  ["last_seen", (f) => f.last_seen],
  ["resolved_at", (f) => f.resolved_at ?? ""],
  ["first_scan_id", (f) => f.first_scan_id],
  ["last_scan_id", (f) => f.last_scan_id],
  ["exception_id", (f) => f.exception_id ?? ""],
];

export const storedCsv = csvText(STORED_CSV);

/** `text` for a completed scan; nothing for one still running or failed. */
const done = (s: ScanRecord, text: string): string => (s.status === "completed" ? text : "");

/** Scan history, newest first. */
export function renderScanHistory(scans: readonly ScanRecord[], color: boolean): string {
  if (scans.length === 0) return "No scans stored.\n";
  const columns: Column<ScanRecord>[] = [
    { header: "SCAN", value: (s) => s.id },
    { header: "STARTED", value: (s) => s.started_at },
    {
      header: "STATUS",
      value: (s) => s.status,
      style: (s) => (s.status === "failed" ? "red" : s.status === "running" ? "yellow" : undefined),
    },
    { header: "INVENTORY", value: (s) => truncate(s.inventory, 40) },
    // A scan that is running or failed has no counts yet (not zero): blank.
    { header: "RESOURCES", value: (s) => done(s, n(s.resources_scanned)), align: "right" },
    { header: "FINDINGS", value: (s) => done(s, n(s.findings)), align: "right" },
    {
      header: "NEW",
      value: (s) => (s.new_findings === null ? "" : done(s, n(s.new_findings))),
      align: "right",
    },
    {
      header: "RESOLVED",
      value: (s) => (s.resolved_findings === null ? "" : done(s, n(s.resolved_findings))),
      align: "right",
    },
    // Scans before scan-0013 did not keep it: blank like a scan with none.
    {
      header: "EXCEPTED",
      value: (s) => done(s, s.excepted_findings ? n(s.excepted_findings) : ""),
      align: "right",
    },
    {
      header: "SAVINGS/MONTH",
      value: (s) => done(s, formatMoney(parseAmount(s.savings_monthly), s.currency)),
      align: "right",
    },
    { header: "ERROR", value: (s) => truncate(s.error ?? "", 50) },
  ];
  return renderTable(scans, columns, color);
}

/**
 * Scan history as CSV, for a spreadsheet's trend: one row per scan, newest first. A scan running or
 * failed has its counts empty, not zero; excepted counts and savings and billed are 0 when none (as
 * for scans stored before those were kept).
 */
const SCANS_CSV = csvText<ScanRecord>([
  ["id", (s) => s.id],
  ["inventory", (s) => s.inventory],
  ["started_at", (s) => s.started_at],
  ["finished_at", (s) => s.finished_at ?? ""],
  ["status", (s) => s.status],
  ["resources_scanned", (s) => done(s, String(s.resources_scanned))],
  ["findings", (s) => done(s, String(s.findings))],
  ["new_findings", (s) => (s.new_findings === null ? "" : done(s, String(s.new_findings)))],
  ["resolved_findings", (s) => (s.resolved_findings === null ? "" : done(s, String(s.resolved_findings)))],
  ["excepted_findings", (s) => done(s, String(s.excepted_findings ?? 0))],
  ["savings_monthly", (s) => done(s, s.savings_monthly)],
  ["excepted_savings_monthly", (s) => done(s, s.excepted_savings_monthly ?? "0")],
  ["currency", (s) => done(s, s.currency)],
  ["resources_billed", (s) => done(s, String(s.resources_billed ?? 0))],
  ["policy_revision", (s) => s.policy_revision],
  ["error", (s) => s.error ?? ""],
]);

export function scanHistoryCsv(scans: readonly ScanRecord[]): string {
  return SCANS_CSV.header() + SCANS_CSV.rows(scans);
}

/** One scan from history, with its counts. */
export function renderScan(s: ScanRecord, color: boolean): string {
  const lines = [
    paint(color, "bold", `${s.id}  ${s.status}`),
    printable(`  inventory     ${s.inventory}`),
    `  started       ${s.started_at}`,
    `  finished      ${s.finished_at ?? "-"}`,
    ...(s.owner ? [`  run by        ${s.owner}`] : []),
    `  policies      ${s.policies.join(", ") || "-"} (revision ${s.policy_revision})`,
  ];
  if (s.error) lines.push(printable(`  error         ${s.error}`));
  if (s.findings_kept) {
    const many = s.findings_kept === 1 ? "finding" : "findings";
    const newIn = s.findings_kept_new_in
      ? `counted new by ${s.findings_kept_new_in}, the next completed scan to see them`
      : "the next completed scan to see them counts them new";
    lines.push(`  wrote         ${n(s.findings_kept)} new ${many} before it failed: kept; ${newIn}`);
  }
  if (s.status === "completed") {
    lines.push(
      `  resources     ${n(s.resources_scanned)}`,
      `  findings      ${n(s.findings)}${s.new_findings === null ? "" : `: ${n(s.new_findings)} new, ${n(s.resolved_findings ?? 0)} resolved`}${s.excepted_findings ? `${s.new_findings === null ? ":" : ";"} ${n(s.excepted_findings)} covered by approved exceptions` : ""}`,
      `  savings       ${formatMoney(parseAmount(s.savings_monthly), s.currency)} per month${s.resources_billed ? ` (${n(s.resources_billed)} ${s.resources_billed === 1 ? "resource" : "resources"} priced from their charges in a billing export)` : ""}${s.excepted_savings_monthly ? `; ${formatMoney(parseAmount(s.excepted_savings_monthly), s.currency)} of it covered by approved exceptions` : ""}`,
    );
    // Keys come from the estate (teams from tags, states as written): printable, and teams cut short.
    const line = (label: string, counts: Record<string, number | string>, width?: number) => {
      const entries = Object.entries(counts);
      if (entries.length > 0)
        lines.push(
          printable(
            `  ${label.padEnd(14)}${entries.map(([k, v]) => `${width ? truncate(k, width) : k} ${typeof v === "number" ? n(v) : formatMoney(parseAmount(v), s.currency)}`).join(" · ")}`,
          ),
        );
    };
    line("by policy", s.by_policy);
    line("by severity", s.by_severity);
    line("by action", s.by_action);
    line("by team", s.by_team, NAME_WIDTH);
    line("savings/team", s.savings_by_team, NAME_WIDTH);
    const notJudged: Record<string, number> = {};
    if (s.idle_unmeasured) notJudged["idle (no metrics)"] = s.idle_unmeasured;
    if (s.unattached_undated) notJudged["unattached (undated)"] = s.unattached_undated;
    for (const [state, c] of Object.entries(s.idle_other_states ?? {}))
      notJudged[`idle (state ${state})`] = c;
    if (s.resources_gone) notJudged["terminated or being deleted"] = s.resources_gone;
    for (const [type, c] of Object.entries(s.unjudged_types ?? {})) notJudged[`by anything (${type})`] = c;
    line("not judged", notJudged);
    if (s.rules_judging_nothing?.length)
      lines.push(printable(`  judged none   ${s.rules_judging_nothing.join(" · ")}`));
    line("not checked", s.unverified_checks ?? {});
    if (s.repeated_findings)
      lines.push(
        `  listed twice  ${n(s.repeated_findings)} ${s.repeated_findings === 1 ? "finding" : "findings"} (records sharing a resource id)`,
      );
    // Where the findings it counted are read, when it stored any new or resolved.
    const reads = [
      ...(s.new_findings ? [`costguard findings list --new-in ${s.id}`] : []),
      ...(s.resolved_findings ? [`costguard findings list --resolved-in ${s.id}`] : []),
    ];
    if (reads.length > 0) lines.push(`  read them     ${reads.join(" · ")}`);
  }
  return `${lines.join("\n")}\n`;
}

/** How a group's column is headed, and what the footer calls several of them. */
const GROUP_NAMES: Record<FindingGroup, [string, string]> = {
  team: ["TEAM", "teams"],
  account: ["ACCOUNT", "accounts"],
  region: ["REGION", "regions"],
  resource_type: ["TYPE", "types"],
  inventory: ["INVENTORY", "inventories"],
  policy: ["POLICY", "policies"],
  severity: ["SEVERITY", "severities"],
  action: ["ACTION", "actions"],
  exception: ["EXCEPTION", "exceptions"],
};

/** Whether a resource can be in two groups of `by` (a finding's own, not its resource's). */
function groupsOverlap(by: FindingGroup): boolean {
  return by === "policy" || by === "severity" || by === "action" || by === "exception";
}

/** `findings summary`: per group, how many findings on how many resources, and the money at stake. */
export function renderGroupTotals(
  groups: readonly GroupTotals[],
  totals: FindingTotals,
  by: FindingGroup,
  what: Counted,
  color: boolean,
  /** Which statuses the findings counted have: the total is at stake only while they are not resolved. */
  stakeOf: Stake = "open",
): string {
  if (totals.count === 0) return `No ${what(0)}.\n`;
  const [header, plural] = GROUP_NAMES[by];
  const columns: Column<GroupTotals>[] = [
    { header, value: (g) => g.group ?? "-" },
    { header: "FINDINGS", value: (g) => n(g.count), align: "right" },
    { header: "RESOURCES", value: (g) => n(g.resources), align: "right" },
    { header: "SAVINGS/MONTH", value: (g) => money(g.savings_monthly), align: "right" },
  ];
  const overlap = groupsOverlap(by)
    ? `; a resource with findings in several ${plural} counts in each, so they add up to more`
    : "";
  return `${renderTable(groups, columns, color)}\n${paint(color, "bold", `${n(totals.count)} ${what(totals.count)} in ${n(groups.length)} ${groups.length === 1 ? header.toLowerCase() : plural}`)}: ${money(totals.savings_monthly)} per month ${stake(stakeOf)} (per resource the largest of its findings' savings${overlap})\n`;
}

/** The statuses of findings totalled: open or excepted only, resolved only, or both. */
export type Stake = "open" | "resolved" | "mixed";

/** What findings' savings are: at stake while they are open or excepted, not once they are resolved. */
const stake = (of: Stake): string =>
  of === "open"
    ? "at stake"
    : of === "resolved"
      ? "no longer at stake"
      : "in savings, resolved findings' included (those are no longer at stake)";

/** `findings summary --format csv`: one row per group and currency. */
export function groupTotalsCsv(groups: readonly GroupTotals[], by: FindingGroup): string {
  const rows: [GroupTotals, string, string][] = [];
  for (const g of groups) {
    const entries = Object.entries(g.savings_monthly);
    if (entries.length === 0) rows.push([g, "", "0"]);
    for (const [currency, amount] of entries) rows.push([g, currency, amount]);
  }
  const csv = csvText<[GroupTotals, string, string]>([
    [by, ([g]) => g.group ?? ""],
    ["findings", ([g]) => String(g.count)],
    ["resources", ([g]) => String(g.resources)],
    ["savings_monthly", ([, , amount]) => amount],
    ["currency", ([, currency]) => currency],
  ]);
  return csv.header() + csv.rows(rows);
}
