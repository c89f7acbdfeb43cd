import type { Decision } from "../engine/types.js";
import { type Column, paint, renderTable, type Style } from "./table.js";

const DECISION_STYLE: Record<Decision["decision"], Style> = { allow: "green", warn: "yellow", deny: "red" };

export interface LabelledDecision {
  label: string;
  decision: Decision;
}

interface Row {
  label: string;
  decision: string;
  policy: string;
  rule: string;
  severity: string;
  enforcement: string;
  message: string;
  style: Style;
}

/** The people-facing form of one or more decisions: a line per violation, unverified and skipped check. */
export function renderDecisionTable(items: readonly LabelledDecision[], color: boolean): string {
  const rows: Row[] = [];
  for (const { label, decision } of items) {
    const style = DECISION_STYLE[decision.decision];
    const base = { label, decision: decision.decision.toUpperCase(), style };
    const excepted = decision.excepted ?? [];
    if (
      decision.violations.length === 0 &&
      excepted.length === 0 &&
      decision.unverified.length === 0 &&
      decision.not_evaluated.length === 0
    ) {
      rows.push({
        ...base,
        policy: "-",
        rule: "-",
        severity: "-",
        enforcement: "-",
        message: "no violations",
      });
    }
    for (const v of decision.violations) {
      rows.push({
        ...base,
        policy: v.policy,
        rule: v.rule,
        severity: v.severity,
        enforcement: v.enforcement,
        message: v.message,
      });
    }
    // Waived by an approved exception: shown, with the exception, but not what decided.
    for (const v of excepted) {
      rows.push({
        ...base,
        policy: v.policy,
        rule: v.rule,
        severity: v.severity,
        enforcement: `excepted ${v.exception_id}`,
        message: v.message,
      });
    }
    for (const u of decision.unverified) {
      rows.push({
        ...base,
        policy: u.policy,
        rule: u.rule,
        severity: "-",
        enforcement: "unverified",
        message: u.message,
      });
    }
    for (const n of decision.not_evaluated) {
      rows.push({
        ...base,
        policy: n.policy,
        rule: n.rule,
        severity: "-",
        enforcement: "not evaluated",
        message: n.reason,
      });
    }
  }
  const columns: Column<Row>[] = [
    { header: "REQUEST", value: (r) => r.label },
    { header: "DECISION", value: (r) => r.decision, style: (r) => r.style },
    { header: "POLICY", value: (r) => r.policy },
    { header: "RULE", value: (r) => r.rule },
    { header: "SEVERITY", value: (r) => r.severity },
    {
      header: "ENFORCEMENT",
      value: (r) => r.enforcement,
      style: (r) => (r.enforcement === "deny" ? "red" : undefined),
    },
    { header: "MESSAGE", value: (r) => r.message },
  ];
  const counts = { allow: 0, warn: 0, deny: 0 };
  for (const i of items) counts[i.decision.decision]++;
  const summary = `${items.length} ${items.length === 1 ? "request" : "requests"}: ${paint(color, "green", `${counts.allow} allowed`)}, ${paint(color, "yellow", `${counts.warn} warned`)}, ${paint(color, "red", `${counts.deny} denied`)}\n`;
  return renderTable(rows, columns, color) + summary;
}
