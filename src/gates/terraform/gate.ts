import type { Decider } from "../../decide/decider.js";
import { parseRequest } from "../../engine/request.js";
import type {
  CostEstimate,
  DecisionKind,
  ExceptedViolation,
  NotEvaluated,
  ResourceRequest,
  Unverified,
  Violation,
} from "../../engine/types.js";
import type { PriceBook } from "../../pricing/book.js";
import { costOf, createPriceBookEnricher } from "../../pricing/enrich.js";
import { sub, sum } from "../../pricing/money.js";
import { configAddress, type PlanAction, planAction, type TerraformPlan } from "./plan.js";
import { isSupported, type MappedRequest, mapResource } from "./resources.js";

/** The gate's answer for one address (a resource, or an inline disk below it). */
export interface PlanResourceResult {
  address: string;
  resource_type: string;
  action: PlanAction;
  /** The policy decision on the planned state; null for deletes (removing a resource is not checked). */
  decision: DecisionKind | null;
  violations: Violation[];
  /** Violations an approved exception covers (with its id): not part of the decision. Present when any. */
  excepted?: ExceptedViolation[];
  unverified: Unverified[];
  not_evaluated: NotEvaluated[];
  /** Request fields Terraform knows only after apply; checks on them are unverified, not guessed. */
  unknown_after_apply: string[];
  monthly_cost_before: CostEstimate | null;
  monthly_cost_after: CostEstimate | null;
  /** after − before as exact decimal text; null when either side is unknown. */
  monthly_delta: string | null;
  /** The request the planned state became (after enrichment by the price book). */
  request: ResourceRequest | null;
}

export interface SkippedResource {
  address: string;
  type: string;
  action: string;
  reason: string;
}

export interface PlanReport {
  tool: "costguard";
  kind: "terraform-plan";
  plan: { file: string; format_version: string; terraform_version?: string };
  policy_revision: string;
  decision: DecisionKind;
  resources: PlanResourceResult[];
  skipped: SkippedResource[];
  summary: {
    resources: number;
    allow: number;
    warn: number;
    deny: number;
    deleted: number;
    skipped: number;
    unchanged: number;
    /** The costs' currency; `mixed` when they are in several (`currencies`), and then not added up. */
    currency: string;
    /** Every currency a known cost is in (a price book may price in several). */
    currencies: string[];
    hours_per_month: number;
    /**
     * Totals over the resources whose before and after costs are both known; null when the costs are
     * in several currencies (`currency` mixed), which are not added up.
     */
    monthly_before: string | null;
    monthly_after: string | null;
    monthly_delta: string | null;
    /** Resources whose cost is unknown on one side (left out of the totals). */
    unknown_cost: number;
  };
}

export interface PlanGateParts {
  decider: Decider;
  book: PriceBook;
}

function providerRegion(plan: TerraformPlan, address: string, providerName: string): string | undefined {
  const key = plan.providerKeys.get(configAddress(address));
  if (key !== undefined && plan.providerRegions.has(key)) return plan.providerRegions.get(key);
  // Without a resolvable key, a single configuration for the provider is unambiguous.
  const short = providerName.split("/").pop() ?? providerName;
  const candidates = [...plan.providerRegions.entries()].filter(
    ([k]) => k === short || k.endsWith(`:${short}`),
  );
  return candidates.length === 1 ? candidates[0]![1] : undefined;
}

/**
 * Turns each supported resource change into requests, decides the planned state with the same
 * decider every gate uses, and prices both sides. Unsupported types are listed as skipped, never dropped.
 */
