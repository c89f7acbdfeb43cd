import { describeTarget, type ExceptionsReport, summarizeException } from "../exceptions/report.js";
import type { PolicyException } from "../exceptions/types.js";
import { type Column, paint, printable, renderTable, type Style } from "./table.js";

const STATUS_STYLE: Record<string, Style> = {
  approved: "green",
  pending: "yellow",
  rejected: "red",
  revoked: "red",
  expired: "gray",
};

const day = (iso: string | null) => (iso ? iso.slice(0, 16).replace("T", " ") : "-");

export function renderExceptionTable(
  exceptions: readonly PolicyException[],
  now: Date,
  color: boolean,
): string {
  if (exceptions.length === 0) return "no exceptions\n";
  const rows = exceptions.map((e) => summarizeException(e, now));
  const columns: Column<(typeof rows)[number]>[] = [
    { header: "ID", value: (r) => r.id },
    { header: "STATUS", value: (r) => r.status, style: (r) => STATUS_STYLE[r.status] },
    { header: "TYPE", value: (r) => r.type },
    { header: "TARGET", value: (r) => r.target },
    { header: "POLICY", value: (r) => r.policy },
    { header: "RULE", value: (r) => r.rule ?? "(all)" },
    { header: "REQUESTED BY", value: (r) => r.requested_by },
    { header: "APPROVED BY", value: (r) => r.approved_by ?? "-" },
    { header: "EXPIRES", value: (r) => day(r.expires_at) },
    { header: "REVIEW DUE", value: (r) => day(r.review_due_at) },
  ];
  return renderTable(rows, columns, color);
}

export function renderException(e: PolicyException, now: Date): string {
  const s = summarizeException(e, now);
  const lines = [
    `${e.id}  ${s.status}  ${e.type}`,
    `  target         ${describeTarget(e)}`,
    `  policy / rule  ${e.policy} / ${e.rule ?? "(every rule)"}`,
    `  justification  ${e.justification}`,
    `  requested      ${e.requested_at} by ${e.requested_by}`,
  ];
  // A revoked exception keeps who approved it; its reason is the revocation's, said on its own line.
  const revoked = e.status === "revoked" ? e.history.findLast((h) => h.action === "revoked") : undefined;
  if (e.decided_by)
    lines.push(
      `  decided        ${e.decided_at} by ${e.decided_by}${e.reason && !revoked ? ` (${e.reason})` : ""}`,
    );
  if (revoked)
    lines.push(`  revoked        ${revoked.at} by ${revoked.by}${e.reason ? ` (${e.reason})` : ""}`);
  if (e.expires_at) lines.push(`  expires        ${e.expires_at}`);
  if (s.review_due_at) lines.push(`  review due     ${s.review_due_at}`);
  lines.push("  history");
  for (const h of e.history)
    lines.push(`    ${h.at}  ${h.action.padEnd(16)} ${h.by}${h.note ? `  ${h.note}` : ""}`);
  // Justifications, reasons and targets are anyone's text: no escape sequence reaches the terminal.
  return `${lines.map(printable).join("\n")}\n`;
}

export function renderExceptionsReport(r: ExceptionsReport, color: boolean): string {
  const counts = (title: string, by: Record<string, number>) =>
    `${paint(color, "bold", title)}: ${
      Object.entries(by)
        .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
        .map(([k, n]) => `${k} ${n}`)
        .join(", ") || "none"
    }`;
  const out = [
    `Exceptions report at ${r.generated_at}: ${r.total} ${r.total === 1 ? "exception" : "exceptions"}`,
    counts("By status", r.by_status),
    counts("By policy", r.by_policy),
    counts("By type", r.by_type),
    "",
    paint(color, "bold", `Expiring within ${r.expiring_within_days} days (${r.expiring_soon.length})`),
  ];
  for (const e of r.expiring_soon)
    out.push(
      `  ${e.id}  ${e.target}  ${e.policy}/${e.rule ?? "*"}  expires ${day(e.expires_at)}  (${e.requested_by})`,
    );
  out.push("", paint(color, "bold", `Needing review (${r.needing_review.length})`));
  for (const e of r.needing_review)
    out.push(
      `  ${e.id}  ${e.target}  ${e.policy}/${e.rule ?? "*"}  review was due ${day(e.review_due_at)}  (approved by ${e.approved_by ?? "-"})`,
    );
  return `${out.join("\n")}\n`;
}
