import type { Migration } from "../store/migrate.js";

/**
 * The notification outbox and the budget-threshold ledger. `IF NOT EXISTS`: an outbox file made
 * before migrations were recorded (costguard 0.1's notify.db) is taken over as it is.
 */
export const NOTIFY_MIGRATIONS: readonly Migration[] = [
  {
    id: "notify-0001-outbox",
    description: "notification outbox (messages, attempts, leases) and the budget thresholds that fired",
    sql: `
      CREATE TABLE IF NOT EXISTS notify_outbox (
        id TEXT PRIMARY KEY,
        channel TEXT NOT NULL,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL,
        body TEXT NOT NULL,
        data TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending',
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at BIGINT NOT NULL,
        lease_until BIGINT NOT NULL DEFAULT 0,
        last_error TEXT,
        delivered_at BIGINT
      );
      CREATE INDEX IF NOT EXISTS notify_outbox_due ON notify_outbox (status, next_attempt_at);
      CREATE TABLE IF NOT EXISTS budget_thresholds_fired (
        key TEXT PRIMARY KEY,
        fired_at BIGINT NOT NULL
      );`,
  },
  {
    id: "notify-0002-claim-order",
    description: "outbox indexes in the order messages are claimed: all due, and per channel and kind",
    // A delivery claims the oldest due message, then the rest of its channel and kind for a digest,
    // both `ORDER BY next_attempt_at, created_at, id`: with only (status, next_attempt_at) indexed,
    // every claim sorted every due message (74,000 pending: 11 s for a delivery run, 0.1 s now).
    sql: `
      DROP INDEX IF EXISTS notify_outbox_due;
      CREATE INDEX IF NOT EXISTS notify_outbox_claim ON notify_outbox (status, next_attempt_at, created_at, id);
      CREATE INDEX IF NOT EXISTS notify_outbox_claim_digest
        ON notify_outbox (status, channel, kind, next_attempt_at, created_at, id);`,
  },
  {
    id: "notify-0003-digest-key",
    description: "the idempotency key a notice was first sent under, so a digest re-sent keeps its key",
    // A digest's key is a hash of its notices' ids: re-grouped at its next attempt (with notices queued
    // since), a digest re-sent after a crash went under a new key, and receivers could not drop it.
    sql: `
      ALTER TABLE notify_outbox ADD COLUMN sent_as TEXT;
      CREATE INDEX IF NOT EXISTS notify_outbox_sent_as
        ON notify_outbox (status, sent_as, next_attempt_at, created_at, id);`,
  },
];
