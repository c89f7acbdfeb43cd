import { ConflictError } from "../errors.js";
import { placeholders, type SqlDb, type SqlValue } from "../store/sql.js";
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
  sent_as: string | null;
};

const COLUMNS =
  "id, channel, kind, subject, body, data, created_at, status, attempts, next_attempt_at, last_error, delivered_at, sent_as";

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
    sentAs: r.sent_as,
  };
}

/** Message ids per IN list when claiming or marking many. */
const IDS_PER_QUERY = 500;

/** Messages per IN list when checking which thresholds fired. */
const KEYS_PER_QUERY = 500;

/**
 * The outbox over a database handle. A claim is a conditional UPDATE of the candidates (still pending,
 * lease over): two deliverers that pick the same candidates — processes on one SQLite file, or
 * machines on one PostgreSQL database — get each message once, because only one UPDATE matches it.
 * `close` closes nothing: whoever opened the handle closes it.
 */
export function sqlOutbox(db: SqlDb): Outbox {
  // With `leaseUntil` (the claim's), an outcome is recorded only on messages still held by that claim:
  // a deliverer whose lease ran out mid-attempt must not overwrite what the one that took the message
  // over recorded. RETURNING says which were recorded.
  const held = (leaseUntil: number | undefined) => (leaseUntil === undefined ? "" : " AND lease_until = ?");
  const markAllDelivered = async (
    ids: readonly string[],
    now: number,
    leaseUntil?: number,
  ): Promise<string[]> => {
    const recorded: string[] = [];
    for (let start = 0; start < ids.length; start += IDS_PER_QUERY) {
      const part = ids.slice(start, start + IDS_PER_QUERY);
      const rows = await db.all<{ id: string }>(
        `UPDATE notify_outbox SET status = 'delivered', delivered_at = ?, attempts = attempts + 1, lease_until = 0, last_error = NULL WHERE id IN (${placeholders(part.length)}) AND status = 'pending'${held(leaseUntil)} RETURNING id`,
        [now, ...part, ...(leaseUntil === undefined ? [] : [leaseUntil])],
      );
      for (const r of rows) recorded.push(r.id);
    }
    return recorded;
  };
  const markAllFailed = async (
    entries: readonly { id: string; nextAttemptAt: number }[],
    error: string,
    leaseUntil?: number,
  ): Promise<string[]> => {
    const recorded: string[] = [];
    // One statement per next attempt time (a digest's messages mostly share theirs).
    const byTime = new Map<number, string[]>();
    for (const e of entries) {
      const ids = byTime.get(e.nextAttemptAt);
      if (ids) ids.push(e.id);
      else byTime.set(e.nextAttemptAt, [e.id]);
    }
    for (const [nextAttemptAt, ids] of byTime) {
      for (let start = 0; start < ids.length; start += IDS_PER_QUERY) {
        const part = ids.slice(start, start + IDS_PER_QUERY);
        const rows = await db.all<{ id: string }>(
          `UPDATE notify_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, lease_until = 0 WHERE id IN (${placeholders(part.length)}) AND status = 'pending'${held(leaseUntil)} RETURNING id`,
          [error.slice(0, 1000), nextAttemptAt, ...part, ...(leaseUntil === undefined ? [] : [leaseUntil])],
        );
        for (const r of rows) recorded.push(r.id);
      }
    }
    return recorded;
  };
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

    async claimDue(now, limit, leaseMs, only = {}) {
      // A digest sent before goes again whole, due or not (its notices share their retries).
      let where =
        only.sentAs === undefined
          ? "status = 'pending' AND next_attempt_at <= ? AND lease_until <= ?"
          : "status = 'pending' AND sent_as = ? AND lease_until <= ?";
      const params: SqlValue[] = [only.sentAs ?? Math.min(now, only.dueBy ?? now), now];
      if (only.id !== undefined) {
        where += " AND id = ?";
        params.push(only.id);
      }
      if (only.channel !== undefined) {
        where += " AND channel = ?";
        params.push(only.channel);
      }
      if (only.kind !== undefined) {
        where += " AND kind = ?";
        params.push(only.kind);
      }
      if (only.exceptChannels !== undefined && only.exceptChannels.length > 0) {
        where += ` AND channel NOT IN (${placeholders(only.exceptChannels.length)})`;
        params.push(...only.exceptChannels);
      }
      if (only.unsent) where += " AND sent_as IS NULL";
      const candidates = await db.all<OutboxRow>(
        `SELECT ${COLUMNS} FROM notify_outbox WHERE ${where}
         ORDER BY next_attempt_at, created_at, id LIMIT ?`,
        [...params, limit],
      );
      // One conditional UPDATE claims them all (another deliverer may have won some since the SELECT:
      // only the rows still pending and free are taken, and RETURNING says which). A statement, not a
      // transaction held across awaits: deliverers sharing a thread never wait on each other's lock.
      const won = new Set<string>();
      for (let start = 0; start < candidates.length; start += IDS_PER_QUERY) {
        const ids = candidates.slice(start, start + IDS_PER_QUERY).map((r) => r.id);
        const rows = await db.all<{ id: string }>(
          `UPDATE notify_outbox SET lease_until = ? WHERE id IN (${placeholders(ids.length)}) AND status = 'pending' AND lease_until <= ? RETURNING id`,
          [now + leaseMs, ...ids, now],
        );
        for (const r of rows) won.add(r.id);
      }
      return candidates.filter((r) => won.has(r.id)).map(toEntry);
    },

    markDelivered: async (id, now) => {
      await markAllDelivered([id], now);
    },
    markFailed: async (id, error, nextAttemptAt) => {
      await markAllFailed([{ id, nextAttemptAt }], error);
    },
    markAllDelivered,
    markAllFailed,
    async cancel(ids, now) {
      const wanted = [...new Set(ids)];
      return db.transaction(async (tx) => {
        const rows = new Map<string, OutboxRow & { lease_until: number | string }>();
        for (let start = 0; start < wanted.length; start += IDS_PER_QUERY) {
          const part = wanted.slice(start, start + IDS_PER_QUERY);
          const found = await tx.all<OutboxRow & { lease_until: number | string }>(
            `SELECT ${COLUMNS}, lease_until FROM notify_outbox WHERE id IN (${placeholders(part.length)})`,
            part,
          );
          for (const r of found) rows.set(r.id, r);
        }
        const refused: { id: string; why: string }[] = [];
        for (const id of wanted) {
          const r = rows.get(id);
          if (r === undefined) refused.push({ id, why: "no such message" });
          else if (r.status !== "pending") refused.push({ id, why: `already ${r.status}` });
          else if (Number(r.lease_until) > now)
            refused.push({
              id,
              why: `being sent now (held until ${new Date(Number(r.lease_until)).toISOString()})`,
            });
        }
        if (refused.length > 0) return { cancelled: [], refused };
        let changed = 0;
        for (let start = 0; start < wanted.length; start += IDS_PER_QUERY) {
          const part = wanted.slice(start, start + IDS_PER_QUERY);
          changed += await tx.run(
            `UPDATE notify_outbox SET status = 'cancelled', lease_until = 0 WHERE id IN (${placeholders(part.length)}) AND status = 'pending' AND lease_until <= ?`,
            [...part, now],
          );
        }
        // A deliverer claimed one between the read and the update: all or none, so none.
        if (changed !== wanted.length)
          throw new ConflictError(
            "a deliverer claimed a message while it was being cancelled: nothing was cancelled; cancel again",
          );
        return {
          cancelled: wanted.map((id) => toEntry({ ...rows.get(id)!, status: "cancelled" })),
          refused,
        };
      });
    },

    async list(filter: { status?: OutboxStatus; limit?: number } = {}) {
      const params: SqlValue[] = filter.status ? [filter.status] : [];
      if (filter.limit !== undefined) params.push(filter.limit);
      const rows = await db.all<OutboxRow>(
        `SELECT ${COLUMNS} FROM notify_outbox ${filter.status ? "WHERE status = ?" : ""} ORDER BY created_at, id${filter.limit !== undefined ? " LIMIT ?" : ""}`,
        params,
      );
      return rows.map(toEntry);
    },

    async count(filter: { status?: OutboxStatus; channel?: string; dueBy?: number } = {}) {
      const conditions: string[] = [];
      const params: SqlValue[] = [];
      if (filter.status !== undefined) {
        conditions.push("status = ?");
        params.push(filter.status);
      }
      if (filter.channel !== undefined) {
        conditions.push("channel = ?");
        params.push(filter.channel);
      }
      if (filter.dueBy !== undefined) {
        conditions.push("status = 'pending' AND next_attempt_at <= ?");
        params.push(filter.dueBy);
      }
      const row = await db.get<{ n: number | string }>(
        `SELECT COUNT(*) AS n FROM notify_outbox${conditions.length > 0 ? ` WHERE ${conditions.join(" AND ")}` : ""}`,
        params,
      );
      return Number(row?.n ?? 0);
    },

    async markSentAs(ids, key, leaseUntil) {
      for (let start = 0; start < ids.length; start += IDS_PER_QUERY) {
        const part = ids.slice(start, start + IDS_PER_QUERY);
        await db.run(
          `UPDATE notify_outbox SET sent_as = ? WHERE id IN (${placeholders(part.length)}) AND status = 'pending' AND lease_until = ? AND sent_as IS NULL`,
          [key, ...part, leaseUntil],
        );
      }
    },

    async release(ids, leaseUntil) {
      for (let start = 0; start < ids.length; start += IDS_PER_QUERY) {
        const part = ids.slice(start, start + IDS_PER_QUERY);
        await db.run(
          `UPDATE notify_outbox SET lease_until = 0 WHERE id IN (${placeholders(part.length)}) AND status = 'pending' AND lease_until = ?`,
          [...part, leaseUntil],
        );
      }
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
          `SELECT key FROM budget_thresholds_fired WHERE key IN (${placeholders(part.length)})`,
          part,
        );
        for (const r of rows) fired.add(r.key);
      }
      return fired;
    },

    async close() {},
  };
}
