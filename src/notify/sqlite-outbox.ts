import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { InputError } from "../errors.js";
import type { OutboxEntry, OutboxMessage, OutboxStatus, OutboxStore, ThresholdLedger } from "./types.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS notify_outbox (
  id TEXT PRIMARY KEY,
  channel TEXT NOT NULL,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  data TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  lease_until INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  delivered_at INTEGER
);
CREATE INDEX IF NOT EXISTS notify_outbox_due ON notify_outbox (status, next_attempt_at);
CREATE TABLE IF NOT EXISTS budget_thresholds_fired (
  key TEXT PRIMARY KEY,
  fired_at INTEGER NOT NULL
);
`;

interface Row {
  id: string;
  channel: string;
  kind: string;
  subject: string;
  body: string;
  data: string;
  created_at: number;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  delivered_at: number | null;
}

function toEntry(r: Row): OutboxEntry {
  return {
    id: r.id,
    channel: r.channel,
    kind: r.kind,
    subject: r.subject,
    text: r.body,
    data: JSON.parse(r.data) as OutboxEntry["data"],
    createdAt: r.created_at,
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.next_attempt_at,
    lastError: r.last_error,
    deliveredAt: r.delivered_at,
  };
}

/**
 * The outbox and the threshold ledger in one SQLite file (WAL, so a deliverer and a writer can work at
 * once; claims are single UPDATE statements, so two processes never claim the same message).
 */
export class SqliteOutbox implements OutboxStore, ThresholdLedger {
  private readonly db: Database.Database;

  constructor(readonly path: string) {
    try {
      if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
      this.db = new Database(path);
    } catch (err) {
      throw new InputError(`cannot open the notification outbox ${path}: ${(err as Error).message}`);
    }
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(SCHEMA);
  }

  async enqueue(messages: readonly OutboxMessage[]): Promise<number> {
    const insert = this.db.prepare(
      `INSERT INTO notify_outbox (id, channel, kind, subject, body, data, created_at, next_attempt_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
    );
    const run = this.db.transaction((list: readonly OutboxMessage[]) => {
      let added = 0;
      for (const m of list) {
        added += insert.run(
          m.id,
          m.channel,
          m.kind,
          m.subject,
          m.text,
          JSON.stringify(m.data),
          m.createdAt,
          m.createdAt,
        ).changes;
      }
      return added;
    });
    return run(messages);
  }

  async claimDue(now: number, limit: number, leaseMs: number): Promise<OutboxEntry[]> {
    const claim = this.db.transaction(() => {
      const rows = this.db
        .prepare(
          `SELECT * FROM notify_outbox WHERE status = 'pending' AND next_attempt_at <= ? AND lease_until <= ?
           ORDER BY next_attempt_at, created_at, id LIMIT ?`,
        )
        .all(now, now, limit) as Row[];
      const lease = this.db.prepare(
        "UPDATE notify_outbox SET lease_until = ? WHERE id = ? AND status = 'pending' AND lease_until <= ?",
      );
      return rows.filter((r) => lease.run(now + leaseMs, r.id, now).changes === 1);
    });
    return claim.immediate().map(toEntry);
  }

  async markDelivered(id: string, now: number): Promise<void> {
    this.db
      .prepare(
        "UPDATE notify_outbox SET status = 'delivered', delivered_at = ?, attempts = attempts + 1, lease_until = 0, last_error = NULL WHERE id = ?",
      )
      .run(now, id);
  }

  async markFailed(id: string, error: string, nextAttemptAt: number): Promise<void> {
    this.db
      .prepare(
        "UPDATE notify_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, lease_until = 0 WHERE id = ? AND status = 'pending'",
      )
      .run(error.slice(0, 1000), nextAttemptAt, id);
  }

  async list(filter: { status?: OutboxStatus } = {}): Promise<OutboxEntry[]> {
    const rows = (
      filter.status
        ? this.db
            .prepare("SELECT * FROM notify_outbox WHERE status = ? ORDER BY created_at, id")
            .all(filter.status)
        : this.db.prepare("SELECT * FROM notify_outbox ORDER BY created_at, id").all()
    ) as Row[];
    return rows.map(toEntry);
  }

  async markFired(keys: readonly string[], now: number): Promise<string[]> {
    const insert = this.db.prepare(
      "INSERT INTO budget_thresholds_fired (key, fired_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
    );
    const run = this.db.transaction((list: readonly string[]) =>
      list.filter((k) => insert.run(k, now).changes === 1),
    );
    return run(keys);
  }

  async fired(keys: readonly string[]): Promise<Set<string>> {
    const get = this.db.prepare("SELECT key FROM budget_thresholds_fired WHERE key = ?");
    return new Set(keys.filter((k) => get.get(k) !== undefined));
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
