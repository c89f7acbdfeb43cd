import { type CompiledPolicySet, type CompileOptions, compilePolicySet } from "../engine/compile.js";
import { formatProblem, InputError } from "../errors.js";
import { loadPolicies } from "../policy/load.js";
import type { LoadedPolicy } from "../policy/types.js";
import type { CliContext } from "./context.js";

/** Loads `--policies` (repeatable), printing warnings to stderr. */
export function loadPoliciesForCli(paths: readonly string[] | undefined, ctx: CliContext): LoadedPolicy[] {
  if (!paths || paths.length === 0)
    throw new InputError("--policies PATH is required (a policy file or folder)");
  const { policies, warnings } = loadPolicies(paths);
  for (const w of warnings) ctx.stderr.write(`${formatProblem(w)}\n`);
  return policies;
}

/** Loads and compiles `--policies` (repeatable), printing warnings to stderr. */
export function loadPolicySetForCli(
  paths: readonly string[] | undefined,
  ctx: CliContext,
  options: CompileOptions = {},
): CompiledPolicySet {
  return compilePolicySet(loadPoliciesForCli(paths, ctx), options);
}

/**
 * A repeatable option's values, comma-separated ones split, each without the spaces around it
 * (`-p "tags.yaml, limits.yaml"` is two files, not one named " limits.yaml").
 */
export function collect(value: string, previous: string[] = []): string[] {
  const parts = value
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
  // Nothing in it (`--region ""`): kept as an empty value, which is refused before the command runs.
  return [...previous, ...(parts.length > 0 ? parts : [""])];
}

/**
 * The files a command read besides its main input, for refuseOverwrite: each policy file, price
 * book, billing export and budget state given.
 */
export function inputFiles(
  policies: readonly LoadedPolicy[],
  opts: { priceBook?: readonly string[]; billing?: string; budgetState?: string },
): { path: string; what: string }[] {
  return [
    ...[...new Set(policies.map((p) => p.source.file))].map((path) => ({ path, what: "a policy file read" })),
    ...(opts.priceBook ?? []).map((path) => ({ path, what: "a price book read" })),
    ...(opts.billing ? [{ path: opts.billing, what: "the billing export read" }] : []),
    ...(opts.budgetState ? [{ path: opts.budgetState, what: "the budget state read" }] : []),
  ];
}
