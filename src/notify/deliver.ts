import { createHash } from "node:crypto";
import { resolveChannel } from "./channels.js";
import type { NotifyConfig } from "./config.js";
import { MailTransports, ReceiverDownError, RetryLaterError, sendTo } from "./senders.js";
import type { NotificationData, OutboxEntry, OutboxMessage, OutboxStore } from "./types.js";

export interface DeliveryResult {
  attempted: number;
  delivered: number;
  failed: { id: string; channel: string; error: string; nextAttemptAt: number }[];
  /**
   * Messages whose claim ran out before their outcome was recorded: another deliverer claimed them
   * since and records its own outcome, which this one does not overwrite.
   */
  lost: { id: string; channel: string; outcome: "delivered" | "failed" }[];
  /**
   * Messages not tried, per channel: their receiver timed out or refused the connection earlier in
   * the run. They are left due, for the next run.
   */
  skipped: { channel: string; error: string; count: number }[];
}

/** How many messages a run leaves to retry: those that failed and those it skipped. */
export function toRetry(result: DeliveryResult): number {
  return result.failed.length + result.skipped.reduce((n, s) => n + s.count, 0);
}

/** Delay before attempt n+1 after n failures: initial × 2^(n−1), capped. Deterministic (no jitter). */
export function retryDelay(failures: number, retry: NotifyConfig["retry"]): number {
  return Math.min(retry.maxDelayMs, retry.initialDelayMs * 2 ** Math.max(0, failures - 1));
}

export interface DeliverOptions {
  outbox: OutboxStore;
  config: NotifyConfig;
  /** The clock: the run's time, for what is due and when to retry. */
  now: () => number;
  /** Only this message (`notify send`'s test): nothing else due is claimed. */
  only?: { id: string };
  /** Overrides sending (tests of the loop); defaults to the real HTTP/SMTP senders. */
  send?: (message: OutboxMessage) => Promise<void>;
}

/**
 * Delivers what is due: claims pending messages, sends each, marks it delivered or schedules its next
 * attempt with backoff. Nothing is ever dropped: a message stays pending until its receiver takes it.
 */
export async function deliverDue(options: DeliverOptions): Promise<DeliveryResult> {
  const { outbox, config, now } = options;
  const mail = new MailTransports(config.retry.timeoutMs);
  const send =
    options.send ??
    (async (entry: OutboxMessage) => {
      const target = resolveChannel(entry.channel, config);
      if (typeof target === "string") throw new Error(target);
      // The whole attempt is bounded, however the receiver spins it out: the lease outlives it.
      await sendTo(target, entry, mail, config.retry.timeoutMs, AbortSignal.timeout(config.retry.timeoutMs));
    });
  const result: DeliveryResult = { attempted: 0, delivered: 0, failed: [], lost: [], skipped: [] };
  // A run attempts what was due when it started, each message once: one that fails during the run
  // is due again (its backoff short, the run long) only for the next run, so the counts are messages.
  const dueBy = now();
  // One send per claim: a lease (60 s by default) then always outlives the attempt it covers (10 s
  // timeout), so a slow receiver can never let a second deliverer send the same message. A
  // remediation notice claims the others of its kind due for its channel with it, and they go as
  // one digest. `retry.batch` counts sends.
  // A receiver that timed out or refused is not tried again in the run: its channels' messages are
  // left due (a blackholed one cost a timeout a message, up to 100 a run). Receivers by server, as
  // one mail server serves every email: channel.
  const down = new Map<string, string>();
  const skipped = new Map<string, string>();
  const exceptChannels: string[] = [];
  const skip = (channel: string, why: string) => {
    exceptChannels.push(channel);
    skipped.set(channel, `skipped: ${why} earlier in this run`);
  };
  // A remediation notice goes with the others of its kind due for its channel, as one digest whose
  // key is a hash of its notices' ids. The key is written on them before the first attempt: re-sent
  // (after a failure, or a crash after the receiver took it but before that was recorded) the digest
  // goes whole with the same notices under the same key, so a receiver can drop the repeat; notices
  // queued since go in a digest of their own.
  const digestFor = async (
    entry: OutboxEntry,
    claimedAt: number,
    leaseUntil: number,
  ): Promise<{ group: OutboxEntry[]; message: OutboxMessage }> => {
    if (!DIGESTED(entry.kind)) return { group: [entry], message: entry };
    if (entry.sentAs !== null) {
      const key = entry.sentAs;
      const rest =
        key === entry.id
          ? []
          : (await outbox.claimDue(claimedAt, MAX_DIGEST, config.retry.leaseMs, { sentAs: key })).filter(
              (e) => e.id !== entry.id,
            );
      const group = [entry, ...rest];
      return { group, message: key === entry.id ? entry : { ...digestOf(group), id: key } };
    }
    const group =
      config.digest > 1
        ? [
            entry,
            ...(await outbox.claimDue(claimedAt, config.digest - 1, config.retry.leaseMs, {
              channel: entry.channel,
              kind: entry.kind,
              dueBy,
              unsent: true,
            })),
          ]
        : [entry];
    const message = group.length === 1 ? entry : digestOf(group);
    await outbox.markSentAs(
      group.map((e) => e.id),
      message.id,
      leaseUntil,
    );
    return { group, message };
  };
  for (let sends = 0; sends < config.retry.batch; ) {
    // One time for the whole claim: its lease's end identifies it when the outcome is recorded.
    const claimedAt = now();
    const leaseUntil = claimedAt + config.retry.leaseMs;
    const [entry] = await outbox.claimDue(claimedAt, 1, config.retry.leaseMs, {
      dueBy,
      exceptChannels,
      ...options.only,
    });
    if (entry === undefined) break;
    const receiver = receiverOf(entry.channel, config);
    const why = receiver === undefined ? undefined : down.get(receiver);
    if (why !== undefined) {
      // Not a send: the claim ends untried, and the channel is left out of the run's claims.
      await outbox.release([entry.id], leaseUntil);
      skip(entry.channel, why);
      continue;
    }
    sends++;
    const { group, message } = await digestFor(entry, claimedAt, leaseUntil);
    result.attempted += group.length;
    const lost = (recorded: readonly string[], outcome: "delivered" | "failed") => {
      const kept = new Set(recorded);
      for (const e of group) if (!kept.has(e.id)) result.lost.push({ id: e.id, channel: e.channel, outcome });
      return kept;
    };
    try {
      await send(message);
      const recorded = await outbox.markAllDelivered(
        group.map((e) => e.id),
        now(),
        leaseUntil,
      );
      result.delivered += lost(recorded, "delivered").size;
    } catch (err) {
      const error = (err as Error).message || String(err);
      // A receiver's Retry-After is waited out even where the backoff would come back sooner.
      const asked = err instanceof RetryLaterError ? err.retryAfterMs : 0;
      const failed = group.map((e) => ({
        id: e.id,
        channel: e.channel,
        error,
        nextAttemptAt: now() + Math.max(retryDelay(e.attempts + 1, config.retry), asked),
      }));
      const kept = lost(await outbox.markAllFailed(failed, error, leaseUntil), "failed");
      result.failed.push(...failed.filter((f) => kept.has(f.id)));
      if (err instanceof ReceiverDownError && receiver !== undefined) {
        down.set(receiver, `${entry.channel} ${err.how}`);
        skip(entry.channel, `${entry.channel} ${err.how}`);
      }
    }
  }
  // With `only`, its message is the run's first claim and never skipped: the others due to a channel
  // found down are `notify deliver`'s, not this run's to retry.
  for (const [channel, error] of options.only === undefined ? skipped : []) {
    const count = await outbox.count({ channel, dueBy });
    if (count > 0) result.skipped.push({ channel, error, count });
  }
  return result;
}

