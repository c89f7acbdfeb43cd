import { ConflictError, NotFoundError } from "../errors.js";
import { sameUser } from "../users.js";
import type { ExceptionStatus, PolicyException } from "./types.js";

export interface ExceptionFilter {
  /** Stored status (an approved exception past its expiry is still `approved` until a sweep). */
  status?: ExceptionStatus;
  policy?: string;
  /** A user in any case or way of writing their name (see sameUser), as they are one user. */
  requested_by?: string;
  resource_id?: string;
}

/** Where exceptions live: SQLite or PostgreSQL in production, the in-memory fake in unit tests. */
export interface ExceptionStore {
  /** Throws ConflictError when the id exists. */
  insert(exc: PolicyException): Promise<void>;
  /**
   * Replaces an exception if the stored one still has `expectedVersion` (optimistic concurrency:
   * two approvers acting at once cannot both win). Throws NotFoundError or ConflictError.
   */
  update(exc: PolicyException, expectedVersion: number): Promise<void>;
  get(id: string): Promise<PolicyException | undefined>;
  /** Ordered by request time, oldest first. */
  list(filter?: ExceptionFilter): Promise<PolicyException[]>;
}

export function matchesFilter(exc: PolicyException, f: ExceptionFilter | undefined): boolean {
  if (!f) return true;
  return (
    (f.status === undefined || exc.status === f.status) &&
    (f.policy === undefined || exc.policy === f.policy) &&
    (f.requested_by === undefined || sameUser(exc.requested_by, f.requested_by)) &&
    (f.resource_id === undefined || exc.resource_id === f.resource_id)
  );
}

/** An in-memory ExceptionStore with the same contract as the database ones. */
export function createMemoryExceptionStore(): ExceptionStore {
  const rows = new Map<string, PolicyException>();
  const copy = (e: PolicyException): PolicyException => structuredClone(e);
  return {
    async insert(exc) {
      if (rows.has(exc.id)) throw new ConflictError(`exception ${exc.id} already exists`);
      rows.set(exc.id, copy(exc));
    },
    async update(exc, expectedVersion) {
      const current = rows.get(exc.id);
      if (!current) throw new NotFoundError(`no exception ${exc.id}`);
      if (current.version !== expectedVersion)
        throw new ConflictError(`exception ${exc.id} was changed by someone else; try again`);
      rows.set(exc.id, copy(exc));
    },
    async get(id) {
      const e = rows.get(id);
      return e ? copy(e) : undefined;
    },
    async list(filter) {
      return [...rows.values()]
        .filter((e) => matchesFilter(e, filter))
        .sort((a, b) => a.requested_at.localeCompare(b.requested_at) || a.id.localeCompare(b.id))
        .map(copy);
    },
  };
}
