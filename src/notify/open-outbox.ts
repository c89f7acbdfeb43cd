import { InputError } from "../errors.js";
import { type Migration, migrate } from "../store/migrate.js";
import { openStore, resolveDatabase } from "../store/open.js";
import type { SqlDb } from "../store/sql.js";
import { openSqliteDb } from "../store/sqlite-db.js";
import { STORE_OUTBOX } from "./config.js";
import { NOTIFY_MIGRATIONS } from "./migrations.js";
import { type Outbox, sqlOutbox } from "./sql-outbox.js";

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
): Promise<Outbox> {
  if (outbox === STORE_OUTBOX) {
    const opened = await openStore(
      resolveDatabase({ flag: store.database, env: store.env, cwd: store.cwd }),
      new Date(),
      onUpgrade,
    );
    return { ...opened.outbox, close: () => opened.close() };
  }
  let db: SqlDb;
  try {
    db = openSqliteDb(outbox);
  } catch (err) {
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
