import { InputError, type PolicyProblem, PolicyValidationError } from "../errors.js";
import { checkPolicySet } from "./check-set.js";
import { policySchemaValidator } from "./schema.js";
import { schemaProblems } from "./schema-problems.js";
import type { LoadedPolicy, PolicySource } from "./types.js";

/** Documents the loader has checked against the schema: compilePolicySet does not check them again. */
const checked = new WeakSet<object>();

export function markValidated<T extends object>(document: T): T {
  checked.add(document);
  return document;
}

/** What a value is, for a message: `null`, `a string`, `an array`. */
export function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return "an array";
  const t = typeof value;
  return `${t === "object" || t === "undefined" ? "an" : "a"} ${t}`;
}

/**
 * Checks what a library caller gave compilePolicySet: an array of loaded policies (`{document,
 * source}`, as loadPolicies returns). Documents the loader did not read are checked as it checks them
 * (schema, then the set's own rules), so a hand-built set fails with the problems, not a TypeError.
 */
export function checkLoadedPolicies(policies: unknown): readonly LoadedPolicy[] {
  if (!Array.isArray(policies))
    throw new InputError(
      `compilePolicySet takes an array of loaded policies (loadPolicies(paths).policies), got ${kindOf(policies)}`,
    );
  let unchecked = false;
  policies.forEach((p: unknown, i) => {
    const document = p !== null && typeof p === "object" ? (p as { document?: unknown }).document : undefined;
    if (document === null || typeof document !== "object" || Array.isArray(document)) {
      const raw = p !== null && typeof p === "object" && "spec" in p && "kind" in p;
      throw new InputError(
        raw
          ? `policies[${i}] is a policy document, not a loaded policy: load files with loadPolicies(paths), or give {document, source}`
          : `policies[${i}] is not a loaded policy ({document, source}, as loadPolicies returns): got ${kindOf(p)}${p !== null && typeof p === "object" ? " without a document" : ""}`,
      );
    }
    if (!checked.has(document)) unchecked = true;
  });
  if (!unchecked) return policies as LoadedPolicy[];
  const validate = policySchemaValidator();
  const problems: PolicyProblem[] = [];
  const loaded = policies.map((p: { document: object; source?: unknown }, i): LoadedPolicy => {
    const source = sourceOf(p.source, i);
    if (!checked.has(p.document) && !validate(p.document))
      problems.push(...schemaProblems(validate.errors ?? [], source));
    return { document: p.document as LoadedPolicy["document"], source };
  });
  if (problems.some((p) => p.severity === "error")) throw new PolicyValidationError(problems);
  const setProblems = checkPolicySet(loaded);
  if (setProblems.some((p) => p.severity === "error")) throw new PolicyValidationError(setProblems);
  return policies as LoadedPolicy[];
}

/** The policy's own source when it has a usable one; else one naming its place in the array. */
function sourceOf(value: unknown, index: number): PolicySource {
  const s = value as Partial<PolicySource> | null | undefined;
  if (s && typeof s === "object" && typeof s.file === "string" && typeof s.locate === "function")
    return s as PolicySource;
  return { file: `policies[${index}]`, index, locate: () => ({ line: 0, column: 0 }) };
}
