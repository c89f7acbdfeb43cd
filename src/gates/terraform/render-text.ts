import { type Column, paint, printable, renderTable, type Style } from "../../cli/table.js";
import { code, md } from "../../markdown.js";
import { formatDelta, formatMoney } from "../../pricing/money.js";
import type { PlanReport, PlanResourceResult } from "./gate.js";
import { costCell, decisionText, deltaCell, planTotals, unknownReasons } from "./render-common.js";

const STYLE: Record<string, Style> = { allow: "green", warn: "yellow", deny: "red" };

function totalsLine(report: PlanReport): string {
  const s = report.summary;
  const unknown = s.unknown_cost > 0 ? ` (${s.unknown_cost} with unknown cost not counted)` : "";
  const totals = planTotals(s);
  if (totals === undefined)
    return `monthly cost: in ${s.currencies.join(" and ")}, not added up (the price book prices in several currencies)${unknown}; monthly = hourly × 730`;
  return `monthly cost: ${formatMoney(totals.before, s.currency)} → ${formatMoney(totals.after, s.currency)}, delta ${formatDelta(totals.delta, s.currency)}${unknown}; monthly = hourly × 730`;
}

/** The terminal form: one row per address, then violations, unknowns and skipped resources. */
export function renderPlanTable(report: PlanReport, color: boolean): string {
  const columns: Column<PlanResourceResult>[] = [
    { header: "ADDRESS", value: (r) => r.address },
    { header: "ACTION", value: (r) => r.action },
    {
      header: "DECISION",
      value: (r) => decisionText(r),
      style: (r) => (r.decision ? STYLE[r.decision] : undefined),
    },
    { header: "BEFORE/MONTH", value: (r) => costCell(r.monthly_cost_before), align: "right" },
    { header: "AFTER/MONTH", value: (r) => costCell(r.monthly_cost_after), align: "right" },
    { header: "DELTA", value: deltaCell, align: "right" },
  ];
  const lines: string[] = [];
  lines.push(
    report.resources.length > 0
      ? renderTable(report.resources, columns, color)
      : "no supported resource changes\n",
  );
  for (const r of report.resources) {
    for (const v of r.violations)
      lines.push(
        `${paint(color, STYLE[v.enforcement] ?? "gray", `[${v.enforcement}]`)} ${printable(`${r.address}: ${v.policy}/${v.rule}: ${v.message}`)}\n`,
      );
    for (const v of r.excepted ?? [])
      lines.push(
        `${paint(color, "gray", `[excepted ${v.exception_id}]`)} ${printable(`${r.address}: ${v.policy}/${v.rule}: ${v.message}`)}\n`,
      );
    for (const u of r.unverified)
      lines.push(`[unverified] ${printable(`${r.address}: ${u.policy}/${u.rule}: ${u.message}`)}\n`);
    for (const reason of unknownReasons(r))
      lines.push(`[cost unknown] ${printable(`${r.address}: ${reason}`)}\n`);
  }
  for (const s of report.skipped)
    lines.push(`[skipped] ${printable(`${s.address} (${s.type}, ${s.action}): ${s.reason}`)}\n`);
  const s = report.summary;
  lines.push(
    `${plural(s.resources, "resource", "resources")}: ${paint(color, "green", `${s.allow} allowed`)}, ${paint(color, "yellow", `${s.warn} warned`)}, ${paint(color, "red", `${s.deny} denied`)}, ${s.deleted} deleted; ${s.skipped} skipped, ${s.unchanged} unchanged\n`,
  );
  lines.push(`${totalsLine(report)}\n`);
  return lines.join("");
}

const ICON: Record<string, string> = { allow: "✅", warn: "⚠️", deny: "❌" };

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** A pull-request comment: verdict, totals, a table per address, then details. */
export function renderPlanMarkdown(report: PlanReport): string {
  const s = report.summary;
  const verdict = { allow: "allowed", warn: "allowed with warnings", deny: "denied" }[report.decision];
  const out: string[] = [];
  out.push(`## ${ICON[report.decision]} costguard: Terraform plan ${verdict}`);
  out.push("");
  const totals = planTotals(s);
  out.push(
    totals === undefined
      ? `**Monthly cost: in ${s.currencies.join(" and ")}, not added up** (the price book prices in several currencies)${s.unknown_cost > 0 ? ` — ${s.unknown_cost} with unknown cost not counted` : ""}`
      : `**Monthly cost delta: ${formatDelta(totals.delta, s.currency)}** (${formatMoney(totals.before, s.currency)} → ${formatMoney(totals.after, s.currency)}; monthly = hourly × 730)${s.unknown_cost > 0 ? ` — ${s.unknown_cost} with unknown cost not counted` : ""}`,
  );
  out.push("");
  out.push(
    `${plural(s.resources, "resource", "resources")} checked: ${s.allow} allowed, ${s.warn} warned, ${s.deny} denied, ${s.deleted} deleted · ${s.skipped} skipped · ${s.unchanged} unchanged · policies \`${report.policy_revision}\``,
  );
  out.push("");
  if (report.resources.length > 0) {
    out.push("| Resource | Action | Decision | Before / month | After / month | Delta |");
    out.push("|---|---|---|--:|--:|--:|");
    for (const r of report.resources) {
      const d = r.decision === null ? "—" : `${ICON[r.decision]} ${r.decision}`;
      out.push(
        `| ${code(r.address, true)} | ${r.action} | ${d} | ${costCell(r.monthly_cost_before)} | ${costCell(r.monthly_cost_after)} | ${deltaCell(r)} |`,
      );
    }
    out.push("");
  }
  const violations = report.resources.flatMap((r) => r.violations.map((v) => ({ r, v })));
  if (violations.length > 0) {
    out.push("### Violations");
    out.push("");
    for (const { r, v } of violations)
      out.push(
        `- **${v.enforcement}** ${code(r.address)} — ${md(v.policy)}/${md(v.rule)} (${v.severity}): ${md(v.message)}`,
      );
    out.push("");
  }
  const excepted = report.resources.flatMap((r) => (r.excepted ?? []).map((v) => ({ r, v })));
  if (excepted.length > 0) {
    out.push("### Covered by approved exceptions");
    out.push("");
    for (const { r, v } of excepted)
      out.push(
        `- ${code(r.address)} — ${md(v.policy)}/${md(v.rule)} (${v.severity}): ${md(v.message)} — exception ${code(v.exception_id)}`,
      );
    out.push("");
  }
  const notes = report.resources.flatMap((r) => [
    ...r.unverified.map(
      (u) => `- ${code(r.address)} unverified — ${md(u.policy)}/${md(u.rule)}: ${md(u.message)}`,
    ),
    ...unknownReasons(r).map((reason) => `- ${code(r.address)} cost unknown — ${md(reason)}`),
  ]);
  if (notes.length > 0) {
    out.push(`<details><summary>Not decided or not priced (${notes.length})</summary>`);
    out.push("");
    out.push(...notes);
    out.push("");
    out.push("</details>");
    out.push("");
  }
  if (report.skipped.length > 0) {
    out.push(`<details><summary>Skipped (${report.skipped.length})</summary>`);
    out.push("");
    for (const sk of report.skipped)
      out.push(`- ${code(sk.address)} (${sk.type}, ${sk.action}): ${md(sk.reason)}`);
    out.push("");
    out.push("</details>");
    out.push("");
  }
  return `${out.join("\n").trimEnd()}\n`;
}
