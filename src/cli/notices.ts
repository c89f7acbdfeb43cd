import type { CostguardConfig } from "../config/load.js";
import type { AuditSink, ExceptionNotice } from "../exceptions/service.js";
import { parseChannel } from "../notify/channels.js";
import { loadNotifyConfig, STORE_OUTBOX } from "../notify/config.js";
import { deliverDue, toRetry } from "../notify/deliver.js";
import { openOutbox } from "../notify/open-outbox.js";
import type { NotificationData, OutboxMessage, OutboxStore } from "../notify/types.js";
import { ownValue } from "../objects.js";
import { taggedOwner } from "../remediation/task.js";
import type { OwnerNotice } from "../remediation/types.js";
import type { Store } from "../store/store.js";
import type { Clock } from "../time/clock.js";
import { sameUser } from "../users.js";
import type { CliContext } from "./context.js";
import { failureReasons, reportLost, reportSkipped } from "./notify-options.js";
import { upgradeNotice } from "./store-options.js";

/** The CLI's notifier: exception and owner notices, plus announcements to channels (the cycle summary). */
export interface CliNotifier {
  notify(notice: ExceptionNotice | OwnerNotice): Promise<void>;
  /** Owner notices in bulk: one write to the outbox for all of them. */
  notifyAll(notices: readonly OwnerNotice[]): Promise<void>;
  readonly enqueued: number;
  /** Messages handed over that the outbox held already (one per id): not queued again. */
  readonly alreadyQueued: number;
  announce(message: {
    key: string;
    channels: readonly string[];
    kind: string;
    subject: string;
    text: string;
    data: NotificationData;
  }): Promise<void>;
}

/** A person's channel: from `people:`, else their address when the name is one. */
export function channelOf(person: string, people: Readonly<Record<string, string>>): string | undefined {
  // A user is one name however written (users.ts): `Carol` is reached through `people: {carol: ...}`.
  const configured =
    ownValue(people, person) ?? Object.entries(people).find(([name]) => sameUser(name, person))?.[1];
  if (configured) return configured;
  return parseChannel(`email:${person}`) ? `email:${person}` : undefined;
}

const SEVERITY: Record<string, NotificationData["severity"]> = {
  critical: "critical",
  high: "warning",
  medium: "warning",
  low: "info",
};

/**
 * Exception and remediation notices into the durable notification outbox: one message per channel,
 * its id derived from the notice's key, so a notice handed over twice is sent once. A notice nobody
 * can be reached for is written to the audit log instead of vanishing.
 */
export function outboxNotifier(options: {
  outbox: OutboxStore;
  config: CostguardConfig;
  clock: Clock;
  audit: AuditSink;
}): CliNotifier {
  const { outbox, config, clock, audit } = options;
  const state = { enqueued: 0, alreadyQueued: 0 };
  /** A notice's messages, one per channel (the unreachable are written to the audit log). */
  const messagesFor = async (
    key: string,
    people: readonly string[],
    copies: readonly string[],
    kind: string,
    subject: string,
    text: string,
    data: NotificationData,
  ) => {
    const channels = new Set<string>(copies);
    const unreachable: string[] = [];
    for (const p of people) {
      const c = channelOf(p, config.people);
      if (c) channels.add(c);
      else unreachable.push(p);
    }
    if (unreachable.length > 0 || channels.size === 0) {
      await audit.append({
        at: clock().toISOString(),
        actor: "costguard:notify",
        action: "notice.unreachable",
        subject_type: "notice",
        subject_id: key,
        details:
          people.length === 0
            ? {
                kind,
                subject,
                unreachable,
                text,
                // Not an empty list of the unreachable: a notice that names no one at all.
                reason: "the notice names no one to tell and no channel to copy",
                hint: "tag resources with their owner or set remediation.defaultOwner in costguard.yaml, or give remediation.channels",
              }
            : { kind, subject, unreachable, text, hint: "add them under people: in costguard.yaml" },
      });
    }
    return [...channels].map(
      (channel): OutboxMessage => ({
        id: `${key}|${channel}`,
        channel,
        kind,
        subject,
        text,
        data,
        createdAt: clock().getTime(),
      }),
    );
  };
  const enqueue = async (messages: readonly OutboxMessage[]) => {
    const added = await outbox.enqueue(messages);
    state.enqueued += added;
    state.alreadyQueued += messages.length - added;
  };
  const ownerMessages = (notice: OwnerNotice) => {
    const subject = `costguard ${notice.kind.replaceAll("-", " ")}: ${notice.action} ${notice.resource_id}`;
    // A task stored before the tag placeholder counted as no owner may name it: defaultOwner then.
    const owner = taggedOwner(notice.owner, config.remediation) ?? (config.remediation.defaultOwner || null);
    return messagesFor(
      notice.key,
      owner ? [owner] : [],
      config.remediation.channels,
      `remediation.${notice.kind}`,
      subject,
      notice.text,
      {
        title: subject,
        severity: SEVERITY[notice.severity] ?? "info",
        fields: [
          { label: "Resource", value: notice.resource_id },
          { label: "Action", value: notice.action },
          { label: "Owner", value: owner ?? "unknown" },
          { label: "Acts at", value: notice.acts_at },
        ],
      },
    );
  };
  return {
    get enqueued() {
      return state.enqueued;
    },
    get alreadyQueued() {
      return state.alreadyQueued;
    },
    // An announcement to no channel (none configured) is silence chosen, not a notice lost.
    announce: async (m) =>
      m.channels.length === 0
        ? undefined
        : enqueue(await messagesFor(m.key, [], m.channels, m.kind, m.subject, m.text, m.data)),
    async notifyAll(notices) {
      const messages: OutboxMessage[] = [];
      for (const notice of notices) for (const m of await ownerMessages(notice)) messages.push(m);
      await enqueue(messages);
    },
    async notify(notice: ExceptionNotice | OwnerNotice) {
      if ("exception" in notice) {
        const e = notice.exception;
        await enqueue(
          await messagesFor(
            notice.key,
            notice.recipients,
            config.exceptions.channels,
            `exception.${notice.kind}`,
            notice.subject,
            notice.text,
            {
              title: notice.subject,
              severity: notice.kind === "review-overdue" ? "warning" : "info",
              fields: [
                { label: "Exception", value: e.id },
                { label: "Policy", value: `${e.policy}${e.rule ? `/${e.rule}` : ""}` },
                { label: "Requested by", value: e.requested_by },
                { label: "Status", value: e.status },
              ],
            },
          ),
        );
        return;
      }
      await enqueue(await ownerMessages(notice));
    },
  };
}

