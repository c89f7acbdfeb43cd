import type { Findings } from "../findings.js";
import { misplacedSpec } from "../request.js";
import type { RuleNode } from "../rule-tree.js";
import type { ResourceRequest, Unverified, Violation } from "../types.js";

/** What a predicate found about the request: 0 bits means it passed; the value is what it read. */
export interface Measurement {
  bits: number;
  value: unknown;
}

/**
 * A compiled check, split in two so that rules repeating the same predicate share its work: a tagging
 * standard's `cost-center` pattern appears in every team's policy, but runs once per evaluation.
 * `measure` tests the request; `report` turns a failed measurement into this rule's findings.
 */
export interface CompiledCheck {
  /** Spells out everything `measure` depends on; checks with equal keys share one measurement. */
  readonly key: string;
  readonly measure: (request: ResourceRequest, into: Measurement) => void;
  readonly report: (request: ResourceRequest, out: Findings, found: Measurement) => void;
}

export function violation(
  rule: RuleNode,
  request: ResourceRequest,
  field: string,
  actual: unknown,
  limit: unknown,
  message: string,
): Violation {
  return {
    policy: rule.policy,
    rule: rule.rule,
    severity: rule.severity,
    enforcement: rule.enforcement,
    message,
    resource_type: request.type,
    field,
    actual,
    limit,
  };
}

/** The guide prints lists the way Python does: ['a', 'b']. */
export function pyList(values: readonly string[]): string {
  return `[${values.map((v) => `'${v}'`).join(", ")}]`;
}

/**
 * The rule's note (made once per rule, frozen, shared by every decision), or a copy saying where the
 * missing spec is when the request has it misplaced.
 */
export function withHint(unverified: Unverified, request: object): Unverified {
  const hint = misplacedSpec(request as ResourceRequest, unverified.field);
  return hint === "" ? unverified : { ...unverified, message: unverified.message + hint };
}
