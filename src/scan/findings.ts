import type { Decider } from "../decide/decider.js";
import type { Unverified, Violation } from "../engine/types.js";
import { ec2ShapeOfDbClass } from "../inventory/aws-catalog.js";
import { inState, type Resource } from "../inventory/types.js";
import { type Amount, formatAmount, formatFixed, HOURS_PER_MONTH, scaled, ZERO } from "../money/exact.js";
import type { Severity } from "../policy/types.js";
import type { BilledCost } from "./billing-costs.js";
import {
  belowLimit,
  type DetectorConfig,
  detectIdle,
  detectUnattached,
  formatBytesPerDay,
  IDLE_POLICY,
  IDLE_RULE,
  ORPHAN_POLICY,
  ORPHAN_RULE,
  teamOf,
} from "./detectors.js";
import { combineFingerprint, type KeyHash, resourceKeyHash, ruleKeyHash } from "./fingerprint.js";
import type { InstanceShape, PriceLookup } from "./prices.js";
import { resizeTarget } from "./resize.js";
import { instanceHoursCost, type ResourceCost, resourceCost } from "./resource-cost.js";
import type { Finding, FindingCheck, Recommendation } from "./types.js";

/** Everything a scan needs to judge one resource; built once per scan. */
export interface ScanContext {
  /** The inventory being judged (`file:estate.jsonl`, `sandbox`, `aws:us-east-1`): part of every fingerprint. */
  inventory: string;
  decider: Decider;
  prices: PriceLookup | undefined;
  detectors: DetectorConfig;
  /** The scan's clock: "now" for every age computed. */
  at: Date;
  currency: string;
  /** Running costs from a billing export, by resource (`scan --billing`): before the price book. */
  billed?: ReadonlyMap<string, BilledCost> | undefined;
  /** The scan's working memory (rule hashes, parsed prices); created on first use. */
  memo?: ScanMemo;
}

/** Caches that make a million findings cheap; bounded, and owned by one scan context. */
export interface ScanMemo {
  /** policy → rule → the rule's half of the fingerprint (with the context's inventory). */
  ruleHashes: Map<string, Map<string, KeyHash>>;
  amounts: Map<string | number, Amount>;
  /**
   * Recommendations that depend only on their key (tag keys, a family, a series): shared by many
   * findings, so frozen (which also tells the store it may cache their JSON).
   */
  recommendations: Map<string, Recommendation>;
  /**
   * A rule's checks and message for violations with the same fields, values and messages (a missing
   * tag, a size over a limit): frozen and shared, so the store serialises and digests them once.
   */
  checks?: Map<string, SharedChecks>;
}

interface SharedChecks {
  checks: FindingCheck[];
  message: string;
}

const MAX_MEMO = 8192;

/**
 * A finding with its saving as an exact amount, for sums before it is turned into text, and the
 * fields a tally counts by. `finding` is the whole finding: a scan that only counts (a table report,
 * nothing stored) reads it for its top findings alone, so it is built on first use.
 */
export interface ScoredFinding {
  savings: Amount;
  policy: string;
  severity: Severity;
  team: string;
  action: Recommendation["action"];
  currency: string;
  readonly finding: Finding;
}

const RESIZABLE = new Set(["compute/instance", "database/instance"]);
const STOPPED_COMPUTE = new Set(["stopped", "stopping"]);

/**
 * Judges one resource: its policy violations through the same decider every gate uses, grouped into
 * one finding per rule with a recommended action, then the built-in detectors. Pure: no I/O.
 */