export function evaluatePlan(plan: TerraformPlan, file: string, parts: PlanGateParts): PlanReport {
  const { decider, book } = parts;
  const enricher = createPriceBookEnricher(book);
  const resources: PlanResourceResult[] = [];
  const skipped: SkippedResource[] = [];
  let unchanged = 0;

  for (const rc of plan.resource_changes) {
    const action = planAction(rc.change.actions);
    if (rc.mode === "data") {
      skipped.push({
        address: rc.address,
        type: rc.type,
        action: action ?? rc.change.actions.join(","),
        reason: "data source (reads, creates nothing)",
      });
      continue;
    }
    // parsePlan refuses actions Terraform does not write.
    if (action === undefined) throw new Error(`${rc.address}: no action in ${rc.change.actions.join(",")}`);
    if (action === "no-op" || action === "read" || action === "forget") {
      unchanged++;
      continue;
    }
    if (!isSupported(rc.type)) {
      skipped.push({
        address: rc.address,
        type: rc.type,
        action,
        reason: "resource type not supported by the plan gate",
      });
      continue;
    }
    const ctx = { address: rc.address, providerRegion: providerRegion(plan, rc.address, rc.provider_name) };
    const after =
      action === "delete" ? [] : mapResource(rc.type, rc.change.after, rc.change.after_unknown, ctx);
    const before = action === "create" ? [] : mapResource(rc.type, rc.change.before, undefined, ctx);
    // What the plan's values became must be a request any gate would take: a volume of -100 GB
    // (no Terraform provider plans one) was priced at -8.00 USD a month and lowered the plan's cost.
    for (const m of before) parseRequest(m.request, `${m.address} (before the change)`);
    for (const m of after) parseRequest(m.request, m.address);
    const byAddress = new Map<string, { before?: MappedRequest; after?: MappedRequest }>();
    for (const m of before) byAddress.set(m.address, { before: m });
    for (const m of after) byAddress.set(m.address, { ...byAddress.get(m.address), after: m });

    for (const [address, pair] of byAddress) {
      const beforeCost = pair.before ? costOf(book, enricher.enrich(pair.before.request)) : null;
      // An inline disk present only before (or only after) was removed (or added) by this change.
      const itemAction: PlanAction =
        action === "update" && !pair.after
          ? "delete"
          : action === "update" && !pair.before
            ? "create"
            : action;
      let result: PlanResourceResult;
      if (pair.after) {
        const d = decider.decide(pair.after.request);
        const enriched = enricher.enrich(pair.after.request);
        const afterCost = d.estimated_monthly_cost ?? costOf(book, enriched);
        result = {
          address,
          resource_type: rc.type,
          action: itemAction,
          decision: d.decision,
          violations: d.violations,
          ...(d.excepted && d.excepted.length > 0 ? { excepted: d.excepted } : {}),
          unverified: d.unverified,
          not_evaluated: d.not_evaluated,
          unknown_after_apply: (pair.after.request.unknown_fields as string[] | undefined) ?? [],
          monthly_cost_before: beforeCost,
          monthly_cost_after: afterCost,
          monthly_delta: delta(beforeCost, afterCost),
          request: stripCost(enriched),
        };
      } else {
        result = {
          address,
          resource_type: rc.type,
          action: itemAction,
          decision: null,
          violations: [],
          unverified: [],
          not_evaluated: [],
          unknown_after_apply: [],
          monthly_cost_before: beforeCost,
          monthly_cost_after: null,
          monthly_delta: delta(beforeCost, null),
          request: null,
        };
      }
      resources.push(result);
    }
  }

  return {
    tool: "costguard",
    kind: "terraform-plan",
    plan: {
      file,
      format_version: plan.format_version,
      ...(plan.terraform_version === undefined ? {} : { terraform_version: plan.terraform_version }),
    },
    policy_revision: decider.policySet.revision,
    decision: resources.some((r) => r.decision === "deny")
      ? "deny"
      : resources.some((r) => r.decision === "warn")
        ? "warn"
        : "allow",
    resources,
    skipped,
    summary: summarise(resources, skipped.length, unchanged),
  };
}

/** The cost side that does not exist (before a create, after a delete) is zero; an unknown side is unknown. */
function delta(before: CostEstimate | null, after: CostEstimate | null): string | null {
  if ((before && before.status !== "known") || (after && after.status !== "known")) return null;
  if (before && after && before.currency !== after.currency) return null;
  return sub(after?.monthly ?? "0", before?.monthly ?? "0");
}

function stripCost(request: ResourceRequest): ResourceRequest {
  const { cost: _cost, ...rest } = request;
  return rest;
}

function summarise(
  resources: readonly PlanResourceResult[],
  skipped: number,
  unchanged: number,
): PlanReport["summary"] {
  const currencies = new Set<string>();
  for (const r of resources) {
    for (const c of [r.monthly_cost_before, r.monthly_cost_after])
      if (c?.status === "known" && c.currency) currencies.add(c.currency);
  }
  const currency = currencies.size === 1 ? [...currencies][0]! : currencies.size === 0 ? "USD" : "mixed";
  // Costs in several currencies are not added up (no rate is assumed); a cost known is not unknown.
  const known = resources.filter((r) => r.monthly_delta !== null);
  const mixed = currency === "mixed";
  const before = mixed ? null : sum(known.map((r) => r.monthly_cost_before?.monthly ?? "0"));
  const after = mixed ? null : sum(known.map((r) => r.monthly_cost_after?.monthly ?? "0"));
  return {
    resources: resources.length,
    allow: resources.filter((r) => r.decision === "allow").length,
    warn: resources.filter((r) => r.decision === "warn").length,
    deny: resources.filter((r) => r.decision === "deny").length,
    deleted: resources.filter((r) => r.action === "delete").length,
    skipped,
    unchanged,
    currency,
    currencies: [...currencies].sort(),
    hours_per_month: 730,
    monthly_before: before,
    monthly_after: after,
    monthly_delta: before === null || after === null ? null : sub(after, before),
    unknown_cost: resources.length - known.length,
  };
}
