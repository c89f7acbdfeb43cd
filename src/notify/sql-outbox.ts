import type { SqlDb } from "../store/sql.js";
import type { OutboxEntry, OutboxStatus, OutboxStore, ThresholdLedger } from "./types.js";

/** The outbox and the threshold ledger, over either database (see NOTIFY_MIGRATIONS). */
export type Outbox = OutboxStore & ThresholdLedger;

type OutboxRow = {
  id: string;
  channel: string;
  kind: string;
  subject: string;
  body: string;
  data: string;
  created_at: number | string;
  status: OutboxStatus;
  attempts: number | string;
  next_attempt_at: number | string;
  last_error: string | null;
  delivered_at: number | string | null;
};

const COLUMNS =
  "id, channel, kind, subject, body, data, created_at, status, attempts, next_attempt_at, last_error, delivered_at";

// PostgreSQL returns BIGINT as text: times are read back as numbers.
function toEntry(r: OutboxRow): OutboxEntry {
  return {
    id: r.id,
    channel: r.channel,
    kind: r.kind,
    subject: r.subject,
    text: r.body,
    data: JSON.parse(r.data) as OutboxEntry["data"],
    createdAt: Number(r.created_at),
    status: r.status,
    attempts: Number(r.attempts),
    nextAttemptAt: Number(r.next_attempt_at),
    lastError: r.last_error,
    deliveredAt: r.delivered_at === null ? null : Number(r.delivered_at),
  };
}

/** Messages per IN list when checking which thresholds fired. */
const KEYS_PER_QUERY = 500;

/**
 * The outbox over a database handle. A claim is a conditional UPDATE per candidate (still pending,
 * lease over): two deliverers that pick the same candidates — processes on one SQLite file, or
 * machines on one PostgreSQL database — get each message once, because only one UPDATE matches.
 * `close` closes nothing: whoever opened the handle closes it.
 */
export function sqlOutbox(db: SqlDb): Outbox {
  return {
    async enqueue(messages) {
      if (messages.length === 0) return 0;
      return db.transaction(async (tx) => {
        let added = 0;
        for (const m of messages) {
          added += await tx.run(
            `INSERT INTO notify_outbox (id, channel, kind, subject, body, data, created_at, next_attempt_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
            [m.id, m.channel, m.kind, m.subject, m.text, JSON.stringify(m.data), m.createdAt, m.createdAt],
          );
        }
        return added;
      });
    },

    async claimDue(now, limit, leaseMs) {
      const candidates = await db.all<OutboxRow>(
        `SELECT ${COLUMNS} FROM notify_outbox WHERE status = 'pending' AND next_attempt_at <= ? AND lease_until <= ?
         ORDER BY next_attempt_at, created_at, id LIMIT ?`,
        [now, now, limit],
      );
      const claimed: OutboxEntry[] = [];
      for (const r of candidates) {
        const won = await db.run(
          "UPDATE notify_outbox SET lease_until = ? WHERE id = ? AND status = 'pending' AND lease_until <= ?",
          [now + leaseMs, r.id, now],
        );
        if (won === 1) claimed.push(toEntry(r));
      }
      return claimed;
    },

    async markDelivered(id, now) {
      await db.run(
        "UPDATE notify_outbox SET status = 'delivered', delivered_at = ?, attempts = attempts + 1, lease_until = 0, last_error = NULL WHERE id = ?",
        [now, id],
      );
    },

    async markFailed(id, error, nextAttemptAt) {
      await db.run(
        "UPDATE notify_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, lease_until = 0 WHERE id = ? AND status = 'pending'",
        [error.slice(0, 1000), nextAttemptAt, id],
      );
    },

    async list(filter: { status?: OutboxStatus } = {}) {
      const rows = filter.status
        ? await db.all<OutboxRow>(
            `SELECT ${COLUMNS} FROM notify_outbox WHERE status = ? ORDER BY created_at, id`,
            [filter.status],
          )
        : await db.all<OutboxRow>(`SELECT ${COLUMNS} FROM notify_outbox ORDER BY created_at, id`);
      return rows.map(toEntry);
    },

    async markFired(keys, now) {
      if (keys.length === 0) return [];
      return db.transaction(async (tx) => {
        const fresh: string[] = [];
        for (const key of keys) {
          const added = await tx.run(
            "INSERT INTO budget_thresholds_fired (key, fired_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            [key, now],
          );
          if (added === 1) fresh.push(key);
        }
        return fresh;
      });
    },

    async fired(keys) {
      const fired = new Set<string>();
      for (let start = 0; start < keys.length; start += KEYS_PER_QUERY) {
        const part = keys.slice(start, start + KEYS_PER_QUERY);
        const rows = await db.all<{ key: string }>(
          `SELECT key FROM budget_thresholds_fired WHERE key IN (${part.map(() => "?").join(", ")})`,
          part,
        );
        for (const r of rows) fired.add(r.key);
      }
      return fired;
    },

    async close() {},
  };
}
