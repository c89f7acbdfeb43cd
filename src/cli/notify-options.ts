import type { Command } from "commander";
import { loadNotifyConfig, type NotifyConfig } from "../notify/config.js";
import type { DeliveryResult } from "../notify/deliver.js";
import type { CliContext } from "./context.js";

export interface NotifyFlags {
  config?: string;
  outbox?: string;
}

export function addNotifyConfigOptions(command: Command): Command {
  return command
    .option(
      "--config <file>",
      "config file with a notify: section (default ./costguard.yaml, or COSTGUARD_CONFIG)",
    )
    .option("--outbox <path>", "SQLite file of the notification outbox (default .costguard/notify.db)");
}

export function notifyConfigFromCli(flags: NotifyFlags, ctx: CliContext): NotifyConfig {
  return loadNotifyConfig({
    cwd: ctx.cwd,
    env: ctx.env,
    file: flags.config,
    flags: { outbox: flags.outbox },
  });
}

export function reportDelivery(result: DeliveryResult, ctx: CliContext): void {
  ctx.stdout.write(`notifications: ${result.delivered} delivered, ${result.failed.length} to retry\n`);
  for (const f of result.failed) {
    ctx.stderr.write(
      `costguard: ${f.channel}: ${f.error}; retrying after ${new Date(f.nextAttemptAt).toISOString()} (${f.id})\n`,
    );
  }
}