/** The server a channel's messages go to (undefined: none configured); one key for all its channels. */
function receiverOf(channel: string, config: NotifyConfig): string | undefined {
  const target = resolveChannel(channel, config);
  if (typeof target === "string") return undefined;
  if (target.kind === "email") return `smtp://${target.smtp.host}:${target.smtp.port}`;
  return new URL(target.url).origin;
}

/** The most notices a digest sent before can hold (notify.digest's limit). */
const MAX_DIGEST = 10_000;

/** Kinds sent as digests: an owner warned of a thousand resources gets one message, not a thousand. */
const DIGESTED = (kind: string) => kind.startsWith("remediation.");

/**
 * One message for several of one kind to one channel: the subject counts them, the text lists each
 * message's subject, and the data carries every message whole (webhooks receive them all). Its id —
 * the idempotency key receivers see — is derived from its messages' ids.
 */
export function digestOf(entries: readonly OutboxMessage[]): OutboxMessage {
  const first = entries[0]!;
  const what = first.kind.replace(/^remediation\./, "").replaceAll("-", " ");
  const subject = `costguard: ${entries.length.toLocaleString("en-US")} remediation notices (${what})`;
  const rank = { info: 0, warning: 1, critical: 2 } as const;
  let severity: NotificationData["severity"] = "info";
  for (const e of entries) if (rank[e.data.severity] > rank[severity]) severity = e.data.severity;
  const ids = entries.map((e) => e.id).sort();
  return {
    id: `digest:${createHash("sha256").update(ids.join("\n")).digest("hex").slice(0, 32)}|${first.channel}`,
    channel: first.channel,
    kind: first.kind,
    subject,
    text: entries.map((e) => `- ${e.subject}`).join("\n"),
    data: {
      title: subject,
      severity,
      fields: [
        { label: "Notices", value: entries.length.toLocaleString("en-US") },
        { label: "Kind", value: first.kind },
      ],
      messages: entries.map((e) => ({ id: e.id, subject: e.subject, text: e.text, data: e.data })),
    },
    createdAt: Math.min(...entries.map((e) => e.createdAt)),
  };
}
