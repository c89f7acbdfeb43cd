import { compileScope, type ScopeMatcher } from "../engine/scope.js";
import { effectiveStatus } from "./lifecycle.js";
import type { ExceptionSubject, PolicyException } from "./types.js";

/**
 * Answers "does an approved, unexpired exception waive this policy rule for this resource?" fast:
 * built once from the approved exceptions, asked per violation. Approval and expiry are checked
 * against the time of each question (see inEffectAt), so an exception that runs out mid-cycle stops
 * applying at once, and a what-if as of an earlier time (`--at`) does not apply one approved after it.
 */
export interface ExceptionIndex {
  readonly size: number;
  find(subject: ExceptionSubject, policy: string, rule: string, now: Date): PolicyException | undefined;
}

interface ByPolicy {
  byResource: Map<string, PolicyException[]>;
  bySelector: { exc: PolicyException; matchesType: ScopeMatcher }[];
}

export function buildExceptionIndex(exceptions: Iterable<PolicyException>): ExceptionIndex {
  const policies = new Map<string, ByPolicy>();
  let size = 0;
  for (const exc of exceptions) {
    if (exc.status !== "approved") continue;
    size++;
    let p = policies.get(exc.policy);
    if (!p) {
      p = { byResource: new Map(), bySelector: [] };
      policies.set(exc.policy, p);
    }
    if (exc.resource_id !== null) {
      const list = p.byResource.get(exc.resource_id);
      if (list) list.push(exc);
      else p.byResource.set(exc.resource_id, [exc]);
    } else {
      p.bySelector.push({ exc, matchesType: compileScope(exc.selector?.type ?? "*") });
    }
  }
  return {
    size,
    find(subject, policy, rule, now) {
      const p = policies.get(policy);
      if (!p) return undefined;
      if (subject.id !== undefined) {
        for (const exc of p.byResource.get(subject.id) ?? []) if (appliesTo(exc, rule, now)) return exc;
      }
      for (const { exc, matchesType } of p.bySelector) {
        if (!appliesTo(exc, rule, now) || !matchesType(subject.type)) continue;
        const s = exc.selector!;
        if (s.account !== undefined && subject.account !== s.account) continue;
        if (s.tags && !Object.entries(s.tags).every(([k, v]) => subject.tags?.[k] === v)) continue;
        return exc;
      }
      return undefined;
    },
  };
}

function appliesTo(exc: PolicyException, rule: string, now: Date): boolean {
  return (exc.rule === null || exc.rule === rule) && inEffectAt(exc, now);
}

/**
 * Whether an approved exception waives anything at `now`: approved then already (decided_at ≤ now)
 * and not yet expired (now < expires_at). Before, only the expiry was asked, so a dry run as of a
 * time before the approval applied it.
 */
export function inEffectAt(exc: PolicyException, now: Date): boolean {
  return (
    effectiveStatus(exc, now) === "approved" &&
    (exc.decided_at === null || Date.parse(exc.decided_at) <= now.getTime())
  );
}
