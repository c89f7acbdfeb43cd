import { createHash } from "node:crypto";
import { type BudgetGateOptions, compileBudgetGate, compileRequestSelector } from "../budget/gate.js";
import { compilePattern } from "../policy/pattern.js";
import type { LoadedPolicy } from "../policy/types.js";
import { compileField } from "./field.js";
import { buildRuleTree, type CheckKind, type CheckNode, type RuleNode } from "./rule-tree.js";
import { compileScope, inNamespace, type ScopeMatcher } from "./scope.js";
import type { Decision, NotEvaluated, ResourceRequest, Unverified, Violation } from "./types.js";

/** Collects what the checks of one evaluation find; arrays are created only when something is found. */
export class Findings {
  violations: Violation[] | null = null;
  unverified: Unverified[] | null = null;
  notEvaluated: NotEvaluated[] | null = null;
  deny = false;
  warn = false;

  addUnverified(u: Unverified): void {
    if (this.unverified === null) this.unverified = [];
    this.unverified.push(u);
  }

  addNotEvaluated(n: NotEvaluated): void {
    if (this.notEvaluated === null) this.notEvaluated = [];
    this.notEvaluated.push(n);
  }

  addViolation(v: Violation): void {
    if (this.violations === null) this.violations = [];
    this.violations.push(v);
    if (v.enforcement === "deny") this.deny = true;
    else if (v.enforcement === "warn") this.warn = true;
  }

  toDecision(): Decision {
    return {
      decision: this.deny ? "deny" : this.warn ? "warn" : "allow",
      violations: this.violations ?? [],
      unverified: this.unverified ?? [],
      not_evaluated: this.notEvaluated ?? [],
    };
  }
}

type CheckFn = (request: ResourceRequest, out: Findings) => void;
type NodeCompiler<K extends CheckKind> = (
  node: Extract<CheckNode, { kind: K }>,
  rule: RuleNode,
  options: CompileOptions,
) => CheckFn;

export interface CompileOptions {
  /** Budget state computed beforehand from billing data; without it budget rules are not evaluated. */
  budgets?: BudgetGateOptions;
}

export interface CompiledRule {
  readonly node: RuleNode;
  readonly matchesType: ScopeMatcher;
  readonly check: CheckFn;
}

export interface CompiledPolicySet {
  /** A digest of the policy documents: the same set gives the same revision. */
  readonly revision: string;
  readonly rules: readonly CompiledRule[];
  readonly policyNames: readonly string[];
  evaluate(request: ResourceRequest): Decision;
}

const MAX_CACHED_TYPES = 4096;

/** Compiles validated policies once into plain closures; evaluation then does no I/O and compiles nothing. */
export function compilePolicySet(
  policies: readonly LoadedPolicy[],
  options: CompileOptions = {},
): CompiledPolicySet {
  const tree = buildRuleTree(policies);
  const rules = tree.map((node) => compileRule(node, options));
  const byType = new Map<string, readonly CompiledRule[]>();
  const rulesFor = (type: string): readonly CompiledRule[] => {
    let found = byType.get(type);
    if (found) return found;
    found = rules.filter((r) => r.matchesType(type));
    // Bounded, so a stream of made-up types cannot grow memory.
    if (byType.size < MAX_CACHED_TYPES) byType.set(type, found);
    return found;
  };
  const revision = createHash("sha256")
    .update(JSON.stringify(policies.map((p) => p.document)))
    .digest("hex")
    .slice(0, 12);

  return {
    revision,
    rules,
    policyNames: [...new Set(tree.map((r) => r.policy))],
    evaluate(request: ResourceRequest): Decision {
      const out = new Findings();
      const applicable = rulesFor(request.type);
      for (let i = 0; i < applicable.length; i++) {
        const rule = applicable[i]!;
        const ns = rule.node.namespace;
        if (ns !== undefined && !inNamespace(ns, request.namespace, request.tags)) continue;
        rule.check(request, out);
      }
      return out.toDecision();
    },
  };
}

function compileRule(node: RuleNode, options: CompileOptions): CompiledRule {
  const fns = node.checks.map((c) => compileCheck(c, node, options));
  const check: CheckFn =
    fns.length === 1
      ? fns[0]!
      : (request, out) => {
          for (let i = 0; i < fns.length; i++) fns[i]!(request, out);
        };
  return { node, matchesType: compileScope(node.scope), check };
}

