import { formatDelta, formatMoney } from "../../pricing/money.js";
import type { PlanReport } from "./gate.js";
import { costCell, deltaCell, planTotals } from "./render-common.js";

/** Escapes text for XML attributes and content, dropping characters XML 1.0 cannot hold. */
function xml(text: string): string {
  return (
    text
      // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "")
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&apos;")
  );
}

/**
 * JUnit XML: one test case per address; a deny is a failure, warnings, excepted violations and
 * unverified checks are written to system-out, skipped resources are skipped test cases.
 */
export function renderPlanJunit(report: PlanReport): string {
  const cases: string[] = [];
  let failures = 0;
  for (const r of report.resources) {
    const name = `${r.address} (${r.action})`;
    const costs = `monthly before ${costCell(r.monthly_cost_before)}, after ${costCell(r.monthly_cost_after)}, delta ${deltaCell(r)}`;
    const denies = r.violations.filter((v) => v.enforcement === "deny");
    const others = [
      ...r.violations
        .filter((v) => v.enforcement !== "deny")
        .map((v) => `[${v.enforcement}] ${v.policy}/${v.rule}: ${v.message}`),
      ...(r.excepted ?? []).map((v) => `[excepted ${v.exception_id}] ${v.policy}/${v.rule}: ${v.message}`),
      ...r.unverified.map((u) => `[unverified] ${u.policy}/${u.rule}: ${u.message}`),
      costs,
    ];
    let body = "";
    if (denies.length > 0) {
      failures++;
      const message = denies.map((v) => `${v.policy}/${v.rule}: ${v.message}`).join("; ");
      const detail = denies
        .map((v) => `${v.policy}/${v.rule} (${v.severity}) ${v.field}: ${v.message}`)
        .join("\n");
      body += `\n      <failure message="${xml(message)}" type="deny">${xml(detail)}</failure>`;
    }
    body += `\n      <system-out>${xml(others.join("\n"))}</system-out>\n    `;
    cases.push(`    <testcase classname="${xml(r.resource_type)}" name="${xml(name)}">${body}</testcase>`);
  }
  for (const s of report.skipped) {
    cases.push(
      `    <testcase classname="${xml(s.type)}" name="${xml(`${s.address} (${s.action})`)}">\n      <skipped message="${xml(s.reason)}"/>\n    </testcase>`,
    );
  }
  const tests = report.resources.length + report.skipped.length;
  const s = report.summary;
  const totals = planTotals(s);
  const props = [
    ["decision", report.decision],
    ["policy_revision", report.policy_revision],
    ...(totals === undefined
      ? [["monthly_cost", `in ${s.currencies.join(" and ")}, not added up`]]
      : [
          ["monthly_before", formatMoney(totals.before, s.currency)],
          ["monthly_after", formatMoney(totals.after, s.currency)],
          ["monthly_delta", formatDelta(totals.delta, s.currency)],
        ]),
  ]
    .map(([k, v]) => `      <property name="${xml(k!)}" value="${xml(v!)}"/>`)
    .join("\n");
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="costguard" tests="${tests}" failures="${failures}" errors="0" skipped="${report.skipped.length}">
  <testsuite name="costguard plan ${xml(report.plan.file)}" tests="${tests}" failures="${failures}" errors="0" skipped="${report.skipped.length}">
    <properties>
${props}
    </properties>
${cases.join("\n")}
  </testsuite>
</testsuites>
`;
}
