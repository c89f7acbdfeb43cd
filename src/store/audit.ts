import { type SqlDb, storedJson } from "./sql.js";

/** One line of the append-only audit log: who did what to which thing, and when. */
export interface AuditEntry {
  id: number;
  at: string;
  /** A person (`alice@company.com`) or a component (`costguard:sandbox`, `costguard:remediation`). */
  actor: string;
  /** What happened, dotted: `sandbox.init`, `resource.stop`, `exception.approve`. */
  action: string;
  subject_type: string;
  subject_id: string;
  details: Record<string, unknown>;
}

export type NewAuditEntry = Omit<AuditEntry, "id">;

export interface AuditRepository {
  append(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Oldest first; `after` is an entry id for pagination. */
  list(filter?: {
    subjectType?: string;
    subjectId?: string;
    action?: string;
    after?: number;
    limit?: number;
  }): Promise<AuditEntry[]>;
}

interface AuditRow {
  id: number | string;
  at: string;
  actor: string;
  action: string;
  subject_type: string;
  subject_id: string;
  details: string;
  [k: string]: unknown;
}

export function sqlAuditRepository(db: SqlDb): AuditRepository {
  return {
    async append(entry) {
      const row = await db.get<AuditRow>(
        "INSERT INTO audit_log (at, actor, action, subject_type, subject_id, details) VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
        [
          entry.at,
          entry.actor,
          entry.action,
          entry.subject_type,
          entry.subject_id,
          JSON.stringify(entry.details),
        ],
      );
      return fromRow(row!);
    },
    async list(filter = {}) {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (filter.subjectType !== undefined) {
        where.push("subject_type = ?");
        params.push(filter.subjectType);
      }
      if (filter.subjectId !== undefined) {
        where.push("subject_id = ?");
        params.push(filter.subjectId);
      }
      if (filter.action !== undefined) {
        where.push("action = ?");
        params.push(filter.action);
      }
      if (filter.after !== undefined) {
        where.push("id > ?");
        params.push(filter.after);
      }
      params.push(filter.limit ?? 1000);
      const rows = await db.all<AuditRow>(
        `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id LIMIT ?`,
        params,
      );
      return rows.map(fromRow);
    },
  };
}

function fromRow(r: AuditRow): AuditEntry {
  return {
    id: Number(r.id),
    at: r.at,
    actor: r.actor,
    action: r.action,
    subject_type: r.subject_type,
    subject_id: r.subject_id,
    details: storedJson<Record<string, unknown>>(r.details, () => `the details of audit entry ${r.id}`),
  };
}