function compileCheck(node: CheckNode, rule: RuleNode, options: CompileOptions): CheckFn {
  return (COMPILERS[node.kind] as NodeCompiler<CheckKind>)(node, rule, options);
}

function violation(
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

function unverified(rule: RuleNode, field: string, message: string): Unverified {
  return { policy: rule.policy, rule: rule.rule, field, message };
}

/** The guide prints lists the way Python does: ['a', 'b']. */
function pyList(values: readonly string[]): string {
  return `[${values.map((v) => `'${v}'`).join(", ")}]`;
}

const COMPILERS: { [K in CheckKind]: NodeCompiler<K> } = {
  max(node, rule) {
    const read = compileField(node.field);
    const { limit, noun, unit, field, constraint } = node;
    return (request, out) => {
      const actual = read(request as Record<string, unknown>);
      if (typeof actual !== "number") {
        out.addUnverified(
          unverified(rule, field, `${constraint} not checked: request has no numeric ${field}`),
        );
        return;
      }
      if (actual > limit) {
        const message =
          noun === "vCPUs"
            ? `Requested ${actual} vCPUs exceeds limit of ${limit}`
            : `Requested ${actual}${unit} ${noun} exceeds limit of ${limit}${unit}`;
        out.addViolation(violation(rule, request, field, actual, limit, message));
      }
    };
  },
  allowed(node, rule) {
    const read = compileField(node.field);
    const allowed = new Set(node.values);
    const { field, noun, constraint, values } = node;
    return (request, out) => {
      const actual = read(request as Record<string, unknown>);
      if (typeof actual !== "string") {
        out.addUnverified(unverified(rule, field, `${constraint} not checked: request has no ${field}`));
        return;
      }
      if (!allowed.has(actual)) {
        out.addViolation(
          violation(
            rule,
            request,
            field,
            actual,
            values,
            `${noun} '${actual}' is not in allowed values: ${pyList(values)}`,
          ),
        );
      }
    };
  },
  denied(node, rule) {
    const read = compileField(node.field);
    const denied = new Set(node.values);
    const { field, noun, constraint, values } = node;
    return (request, out) => {
      const actual = read(request as Record<string, unknown>);
      if (typeof actual !== "string") {
        out.addUnverified(unverified(rule, field, `${constraint} not checked: request has no ${field}`));
        return;
      }
      if (denied.has(actual)) {
        out.addViolation(
          violation(rule, request, field, actual, values, `${noun} '${actual}' is not allowed`),
        );
      }
    };
  },
  tag(node, rule) {
    const { tag, field } = node;
    const key = tag.key;
    const pattern = tag.pattern === undefined ? undefined : compilePattern(tag.pattern);
    const allowed = tag.allowedValues ? new Set(tag.allowedValues) : undefined;
    const { minLength, maxLength } = tag;
    return (request, out) => {
      const value = request.tags?.[key];
      if (typeof value !== "string") {
        out.addViolation(
          violation(rule, request, field, null, "present", `Required tag '${key}' is missing`),
        );
        return;
      }
      if (pattern && !pattern.test(value)) {
        out.addViolation(
          violation(
            rule,
            request,
            field,
            value,
            tag.pattern,
            `Tag '${key}' value '${value}' does not match required pattern`,
          ),
        );
      }
      if (allowed && !allowed.has(value)) {
        out.addViolation(
          violation(
            rule,
            request,
            field,
            value,
            tag.allowedValues,
            `Tag '${key}' value '${value}' is not in allowed values: ${pyList(tag.allowedValues!)}`,
          ),
        );
      }
      if (minLength !== undefined && value.length < minLength) {
        out.addViolation(
          violation(
            rule,
            request,
            field,
            value,
            { minLength },
            `Tag '${key}' value '${value}' is shorter than ${minLength} characters`,
          ),
        );
      }
      if (maxLength !== undefined && value.length > maxLength) {
        out.addViolation(
          violation(
            rule,
            request,
            field,
            value,
            { maxLength },
            `Tag '${key}' value is longer than ${maxLength} characters`,
          ),
        );
      }
    };
  },
  check(node, rule) {
    return compileFieldCheck(node, rule);
  },
  budget(node, rule, options) {
    const matches = compileRequestSelector(node.selector);
    const gate = options.budgets
      ? compileBudgetGate(options.budgets, {
          policy: rule.policy,
          rule: rule.rule,
          enforcement: rule.enforcement,
          denyOnForecastOverrun: node.denyOnForecastOverrun,
        })
      : null;
    const reason = options.budgets
      ? "budget not evaluated: the budget state has no figures for this rule"
      : "budget not evaluated: no billing data was given to this gate";
    return (request, out) => {
      if (!matches(request)) return;
      if (gate === null) {
        out.addNotEvaluated({ policy: rule.policy, rule: rule.rule, reason });
        return;
      }
      for (const f of gate(request)) {
        if (f.kind === "blocked" || f.kind === "forecast-overrun") {
          out.addViolation({
            ...violation(rule, request, f.field, f.actual, f.limit, f.message),
            enforcement: f.enforcement,
          });
        } else if (f.kind === "no-estimate") {
          out.addUnverified(unverified(rule, f.field, f.message));
        } else {
          out.addNotEvaluated({ policy: rule.policy, rule: rule.rule, reason: f.message });
        }
      }
    };
  },
};

function compileFieldCheck(node: Extract<CheckNode, { kind: "check" }>, rule: RuleNode): CheckFn {
  const read = compileField(node.field);
  const { field, op, value } = node;
  const fail = (request: ResourceRequest, out: Findings, actual: unknown, text: string) =>
    out.addViolation(violation(rule, request, field, actual ?? null, value ?? null, node.message ?? text));
  const missing = (out: Findings) =>
    out.addUnverified(unverified(rule, field, `check ${op} not applied: request has no ${field}`));
  const show = (v: unknown) => JSON.stringify(v);

  switch (op) {
    case "present":
      return (request, out) => {
        const actual = read(request as Record<string, unknown>);
        if (actual === undefined || actual === null) fail(request, out, actual, `${field} must be present`);
      };
    case "absent":
      return (request, out) => {
        const actual = read(request as Record<string, unknown>);
        if (actual !== undefined && actual !== null)
          fail(request, out, actual, `${field} must be absent, found ${show(actual)}`);
      };
    case "eq":
    case "ne": {
      const wantEqual = op === "eq";
      return (request, out) => {
        const actual = read(request as Record<string, unknown>);
        if (actual === undefined || actual === null) return missing(out);
        if ((actual === value) !== wantEqual) {
          fail(
            request,
            out,
            actual,
            `${field} is ${show(actual)}, must ${wantEqual ? "be" : "not be"} ${show(value)}`,
          );
        }
      };
    }
    case "in":
    case "not-in": {
      const set = new Set(value as unknown[]);
      const wantIn = op === "in";
      return (request, out) => {
        const actual = read(request as Record<string, unknown>);
        if (actual === undefined || actual === null) return missing(out);
        if (set.has(actual) !== wantIn) {
          fail(
            request,
            out,
            actual,
            `${field} is ${show(actual)}, must ${wantIn ? "be one of" : "not be one of"} ${show(value)}`,
          );
        }
      };
    }
    case "regex": {
      const pattern = compilePattern(value as string);
      return (request, out) => {
        const actual = read(request as Record<string, unknown>);
        if (actual === undefined || actual === null) return missing(out);
        if (typeof actual !== "string" || !pattern.test(actual)) {
          fail(request, out, actual, `${field} ${show(actual)} does not match ${show(value)}`);
        }
      };
    }
    case "lt":
    case "lte":
    case "gt":
    case "gte": {
      const limit = value as number;
      const passes =
        op === "lt"
          ? (a: number) => a < limit
          : op === "lte"
            ? (a: number) => a <= limit
            : op === "gt"
              ? (a: number) => a > limit
              : (a: number) => a >= limit;
      const words = { lt: "below", lte: "at most", gt: "above", gte: "at least" }[op];
      return (request, out) => {
        const actual = read(request as Record<string, unknown>);
        if (typeof actual !== "number") return missing(out);
        if (!passes(actual)) fail(request, out, actual, `${field} is ${actual}, must be ${words} ${limit}`);
      };
    }
  }
}
