import type { Command } from "commander";
import { type CostguardConfig, loadConfig } from "../config/load.js";
import { formatProblem, InputError } from "../errors.js";
import { loadPolicies } from "../policy/load.js";
import type { LoadedPolicy } from "../policy/types.js";
import { type DatabaseLocation, openExistingStore, openStore } from "../store/open.js";
import type { Store } from "../store/store.js";
import type { Clock } from "../time/clock.js";
import { checkUserName } from "../users.js";
import { parseAt } from "./clock.js";
import type { CliContext } from "./context.js";
import { collect } from "./policy-options.js";
import { storeLocation, upgradeNotice } from "./store-options.js";
import { printable } from "./table.js";

/** The options every stateful command shares: configuration, database, policies and the time. */
export interface WorkspaceOptions {
  config?: string;
  database?: string;
  policies?: string[];
  at?: string;
}

/** --config and --database: where the configuration and the store are. */
export function addStoreOptions(cmd: Command): Command {
  return cmd
    .option("--config <path>", "configuration file (default ./costguard.yaml, or COSTGUARD_CONFIG)")
    .option(
      "--database <url>",
      "SQLite file or postgres:// URL (default: COSTGUARD_DATABASE_URL, then the configuration, then ./.costguard/costguard.db)",
    );
}

export function addWorkspaceOptions(cmd: Command, with_: { policies?: boolean } = {}): Command {
  addStoreOptions(cmd).option(
    "--at <time>",
    "act as if it were this time (ISO 8601), for replays and what-ifs",
  );
  if (with_.policies !== false)
    cmd.option(
      "-p, --policies <path>",
      "policy file or folder (repeatable; default: policies in the configuration)",
      collect,
    );
  return cmd;
}

export function workspaceConfig(opts: WorkspaceOptions, ctx: CliContext): CostguardConfig {
  return loadConfig({ flag: opts.config, env: ctx.env, cwd: ctx.cwd });
}

/** `--at` if given, else the context's clock (tests), else the system clock. */
export function workspaceClock(opts: WorkspaceOptions, ctx: CliContext): Clock {
  if (opts.at !== undefined) {
    const ms = parseAt(opts.at).getTime();
    return () => new Date(ms);
  }
  const now = ctx.now;
  return now ? () => new Date(now()) : () => new Date();
}

/**
 * Opens the store (flag > COSTGUARD_DATABASE_URL > configuration > default), runs `fn`, closes it.
 * `existing`: for commands that only read, a database holding no store is refused (saying what
 * `creates` one) rather than made one, and one this user may not write is read as it is — unless
 * the command `writes` (one that must not make a store, such as findings prune).
 */
export async function withStore<T>(
  opts: WorkspaceOptions,
  config: CostguardConfig,
  ctx: CliContext,
  fn: (store: Store) => Promise<T>,
  options: { existing?: boolean; creates?: string; writes?: boolean } = {},
): Promise<T> {
  const location = workspaceLocation(opts, config, ctx);
  const store = options.existing
    ? await openExistingStore(location, upgradeNotice(ctx), options.creates, {
        writes: options.writes === true,
      })
    : await openStore(location, undefined, upgradeNotice(ctx));
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

/** `--policies`, else the configuration's `policies`; undefined when neither names any. */
export function workspacePolicies(
  opts: WorkspaceOptions,
  config: CostguardConfig,
  ctx: CliContext,
): LoadedPolicy[] | undefined {
  const paths = opts.policies?.length ? opts.policies : config.policies;
  if (paths.length === 0) return undefined;
  const { policies, warnings } = loadPolicies(paths, { skip: config.file ?? undefined });
  for (const w of warnings) ctx.stderr.write(`${formatProblem(w)}\n`);
  warnUnknownOverrides(config, policies, ctx);
  return policies;
}

/**
 * A per-policy approver override naming no loaded policy (a misspelt name) would leave that policy to
 * its type's approvers without a word: said on stderr. A warning, not an error: the policies loaded
 * may be a part of those the configuration serves.
 */
function warnUnknownOverrides(
  config: CostguardConfig,
  policies: readonly LoadedPolicy[],
  ctx: CliContext,
): void {
  const names = new Set(policies.map((p) => p.document.metadata.name));
  const unknown = Object.keys(config.exceptions.approvers.policies).filter((name) => !names.has(name));
  if (unknown.length > 0)
    ctx.stderr.write(
      `costguard: warning: exceptions.approvers.policies names ${unknown.map((n) => `'${printable(n)}'`).join(", ")}, which no loaded policy is: ${unknown.length === 1 ? "its" : "their"} approvers apply to nothing (loaded: ${[...names].sort().join(", ")})\n`,
    );
}

/** The acting user: `--as USER`, else COSTGUARD_USER. */
export function actingUser(as: string | undefined, ctx: CliContext): string {
  const user = (as ?? ctx.env.COSTGUARD_USER ?? "").trim();
  if (user === "") throw new InputError("say who is acting: --as USER (or set COSTGUARD_USER)");
  return checkUserName(user, as !== undefined ? "--as" : "COSTGUARD_USER");
}

/**
 * withStore for commands that read what is stored: a SQLite file that does not exist is an error (a
 * typo in --database, or the wrong folder), not a new empty store; one this user may not write is
 * read as it is, unless the command `writes` (prune, compact: those say it is read-only).
 */
export function withExistingStore<T>(
  opts: WorkspaceOptions,
  ctx: CliContext,
  fn: (store: Store) => Promise<T>,
  options: { creates?: string; writes?: boolean } = {},
): Promise<T> {
  return withStore(opts, workspaceConfig(opts, ctx), ctx, fn, { existing: true, ...options });
}

/** Where the store is: --database, else COSTGUARD_DATABASE_URL, else the configuration, else the default. */
function workspaceLocation(
  opts: WorkspaceOptions,
  config: CostguardConfig,
  ctx: CliContext,
): DatabaseLocation {
  return storeLocation(opts.database, ctx, config.database);
}
