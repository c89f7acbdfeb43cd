import type { Migration } from "../store/migrate.js";

/** Policy exceptions: the searchable columns, and the whole record (with its history) as JSON. */
export const EXCEPTION_MIGRATIONS: readonly Migration[] = [
  {
    id: "exceptions-0001-exceptions",
    description: "policy exceptions with status, target, approval and history",
    sql: `
      CREATE TABLE policy_exceptions (
        id TEXT PRIMARY KEY,
        policy TEXT NOT NULL,
        rule TEXT,
        resource_id TEXT,
        status TEXT NOT NULL,
        type TEXT NOT NULL,
        requested_by TEXT NOT NULL,
        requested_at TEXT NOT NULL,
        expires_at TEXT,
        version INTEGER NOT NULL,
        data TEXT NOT NULL
      );
      CREATE INDEX policy_exceptions_status ON policy_exceptions (status, policy);
      CREATE INDEX policy_exceptions_resource ON policy_exceptions (resource_id);
      CREATE INDEX policy_exceptions_requested ON policy_exceptions (requested_at, id);`,
  },
];
