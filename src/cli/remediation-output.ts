import type { CycleSummary } from "../cycle/compliance-cycle.js";
import type { RemediationRun } from "../remediation/cycle.js";
import { formatMonthly, realisedSavingsText } from "../remediation/saving.js";
import type { RemediationTask } from "../remediation/types.js";
import { formatDuration } from "../time/duration.js";
import { type Column, paint, printable, renderTable, type Style } from "./table.js";

const SEVERITY_STYLE: Record<string, Style> = { critical: "red", high: "red", medium: "yellow", low: "gray" };

interface PlanRow {
  action: string;
  resource: string;
  severity: string;
  state: string;
  when: string;
  rule: string;
  owner: string;
  saving: string;
  note: string;
}

function row(t: RemediationTask, at: Date, note: string): PlanRow {
  const ends = Date.parse(t.grace_ends_at);
  return {
    action: t.action,
    resource: t.resource_id,
    severity: t.severity === t.initial_severity ? t.severity : `${t.severity} (was ${t.initial_severity})`,
    state: t.state,
    when: ends <= at.getTime() ? "now" : `in ${formatDuration(ends - at.getTime())}`,
    rule: `${t.policy}/${t.rule}`,
    owner: t.owner ?? "-",
    saving: t.estimated_monthly_savings ? formatMonthly(t.estimated_monthly_savings, t.currency) : "-",
    note,
  };
}

/**
 * The plan of a remediation pass and, when it acted, what happened: at most `limit` tasks (the due
 * ones first, then those in their grace period, soonest first) and `limit` resources not remediated,
 * each list saying how many more there are.
 */
export function renderRemediation(
  run: RemediationRun,
  color: boolean,
  limit = Number.POSITIVE_INFINITY,
  /** Whether the inventory can act with --execute (the sandbox, aws); a file cannot. */
  canAct = true,
): string {
  const at = new Date(run.at);
  const outcome = new Map(run.outcomes.map((o) => [o.task.id, o]));
  const blocked = new Map(run.safety.blocked.map((b) => [b.task.id, b.reason]));
  const rows: PlanRow[] = [];
  const due = run.plan.due.slice(0, limit);
  for (const t of due) {
    const o = outcome.get(t.id);
    const note = o
      ? `${o.outcome}: ${o.message}`
      : blocked.has(t.id)
        ? `blocked: ${blocked.get(t.id)}`
        : run.aborted
          ? "not acted on: blast radius"
          : run.mode === "dry-run"
            ? "would act now"
            : "";
    rows.push(row(o?.task ?? t, at, note));
  }
  const waiting = [...run.plan.waiting]
    .sort(
      (a, b) => a.grace_ends_at.localeCompare(b.grace_ends_at) || a.resource_id.localeCompare(b.resource_id),
    )
    .slice(0, Math.max(0, limit - due.length));
  const warnings = new Map<string, string[]>();
  for (const w of run.plan.warnings) {
    const kinds = warnings.get(w.task_id);
    if (kinds) kinds.push(w.kind);
    else warnings.set(w.task_id, [w.kind]);
  }
  for (const t of waiting) {
    const warned = warnings.get(t.id) ?? [];
    const note = warned.length
      ? `${run.mode === "dry-run" ? "would warn" : "warned"} the owner (${warned.join(", ")})`
      : "in grace period";
    rows.push(row(t, at, note));
  }
  const columns: Column<PlanRow>[] = [
    { header: "ACTION", value: (r) => r.action },
    { header: "RESOURCE", value: (r) => r.resource },
    { header: "SEVERITY", value: (r) => r.severity, style: (r) => SEVERITY_STYLE[r.severity.split(" ")[0]!] },
    { header: "STATE", value: (r) => r.state },
    { header: "ACTS", value: (r) => r.when },
    { header: "POLICY/RULE", value: (r) => r.rule },
    { header: "OWNER", value: (r) => r.owner },
    { header: "EST. SAVING/MO", value: (r) => r.saving, align: "right" },
    { header: "NOTE", value: (r) => r.note },
  ];
  const out: string[] = [];
  const title = run.mode === "dry-run" ? "Remediation plan (dry run)" : "Remediation";
  out.push(paint(color, "bold", `${title} at ${run.at}`));
  out.push(rows.length > 0 ? renderTable(rows, columns, color).trimEnd() : "nothing to remediate");
  const hiddenDue = run.plan.due.length - due.length;
  const hiddenWaiting = run.plan.waiting.length - waiting.length;
  if (hiddenDue + hiddenWaiting > 0)
    out.push(
      `... and ${count(hiddenDue + hiddenWaiting, "more task")} (${hiddenDue.toLocaleString("en-US")} due, ${hiddenWaiting.toLocaleString("en-US")} in grace period): --limit 0 shows every one; --format json lists them all`,
    );
  if (run.plan.passed.length > 0) {
    out.push("", paint(color, "bold", `Not remediated (${run.plan.passed.length})`));
    const passed = run.plan.passed.slice(0, limit);
    for (const p of passed) out.push(printable(`  ${p.resource_id}  ${p.policy}/${p.rule}: ${p.reason}`));
    if (passed.length < run.plan.passed.length)
      out.push(`  ... and ${(run.plan.passed.length - passed.length).toLocaleString("en-US")} more`);
  }
  const s = run.safety;
  out.push(
    "",
    `Blast radius: ${s.changes} ${s.changes === 1 ? "resource" : "resources"} to change (cap ${s.cap}).`,
  );
  if (run.aborted) out.push(paint(color, "red", `ABORTED: ${run.aborted}`));
  if (run.mode === "dry-run")
    out.push(
      !canAct
        ? `Dry run: nothing was changed. ${FILE_CANNOT_ACT}.`
        : run.aborted
          ? "Dry run: nothing was changed, and --execute would change nothing either while the run is over the cap."
          : "Dry run: nothing was changed. Run again with --execute to act.",
    );
  return `${out.join("\n")}\n`;
}

