import { formatMoney, parseAmount } from "../money/exact.js";
import { JSON_SEPARATOR } from "../scan/finding-text.js";
import type { ScanResult } from "../scan/run-scan.js";
import type { Finding } from "../scan/types.js";

export { csvHeader, csvRows } from "../scan/finding-text.js";

import { type Column, paint, printable, renderTable, type Style } from "./table.js";
import { written } from "./written.js";

export const SEVERITY_STYLE: Record<string, Style> = {
  critical: "red",
  high: "red",
  medium: "yellow",
  low: "gray",
};

/** The columns every findings table shows: the rule, how bad, what to do, what it saves. */
export const FINDING_COLUMNS: Record<"policyRule" | "severity" | "action" | "savings", Column<Finding>> = {
  policyRule: { header: "POLICY/RULE", value: (f) => `${f.policy}/${f.rule}` },
  severity: { header: "SEVERITY", value: (f) => f.severity, style: (f) => SEVERITY_STYLE[f.severity] },
  action: {
    header: "ACTION",
    value: (f) =>
      f.recommendation.target ? `resize → ${f.recommendation.target.instance_type}` : f.recommendation.action,
  },
  savings: {
    header: "SAVINGS/MONTH",
    value: (f) => formatMoney(parseAmount(f.savings_monthly), f.currency),
    align: "right",
  },
};

/** Streams `{"findings": [...], "scan": {...}}`: findings as they come, the summary at the end. */
export function jsonFindingsWriter(out: NodeJS.WritableStream, signal?: AbortSignal) {
  let first = true;
  // Opened with the first finding, or at the end: a scan refused before either writes nothing.
  let opened = false;
  const open = () => {
    if (opened) return;
    opened = true;
    out.write('{\n"findings": [\n');
  };
  // Text from jsonFindings, or the same as UTF-8: the separator is ASCII, as many bytes as characters.
  // Resolves once a slow reader has taken it in (see `written`).
  const writeText = (text: string | Uint8Array): Promise<void> | undefined => {
    if (text.length === 0) return undefined;
    open();
    const rest = first ? text.slice(JSON_SEPARATOR.length) : text;
    first = false;
    return written(out, rest, signal);
  };
  return {
    /** Findings already rendered by `jsonFindings` (by the thread that judged them). */
    writeText,
    end(result: ScanResult) {
      open();
      const { top_findings, ...scan } = result;
      out.write(
        `${first ? "" : "\n"}],\n"scan": ${JSON.stringify(scan, null, 2)},\n"top_findings": ${JSON.stringify(top_findings, null, 2)}\n}\n`,
      );
    },
  };
}

/** How many of a list a summary line names before it counts the rest. */
const NAMED_IN_LINE = 4;

/** The first NAMED_IN_LINE of `parts`, then how many more (`more`: the words for that count). */
function firstFew(
  parts: readonly string[],
  separator = " · ",
  more = (count: number) => `${separator}${count} more (--format json lists them)`,
): string {
  const named = parts.slice(0, NAMED_IN_LINE).join(separator);
  return parts.length > NAMED_IN_LINE ? `${named}${more(parts.length - NAMED_IN_LINE)}` : named;
}

