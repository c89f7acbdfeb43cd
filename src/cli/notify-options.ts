import { existsSync } from "node:fs";
import { resolve } from "node:path";
import Database from "better-sqlite3";
import type { Command } from "commander";
import { loadNotifyConfig, NOTIFY_DEFAULTS, type NotifyConfig, STORE_OUTBOX } from "../notify/config.js";
import { type DeliveryResult, toRetry } from "../notify/deliver.js";
import { openOutbox } from "../notify/open-outbox.js";
import type { Outbox } from "../notify/sql-outbox.js";
import type { CliContext } from "./context.js";
import { configuredDatabase, upgradeNotice } from "./store-options.js";

export interface NotifyFlags {
  config?: string;
  outbox?: string;
  database?: string;
}

export function addNotifyConfigOptions(command: Command): Command {
  return command
    .option(
      "--config <file>",
      "config file with a notify: section (default ./costguard.yaml, or COSTGUARD_CONFIG)",
    )
    .option(
      "--outbox <path>",
      "SQLite file of the notification outbox (default .costguard/notify.db), or `store`: costguard's store, shared by every server using it",
    )
    .option(
      "--database <url>",
      "the store for --outbox store: a SQLite file or postgres:// URL (default COSTGUARD_DATABASE_URL, then database: in the configuration, else .costguard/costguard.db)",
    );
}

/** The configured outbox, opened (close it when done). */
export function openCliOutbox(
  config: NotifyConfig,
  flags: NotifyFlags,
  ctx: CliContext,
  /** For commands that only read: an outbox that is not there is an error, not made. */
  options: { existing?: boolean } = {},
): Promise<Outbox> {
  if (config.outbox === STORE_OUTBOX) warnLeftInFile(ctx);
  return openOutbox(
    config.outbox,
    { database: flags.database ?? configuredDatabase(ctx, flags.config), env: ctx.env, cwd: ctx.cwd },
    upgradeNotice(ctx, config.outbox === STORE_OUTBOX ? "the store" : "the notification outbox"),
    options,
  );
}

/**
 * Moving to `notify.outbox: store` does not carry over what waits in the default outbox file: say so
 * while anything does, rather than let it sit there unsent.
 */
function warnLeftInFile(ctx: CliContext): void {
  const file = resolve(ctx.cwd, NOTIFY_DEFAULTS.outbox);
  if (!existsSync(file)) return;
  let pending: number;
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      pending = (
        db.prepare("SELECT COUNT(*) AS n FROM notify_outbox WHERE status = 'pending'").get() as { n: number }
      ).n;
    } finally {
      db.close();
    }
  } catch {
    return; // not an outbox we can read: nothing to say about it
  }
  if (pending > 0)
    ctx.stderr.write(
      `costguard: warning: ${pending} ${pending === 1 ? "message waits" : "messages wait"} in the outbox file ${NOTIFY_DEFAULTS.outbox}, which the store's outbox does not deliver: \`costguard notify deliver --outbox ${NOTIFY_DEFAULTS.outbox}\` sends them\n`,
    );
}

export function notifyConfigFromCli(flags: NotifyFlags, ctx: CliContext): NotifyConfig {
  return loadNotifyConfig({
    cwd: ctx.cwd,
    env: ctx.env,
    file: flags.config,
    flags: { outbox: flags.outbox },
  });
}

/**
 * Why deliveries failed, the commonest first, with counts: "100 × no SMTP server configured (...)".
 * At most `most` reasons; the rest are counted ("2 other reasons (7 messages)"), but a single reason
 * left over is shown, not folded into a count that would take its line anyway.
 */
export function failureReasons(failed: DeliveryResult["failed"], most = 3): string {
  const counts = new Map<string, number>();
  for (const f of failed) counts.set(f.error, (counts.get(f.error) ?? 0) + 1);
  const sorted = [...counts].sort((a, b) => b[1] - a[1]);
  const shownCount = sorted.length > most + 1 ? most : sorted.length;
  const shown = sorted.slice(0, shownCount).map(([error, n]) => `${n} × ${error}`);
  const rest = sorted.slice(shownCount);
  if (rest.length > 0) {
    const messages = rest.reduce((sum, [, n]) => sum + n, 0);
    shown.push(
      `${rest.length} other ${rest.length === 1 ? "reason" : "reasons"} (${messages.toLocaleString("en-US")} ${messages === 1 ? "message" : "messages"})`,
    );
  }
  return shown.join("; ");
}

/**
 * The delivery's counts on stdout; on stderr a line per channel and reason that failed: the message's
 * id when it is one, how many when more (a digest's messages, or thousands waiting for a mail server
 * nobody configured, are one line, not a line each; `costguard notify list` names them).
 */
export function reportDelivery(result: DeliveryResult, ctx: CliContext): void {
  const lost = result.lost.length;
  ctx.stdout.write(
    `notifications: ${result.delivered} delivered, ${toRetry(result)} to retry${lost > 0 ? `, ${lost} taken over by another deliverer` : ""}\n`,
  );
  reportFailures(result.failed, ctx);
  reportSkipped(result.skipped, ctx);
  reportLost(result.lost, ctx);
}

/** On stderr, a line per channel whose messages were left untried (its receiver was down). */
export function reportSkipped(skipped: DeliveryResult["skipped"], ctx: CliContext): void {
  for (const { channel, error, count } of skipped)
    ctx.stderr.write(
      `costguard: ${channel}: ${error}; left due for the next run (${count.toLocaleString("en-US")} ${count === 1 ? "message" : "messages"})\n`,
    );
}

/**
 * Messages whose claim ran out mid-attempt (the process stalled, or the clock jumped): another
 * deliverer took them over and may have sent them too. Their outcome is that deliverer's to record.
 */
export function reportLost(lost: DeliveryResult["lost"], ctx: CliContext): void {
  const groups = new Map<string, DeliveryResult["lost"]>();
  for (const l of lost) {
    const key = `${l.channel}\u0000${l.outcome}`;
    const group = groups.get(key);
    if (group) group.push(l);
    else groups.set(key, [l]);
  }
  for (const group of groups.values()) {
    const { channel, outcome } = group[0]!;
    const which = group.length === 1 ? group[0]!.id : `${group.length.toLocaleString("en-US")} messages`;
    ctx.stderr.write(
      `costguard: warning: ${channel}: the lease on ${which} ran out before ${outcome === "delivered" ? "its delivery" : "its failure"} was recorded; another deliverer has claimed it since and records its own outcome (notify.retry.leaseSeconds is how long a claim holds)\n`,
    );
  }
}

/** On stderr, a line per channel and reason that failed (see reportDelivery). */
export function reportFailures(failed: DeliveryResult["failed"], ctx: CliContext): void {
  const groups = new Map<string, { first: DeliveryResult["failed"][number]; count: number; next: number }>();
  for (const f of failed) {
    const key = `${f.channel}\u0000${f.error}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, { first: f, count: 1, next: f.nextAttemptAt });
    else {
      group.count++;
      group.next = Math.min(group.next, f.nextAttemptAt);
    }
  }
  for (const { first, count, next } of groups.values()) {
    const which = count === 1 ? `(${first.id})` : `(${count.toLocaleString("en-US")} messages)`;
    ctx.stderr.write(
      `costguard: ${first.channel}: ${first.error}; retrying after ${new Date(next).toISOString()} ${which}\n`,
    );
  }
}
