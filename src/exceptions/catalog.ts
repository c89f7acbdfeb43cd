import { InputError } from "../errors.js";
import { closest } from "../policy/suggest.js";
import type { LoadedPolicy, PolicyType } from "../policy/types.js";
import { IDLE_POLICY, IDLE_RULE, ORPHAN_POLICY, ORPHAN_RULE } from "../scan/detectors.js";

/**
 * What an exception request is checked against: each loaded policy's type and rule names, and the
 * scanner's built-in detectors (no policy type: their findings are waived like any other).
 */
export type PolicyCatalog = ReadonlyMap<string, { type: PolicyType | null; rules: readonly string[] }>;

export function policyCatalog(policies: readonly LoadedPolicy[]): PolicyCatalog {
  const out = new Map<string, { type: PolicyType | null; rules: string[] }>([
    [IDLE_POLICY, { type: null, rules: [IDLE_RULE] }],
    [ORPHAN_POLICY, { type: null, rules: [ORPHAN_RULE] }],
  ]);
  for (const { document } of policies)
    out.set(document.metadata.name, {
      type: document.spec.type,
      rules: document.spec.rules.map((r) => r.name),
    });
  return out;
}

/**
 * Checks that an exception names a policy and rule that exist (a typo would otherwise create an
 * exception that waives nothing) and returns the policy's type.
 */
export function resolvePolicy(
  catalog: PolicyCatalog,
  policy: string,
  rule: string | undefined,
): PolicyType | null {
  const entry = catalog.get(policy);
  if (!entry) {
    const hint = closest(policy, catalog.keys());
    throw new InputError(
      `policy '${policy}' is not among the loaded policies${hint ? ` (did you mean '${hint}'?)` : ""}; known: ${[...catalog.keys()].join(", ") || "none"}`,
    );
  }
  if (rule !== undefined && !entry.rules.includes(rule)) {
    const hint = closest(rule, entry.rules);
    throw new InputError(
      `policy '${policy}' has no rule '${rule}'${hint ? ` (did you mean '${hint}'?)` : ""}; its rules: ${entry.rules.join(", ")}`,
    );
  }
  return entry.type;
}