export function findingsForResource(
  r: Resource,
  ctx: ScanContext,
  /** Told each check the resource lacked a field for (the rule could not be checked). */
  onUnverified?: (u: Unverified) => void,
): ScoredFinding[] {
  const out: ScoredFinding[] = [];
  const decision = ctx.decider.decide(r);
  const violations = decision.violations;
  if (onUnverified !== undefined) for (const u of decision.unverified) onUnverified(u);
  const idle = detectIdle(r, ctx.detectors.idle);
  const orphan = detectUnattached(r, ctx.detectors.unattached, ctx.at);
  // Most resources have nothing to report: nothing more is built for them.
  if (violations.length === 0 && idle === undefined && orphan === undefined) return out;
  ctx.memo ??= { ruleHashes: new Map(), amounts: new Map(), recommendations: new Map() };
  let cost: ResourceCost | undefined | null = null; // computed on first need
  const costOf = () => {
    if (cost === null) cost = resourceCost(r, ctx.prices, ctx.memo, ctx.billed);
    return cost;
  };
  const team = teamOf(r, ctx.detectors.teamTags);
  let keyHash: KeyHash | undefined;
  const key = (): KeyHash => {
    keyHash ??= resourceKeyHash(r.provider ?? null, r.account ?? null, r.region ?? null, r.id);
    return keyHash;
  };

  if (violations.length > 0) {
    let start = 0;
    // Violations arrive grouped by rule (the engine checks rule by rule).
    for (let i = 1; i <= violations.length; i++) {
      const v = violations[start]!;
      const next = violations[i];
      if (next && next.policy === v.policy && next.rule === v.rule) continue;
      out.push(policyFinding(r, violations, start, i, ctx, team, costOf, key));
      start = i;
    }
  }

  if (idle) {
    // Stopping saves the running (hourly) cost; a database's storage goes on costing, so a database
    // whose storage cannot be priced still saves its instance hours. A cost known only by the month is
    // that month's, exactly.
    const c = costOf() ?? instanceHoursCost(r, ctx.prices, ctx.memo);
    const savings = c ? (c.fromMonthly ? c.monthly : c.hourly * 730n) : ZERO;
    const noun = r.type === "database/instance" ? "Database" : "Instance";
    out.push(
      scored(r, key, team, savings, ctx, {
        policy: IDLE_POLICY,
        rule: IDLE_RULE,
        source: "detector",
        severity: ctx.detectors.idle.severity,
        enforcement: "warn",
        action: "stop",
        recommendation: () =>
          sharedRecommendation(ctx.memo!, {
            action: "stop",
            basis: c
              ? `stopping saves its running cost, ${formatFixed(c.hourly, 4)}/hour × 730 (from the ${c.from}${c.instanceHoursOnly ? ": its instance hours; its storage, with no storage type the book knows, is not priced, and goes on costing when stopped" : ""})`
              : "no cost known for this resource",
          }),
        details: () => ({
          message: `${noun} appears idle (CPU: ${belowLimit(idle.cpu, ctx.detectors.idle.cpuPercent, 1)}%, Network: ${formatBytesPerDay(idle.network, ctx.detectors.idle.networkBytesPerDay)} avg over ${idle.windowDays} days)`,
          checks: [
            {
              field: "metrics.avg_cpu_percent",
              actual: idle.cpu,
              limit: ctx.detectors.idle.cpuPercent,
              message: `average CPU under ${ctx.detectors.idle.cpuPercent}%`,
            },
            {
              field: "metrics.avg_network_bytes",
              actual: idle.network,
              limit: ctx.detectors.idle.networkBytesPerDay,
              message: `average network under ${ctx.detectors.idle.networkBytesPerDay} bytes/day`,
            },
          ],
        }),
      }),
    );
  }

  if (orphan) {
    const c = costOf();
    out.push(
      scored(r, key, team, c?.monthly ?? ZERO, ctx, {
        policy: ORPHAN_POLICY,
        rule: ORPHAN_RULE,
        source: "detector",
        severity: ctx.detectors.unattached.severity,
        enforcement: "warn",
        action: "delete",
        recommendation: () =>
          sharedRecommendation(ctx.memo!, {
            action: "delete",
            basis: c
              ? `deleting (after a snapshot) saves its monthly cost (from the ${c.from}); the snapshot costs less`
              : "no cost known for this volume",
          }),
        details: () => ({
          // The date, not the day count: a finding changes when the volume does, not every day.
          message: `Volume has been unattached since ${new Date(orphan.sinceMs).toISOString().slice(0, 10)} (more than ${ctx.detectors.unattached.days} days)`,
          checks: [
            {
              field: r.detached_at ? "detached_at" : "created_at",
              actual: orphan.since,
              limit: `${ctx.detectors.unattached.days} days`,
              message: `unattached for more than ${ctx.detectors.unattached.days} days`,
            },
          ],
        }),
      }),
    );
  }
  return out;
}

