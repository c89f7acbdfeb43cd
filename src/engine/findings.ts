import type { Decision, NotEvaluated, Unverified, Violation } from "./types.js";

/**
 * Collects what the checks of one evaluation find; arrays are created only when something is found.
 * Checks run grouped by predicate, so each finding records its rule's position (`ordinal`, set by the
 * evaluator) and the decision lists them in policy-set order.
 */
export class Findings {
  violations: Violation[] | null = null;
  unverified: Unverified[] | null = null;
  notEvaluated: NotEvaluated[] | null = null;
  deny = false;
  warn = false;
  ordinal = 0;
  private violationOrder: number[] | null = null;
  private unverifiedOrder: number[] | null = null;

  addUnverified(u: Unverified): void {
    if (this.unverified === null) {
      this.unverified = [];
      this.unverifiedOrder = [];
    }
    this.unverified.push(u);
    this.unverifiedOrder!.push(this.ordinal);
  }

  addNotEvaluated(n: NotEvaluated): void {
    if (this.notEvaluated === null) this.notEvaluated = [];
    this.notEvaluated.push(n);
  }

  addViolation(v: Violation): void {
    if (this.violations === null) {
      this.violations = [];
      this.violationOrder = [];
    }
    this.violations.push(v);
    this.violationOrder!.push(this.ordinal);
    if (v.enforcement === "deny") this.deny = true;
    else if (v.enforcement === "warn") this.warn = true;
  }

  toDecision(): Decision {
    return {
      decision: this.deny ? "deny" : this.warn ? "warn" : "allow",
      violations: inOrder(this.violations, this.violationOrder),
      unverified: inOrder(this.unverified, this.unverifiedOrder),
      not_evaluated: this.notEvaluated ?? [],
    };
  }
}

/** Stable-sorts items by their rule's position, skipping the work when they are already in order. */
function inOrder<T>(items: T[] | null, order: number[] | null): T[] {
  if (items === null || order === null) return [];
  let sorted = true;
  for (let i = 1; i < order.length; i++) {
    if (order[i]! < order[i - 1]!) {
      sorted = false;
      break;
    }
  }
  if (sorted) return items;
  const index = items.map((_, i) => i).sort((a, b) => order[a]! - order[b]! || a - b);
  return index.map((i) => items[i]!);
}