/** Why a dry run over a file inventory is not followed by --execute (refused there). */
const FILE_CANNOT_ACT = "A file inventory cannot act: --execute needs the sandbox or aws inventory";

const count = (n: number, noun: string) => `${n.toLocaleString("en-US")} ${noun}${n === 1 ? "" : "s"}`;

/** The guide's run_compliance_scan summary, as lines of label and value. */
export function renderCycleSummary(s: CycleSummary, color: boolean, canAct = true): string {
  const scoreStyle: Style =
    s.compliance_level === "compliant" ? "green" : s.compliance_level === "partial" ? "yellow" : "red";
  const lines: [string, string, (Style | undefined)?][] = [
    [
      "Mode",
      s.mode === "execute"
        ? "execute"
        : canAct
          ? "dry run (nothing changed; --execute acts)"
          : `dry run (nothing changed; ${FILE_CANNOT_ACT.replace("A file", "a file")})`,
    ],
    ["Inventory", `${s.inventory} (${count(s.resources_scanned, "resource")})`],
    ["Scan", `${s.scan_id}, ${s.scan_start}`],
    ["Violations found", String(s.violations_found)],
    ["Excepted", String(s.violations_excepted)],
    ["Actionable", String(s.violations_actionable)],
    // A dry run stores no task and sends no warning: it says what acting would do, as that.
    s.mode === "dry-run"
      ? ["Tasks planned", `${s.tasks_created} (dry run: none stored)`]
      : ["Tasks created", String(s.tasks_created)],
    [
      "Owner warnings",
      s.mode === "dry-run" ? `${s.owner_warnings} (dry run: none sent)` : String(s.owner_warnings),
    ],
    ["Due now", `${s.tasks_due} (${s.tasks_blocked} blocked by safety rules)`],
    ["In grace period", String(s.tasks_waiting)],
    ["Remediated", String(s.remediations_completed), s.remediations_completed > 0 ? "green" : undefined],
    ["Failed", String(s.remediations_failed), s.remediations_failed > 0 ? "red" : undefined],
    ["Skipped", String(s.remediations_skipped)],
    [
      "Compliance score",
      `${s.compliance_score.toFixed(2)}% (${s.compliance_level.replace("_", "-")}; ${count(s.non_compliant_resources, "non-compliant resource")})`,
      scoreStyle,
    ],
    ["Potential savings", `${formatMonthly(s.potential_monthly_savings, s.currency)}/month`],
    ["Realised savings", realisedSavingsText(s)],
    [
      "Exceptions",
      `${s.exceptions_active} active, ${s.exceptions_expired} expired now, ${s.exception_reviews_overdue} reviews overdue${s.exception_review_reminders > 0 ? ` (${s.exception_review_reminders} reminded now)` : ""}`,
    ],
    ["Duration", `${s.duration_seconds.toFixed(2)} s`],
  ];
  const nj = s.not_judged;
  const unchecked = Object.values(nj.unverified_checks).reduce((a, b) => a + b, 0);
  const otherState = Object.values(nj.idle_other_states).reduce((a, b) => a + b, 0);
  const unjudged = Object.values(nj.unjudged_types).reduce((a, b) => a + b, 0);
  const notJudged = [
    unjudged > 0 ? `${count(unjudged, "resource")} of a type no rule or detector names` : "",
    nj.idle_unmeasured > 0
      ? `${count(nj.idle_unmeasured, "running resource")} without metrics for idleness`
      : "",
    otherState > 0 ? `${count(otherState, "resource")} neither running nor stopped, for idleness` : "",
    nj.unattached_undated > 0 ? count(nj.unattached_undated, "undated unattached volume") : "",
    unchecked > 0 ? `${count(unchecked, "check")} not made for want of a field` : "",
  ].filter((part) => part !== "");
  const repeated = s.repeated_findings ?? 0;
  if (repeated > 0)
    lines.splice(4, 0, [
      "Listed twice",
      `${count(repeated, "finding")} came again under a resource id already seen (records sharing an id); the last of each is kept`,
      "yellow",
    ]);
  if (notJudged.length > 0)
    lines.splice(lines.length - 1, 0, [
      "Not judged",
      `${notJudged.join(", ")} (costguard scans show ${s.scan_id})`,
      "yellow",
    ]);
  if (s.aborted) lines.push(["ABORTED", s.aborted, "red"]);
  const width = Math.max(...lines.map(([l]) => l.length));
  return `${lines.map(([label, value, style]) => `${paint(color, "bold", label.padEnd(width))}  ${style ? paint(color, style, value) : value}`).join("\n")}\n`;
}
