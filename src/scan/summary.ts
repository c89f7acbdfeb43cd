import { type Amount, formatAmount, ZERO } from "../money/exact.js";
import { type TypeCoverage, uncovered } from "./coverage.js";
import { type ScoredFinding, settled } from "./findings.js";
import type { RecordedScan } from "./store.js";
import type { CountBy, Finding, ScanSummary } from "./types.js";

/**
 * Folds a scan's findings into its summary as they stream past, in constant memory: counts by
 * policy, severity, team and action, savings, and the top findings by savings.
 */
export class ScanTally {
  resources = 0;
  findings = 0;
  /** Running resources the idle detector could not judge: no metrics covering its window. */
  idleUnmeasured = 0;
  /** Unattached volumes the unattached detector could not date. */
  unattachedUndated = 0;
  /** Resources terminated, deleted or on their way (not judged: see GONE_STATES). */
  gone = 0;
  /** Resources judged that a billing export has charges for (`scan --billing`). */
  billed = 0;
  /** Resources a rule could not be checked on, by "policy/rule field". */
  private readonly unverified = new Map<string, number>();
  /** Instances and databases not judged idle for their state, by state (see idleOtherState). */
  private readonly idleOtherStates = new Map<string, number>();
  /** Resources judged (not gone), by type: what the rules and detectors had to judge. */
  private readonly byType = new Map<string, number>();
  /** Resources of types past TYPES_HELD distinct ones, not kept by type. */
  private typesUnkept = 0;
  // Maps, not objects: a million bumps on keys known only at run time stay fast.
  private readonly byPolicy = new Map<string, number>();
  private readonly bySeverity = new Map<string, number>();
  private readonly byTeam = new Map<string, number>();
  private readonly byAction = new Map<string, number>();
  private readonly savingsByTeam = new Map<string, Amount>();
  private savings: Amount = ZERO;
  /** What approved exceptions take off `savings` (judgeBatch with exceptions; see exceptResource). */
  exceptedSavings: Amount = ZERO;
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
      this.findings++;
      bump(this.byPolicy, s.policy);
      bump(this.bySeverity, s.severity);
      bump(this.byTeam, s.team);
      bump(this.byAction, s.action);
      if (best === undefined || s.savings > best.savings) best = s;
      this.considerTop(s);
    }
    // Alternatives for one resource (stop it or resize it) do not add up: count the largest.
    if (best && best.savings > 0n) {
      this.savings += best.savings;
      const team = best.team;
      this.savingsByTeam.set(team, (this.savingsByTeam.get(team) ?? ZERO) + best.savings);
    }
  }

  /** A resource that was judged (not gone), by its type. */
  addType(type: string, n = 1): void {
    const counts = this.byType;
    if (counts.has(type) || counts.size < TYPES_HELD) counts.set(type, (counts.get(type) ?? 0) + n);
    else this.typesUnkept += n;
  }

  /** A resource a rule could not be checked on ("policy/rule field": it had no value for the field). */
  addUnchecked(check: string): void {
    bump(this.unverified, check);
  }

  /**
   * An instance or database not judged idle for its state (idleOtherState). States are counted as
   * written, cut to 40 characters; the summary names the 20 most common and counts the rest as one,
   * so states holding anything (ids, long texts) cannot swell it (nor, past 1,000 distinct, memory).
   */
  addIdleOtherState(state: string, n = 1): void {
    const key = state.length > OTHER_STATE_WIDTH ? `${state.slice(0, OTHER_STATE_WIDTH - 1)}…` : state;
    const counts = this.idleOtherStates;
    const counted = counts.has(key) || counts.size < OTHER_STATES_HELD ? key : MORE_STATES;
    counts.set(counted, (counts.get(counted) ?? 0) + n);
  }

  /** The counts so far, to be merged into another tally (a piece of the inventory judged in a worker). */
  partial(): TallyPartial {
    return {
      resources: this.resources,
      findings: this.findings,
      idleUnmeasured: this.idleUnmeasured,
      unattachedUndated: this.unattachedUndated,
      gone: this.gone,
      billed: this.billed,
      unverified: this.unverified,
      idleOtherStates: this.idleOtherStates,
      byType: this.byType,
      typesUnkept: this.typesUnkept,
      byPolicy: this.byPolicy,
      bySeverity: this.bySeverity,
      byTeam: this.byTeam,
      byAction: this.byAction,
      savingsByTeam: this.savingsByTeam,
      savings: this.savings,
      exceptedSavings: this.exceptedSavings,
      // Plain objects with their findings made: a partial crosses threads.
      top: this.top.map(settled),
    };
  }

  /**
   * Adds the tally of the resources that came after this one's. Merged in inventory order, tallies give
   * exactly the summary and top findings of one tally over everything (ties keep the earlier finding).
   */
  merge(p: TallyPartial): void {
    this.resources += p.resources;
    this.findings += p.findings;
    this.idleUnmeasured += p.idleUnmeasured;
    this.unattachedUndated += p.unattachedUndated;
    this.gone += p.gone;
    this.billed += p.billed;
    mergeCounts(this.unverified, p.unverified);
    for (const [state, n] of p.idleOtherStates) this.addIdleOtherState(state, n);
    for (const [type, n] of p.byType) this.addType(type, n);
    this.typesUnkept += p.typesUnkept;
    mergeCounts(this.byPolicy, p.byPolicy);
    mergeCounts(this.bySeverity, p.bySeverity);
    mergeCounts(this.byTeam, p.byTeam);
    mergeCounts(this.byAction, p.byAction);
    for (const [team, amount] of p.savingsByTeam)
      this.savingsByTeam.set(team, (this.savingsByTeam.get(team) ?? ZERO) + amount);
    this.savings += p.savings;
    this.exceptedSavings += p.exceptedSavings;
    for (const s of p.top) this.considerTop(s);
  }

  private considerTop(s: ScoredFinding): void {
    if (s.savings <= 0n || this.topCount === 0) return;
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

  /**
   * The summary; with `coverage` (what the scan's rules and detectors judge), also the resources of
   * types nothing judged and the rules that judged nothing.
   */
  summary(stored: RecordedScan | null, coverage?: TypeCoverage): ScanSummary {
    const gaps = coverage ? uncovered(coverage, this.byType, this.typesUnkept === 0) : undefined;
    return {
      resources_scanned: this.resources,
      findings: this.findings,
      idle_unmeasured: this.idleUnmeasured,
      unattached_undated: this.unattachedUndated,
      ...(this.gone > 0 ? { resources_gone: this.gone } : {}),
      ...(this.billed > 0 ? { resources_billed: this.billed } : {}),
      unverified_checks: sortedCounts(this.unverified),
      ...(this.idleOtherStates.size > 0 ? { idle_other_states: mostCommon(this.idleOtherStates) } : {}),
      ...(gaps && gaps.types.size > 0 ? { unjudged_types: mostCommon(gaps.types, MORE_TYPES) } : {}),
      ...(gaps && gaps.rules.length > 0 ? { rules_judging_nothing: gaps.rules } : {}),
      new_findings: stored ? stored.newFindings : null,
      resolved_findings: stored ? stored.resolvedFindings : null,
      ...(stored && stored.repeatedFindings > 0 ? { repeated_findings: stored.repeatedFindings } : {}),
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
      ...(this.exceptedSavings > 0n ? { excepted_savings_monthly: formatAmount(this.exceptedSavings) } : {}),
      currency: this.currency,
    };
  }
}

