import type { Migration } from "../store/migrate.js";

/**
 * Remediation tasks (one active task per finding at most, enforced by a partial unique index) and the
 * ledger of realised savings (one entry per task).
 */
export const REMEDIATION_MIGRATIONS: readonly Migration[] = [
  {
    id: "remediation-0001-tasks-and-ledger",
    description: "remediation tasks with state and history; savings ledger",
    sql: `
      CREATE TABLE remediation_tasks (
        id TEXT PRIMARY KEY,
        finding_id TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        action TEXT NOT NULL,
        state TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        version INTEGER NOT NULL,
        pending_notices INTEGER NOT NULL,
        data TEXT NOT NULL
      );
      CREATE INDEX remediation_tasks_notices ON remediation_tasks (pending_notices) WHERE pending_notices > 0;
      CREATE UNIQUE INDEX remediation_tasks_one_active ON remediation_tasks (finding_id)
        WHERE state IN ('pending', 'notified', 'due', 'in_progress');
      CREATE INDEX remediation_tasks_state ON remediation_tasks (state, created_at);
      CREATE INDEX remediation_tasks_finding ON remediation_tasks (finding_id, created_at);
      CREATE TABLE remediation_ledger (
        task_id TEXT PRIMARY KEY,
        resource_id TEXT NOT NULL,
        resource_type TEXT NOT NULL,
        action TEXT NOT NULL,
        policy TEXT NOT NULL,
        rule TEXT NOT NULL,
        cost_before TEXT NOT NULL,
        cost_after TEXT NOT NULL,
        monthly_saving TEXT NOT NULL,
        currency TEXT NOT NULL,
        recorded_at TEXT NOT NULL
      );
      CREATE INDEX remediation_ledger_recorded ON remediation_ledger (recorded_at);`,
  },
  {
    id: "remediation-0002-notices-by-age",
    description:
      "tasks with notices to send, oldest first, from an index: a large plan's notices are read a batch at a time",
    sql: `
      DROP INDEX IF EXISTS remediation_tasks_notices;
      CREATE INDEX remediation_tasks_notices_by_age ON remediation_tasks (created_at, id) WHERE pending_notices > 0;`,
  },
  {
    id: "remediation-0003-task-inventory",
    description:
      "the inventory each task acts in: a cycle over one inventory (the sandbox, aws) plans and acts on its own tasks only; tasks made before were the sandbox's",
    sql: `
      ALTER TABLE remediation_tasks ADD COLUMN inventory TEXT;
      UPDATE remediation_tasks SET inventory = 'sandbox' WHERE inventory IS NULL;
      CREATE INDEX remediation_tasks_inventory ON remediation_tasks (inventory, state);`,
  },
  {
    id: "remediation-0004-finding-resolved",
    description:
      "when a completed task's finding was first seen resolved: a finding found again after that gets a new task; each full scan reads the completed tasks not yet seen so from an index",
    sql: `
      ALTER TABLE remediation_tasks ADD COLUMN finding_resolved_at TEXT;
      CREATE INDEX remediation_tasks_finding_unresolved ON remediation_tasks (state, inventory, created_at, id)
        WHERE finding_resolved_at IS NULL;`,
  },
];
