import { resolveChannel } from "./channels.js";
import type { NotifyConfig } from "./config.js";
import { MailTransports, sendTo } from "./senders.js";
import type { OutboxEntry, OutboxStore } from "./types.js";

export interface DeliveryResult {
  attempted: number;
  delivered: number;
  failed: { id: string; channel: string; error: string; nextAttemptAt: number }[];
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
  /** Overrides sending (tests of the loop); defaults to the real HTTP/SMTP senders. */
  send?: (entry: OutboxEntry) => Promise<void>;
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
    (async (entry: OutboxEntry) => {
      const target = resolveChannel(entry.channel, config);
      if (typeof target === "string") throw new Error(target);
      await sendTo(target, entry, mail, config.retry.timeoutMs);
    });
  const result: DeliveryResult = { attempted: 0, delivered: 0, failed: [] };
  try {
    // One message per claim: a lease (60 s by default) then always outlives the attempt it covers
    // (10 s timeout), so a slow receiver can never let a second deliverer send the same message.
    while (result.attempted < config.retry.batch) {
      const [entry] = await outbox.claimDue(now(), 1, config.retry.leaseMs);
      if (entry === undefined) break;
      result.attempted++;
      try {
        await send(entry);
        await outbox.markDelivered(entry.id, now());
        result.delivered++;
      } catch (err) {
        const next = now() + retryDelay(entry.attempts + 1, config.retry);
        const error = (err as Error).message || String(err);
        await outbox.markFailed(entry.id, error, next);
        result.failed.push({ id: entry.id, channel: entry.channel, error, nextAttemptAt: next });
      }
    }
  } finally {
    mail.close();
  }
  return result;
}
