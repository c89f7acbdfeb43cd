import { configFilePath, loadConfig } from "../config/load.js";
import { formatProblem, InputError } from "../errors.js";
import { loadPolicies } from "../policy/load.js";
import type { LoadedPolicy } from "../policy/types.js";
import type { CliContext } from "./context.js";

/** --policies' help, for the commands that read policies alone (remediate and run: workspace.ts). */
export const POLICIES_OPTION_HELP =
  "policy file or folder (repeatable, or comma-separated; default: policies: in costguard.yaml)";

/**
 * The policy paths a command reads: `--policies`, else `policies:` in the configuration (`configFile`,
 * else COSTGUARD_CONFIG, else ./costguard.yaml), as `remediate` and `run` read them: a configuration
 * that names the policies serves every command, not two of them.
 */
export function policyPaths(
  paths: readonly string[] | undefined,
  ctx: CliContext,
  configFile?: string,
  /** How the command takes them, for the error: `validate PATH...` takes no --policies. */
  asked = "--policies PATH",
): readonly string[] {
  if (paths && paths.length > 0) return paths;
  const config = loadConfig({ flag: configFile, env: ctx.env, cwd: ctx.cwd });
  if (config.policies.length > 0) return config.policies;
  throw new InputError(noPoliciesText(config.file, asked));
}

/** The configuration's `policies:` (COSTGUARD_CONFIG, else ./costguard.yaml); undefined for none. */
export function configuredPolicies(ctx: CliContext): string[] | undefined {
  const { policies } = loadConfig({ env: ctx.env, cwd: ctx.cwd });
  return policies.length > 0 ? policies : undefined;
}

/** Neither --policies nor the configuration (`file`, null for none found) names any policies. */
export function noPoliciesText(file: string | null, asked = "--policies PATH"): string {
  return file === null
    ? `${asked} is required (a policy file or folder), or policies: in costguard.yaml`
    : `${asked} is required: ${file} names no policies (policies: a file or folder)`;
}

/**
 * The configuration file in use (`configFile`, else COSTGUARD_CONFIG, else ./costguard.yaml), which a
 * policy folder holding it does not read as a policy (`policies: .`, or `--policies .` beside it).
 * Undefined for none, and when finding it fails: a command that reads the configuration says why.
 */
export function configInUse(ctx: CliContext, configFile?: string): string | undefined {
  try {
    return configFilePath({ flag: configFile, env: ctx.env, cwd: ctx.cwd });
  } catch {
    return undefined;
  }
}

/** Loads `--policies` (repeatable; else the configuration's), printing warnings to stderr. */
export function loadPoliciesForCli(
  paths: readonly string[] | undefined,
  ctx: CliContext,
  configFile?: string,
): LoadedPolicy[] {
  const { policies, warnings } = loadPolicies(policyPaths(paths, ctx, configFile), {
    skip: configInUse(ctx, configFile),
  });
  for (const w of warnings) ctx.stderr.write(`${formatProblem(w)}\n`);
  return policies;
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
