import { existsSync } from "node:fs";
import type { Command } from "commander";
import type { DecisionAnnotator } from "../decide/decider.js";
import { createExceptionAnnotator } from "../exceptions/annotator.js";
import { buildExceptionIndex } from "../exceptions/match.js";
import { DATABASE_URL_ENV, openStore } from "../store/open.js";
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
      "where approved exceptions are kept (default: $COSTGUARD_DATABASE_URL, then database: in ./costguard.yaml, else ./.costguard/costguard.db when it exists)",
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
  if (opts.exceptions === false) return undefined;
  const fromConfig = opts.database === undefined ? configuredDatabase(ctx) : undefined;
  const location = storeLocation(opts.database, ctx, fromConfig);
  const configured =
    opts.database !== undefined || Boolean(ctx.env[DATABASE_URL_ENV]) || fromConfig !== undefined;
  if (!configured && location.kind === "sqlite" && !existsSync(location.path)) return undefined;
  const store = await openStore(location, clock(), upgradeNotice(ctx));
  try {
    const index = buildExceptionIndex(await store.exceptions.list({ status: "approved" }));
    return index.size > 0 ? createExceptionAnnotator(index, clock) : undefined;
  } finally {
    await store.close();
  }
}
