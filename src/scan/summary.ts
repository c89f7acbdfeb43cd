import { type Amount, formatAmount, ZERO } from "../money/exact.js";
import type { ScoredFinding } from "./findings.js";
import type { CountBy, Finding, ScanSummary } from "./types.js";

/**
 * Folds a scan's findings into its summary as they stream past, in constant memory: counts by
 * policy, severity, team and action, savings, and the top findings by savings.
 */
export class ScanTally {
  resources = 0;
  findings = 0;
  // Maps, not objects: a million bumps on keys known only at run time stay fast.
  private readonly byPolicy = new Map<string, number>();
  private readonly bySeverity = new Map<string, number>();
  private readonly byTeam = new Map<string, number>();
  private readonly byAction = new Map<string, number>();
  private readonly savingsByTeam = new Map<string, Amount>();
  private savings: Amount = ZERO;
  private readonly top: ScoredFinding[] = [];

  constructor(
    private readonly currency: string,
    private readonly topCount = 10,
  ) {}

  /** Adds one resource and its findings (all findings of a resource come together). */
  addResource(findings: readonly ScoredFinding[]): void {
    this.resources++;
    if (findings.length === 0) return;
    let best: ScoredFinding | undefined;
    for (const s of findings) {
      const f = s.finding;
      this.findings++;
      bump(this.byPolicy, f.policy);
      bump(this.bySeverity, f.severity);
      bump(this.byTeam, f.team);
      bump(this.byAction, f.recommendation.action);
      if (best === undefined || s.savings > best.savings) best = s;
      this.considerTop(s);
    }
    // Alternatives for one resource (stop it or resize it) do not add up: count the largest.
    if (best && best.savings > 0n) {
      this.savings += best.savings;
      const team = best.finding.team;
      this.savingsByTeam.set(team, (this.savingsByTeam.get(team) ?? ZERO) + best.savings);
    }
  }

  private considerTop(s: ScoredFinding): void {
    if (s.savings <= 0n) return;
    const top = this.top;
    if (top.length === this.topCount && s.savings <= top[top.length - 1]!.savings) return;
    let i = top.length;
    while (i > 0 && top[i - 1]!.savings < s.savings) i--;
    top.splice(i, 0, s);
    if (top.length > this.topCount) top.pop();
  }

  topFindings(): Finding[] {
    return this.top.map((s) => s.finding);
  }

  summary(stored: { newFindings: number; resolvedFindings: number } | null): ScanSummary {
    return {
      resources_scanned: this.resources,
      findings: this.findings,
      new_findings: stored ? stored.newFindings : null,
      resolved_findings: stored ? stored.resolvedFindings : null,
      by_policy: sortedCounts(this.byPolicy),
      by_severity: sortedCounts(this.bySeverity),
      by_team: sortedCounts(this.byTeam),
      by_action: sortedCounts(this.byAction),
      savings_by_team: Object.fromEntries(
        [...this.savingsByTeam.entries()]
          .sort((a, b) => (b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : 0))
          .map(([k, v]) => [k, formatAmount(v)]),
      ),
      savings_monthly: formatAmount(this.savings),
      currency: this.currency,
    };
  }
}

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function sortedCounts(counts: Map<string, number>): CountBy {
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}
