import { existsSync } from "node:fs";
import type { Command } from "commander";
import { InputError } from "../../errors.js";
import { channelProblem, parseChannel, resolveChannel } from "../../notify/channels.js";
import { STORE_OUTBOX } from "../../notify/config.js";
import { deliverDue } from "../../notify/deliver.js";
import type { OutboxStatus } from "../../notify/types.js";
import { openStore, resolveDatabase } from "../../store/open.js";
import { addAtOption, resolveAt } from "../budget-options.js";
import { refuseNotifyingAhead } from "../clock.js";
import type { CliContext } from "../context.js";
import { CliExit, EXIT } from "../exit.js";
import {
  addNotifyConfigOptions,
  type NotifyFlags,
  notifyConfigFromCli,
  openCliOutbox,
  reportDelivery,
} from "../notify-options.js";
import { configuredDatabase, upgradeNotice } from "../store-options.js";
import { renderTable, useColor } from "../table.js";
import { actingUser } from "../workspace.js";

export function registerNotify(program: Command, ctx: CliContext): void {
  const notify = program
    .command("notify")
    .description(
      "the notification outbox: deliver what is due, list messages, send a test message, cancel messages",
    )
    .addHelpText(
      "after",
      `
Every notification (budget alerts, later scan and remediation events) is written to a durable outbox
first, then delivered with retries and backoff until its receiver takes it. Channels: slack:#channel,
email:address, webhook:NAME, resolved through the notify: section of the config (docs/notifications.md).

Examples:
  costguard notify deliver                      # run from cron or a loop: sends what is due
  costguard notify list --status pending
  costguard notify list --limit 500
  costguard notify send slack:#finops --text "hello from costguard"
  costguard notify cancel ID --as alice --reason "mailbox deleted"   # never sent, no longer retried`,
    );

  addAtOption(
    addNotifyConfigOptions(notify.command("deliver").description("send every message that is due")),
  ).action(async (opts: NotifyFlags & { at?: string }) => {
    const config = notifyConfigFromCli(opts, ctx);
    const at = opts.at === undefined ? undefined : resolveAt(opts.at, ctx);
    if (at !== undefined) refuseNotifyingAhead(at, opts.at, ctx.now?.() ?? Date.now(), "deliver");
    // No outbox file yet: nothing to deliver, and none is made (a mistyped --outbox would otherwise
    // be a new empty outbox, delivered from forever while the real one fills up): said, exit 0.
    if (config.outbox !== STORE_OUTBOX && config.outbox !== ":memory:" && !existsSync(config.outbox)) {
      ctx.stdout.write("notifications: 0 delivered, 0 to retry\n");
      ctx.stderr.write(
        `costguard: no notification outbox at ${config.outbox} yet: nothing to deliver (the first notification queued makes it; check --outbox or notify.outbox if one should be there)\n`,
      );
      return;
    }
    const outbox = await openCliOutbox(config, opts, ctx);
    try {
      const result = await deliverDue({ outbox, config, now: () => at ?? ctx.now?.() ?? Date.now() });
      reportDelivery(result, ctx);
      // Nothing was due: "0 delivered, 0 to retry" alone reads as an empty outbox when messages wait.
      if (result.attempted === 0) {
        const waiting = await outbox.count({ status: "pending" });
        if (waiting > 0)
          ctx.stdout.write(
            `${waiting.toLocaleString("en-US")} ${waiting === 1 ? "message waits" : "messages wait"} to be tried again later, none due yet (costguard notify list --status pending says when)\n`,
          );
      }
      if (result.failed.length > 0) throw new CliExit(EXIT.denied);
    } finally {
      await outbox.close();
    }
  });

  addNotifyConfigOptions(
    notify
      .command("list")
      .description("list outbox messages")
      .option("--status <status>", "pending, delivered or cancelled")
      .option(
        "--limit <n>",
        "at most this many, oldest first, 0 for every one (default: 50 for table, every one for json)",
      )
      .option("--format <format>", "table or json", "table"),
  ).action(async (opts: NotifyFlags & { status?: string; format: string; limit?: string }) => {
    if (opts.status !== undefined && !["pending", "delivered", "cancelled"].includes(opts.status))
      throw new InputError(`--status must be pending, delivered or cancelled, got ${opts.status}`);
    if (opts.format !== "table" && opts.format !== "json")
      throw new InputError(`--format must be table or json, got ${opts.format}`);
    if (opts.limit !== undefined && !/^(0|[1-9][0-9]{0,8})$/.test(opts.limit))
      throw new InputError(
        `--limit must be a whole number up to 999,999,999 (0: every one), got ${opts.limit}`,
      );
    // 0 is every one, as for findings, scans and remediate.
    const limit =
      opts.limit !== undefined ? Number(opts.limit) || undefined : opts.format === "table" ? 50 : undefined;
    const config = notifyConfigFromCli(opts, ctx);
    const outbox = await openCliOutbox(config, opts, ctx, { existing: true });
    try {
      const status = opts.status ? { status: opts.status as OutboxStatus } : {};
      const entries = await outbox.list({ ...status, ...(limit !== undefined ? { limit } : {}) });
      if (opts.format === "json") {
        ctx.stdout.write(`${JSON.stringify(entries, null, 2)}\n`);
        return;
      }
      const total =
        entries.length < (limit ?? Number.POSITIVE_INFINITY) ? entries.length : await outbox.count(status);
      const what = `${opts.status ? `${opts.status} ` : ""}message${total === 1 ? "" : "s"}`;
      if (total === 0) {
        ctx.stdout.write(`no ${what} in the outbox\n`);
        return;
      }
      const iso = (ms: number | null) => (ms === null ? "-" : new Date(ms).toISOString());
      ctx.stdout.write(
        renderTable(
          entries,
          [
            {
              header: "STATUS",
              value: (e) => e.status,
              style: (e) =>
                e.status === "delivered" ? "green" : e.status === "cancelled" ? "dim" : "yellow",
            },
            // The id `notify cancel` takes.
            { header: "ID", value: (e) => e.id },
            { header: "CHANNEL", value: (e) => e.channel },
            { header: "ATTEMPTS", value: (e) => String(e.attempts), align: "right" },
            {
              header: "NEXT/DELIVERED",
              // A cancelled message has no next attempt: who cancelled it and when is in the audit log.
              value: (e) =>
                e.status === "delivered"
                  ? iso(e.deliveredAt)
                  : e.status === "cancelled"
                    ? "-"
                    : iso(e.nextAttemptAt),
            },
            { header: "SUBJECT", value: (e) => e.subject },
            { header: "LAST ERROR", value: (e) => e.lastError ?? "-" },
          ],
          useColor(ctx.stdout),
        ),
      );
      if (total > entries.length)
        ctx.stdout.write(
          `\n${entries.length.toLocaleString("en-US")} of ${total.toLocaleString("en-US")} ${what}, oldest first: --limit N shows more; --format json lists every one\n`,
        );
    } finally {
      await outbox.close();
    }
  });

  addNotifyConfigOptions(
    notify
      .command("send")
      .description(
        "write a test message to the outbox for CHANNEL and deliver it (only it: the rest is notify deliver's)",
      )
      .argument("<channel>", "slack:#channel, email:address or webhook:NAME")
      .option("--subject <text>", "subject", "costguard test notification")
      .option("--text <text>", "message text", "This is a test message from costguard."),
  ).action(async (channel: string, opts: NotifyFlags & { subject: string; text: string }) => {
    if (parseChannel(channel) === null)
      throw new InputError(`not a channel: ${channel} (${channelProblem(channel)})`);
    const config = notifyConfigFromCli(opts, ctx);
    // A test of a channel no configuration reaches would wait in the outbox, retried, for a receiver
    // that is not there: refused before anything is written.
    const target = resolveChannel(channel, config);
    if (typeof target === "string")
      throw new InputError(
        `${channel}: ${target}: nothing was written to the outbox; configure it, then send again`,
      );
    const now = () => ctx.now?.() ?? Date.now();
    const outbox = await openCliOutbox(config, opts, ctx);
    try {
      const created = now();
      const id = `test:${channel}:${created}`;
      await outbox.enqueue([
        {
          id,
          channel,
          kind: "test",
          subject: opts.subject,
          text: opts.text,
          data: { title: opts.subject, severity: "info", fields: [] },
          createdAt: created,
        },
      ]);
      // A check of this channel: its own message only. Others due (another channel's failures, a
      // thousand waiting for a mail server) are `notify deliver`'s, and their outcome is not this one's.
      const result = await deliverDue({ outbox, config, now, only: { id } });
      reportDelivery(result, ctx);
      if (result.attempted === 0)
        ctx.stderr.write(
          `costguard: ${id} was taken by another deliverer meanwhile: costguard notify list says how it went\n`,
        );
      if (result.failed.length > 0) throw new CliExit(EXIT.denied);
    } finally {
      await outbox.close();
    }
  });

  addNotifyConfigOptions(
    notify
      .command("cancel")
      .description(
        "cancel pending messages: never sent, no longer retried (a receiver that will never take them)",
      )
      .argument("[id...]", "message ids (notify list --format json, or notify deliver's failure lines)")
      .option("--channel <channel>", "every pending message to this channel instead (email:gone@example.com)")
      .option("--as <user>", "who is cancelling (default COSTGUARD_USER)")
      .option("--reason <text>", "why, kept in the audit log")
      .addHelpText(
        "after",
        `
Delivery never gives up on its own: a message its receiver refuses for good (550 no such user, HTTP
404 or 410) is retried, and notify deliver exits 1, until someone cancels it. Cancelled messages stay
in the outbox (notify list --status cancelled); each cancellation is written to the audit log of the
store (--database) as notification.cancelled, with who and why. All the ids given or none: an id that
is not pending, or is being sent right now, is refused (exit 2) and nothing is cancelled.

Examples:
  costguard notify cancel 'budget:team-budgets/team-a:2024-09:September 2024:50:email:gone@example.com' \\
    --as alice --reason "mailbox deleted (550)"
  costguard notify cancel --channel email:gone@example.com --as alice --reason "mailbox deleted (550)"`,
      ),
  ).action(
    async (given: string[], opts: NotifyFlags & { as?: string; reason?: string; channel?: string }) => {
      if (given.length > 0 === (opts.channel !== undefined))
        throw new InputError("notify cancel takes message ids or --channel CHANNEL (one of them)");
      if (opts.channel !== undefined && parseChannel(opts.channel) === null)
        throw new InputError(`--channel: not a channel: ${opts.channel} (${channelProblem(opts.channel)})`);
      const user = actingUser(opts.as, ctx);
      const config = notifyConfigFromCli(opts, ctx);
      const now = ctx.now?.() ?? Date.now();
      // The audit log is the store's: opened first, so a wrong --database cancels nothing. With
      // `--outbox store` the outbox is that store's own (one connection).
      const store = await openStore(
        resolveDatabase({
          flag: opts.database ?? configuredDatabase(ctx, opts.config),
          env: ctx.env,
          cwd: ctx.cwd,
        }),
        new Date(),
        upgradeNotice(ctx),
      );
      try {
        const inStore = config.outbox === STORE_OUTBOX;
        const outbox = inStore ? store.outbox : await openCliOutbox(config, opts, ctx, { existing: true });
        try {
          // A channel's messages are the pending ones to it now; one being sent right now is refused
          // below with the rest, as an id given would be.
          const ids =
            opts.channel === undefined
              ? given
              : (await outbox.list({ status: "pending" }))
                  .filter((e) => e.channel === opts.channel)
                  .map((e) => e.id);
          if (ids.length === 0)
            throw new InputError(`no pending messages to ${opts.channel}: nothing was cancelled`);
          const { cancelled, refused } = await outbox.cancel(ids, now);
          if (refused.length > 0)
            throw new InputError(
              `nothing was cancelled: ${refused.map((r) => `${r.id}: ${r.why}`).join("; ")}`,
            );
          for (const e of cancelled) {
            await store.audit.append({
              at: new Date(now).toISOString(),
              actor: user,
              action: "notification.cancelled",
              subject_type: "notification",
              subject_id: e.id,
              details: {
                ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
                channel: e.channel,
                kind: e.kind,
                subject: e.subject,
                attempts: e.attempts,
                last_error: e.lastError,
              },
            });
            ctx.stdout.write(
              `cancelled ${e.id} (${e.channel}, ${e.attempts} ${e.attempts === 1 ? "attempt" : "attempts"}${e.lastError ? `, last error: ${e.lastError}` : ""})\n`,
            );
          }
        } finally {
          if (!inStore) await outbox.close();
        }
      } finally {
        await store.close();
      }
    },
  );
}