/** A tally's state as plain data (it crosses threads by structured clone). */
export interface TallyPartial {
  resources: number;
  findings: number;
  idleUnmeasured: number;
  unattachedUndated: number;
  gone: number;
  billed: number;
  unverified: Map<string, number>;
  idleOtherStates: Map<string, number>;
  byType: Map<string, number>;
  typesUnkept: number;
  byPolicy: Map<string, number>;
  bySeverity: Map<string, number>;
  byTeam: Map<string, number>;
  byAction: Map<string, number>;
  savingsByTeam: Map<string, Amount>;
  savings: Amount;
  exceptedSavings: Amount;
  /** The top findings by savings, largest first. */
  top: ScoredFinding[];
}

const OTHER_STATE_WIDTH = 40;
const OTHER_STATES_SHOWN = 20;
const OTHER_STATES_HELD = 1000;
/** Where the states a summary does not name are counted. */
const MORE_STATES = "(other states)";
/** Where the unjudged types a summary does not name are counted. */
const MORE_TYPES = "(other types)";
/** Distinct types a tally keeps count of: an inventory of made-up types cannot swell it. */
const TYPES_HELD = 4096;

/** The OTHER_STATES_SHOWN most common keys, most first, and the rest counted under `more`. */
function mostCommon(counts: Map<string, number>, more = MORE_STATES): CountBy {
  const entries = [...counts]
    .filter(([key]) => key !== more)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const rest = entries.slice(OTHER_STATES_SHOWN).reduce((sum, [, n]) => sum + n, counts.get(more) ?? 0);
  return Object.fromEntries([...entries.slice(0, OTHER_STATES_SHOWN), ...(rest > 0 ? [[more, rest]] : [])]);
}

function mergeCounts(into: Map<string, number>, from: ReadonlyMap<string, number>): void {
  for (const [key, n] of from) into.set(key, (into.get(key) ?? 0) + n);
}

function bump(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function sortedCounts(counts: Map<string, number>): CountBy {
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}
