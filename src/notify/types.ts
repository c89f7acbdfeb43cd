/**
 * Notifications go through one durable path: a message is written to the outbox before anything is
 * sent, then delivered (and retried with backoff) until its receiver takes it. Budget alerts use it now;
 * scan and remediation events later.
 */

/** What is sent, to one channel. `id` is the idempotency key: the same id is enqueued and sent once. */
export interface OutboxMessage {
  id: string;
  /** `slack:#channel`, `email:address` or `webhook:NAME`. */
  channel: string;
  /** Event kind, e.g. `budget.threshold`. */
  kind: string;
  subject: string;
  /** Plain-text body (email text part, Slack fallback text). */
  text: string;
  /** Structured event data: webhooks post it, Slack and HTML email render it. */
  data: NotificationData;
  /** ms since the epoch. */
  createdAt: number;
}

/** Facts of an event, rendered as a Slack section with fields and an HTML table. */
export interface NotificationData {
  title: string;
  severity: "info" | "warning" | "critical";
  fields: { label: string; value: string }[];
  [key: string]: unknown;
}

/** `cancelled`: by a person (`notify cancel`), never sent; delivery itself never gives up. */
export type OutboxStatus = "pending" | "delivered" | "cancelled";

export interface OutboxEntry extends OutboxMessage {
  status: OutboxStatus;
  attempts: number;
  /** When the next attempt may run (ms). */
  nextAttemptAt: number;
  lastError: string | null;
  deliveredAt: number | null;
  /**
   * The idempotency key of the message a digested notice was first sent in (a digest's, or its own
   * id when it went alone): its re-sends go under it, with the same notices. Null until then.
   */
  sentAs: string | null;
}

/**
 * Where the outbox lives: its own SQLite file, or costguard's store (SQLite or PostgreSQL) so a server
 * fleet shares one outbox. One implementation serves both (sql-outbox.ts).
 */
export interface OutboxStore {
  /** Adds messages whose id is new; returns how many were added (a known id is ignored, not resent). */
  enqueue(messages: readonly OutboxMessage[]): Promise<number>;
  /**
   * Claims up to `limit` pending messages due at `now` for `leaseMs`: until the lease ends no other
   * deliverer gets them, so two workers never send the same message at once. The claim's lease ends
   * at `now + leaseMs`: given to markAllDelivered or markAllFailed, it records an outcome only while
   * the claim still holds.
   */
  claimDue(now: number, limit: number, leaseMs: number, only?: ClaimFilter): Promise<OutboxEntry[]>;
  markDelivered(id: string, now: number): Promise<void>;
  markFailed(id: string, error: string, nextAttemptAt: number): Promise<void>;
  /**
   * markDelivered for many (a digest). With `leaseUntil`, only those still held by the claim whose
   * lease ends then (another deliverer may have claimed them since). Returns the ids recorded.
   */
  markAllDelivered(ids: readonly string[], now: number, leaseUntil?: number): Promise<string[]>;
  /** markFailed for many (a digest), each with its own next attempt; `leaseUntil` as for markAllDelivered. */
  markAllFailed(
    failed: readonly { id: string; nextAttemptAt: number }[],
    error: string,
    leaseUntil?: number,
  ): Promise<string[]>;
  /**
   * Cancels pending messages, so they are never sent: all of them or, when one is not pending (or is
   * being sent now, its lease running at `now`), none, with why for each refused.
   */
  cancel(
    ids: readonly string[],
    now: number,
  ): Promise<{ cancelled: OutboxEntry[]; refused: { id: string; why: string }[] }>;
  /**
   * Records the key messages are about to be sent under, on those still held by the claim whose lease
   * ends at `leaseUntil` and not sent before (see OutboxEntry.sentAs).
   */
  markSentAs(ids: readonly string[], key: string, leaseUntil: number): Promise<void>;
  /** Ends a claim without an attempt: the messages are due again at once, as before it. */
  release(ids: readonly string[], leaseUntil: number): Promise<void>;
  /** Messages oldest first (created, then id); with `limit`, at most that many. */
  list(filter?: { status?: OutboxStatus; limit?: number }): Promise<OutboxEntry[]>;
  /**
   * How many messages `list` would give without a limit; with `channel` and `dueBy`, how many pending
   * messages to that channel are due by then.
   */
  count(filter?: { status?: OutboxStatus; channel?: string; dueBy?: number }): Promise<number>;
  close(): Promise<void>;
}

/** Which due messages a claim takes. */
export interface ClaimFilter {
  /** Only this message (`notify send`'s test): nothing else due is claimed. */
  id?: string;
  /** Only messages to this channel of this kind (the companions of a digest). */
  channel?: string;
  kind?: string;
  /**
   * Only messages due by then, however much later `now` is: a delivery run's start, so a message that
   * failed during the run (its retry due while the run still goes on) waits for the next run.
   */
  dueBy?: number;
  /** Not messages to these channels (their receiver timed out or refused earlier in the run). */
  exceptChannels?: readonly string[];
  /** Only messages first sent under this key (a digest's notices), due or not: it goes again whole. */
  sentAs?: string;
  /** Only messages never sent (the companions of a new digest: not a notice of an earlier one). */
  unsent?: boolean;
}

/** Remembers which budget thresholds have fired in which period, so each fires once per period. */
export interface ThresholdLedger {
  /** Of `keys`, those not fired before; records them as fired at `now`. */
  markFired(keys: readonly string[], now: number): Promise<string[]>;
  fired(keys: readonly string[]): Promise<Set<string>>;
}

/** Sends one message to a resolved target; throws when the receiver did not take it. */
export type Sender = (message: OutboxMessage) => Promise<void>;