function policyFinding(
  r: Resource,
  violations: readonly Violation[],
  start: number,
  end: number,
  ctx: ScanContext,
  team: string,
  costOf: () => ResourceCost | undefined,
  key: () => KeyHash,
): ScoredFinding {
  const v = violations[start]!;
  const { recommendation, savings, action } = recommend(r, violations, start, end, ctx, costOf);
  // The checks and message are made with the finding, from the rule's violations.
  return new LazyFinding(r, key, team, savings, ctx, {
    policy: v.policy,
    rule: v.rule,
    source: "policy",
    severity: v.severity,
    enforcement: v.enforcement,
    recommendation,
    ...(action === undefined ? {} : { action }),
    violations,
    start,
    end,
  });
}

/** A primitive as a key part that no other value of another type gives; undefined when not primitive. */
function keyPart(x: unknown): string | undefined {
  if (x === null) return "n";
  if (x === undefined) return "u";
  switch (typeof x) {
    case "string":
      return `s${x.length}:${x}`;
    case "number":
      return `d${x}`;
    case "boolean":
      return x ? "t" : "f";
    default:
      return undefined;
  }
}

function buildChecks(
  violations: readonly Violation[],
  start: number,
  end: number,
): { checks: FindingCheck[]; message: string } {
  const checks: FindingCheck[] = [];
  let message = violations[start]!.message;
  for (let i = start; i < end; i++) {
    const x = violations[i]!;
    checks.push({ field: x.field, actual: x.actual, limit: x.limit, message: x.message });
    if (i > start) message += `; ${x.message}`;
  }
  return { checks, message };
}

/** The checks and message of one rule's violations; shared when every value in them is a primitive. */
function checksOf(
  violations: readonly Violation[],
  start: number,
  end: number,
  memo: ScanMemo,
): { checks: FindingCheck[]; message: string } {
  let key = "";
  for (let i = start; i < end; i++) {
    const x = violations[i]!;
    const actual = keyPart(x.actual);
    const limit = keyPart(x.limit);
    if (actual === undefined || limit === undefined) return buildChecks(violations, start, end);
    key += `${x.field.length}:${x.field}${actual}\u0000${limit}\u0000${x.message.length}:${x.message}`;
  }
  memo.checks ??= new Map();
  let shared = memo.checks.get(key);
  if (shared === undefined) {
    const built = buildChecks(violations, start, end);
    for (const c of built.checks) Object.freeze(c);
    shared = Object.freeze({ checks: Object.freeze(built.checks) as FindingCheck[], message: built.message });
    if (memo.checks.size < MAX_MEMO) memo.checks.set(key, shared);
  }
  return shared;
}

const TAG_BASIS = "tags carry no running cost";

/**
 * A recommended action and its saving; the recommendation itself may be made later, on first use
 * (a thunk: its texts and shared object cost more than a count needs), and then `action` says which.
 */
interface Advice {
  recommendation: Recommendation | (() => Recommendation);
  savings: Amount;
  action?: Recommendation["action"];
}

const NO_FIX: Advice = {
  recommendation: Object.freeze({
    action: "notify",
    basis: "no automatic fix for this rule: the owner decides",
  }),
  savings: ZERO,
};

