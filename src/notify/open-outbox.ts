import { existsSync } from "node:fs";
import { InputError, SqliteDriverError } from "../errors.js";
import { type Migration, migrate } from "../store/migrate.js";
import { openExistingStore, openStore, resolveDatabase, STORE_MARK } from "../store/open.js";
import type { SqlDb } from "../store/sql.js";
import { openSqliteDb, sqliteHoldsMarks } from "../store/sqlite-db.js";
import { STORE_OUTBOX } from "./config.js";
import { NOTIFY_MIGRATIONS } from "./migrations.js";
import { type Outbox, sqlOutbox } from "./sql-outbox.js";

/** What makes an outbox, as commands that only read one say when there is none. */
const NOTIFICATION_CREATES_OUTBOX =
  "the first notification queued creates it (costguard notify send CHANNEL --text ..., or an alert)";

/**
 * Opens the configured outbox: its own SQLite file (the default, `.costguard/notify.db`), or with
 * `store` the costguard store — the embedded database, or the PostgreSQL database of
 * COSTGUARD_DATABASE_URL that a fleet of servers shares, so they share one outbox. Closing it
 * closes what was opened. `onUpgrade` hears of each migration an existing database gets (see `migrate`).
 */
export async function openOutbox(
  outbox: string,
  store: { database?: string | undefined; env: NodeJS.ProcessEnv; cwd: string },
  onUpgrade?: (m: Migration) => void,
  /** For commands that only read: an outbox that is not there is an error, not made. */
  options: { existing?: boolean } = {},
): Promise<Outbox> {
  if (outbox === STORE_OUTBOX) {
    const location = resolveDatabase({ flag: store.database, env: store.env, cwd: store.cwd });
    const opened = options.existing
      ? await openExistingStore(location, onUpgrade, NOTIFICATION_CREATES_OUTBOX)
      : await openStore(location, new Date(), onUpgrade);
    return { ...opened.outbox, close: () => opened.close() };
  }
  if (outbox !== ":memory:") {
    let holds: { outbox: boolean | undefined; store: boolean | undefined };
    try {
      const [outboxMark, storeMark] = sqliteHoldsMarks(outbox, [NOTIFY_MIGRATIONS[0]!.id, STORE_MARK]) ?? [];
      holds = { outbox: outboxMark, store: storeMark };
    } catch (err) {
      if (err instanceof SqliteDriverError) throw err; // the installation's, not this file's
      throw new InputError(`cannot open the notification outbox ${outbox}: ${(err as Error).message}`);
    }
    // The store keeps an outbox of its own, but its file is not an outbox file (its migrations are
    // the store's): named as what it is, not as a database "created by a newer version".
    if (holds.store)
      throw new InputError(
        `${outbox} is costguard's store, not a notification outbox file: --outbox store (notify.outbox: store) uses the store's own outbox`,
      );
    // Missing, or a SQLite file that holds no outbox: left as it is.
    if (options.existing && (holds.outbox === false || !existsSync(outbox)))
      throw new InputError(`no notification outbox at ${outbox}: ${NOTIFICATION_CREATES_OUTBOX}`);
  }
  let db: SqlDb;
  try {
    db = openSqliteDb(outbox);
  } catch (err) {
    if (err instanceof SqliteDriverError) throw err; // the installation's, not this file's
    throw new InputError(`cannot open the notification outbox ${outbox}: ${(err as Error).message}`);
  }
  try {
    await migrate(db, NOTIFY_MIGRATIONS, new Date(), onUpgrade);
  } catch (err) {
    await db.close();
    throw err instanceof InputError
      ? err
      : new InputError(`cannot use the notification outbox ${outbox}: ${(err as Error).message}`);
  }
  return { ...sqlOutbox(db), close: () => db.close() };
}
