import { dirname, join, resolve } from "node:path";
import { loadConfig } from "../config/load.js";
import type { Migration } from "../store/migrate.js";
import {
  DATABASE_URL_ENV,
  type DatabaseLocation,
  DEFAULT_DATABASE_PATH,
  openStore,
  resolveDatabase,
} from "../store/open.js";
import type { Store } from "../store/store.js";
import type { CliContext } from "./context.js";

export const DATABASE_OPTION_HELP =
  "database: a SQLite file path or postgres:// URL (default: $COSTGUARD_DATABASE_URL, then database: in the configuration, else ./.costguard/costguard.db)";

/**
 * Where the store is, for every command: --database, else COSTGUARD_DATABASE_URL, else `database:` in
 * the configuration (`configured`), else the default file. One order everywhere: a scan writing where
 * `findings list` does not read, or a gate honouring the exceptions of another store than the one
 * they were approved in, would be wrong without a word.
 */
export function storeLocation(
  flag: string | undefined,
  ctx: CliContext,
  configured: string | undefined,
): DatabaseLocation {
  const chosen = flag ?? (ctx.env[DATABASE_URL_ENV] ? undefined : configured);
  return resolveDatabase({ flag: chosen, env: ctx.env, cwd: ctx.cwd });
}

/** storeLocation for a command that has not read the configuration: read here only when needed. */
export function databaseLocation(
  flag: string | undefined,
  ctx: CliContext,
  configFile?: string,
): DatabaseLocation {
  return storeLocation(flag, ctx, flag === undefined ? configuredDatabase(ctx, configFile) : undefined);
}

/**
 * The configuration's `database:` (`configFile`, else COSTGUARD_CONFIG, else ./costguard.yaml when it
 * exists) when COSTGUARD_DATABASE_URL does not name a store first.
 */
export function configuredDatabase(ctx: CliContext, configFile?: string): string | undefined {
  if (ctx.env[DATABASE_URL_ENV]) return undefined;
  return loadConfig({ flag: configFile, env: ctx.env, cwd: ctx.cwd }).database;
}

/**
 * Opens (creating on first use) and migrates the configured store. Migrations are stamped with the
 * real time, not a command's `--at` (a replay's clock is not when the schema changed).
 */
export function openCliStore(flag: string | undefined, ctx: CliContext): Promise<Store> {
  return openStore(databaseLocation(flag, ctx), new Date(), upgradeNotice(ctx));
}

/**
 * One line on stderr per migration an existing database gets: an upgrade of a big store takes a while.
 * `what` names the database (the store, or the notification outbox's own file).
 */
export function upgradeNotice(ctx: CliContext, what = "the store"): (m: Migration) => void {
  return (m) => ctx.stderr.write(`costguard: upgrading ${what}: ${m.id} (${m.description})…\n`);
}

/** A folder for files costguard writes beside its data: the SQLite file's folder, else ./.costguard. */
export function dataFolder(location: DatabaseLocation, ctx: CliContext): string {
  if (location.kind === "sqlite" && location.path !== ":memory:") return dirname(location.path);
  return resolve(ctx.cwd, dirname(DEFAULT_DATABASE_PATH));
}

export function defaultBillingPath(location: DatabaseLocation, ctx: CliContext): string {
  return join(dataFolder(location, ctx), "sandbox-focus-billing.csv");
}