/**
 * Runs `fn` with a notifier writing to the outbox configured in the notify: section, then delivers
 * what is due (failures are retried later by `costguard notify deliver`; they do not fail the command).
 */
export async function withOutboxNotifier<T>(
  options: {
    configFile: string | undefined;
    config: CostguardConfig;
    clock: Clock;
    audit: AuditSink;
    /** The command's store: the outbox when the config says `store`. */
    store: Store;
    ctx: CliContext;
  },
  fn: (notifier: CliNotifier) => Promise<T>,
): Promise<T> {
  const { ctx } = options;
  const notifyConfig = loadNotifyConfig({ cwd: ctx.cwd, env: ctx.env, file: options.configFile });
  // `store`: the command's own store (one connection); otherwise the outbox file, opened here.
  const inStore = notifyConfig.outbox === STORE_OUTBOX;
  const outbox = inStore
    ? options.store.outbox
    : await openOutbox(
        notifyConfig.outbox,
        { env: ctx.env, cwd: ctx.cwd },
        upgradeNotice(ctx, "the notification outbox"),
      );
  try {
    const notifier = outboxNotifier({
      outbox,
      config: options.config,
      clock: options.clock,
      audit: options.audit,
    });
    const result = await fn(notifier);
    const already = notifier.alreadyQueued;
    const alreadyText = already > 0 ? `, ${already} already in the outbox` : "";
    if (notifier.enqueued > 0) {
      const delivery = await deliverDue({
        outbox,
        config: notifyConfig,
        now: () => options.clock().getTime(),
      });
      ctx.stderr.write(
        `costguard: notifications: ${notifier.enqueued} queued${alreadyText}, ${delivery.delivered} delivered${delivery.failed.length ? `, ${toRetry(delivery)} to retry (costguard notify deliver): ${failureReasons(delivery.failed)}` : ""}\n`,
      );
      reportSkipped(delivery.skipped, ctx);
      reportLost(delivery.lost, ctx);
    } else if (already > 0) ctx.stderr.write(`costguard: notifications: 0 queued${alreadyText}\n`);
    // The outbox keeps one message per notice key: another store's notices under the same keys (two
    // stores of one seeded estate share task ids) would be dropped without a word.
    if (already > 0 && !inStore)
      ctx.stderr.write(
        `costguard: warning: ${already} ${already === 1 ? "message was" : "messages were"} not queued: the outbox file ${notifyConfig.outbox} already holds ${already === 1 ? "one" : "ones"} with the same notice keys (handed over before a crash, or queued from another store using this outbox: give each store its own with notify.outbox or COSTGUARD_NOTIFY_OUTBOX)\n`,
      );
    return result;
  } finally {
    if (!inStore) await outbox.close();
  }
}
