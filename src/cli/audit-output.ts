import { formatMoney, parseAmount } from "../money/exact.js";
import { csvText } from "../scan/finding-text.js";
import type { AuditEntry } from "../store/audit.js";
import { truncate } from "./scan-output.js";
import { type Column, renderTable } from "./table.js";

/** The width the table gives an entry's details (the rest is in json and csv). */
const DETAILS_WIDTH = 90;

const text = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/**
 * An entry's details in a line: what a person reads first (a resource action's message, why a task
 * was skipped or failed, an approver's note), then the policy and rule, then what it saved. An
 * entry with none of those shows its details as JSON.
 */
export function auditSummary(e: AuditEntry): string {
  // Details costguard did not write (null, a number, a list) are shown as they are.
  if (e.details === null || typeof e.details !== "object" || Array.isArray(e.details))
    return JSON.stringify(e.details) ?? "";
  const d = e.details;
  const parts: string[] = [];
  // A remediation entry names the task's action (stop, resize ...); the entry's own is its outcome.
  if (e.action.startsWith("remediation.") && text(d.action)) parts.push(text(d.action)!);
  const said = text(d.message) ?? text(d.reason) ?? text(d.error) ?? text(d.note) ?? text(d.detail);
  if (said) parts.push(said);
  if (text(d.policy) && text(d.rule)) parts.push(`${d.policy}/${d.rule}`);
  else if (text(d.policy)) parts.push(text(d.policy)!);
  if (text(d.target)) parts.push(text(d.target)!);
  // A notice no one could be sent: whom, and what to do about it.
  if (Array.isArray(d.unreachable) && d.unreachable.length > 0)
    parts.push(`could not tell ${d.unreachable.map(String).join(", ")}`);
  if (text(d.subject) && e.action.startsWith("notice.")) parts.push(text(d.subject)!);
  if (text(d.hint)) parts.push(text(d.hint)!);
  const saving = typeof d.monthly_saving === "number" ? String(d.monthly_saving) : text(d.monthly_saving);
  if (saving !== undefined && text(d.currency)) {
    let amount: string;
    try {
      amount = formatMoney(parseAmount(saving), d.currency as string);
    } catch {
      amount = `${saving} ${d.currency}`;
    }
    parts.push(`saves ${amount}/month`);
  }
  if (parts.length > 0) return parts.join(" · ");
  return JSON.stringify(d);
}

/** The audit log as a table, in the order given (`audit list`: the latest appended first). */
export function renderAudit(entries: readonly AuditEntry[], color: boolean): string {
  const columns: Column<AuditEntry>[] = [
    // To the second: the log's own times keep milliseconds, json and csv show them.
    { header: "AT", value: (e) => e.at.replace(/\.\d+Z$/, "Z") },
    { header: "ACTOR", value: (e) => truncate(e.actor, 32) },
    { header: "ACTION", value: (e) => truncate(e.action, 32) },
    { header: "SUBJECT", value: (e) => truncate(`${e.subject_type} ${e.subject_id}`, 48) },
    { header: "DETAILS", value: (e) => truncate(auditSummary(e), DETAILS_WIDTH) },
  ];
  return renderTable(entries, columns, color);
}

const AUDIT_CSV = csvText<AuditEntry>([
  ["id", (e) => String(e.id)],
  ["at", (e) => e.at],
  ["actor", (e) => e.actor],
  ["action", (e) => e.action],
  ["subject_type", (e) => e.subject_type],
  ["subject_id", (e) => e.subject_id],
  ["details", (e) => JSON.stringify(e.details)],
]);

export const auditCsvHeader = AUDIT_CSV.header;
export const auditCsvRows = AUDIT_CSV.rows;
