import { printable } from "../cli/table.js";
import type { Decider } from "../decide/decider.js";
import { nearTypeText } from "../decide/request-guard.js";
import { compilePolicySet } from "../engine/compile.js";
import type { Decision } from "../engine/types.js";
import { formatProblem, InputError, type PolicyProblem } from "../errors.js";
import { loadPolicies } from "../policy/load.js";
import type { PriceBook } from "../pricing/book.js";
import { loadPriceBook } from "../pricing/load.js";
import { createPricedDecider } from "../pricing/priced-decider.js";
import type { ExpectedViolation, TestCase, TestSuite } from "./suite.js";

/** A suite's results, and what was found that changes no result but should be said (as evaluate says it). */
export interface SuiteRun {
  results: CaseResult[];
  /** Its policies' warnings, and cases whose request type seems misspelt. */
  warnings: PolicyProblem[];
}

export interface CaseResult {
  suite: string;
  name: string;
  passed: boolean;
  /** Why it failed: expected against actual, one line each. */
  differences: string[];
  decision?: Decision;
}

/**
 * Runs every case of a suite against its policies, compiled once, through the decider `evaluate`
 * uses: the price book fills specs from `instance_type` and estimates the cost `maxMonthlyCost`
 * rules judge (the engine alone saw neither, so a suite passed requests every gate denies). No
 * billing data and no stored exceptions: a suite's outcome is the policies' and the book's alone,
 * the same on every machine (budget rules are listed under not_evaluated, as evaluate lists them
 * without --billing). `skip` is the configuration file in use, which a policy folder holding it does
 * not read as a policy (`policies: [.]` beside costguard.yaml), as every command's --policies.
 */
export function runSuite(
  suite: TestSuite,
  book: PriceBook = loadPriceBook(),
  options: { skip?: string | undefined } = {},
): SuiteRun {
  let decider: Decider;
  let warnings: PolicyProblem[];
  try {
    const loaded = loadPolicies(suite.policies, { skip: options.skip });
    warnings = loaded.warnings;
    decider = createPricedDecider(compilePolicySet(loaded.policies), book);
  } catch (err) {
    throw new InputError(`${suite.file}: cannot load its policies: ${(err as Error).message}`);
  }
  refuseMisspeltSpecs(decider, suite);
  return {
    results: suite.cases.map((c) => runCase(decider, suite.file, c)),
    warnings: [...warnings, ...nearTypeWarnings(decider, suite)],
  };
}

/**
 * A case whose request type seems to misspell one (`compute/instnace`) is decided, as evaluate
 * decides it, but the rules for the type meant did not apply: a case expecting allow would pass in
 * silence. Said as evaluate says it, where the case is.
 */
function nearTypeWarnings(decider: Decider, suite: TestSuite): PolicyProblem[] {
  const { guard } = decider;
  if (guard === undefined) return [];
  return suite.cases.flatMap((c) => {
    const near = guard.nearType(c.request.type);
    if (near === undefined) return [];
    const message = `case "${printable(c.name)}": ${nearTypeText(c.request.type, near)}`;
    return [{ ...c.at, message, severity: "warning" as const }];
  });
}

/**
 * Every case whose request the gates would refuse — a spec one edit from one the policies or the
 * price book read (`specs.vcpu` beside a `maxVCPUs` limit) — said where it is, before any case runs:
 * the suite is malformed, as for a request parseRequest refuses, not a failed case.
 */
function refuseMisspeltSpecs(decider: Decider, suite: TestSuite): void {
  const { guard } = decider;
  if (guard === undefined) return;
  const problems: string[] = [];
  for (const c of suite.cases) {
    const why = guard.refusal(c.request);
    if (why !== undefined)
      problems.push(
        formatProblem({ ...c.at, message: `${c.label} is not valid: ${why}`, severity: "error" }),
      );
  }
  if (problems.length > 0)
    throw new InputError(`test suite ${suite.file} is not valid:\n${problems.join("\n")}`, problems);
}

function runCase(decider: Decider, file: string, c: TestCase): CaseResult {
  // The request was checked when the suite was read (a bad one is a malformed suite, not a failure).
  const decision = decider.decide(c.request);
  const differences: string[] = [];
  if (decision.decision !== c.expect.decision) {
    differences.push(`decision: expected ${c.expect.decision}, got ${decision.decision}`);
  }
  if (c.expect.violations !== undefined) {
    const expected = pairSet(c.expect.violations);
    const actual = pairSet(decision.violations);
    const missing = [...expected].filter((p) => !actual.has(p));
    const unexpected = [...actual].filter((p) => !expected.has(p));
    if (missing.length > 0 || unexpected.length > 0) {
      differences.push(
        `violations: expected [${[...expected].sort().join(", ")}], got [${[...actual].sort().join(", ")}]`,
      );
      if (missing.length) differences.push(`  missing:    ${missing.join(", ")}`);
      if (unexpected.length) differences.push(`  unexpected: ${unexpected.join(", ")}`);
    }
  }
  if (c.expect.count !== undefined && decision.violations.length !== c.expect.count) {
    differences.push(`count: expected ${c.expect.count} violations, got ${decision.violations.length}`);
  }
  return { suite: file, name: c.name, passed: differences.length === 0, differences, decision };
}

function pairSet(violations: readonly ExpectedViolation[]): Set<string> {
  return new Set(violations.map((v) => `${v.policy}/${v.rule}`));
}
