import { sqlExceptionStore } from "../exceptions/sql-exception-store.js";
import type { ExceptionStore } from "../exceptions/store.js";
import { sqlResourceRepository } from "../inventory/sql-resource-repository.js";
import type { ResourceRepository } from "../inventory/store.js";
import { type Outbox, sqlOutbox } from "../notify/sql-outbox.js";
import { sqlSavingsLedger, sqlTaskStore } from "../remediation/sql-task-store.js";
import type { SavingsLedger, TaskStore } from "../remediation/store.js";
import { sqlFindingRepository } from "../scan/sql-finding-repository.js";
import { sqlScanRepository } from "../scan/sql-scan-repository.js";
import type { FindingRepository, ScanRepository } from "../scan/store.js";
import { type AuditRepository, sqlAuditRepository } from "./audit.js";
import { type StoreMaintenance, sqlMaintenance } from "./maintenance.js";
import { MIGRATIONS } from "./migrations.js";
import { type SettingsRepository, sqlSettingsRepository } from "./settings.js";
import type { Dialect, SqlDb } from "./sql.js";

/**
 * The one repository interface of costguard: every feature's repository, over one database
 * (embedded SQLite by default, PostgreSQL when a postgres:// URL is configured). Every method is
 * async, whichever the database.
 */
export interface Store {
  readonly dialect: Dialect;
  /** Where the data lives, for messages (a file path, or a URL without its password). */
  readonly location: string;
  readonly resources: ResourceRepository;
  readonly scans: ScanRepository;
  readonly findings: FindingRepository;
  readonly audit: AuditRepository;
  readonly settings: SettingsRepository;
  readonly exceptions: ExceptionStore;
  readonly tasks: TaskStore;
  readonly ledger: SavingsLedger;
  /** The notification outbox and budget-threshold ledger (`notify.outbox: store`). */
  readonly outbox: Outbox;
  /** What the store holds and how big it is; giving back the room of deleted rows. */
  readonly maintenance: StoreMaintenance;
  /**
   * Runs `fn` with a store whose repositories share one transaction: all of it is committed, or
   * none. Inside, use only the `tx` store passed in.
   */
  transaction<T>(fn: (tx: Store) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * Builds the repositories over a database handle; features add theirs here. `file` is the SQLite
 * file (not in memory, not on PostgreSQL).
 */
export function createStore(db: SqlDb, location: string, file?: string): Store {
  return {
    dialect: db.dialect,
    location,
    resources: sqlResourceRepository(db),
    scans: sqlScanRepository(db),
    findings: sqlFindingRepository(db),
    audit: sqlAuditRepository(db),
    settings: sqlSettingsRepository(db),
    exceptions: sqlExceptionStore(db),
    tasks: sqlTaskStore(db),
    ledger: sqlSavingsLedger(db),
    outbox: sqlOutbox(db),
    maintenance: sqlMaintenance(db, location, file, MIGRATIONS),
    transaction: (fn) => db.transaction((tx) => fn(createStore(tx, location, file))),
    close: () => db.close(),
  };
}
