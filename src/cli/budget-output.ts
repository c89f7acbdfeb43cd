import type { IngestReport } from "../budget/charge.js";
import { decimal, formatMoney } from "../budget/decimal.js";
import type { BudgetCondition, BudgetState, BudgetStatus } from "../budget/state.js";
import { md } from "../markdown.js";
import { type Column, renderTable, type Style } from "./table.js";

const CONDITION_STYLE: Record<BudgetCondition, Style | undefined> = {
  ok: "green",
  alert: "yellow",
  "at-risk": "yellow",
  over: "red",
  blocked: "red",
};

const money = (text: string, currency: string) => formatMoney(decimal(text), currency);

function thresholdsText(b: BudgetStatus): string {
  if (b.thresholds.length === 0) return "-";
  return b.thresholds
    .map(
      (t) =>
        `${t.percent}% ${t.reached === null ? "-" : t.reached}${t.action === "block-new-resources" ? " (block)" : ""}`,
    )
    .join(", ");
}

const COLUMNS: Column<BudgetStatus>[] = [
  { header: "BUDGET", value: (b) => `${b.policy}/${b.rule}` },
  { header: "PERIOD", value: (b) => `${b.period} ${b.periodLabel}` },
  { header: "LIMIT", value: (b) => `${money(b.limit, b.currency)} ${b.currency}`, align: "right" },
  { header: "SPEND", value: (b) => money(b.spend, b.currency), align: "right" },
  { header: "USED", value: (b) => `${b.percent.toFixed(2)}%`, align: "right" },
  { header: "FORECAST", value: (b) => money(b.forecast, b.currency), align: "right" },
  { header: "FC USED", value: (b) => `${b.forecastPercent.toFixed(2)}%`, align: "right" },
  { header: "THRESHOLDS REACHED", value: thresholdsText },
  { header: "STATE", value: (b) => b.state, style: (b) => CONDITION_STYLE[b.state] },
];

function footer(state: BudgetState, report: IngestReport | undefined, stale?: string): string[] {
  const lines: string[] = [];
  const s = state.source;
  if (s) {
    lines.push(
      `billing: ${s.file} (${s.format}, FOCUS ${s.focusVersion}): ${s.rows} rows, ${s.malformed} malformed` +
        (s.chargesAfterAt > 0 ? `, ${s.chargesAfterAt} after the evaluation time (not counted)` : ""),
    );
  }
  lines.push(
    state.dataThrough
      ? `at ${state.at}; billing data through ${state.dataThrough}`
      : `at ${state.at}; no billing data up to then`,
  );
  if (stale !== undefined) lines.push(`stale: ${stale}; gates take only the blocks these figures show`);
  const other = state.budgets.filter((b) => b.otherCurrencyCharges > 0);
  for (const b of other) {
    lines.push(
      `${b.policy}/${b.rule}: ${b.otherCurrencyCharges} matching charges in another currency than ${b.currency} were not summed`,
    );
  }
  if (report && report.ignoredColumns.length > 0)
    lines.push(`ignored custom columns: ${report.ignoredColumns.join(", ")}`);
  lines.push(`forecast: ${state.forecastMethod}`);
  return lines;
}

export function renderBudgetTable(
  state: BudgetState,
  report: IngestReport | undefined,
  color: boolean,
  stale?: string,
): string {
  if (state.budgets.length === 0)
    return `no BudgetLimit rules in the given policies\n${footer(state, report, stale).join("\n")}\n`;
  return `${renderTable(state.budgets, COLUMNS, color)}\n${footer(state, report, stale).join("\n")}\n`;
}

export function renderBudgetMarkdown(
  state: BudgetState,
  report: IngestReport | undefined,
  stale?: string,
): string {
  const header = COLUMNS.map((c) => c.header.toLowerCase().replace(/^./, (x) => x.toUpperCase()));
  const align = COLUMNS.map((c) => (c.align === "right" ? "---:" : "---"));
  const rows = state.budgets.map((b) => `| ${COLUMNS.map((c) => md(c.value(b))).join(" | ")} |`);
  return [
    "# Budgets",
    "",
    `| ${header.join(" | ")} |`,
    `| ${align.join(" | ")} |`,
    ...rows,
    "",
    ...footer(state, report, stale).map((l) => `- ${md(l)}`),
    "",
  ].join("\n");
}
