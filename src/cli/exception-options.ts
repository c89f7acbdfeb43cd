import { existsSync } from "node:fs";
import type { Command } from "commander";
import type { DecisionAnnotator } from "../decide/decider.js";
import { InputError } from "../errors.js";
import { createExceptionAnnotator } from "../exceptions/annotator.js";
import { buildExceptionIndex } from "../exceptions/match.js";
import type { PolicyException } from "../exceptions/types.js";
import { openStore } from "../store/open.js";
import type { Clock } from "../time/clock.js";
import type { CliContext } from "./context.js";
import { configuredDatabase, storeLocation, upgradeNotice } from "./store-options.js";

export interface ExceptionGateOptions {
  database?: string;
  exceptions?: boolean;
}

/** `--database` and `--no-exceptions` for gates that honour approved exceptions. */
export function addExceptionGateOptions(command: Command): Command {
  return command
    .option(
      "--database <url>",
      "where approved exceptions are kept, a store that exists (default: $COSTGUARD_DATABASE_URL, then database: in ./costguard.yaml, else ./.costguard/costguard.db when it exists)",
    )
    .option("--no-exceptions", "decide without approved exceptions");
}

/**
 * The engine path of exceptions for a gate: the approved exceptions in the store, as an annotator
 * (put it last). A gate never creates a database: with none configured and no default file, there
 * are no exceptions to honour.
 */
export async function exceptionAnnotatorFromCli(
  opts: ExceptionGateOptions,
  ctx: CliContext,
  clock: Clock,
): Promise<DecisionAnnotator | undefined> {
  const index = buildExceptionIndex(await approvedExceptionsFromCli(opts, ctx));
  return index.size > 0 ? createExceptionAnnotator(index, clock) : undefined;
}

/**
 * The approved exceptions, for a command that stores nothing: from the configured store; none with
 * `--no-exceptions`, or when the SQLite file configured (or the default) does not exist yet — reading
 * never creates a database; a `--database` file that does not exist is an error.
 */
export async function approvedExceptionsFromCli(
  opts: ExceptionGateOptions,
  ctx: CliContext,
): Promise<PolicyException[]> {
  if (opts.exceptions === false) return [];
  const fromConfig = opts.database === undefined ? configuredDatabase(ctx) : undefined;
  const location = storeLocation(opts.database, ctx, fromConfig);
  if (location.kind === "sqlite" && location.path !== ":memory:" && !existsSync(location.path)) {
    // Named on the command line, a store that is not there is a slip (a typo, the wrong folder): said,
    // not read as a store without exceptions. The default or a configured one not made yet has none.
    if (opts.database !== undefined)
      throw new InputError(
        `no store at ${location.path}: approved exceptions are read from an existing store (--no-exceptions: decide without them)`,
      );
    return [];
  }
  // Migrations are stamped with the real time, not a command's --at (as openCliStore does).
  // Read only: a store this user may not write (another user's) is read as it is.
  const store = await openStore(location, new Date(), upgradeNotice(ctx), { readOnly: true });
  try {
    return await store.exceptions.list({ status: "approved" });
  } finally {
    await store.close();
  }
}
