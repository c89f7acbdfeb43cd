import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type CompiledPolicySet, compilePolicySet } from "../../src/engine/compile.js";
import type { PolicyProblem } from "../../src/errors.js";
import { readPolicies } from "../../src/policy/load.js";

/** Writes policy text to a fresh temp file and returns its path. */
export function writeTemp(text: string, name = "policy.yaml"): string {
  const dir = mkdtempSync(join(tmpdir(), "costguard-test-"));
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** Loads YAML text as policies; returns the problems (errors and warnings) found. */
export function problemsOf(text: string, name?: string): PolicyProblem[] {
  return readPolicies([writeTemp(text, name)]).problems;
}

/** Compiles YAML text that must be valid. */
export function compileYaml(text: string): CompiledPolicySet {
  const result = readPolicies([writeTemp(text)]);
  const errors = result.problems.filter((p) => p.severity === "error");
  if (errors.length > 0)
    throw new Error(`test policy is invalid: ${errors.map((e) => e.message).join("; ")}`);
  return compilePolicySet(result.policies);
}

/** A ResourceLimit policy around one rule body (indented YAML for the rule's keys). */
export function resourceLimit(ruleBody: string, specExtra = ""): string {
  return `apiVersion: costguard.dev/v1
kind: CostPolicy
metadata:
  name: limits
spec:
  type: ResourceLimit
${specExtra}  rules:
    - name: r
${ruleBody}`;
}
