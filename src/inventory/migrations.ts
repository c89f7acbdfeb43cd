import type { Migration } from "../store/migrate.js";

/** Resources kept in the store (the sandbox's simulated cloud lives here). */
export const INVENTORY_MIGRATIONS: readonly Migration[] = [
  {
    id: "inventory-0001-resources",
    description: "resources by source (sandbox state)",
    sql: `
      CREATE TABLE resources (
        source TEXT NOT NULL,
        id TEXT NOT NULL,
        type TEXT NOT NULL,
        state TEXT,
        data TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        gone_at TEXT,
        PRIMARY KEY (source, id)
      );
      CREATE INDEX resources_type ON resources (source, type);`,
  },
];