function recommend(
  r: Resource,
  violations: readonly Violation[],
  start: number,
  end: number,
  ctx: ScanContext,
  costOf: () => ResourceCost | undefined,
): Advice {
  let tagCount = 0;
  let maxVcpus: number | undefined;
  let maxMemoryGb: number | undefined;
  let familyProblem: string | undefined;
  for (let i = start; i < end; i++) {
    const v = violations[i]!;
    const field = v.field;
    if (field.startsWith("tags.")) tagCount++;
    else if (field === "specs.vcpus" && typeof v.limit === "number") maxVcpus = v.limit;
    else if (field === "specs.memory_gb" && typeof v.limit === "number") maxMemoryGb = v.limit;
    else if (field === "specs.instance_family") familyProblem = String(v.actual);
  }
  if (tagCount > 0 && tagCount === end - start) {
    return {
      recommendation: () => tagRecommendation(violations, start, end, ctx.memo!),
      savings: ZERO,
      action: "tag",
    };
  }
  if (
    (maxVcpus !== undefined || maxMemoryGb !== undefined) &&
    RESIZABLE.has(r.type) &&
    ctx.detectors.oversized.enabled
  ) {
    if (familyProblem !== undefined)
      return cachedNotify(
        ctx.memo!,
        `family\u0000${familyProblem}`,
        () =>
          `instance family '${familyProblem}' is not allowed: a smaller size of it would still break the rule`,
      );
    return resizeRecommendation(r, ctx, costOf, maxVcpus, maxMemoryGb);
  }
  return NO_FIX;
}

/** `tag` with the distinct tag keys in order, shared by every finding with the same tag fields. */
function tagRecommendation(
  violations: readonly Violation[],
  start: number,
  end: number,
  memo: ScanMemo,
): Recommendation {
  let cacheKey = "tag"; // then each field as length:text, so no two lists give the same key
  for (let i = start; i < end; i++) {
    const field = violations[i]!.field;
    cacheKey += `\u0000${field.length}:${field}`;
  }
  let rec = memo.recommendations.get(cacheKey);
  if (rec === undefined) {
    const tags: string[] = [];
    for (let i = start; i < end; i++) {
      const tag = violations[i]!.field.slice(5);
      if (!tags.includes(tag)) tags.push(tag);
    }
    rec = Object.freeze({ action: "tag", tags: Object.freeze(tags) as string[], basis: TAG_BASIS });
    if (memo.recommendations.size < MAX_MEMO) memo.recommendations.set(cacheKey, rec);
  }
  return rec;
}

/** A `notify` whose basis depends only on `key`, shared by every finding with that key. */
function cachedNotify(memo: ScanMemo, key: string, basis: () => string): Advice {
  let rec = memo.recommendations.get(key);
  if (rec === undefined) {
    rec = Object.freeze({ action: "notify", basis: basis() } as Recommendation);
    if (memo.recommendations.size < MAX_MEMO) memo.recommendations.set(key, rec);
  }
  return { recommendation: rec, savings: ZERO };
}