/** The closing summary people read: counts, top findings by savings, the total at stake. */
export function renderScanSummary(result: ScanResult, color: boolean, where: string | null): string {
  const s = result.summary;
  const excepted = s.excepted_findings ?? 0;
  const lines: string[] = [];
  const n = (x: number) => x.toLocaleString("en-US");
  lines.push(
    `Scanned ${n(s.resources_scanned)} ${s.resources_scanned === 1 ? "resource" : "resources"} from ${result.inventory} at ${result.started_at}` +
      (where ? ` (scan ${result.id}, stored in ${where})` : " (not stored)"),
  );
  let findings = `${n(s.findings)} ${s.findings === 1 ? "finding" : "findings"}`;
  if (s.new_findings !== null && s.resolved_findings !== null)
    findings += `: ${n(s.new_findings)} new, ${n(s.resolved_findings)} resolved since earlier scans`;
  if (excepted > 0)
    findings += `${s.new_findings !== null ? ";" : ":"} ${n(excepted)} covered by approved exceptions`;
  lines.push(paint(color, "bold", findings));
  const repeated = s.repeated_findings ?? 0;
  if (repeated > 0)
    lines.push(
      paint(
        color,
        "yellow",
        `Listed twice: ${n(repeated)} ${repeated === 1 ? "finding was" : "findings were"} found again under a resource id already seen in this scan (records sharing an id); the last of each is stored`,
      ),
    );
  // What the scan could not judge, so a quiet summary is not taken for a clean estate.
  const notJudged = (text: string) => lines.push(paint(color, "yellow", text));
  const unmeasured = s.idle_unmeasured ?? 0;
  if (unmeasured > 0)
    notJudged(
      `Not judged idle: ${n(unmeasured)} running ${unmeasured === 1 ? "resource has" : "resources have"} no CPU and network averages covering the idle window (metrics missing or too recent)`,
    );
  const states = Object.entries(s.idle_other_states ?? {});
  if (states.length > 0) {
    const total = states.reduce((sum, [, c]) => sum + c, 0);
    notJudged(
      `Not judged idle: ${n(total)} ${total === 1 ? "instance or database is" : "instances and databases are"} in a state neither running nor stopped: ${firstFew(states.map(([state, c]) => `${printable(state)} ${n(c)}`))}`,
    );
  }
  const gone = s.resources_gone ?? 0;
  if (gone > 0)
    notJudged(
      `Not judged: ${n(gone)} ${gone === 1 ? "resource is" : "resources are"} terminated or being deleted: nothing to act on`,
    );
  const undated = s.unattached_undated ?? 0;
  if (undated > 0)
    notJudged(
      `Not judged unattached: ${n(undated)} unattached ${undated === 1 ? "volume has" : "volumes have"} neither detached_at nor created_at`,
    );
  const unjudged = Object.entries(s.unjudged_types ?? {});
  if (unjudged.length > 0) {
    const total = unjudged.reduce((sum, [, c]) => sum + c, 0);
    notJudged(
      `Not judged by anything: ${n(total)} ${total === 1 ? "resource is" : "resources are"} of a type no policy rule or detector names: ${firstFew(unjudged.map(([type, c]) => `${printable(type)} ${n(c)}`))}`,
    );
  }
  const idleRules = s.rules_judging_nothing ?? [];
  if (idleRules.length > 0)
    notJudged(
      `Judged no resource: ${idleRules.length === 1 ? "rule" : `${n(idleRules.length)} rules`} ${firstFew(idleRules.map(printable), ", ", (k) => ` and ${k} more`)}: no resource scanned is of a type ${idleRules.length === 1 ? "it names" : "they name"}`,
    );
  const unchecked = Object.entries(s.unverified_checks ?? {});
  if (unchecked.length > 0)
    notJudged(
      `Not checked, the field missing: ${firstFew(unchecked.map(([check, c]) => `${check} (${n(c)} ${c === 1 ? "resource" : "resources"})`))}`,
    );
  lines.push("");

  if (s.findings > 0) {
    lines.push(paint(color, "bold", "By policy"));
    const policies = Object.entries(s.by_policy).map(([policy, count]) => ({ policy, count }));
    lines.push(
      renderTable(
        policies,
        [
          { header: "POLICY", value: (r) => r.policy },
          { header: "FINDINGS", value: (r) => n(r.count), align: "right" },
        ],
        color,
      ).trimEnd(),
      "",
    );
    lines.push(
      `${paint(color, "bold", "By severity:")} ${Object.entries(s.by_severity)
        .map(([k, v]) => paint(color, SEVERITY_STYLE[k] ?? "white", `${k} ${n(v)}`))
        .join(" · ")}`,
    );
    lines.push(
      `${paint(color, "bold", "By action:")} ${Object.entries(s.by_action)
        .map(([k, v]) => `${k} ${n(v)}`)
        .join(" · ")}`,
    );
    const teams = Object.entries(s.by_team);
    lines.push(
      `${paint(color, "bold", "By team:")} ${teams
        .slice(0, 8)
        .map(([k, v]) => `${printable(truncate(k, NAME_WIDTH))} ${n(v)}`)
        .join(" · ")}${teams.length > 8 ? ` · ${teams.length - 8} more` : ""}`,
      "",
    );
  }

  if (result.top_findings.length > 0) {
    lines.push(paint(color, "bold", "Top findings by savings"));
    const columns: Column<Finding>[] = [
      { header: "RESOURCE", value: (f) => f.resource_id },
      { header: "NAME", value: (f) => truncate(f.resource_name ?? "", NAME_WIDTH) },
      { header: "TEAM", value: (f) => truncate(f.team, NAME_WIDTH) },
      FINDING_COLUMNS.policyRule,
      FINDING_COLUMNS.severity,
      FINDING_COLUMNS.action,
      FINDING_COLUMNS.savings,
      { header: "MESSAGE", value: (f) => truncate(f.message, 70) },
    ];
    lines.push(renderTable(result.top_findings, columns, color).trimEnd(), "");
  }
  lines.push(
    `${paint(
      color,
      "bold",
      `Total potential savings: ${formatMoney(parseAmount(s.savings_monthly), s.currency)} per month`,
    )} (monthly = hourly × 730; per resource the largest of its findings' savings)`,
  );
  if (s.excepted_savings_monthly !== undefined) {
    const waived = parseAmount(s.excepted_savings_monthly);
    lines.push(
      `Covered by approved exceptions: ${formatMoney(waived, s.currency)} of it; ${formatMoney(parseAmount(s.savings_monthly) - waived, s.currency)} per month open`,
    );
  }
  if (where)
    lines.push(
      "Read back with `costguard findings list` (findings and their lifecycle) and `costguard scans list` (history).",
    );
  return `${lines.join("\n")}\n`;
}

/** Names and teams come from inventories and tags, which may hold anything (a 50 MB tag value was printed whole): cut in terminal text. */
export const NAME_WIDTH = 32;

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
