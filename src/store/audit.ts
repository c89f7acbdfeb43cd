import { userKey } from "../users.js";
import { type SqlDb, storedJson } from "./sql.js";

/** Entries whose actor is looked at per query when reading by actor (ids and actors only). */
const ACTOR_SCAN_PAGE = 1000;

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

/** Which entries to read; every field narrows. */
export interface AuditFilter {
  subjectType?: string;
  subjectId?: string;
  action?: string;
  /** Actions starting with this text: `resource.` for every action on resources. */
  actionPrefix?: string;
  /** A person in any case or way of writing their name (as the exceptions' approvers are matched). */
  actor?: string;
  /** Entries at or after this instant (an ISO time as `Date.toISOString` writes it). */
  since?: string;
  /** An entry id: only entries after it (oldest first) or before it (newest first), for paging. */
  after?: number;
  before?: number;
  /** At most this many (default 1000). */
  limit?: number;
  /** Newest first instead of oldest first. */
  newestFirst?: boolean;
}

export interface AuditRepository {
  append(entry: NewAuditEntry): Promise<AuditEntry>;
  /** Oldest first (by id, the order they were appended in) unless `newestFirst`. */
  list(filter?: AuditFilter): Promise<AuditEntry[]>;
  /** Every action the log holds, with how many entries have it, in the order of their names. */
  actions(): Promise<{ action: string; count: number }[]>;
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
      if (filter.actor !== undefined) return listByActor(db, filter, filter.actor);
      const { where, params } = conditions(filter);
      params.push(filter.limit ?? 1000);
      const rows = await db.all<AuditRow>(
        `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id ${filter.newestFirst ? "DESC" : ""} LIMIT ?`,
        params,
      );
      return rows.map(fromRow);
    },
    async actions() {
      const rows = await db.all<{ action: string; count: number | string }>(
        "SELECT action, COUNT(*) AS count FROM audit_log GROUP BY action",
      );
      // Sorted here: PostgreSQL's collation would order names otherwise than SQLite does.
      return rows
        .map((r) => ({ action: r.action, count: Number(r.count) }))
        .sort((x, y) => (x.action < y.action ? -1 : x.action > y.action ? 1 : 0));
    },
  };
}

/** The WHERE clauses and their values for every filter but the actor and the limit. */
function conditions(filter: AuditFilter): { where: string[]; params: (string | number)[] } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  const narrow = (clause: string, value: string | number | undefined) => {
    if (value === undefined) return;
    where.push(clause);
    params.push(value);
  };
  narrow("subject_type = ?", filter.subjectType);
  narrow("subject_id = ?", filter.subjectId);
  narrow("action = ?", filter.action);
  // substr, not LIKE: an action's `_` or `%` is itself, with no escaping to get wrong.
  if (filter.actionPrefix !== undefined) {
    // Its length in characters, as SQL counts them (a JavaScript length counts 🚀 as two).
    where.push("substr(action, 1, ?) = ?");
    params.push([...filter.actionPrefix].length, filter.actionPrefix);
  }
  narrow("at >= ?", filter.since);
  narrow("id > ?", filter.after);
  narrow("id < ?", filter.before);
  return { where, params };
}

/**
 * The entries by one actor, matched as a user is (userKey: `alice`, `Alice` and `ＡＬＩＣＥ` are one)
 * rather than by SQL: SQLite's lower() folds only ASCII and PostgreSQL's folds by its collation, and
 * neither knows fullwidth forms or accents. So ids and actors are read a page at a time with the
 * other filters, in the order asked for, and the entries of those that match are read whole.
 */
async function listByActor(db: SqlDb, filter: AuditFilter, actor: string): Promise<AuditEntry[]> {
  const limit = filter.limit ?? 1000;
  const order = filter.newestFirst ? "DESC" : "";
  const wanted = userKey(actor);
  const out: AuditEntry[] = [];
  let cursor: number | undefined;
  while (out.length < limit) {
    const { where, params } = conditions({
      ...filter,
      ...(cursor === undefined ? {} : filter.newestFirst ? { before: cursor } : { after: cursor }),
    });
    params.push(ACTOR_SCAN_PAGE);
    const page = await db.all<{ id: number | string; actor: string }>(
      `SELECT id, actor FROM audit_log ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id ${order} LIMIT ?`,
      params,
    );
    if (page.length === 0) break;
    const ids = page
      .filter((r) => userKey(r.actor) === wanted)
      .slice(0, limit - out.length)
      .map((r) => Number(r.id));
    if (ids.length > 0) {
      const rows = await db.all<AuditRow>(
        `SELECT * FROM audit_log WHERE id IN (${ids.map(() => "?").join(", ")}) ORDER BY id ${order}`,
        ids,
      );
      out.push(...rows.map(fromRow));
    }
    if (page.length < ACTOR_SCAN_PAGE) break;
    cursor = Number(page.at(-1)!.id);
  }
  return out;
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