function resizeRecommendation(
  r: Resource,
  ctx: ScanContext,
  costOf: () => ResourceCost | undefined,
  maxVcpus: number | undefined,
  maxMemoryGb: number | undefined,
): Advice {
  const type = r.specs?.instance_type;
  if (typeof type !== "string" || !ctx.prices)
    return notify("no instance type or price table to size a target from");
  const isDb = r.type === "database/instance";
  const prices = ctx.prices;
  const current = prices.instanceType(isDb ? ec2ShapeOfDbClass(type) : type);
  if (!current)
    return cachedNotify(
      ctx.memo!,
      `unpriced\u0000${type}`,
      () => `instance type ${type} is not in the price table`,
    );
  const measured = typeof r.metrics?.avg_cpu_percent === "number";
  const target = resizeTarget(
    current,
    {
      ...(maxVcpus === undefined ? {} : { maxVcpus }),
      ...(maxMemoryGb === undefined ? {} : { maxMemoryGb }),
      ...(measured ? { avgCpuPercent: r.metrics?.avg_cpu_percent as number } : {}),
      targetCpuPercent: ctx.detectors.oversized.targetCpuPercent,
      ...(isDb ? { offered: (s: InstanceShape) => prices.databaseClassKnown(`db.${s.instance_type}`) } : {}),
    },
    prices,
  );
  if (!target)
    return cachedNotify(ctx.memo!, `series\u0000${isDb ? "db." : ""}${current.series}`, () =>
      isDb
        ? `no smaller db.${current.series} class the price book knows fits the limits and the observed load`
        : `no smaller ${current.series} size fits the limits and the observed load`,
    );
  const own = costOf();
  const targetType = isDb ? `db.${target.instance_type}` : target.instance_type;
  const shape = { instance_type: targetType, vcpus: target.vcpus, memory_gb: target.memory_gb };
  const rule = () =>
    measured
      ? `cheapest ${current.series} size within the limits that runs the observed load at ≤ ${ctx.detectors.oversized.targetCpuPercent}% CPU`
      : `largest ${current.series} size within the limits (no CPU average to size the load by)`;
  // Databases: the book's price for the target class with the same engine, when it has one.
  const engine = typeof r.specs?.engine === "string" ? r.specs.engine : undefined;
  const dbTarget = isDb && engine ? ctx.prices.databaseHourly(targetType, engine) : undefined;
  const dbCurrent = isDb && engine ? ctx.prices.databaseHourly(type, engine) : undefined;
  if (isDb && !own && dbCurrent === undefined) {
    return {
      recommendation: {
        action: "resize",
        target: { ...shape, hourly_cost: dbTarget === undefined ? null : formatAmount(dbTarget) },
        basis: `${type} → ${targetType}: ${rule()}; no price known for ${type}, so no saving is estimated`,
      },
      savings: ZERO,
    };
  }
  const currentHourly = own?.hourly ?? dbCurrent ?? current.hourly;
  // The target's own book price when known; else the current rate scaled by the EC2 shapes' price
  // ratio (exact for on-demand us-east-1 EC2, an estimate elsewhere).
  const byBook =
    dbTarget !== undefined && (own === undefined || dbCurrent === undefined || own.hourly === dbCurrent);
  const targetHourly = byBook ? dbTarget : scaled(currentHourly, target.hourly, current.hourly);
  const stopped = r.type === "compute/instance" && inState(STOPPED_COMPUTE, r.state);
  // A month of running (a cost given by the month is that month's), less the target's: by ratio, the
  // month scaled and rounded once, so the saving is the exact one to the pico-unit, not the rounded
  // target rate's error × 730.
  const currentMonthly = own?.fromMonthly ? own.monthly : currentHourly * HOURS_PER_MONTH;
  const savings = stopped
    ? ZERO
    : byBook
      ? currentMonthly - dbTarget * HOURS_PER_MONTH
      : scaled(currentMonthly, current.hourly - target.hourly, current.hourly);
  return {
    recommendation: () =>
      sharedRecommendation(ctx.memo!, {
        action: "resize",
        target: { ...shape, hourly_cost: formatAmount(targetHourly) },
        basis: `${type} → ${targetType}: ${rule()}; saving (${formatFixed(currentHourly, 4)} − ${formatFixed(targetHourly, 4)})/hour × 730${stopped ? " (stopped now: nothing saved until it runs)" : ""}`,
      }),
    savings,
    action: "resize",
  };
}

/**
 * The same recommendation many findings make (its basis names the prices, so equal bases mean equal
 * recommendations): frozen and shared, so the store serialises and digests it once.
 */
