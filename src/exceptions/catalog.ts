import { scopesOverlap } from "../engine/scope.js";
import { InputError } from "../errors.js";
import { closest } from "../policy/suggest.js";
import type { LoadedPolicy, PolicyType } from "../policy/types.js";
import { IDLE_POLICY, IDLE_RULE, ORPHAN_POLICY, ORPHAN_RULE } from "../scan/detectors.js";

/**
 * What an exception request is checked against: each loaded policy's type and rule names, and the
 * scanner's built-in detectors (no policy type: their findings are waived like any other).
 */
export type PolicyCatalog = ReadonlyMap<
  string,
  {
    type: PolicyType | null;
    rules: readonly string[];
    /** Each rule's resource types (`resource` or `scope`; undefined: every type), by rule name. */
    scopes?: ReadonlyMap<string, Scope>;
  }
>;

/** A rule's resource types as the policy writes them; undefined: every type. */
type Scope = string | readonly string[] | undefined;

export function policyCatalog(policies: readonly LoadedPolicy[]): PolicyCatalog {
  const out = new Map<string, { type: PolicyType | null; rules: string[]; scopes?: Map<string, Scope> }>([
    // The detectors' types are configurable (detectors.idle.types): not checked here.
    [IDLE_POLICY, { type: null, rules: [IDLE_RULE] }],
    [ORPHAN_POLICY, { type: null, rules: [ORPHAN_RULE] }],
  ]);
  for (const { document } of policies)
    out.set(document.metadata.name, {
      type: document.spec.type,
      rules: document.spec.rules.map((r) => r.name),
      scopes: new Map(
        document.spec.rules.map((r) => {
          const rule = r as { name: string; resource?: string | string[]; scope?: string | string[] };
          return [rule.name, rule.resource ?? rule.scope];
        }),
      ),
    });
  return out;
}

/**
 * Checks that a conditional exception's `--match-type` can meet a resource the waived rule (or any
 * rule of the policy) judges: one that cannot would waive nothing, as a misspelt name would.
 */
export function checkSelectorType(
  catalog: PolicyCatalog,
  policy: string,
  rule: string | undefined,
  type: string,
): void {
  const scopes = catalog.get(policy)?.scopes;
  if (scopes === undefined) return;
  const rules = rule === undefined ? [...scopes.keys()] : [rule];
  if (rules.some((r) => scopesOverlap(type, scopes.get(r)))) return;
  const judged = [...new Set(rules.flatMap((r) => [scopes.get(r) ?? "*"].flat()))];
  const hint = closest(type, judged);
  throw new InputError(
    `the selector's type ${type} selects no resource that ${rule === undefined ? `any rule of policy '${policy}'` : `rule '${policy}/${rule}'`} judges (${judged.join(", ")}${hint ? `; did you mean ${hint}?` : ""}): the exception would waive nothing`,
  );
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