function sharedRecommendation(memo: ScanMemo, rec: Recommendation): Recommendation {
  const t = rec.target;
  const key = `${rec.action}\u0000${rec.basis}${t ? `\u0000${t.instance_type}\u0000${t.vcpus}\u0000${t.memory_gb}\u0000${t.hourly_cost}` : ""}`;
  const known = memo.recommendations.get(key);
  if (known !== undefined) return known;
  if (t) Object.freeze(t);
  Object.freeze(rec);
  if (memo.recommendations.size < MAX_MEMO) memo.recommendations.set(key, rec);
  return rec;
}

function notify(basis: string): Advice {
  return { recommendation: { action: "notify", basis }, savings: ZERO };
}

function scored(
  r: Resource,
  key: () => KeyHash,
  team: string,
  savings: Amount,
  ctx: ScanContext,
  f: FindingParts,
): ScoredFinding {
  return new LazyFinding(r, key, team, savings, ctx, f);
}

/**
 * What a finding says beside its resource. Its recommendation may come as a thunk (with `action`);
 * its checks and message given, made from the rule's violations, or by a thunk.
 */
type FindingParts = Pick<Finding, "policy" | "rule" | "source" | "severity" | "enforcement"> & {
  recommendation: Recommendation | (() => Recommendation);
  action?: Recommendation["action"];
} & (
    | Pick<Finding, "message" | "checks">
    | { violations: readonly Violation[]; start: number; end: number }
    | { details: () => Pick<Finding, "message" | "checks"> }
  );

/** A scored finding whose Finding (fingerprint, checks, message, texts) is made when first read. */
class LazyFinding implements ScoredFinding {
  readonly policy: string;
  readonly severity: Severity;
  readonly action: Recommendation["action"];
  readonly currency: string;
  private built: Finding | undefined;

  constructor(
    private readonly r: Resource,
    private readonly key: () => KeyHash,
    readonly team: string,
    readonly savings: Amount,
    private readonly ctx: ScanContext,
    private readonly parts: FindingParts,
  ) {
    this.policy = parts.policy;
    this.severity = parts.severity;
    const rec = parts.recommendation;
    this.action = typeof rec === "function" ? parts.action! : rec.action;
    this.currency = r.currency ?? ctx.currency;
  }

  get finding(): Finding {
    this.built ??= this.build();
    return this.built;
  }

  private build(): Finding {
    const { r, ctx, parts: f } = this;
    const memo = ctx.memo!;
    let rules = memo.ruleHashes.get(f.policy);
    if (rules === undefined) {
      rules = new Map();
      if (memo.ruleHashes.size < MAX_MEMO) memo.ruleHashes.set(f.policy, rules);
    }
    let ruleHash = rules.get(f.rule);
    if (ruleHash === undefined) {
      ruleHash = ruleKeyHash(ctx.inventory, f.policy, f.rule);
      if (rules.size < MAX_MEMO) rules.set(f.rule, ruleHash);
    }
    const { checks, message } =
      "violations" in f ? checksOf(f.violations, f.start, f.end, memo) : "details" in f ? f.details() : f;
    return {
      fingerprint: combineFingerprint(this.key(), ruleHash),
      resource_id: r.id,
      resource_type: r.type,
      resource_name: r.name ?? null,
      provider: r.provider ?? null,
      account: r.account ?? null,
      region: r.region ?? null,
      team: this.team,
      policy: f.policy,
      rule: f.rule,
      source: f.source,
      message,
      severity: f.severity,
      enforcement: f.enforcement,
      recommendation: typeof f.recommendation === "function" ? f.recommendation() : f.recommendation,
      savings_monthly: formatAmount(this.savings),
      currency: this.currency,
      checks,
    };
  }
}

/** A scored finding as a plain object with its finding made (to cross threads). */
export function settled(s: ScoredFinding): ScoredFinding {
  return {
    savings: s.savings,
    policy: s.policy,
    severity: s.severity,
    team: s.team,
    action: s.action,
    currency: s.currency,
    finding: s.finding,
  };
}
