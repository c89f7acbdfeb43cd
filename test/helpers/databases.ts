import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe } from "node:test";
import pg from "pg";
import { openStore } from "../../src/store/open.js";
import type { Store } from "../../src/store/store.js";

/**
 * Runs a suite once per database: a SQLite file in a temp folder, and a PostgreSQL database of its
 * own (costguard_t_<random>) on the local server, dropped afterwards. Without PostgreSQL the
 * postgres half is skipped loudly; with CI set it fails instead.
 */
export const POSTGRES_ADMIN_URL =
  process.env.COSTGUARD_TEST_POSTGRES_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

const postgresProblem = await probePostgres();
if (postgresProblem && !process.env.CI) {
  process.stderr.write(
    `\n!!! PostgreSQL is unreachable at ${POSTGRES_ADMIN_URL} (${postgresProblem}): the PostgreSQL half of the store contract tests is SKIPPED. With CI set, this fails.\n\n`,
  );
}

async function probePostgres(): Promise<string | null> {
  const client = new pg.Client({ connectionString: POSTGRES_ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return null;
  } catch (err) {
    return (err as Error).message || String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

export type DatabaseKind = "sqlite" | "postgres";

/** The database a test that needs a shared server uses: PostgreSQL, or (loudly, outside CI) SQLite. */
export const SHARED_DATABASE: DatabaseKind = postgresProblem && !process.env.CI ? "sqlite" : "postgres";

export interface TestDatabase {
  /** Opens a store on this database (migrating it); close it yourself. */
  open(now?: Date): Promise<Store>;
  /** A URL or path for the CLI's --database. */
  url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(kind: DatabaseKind): Promise<TestDatabase> {
  if (kind === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "costguard-store-"));
    const path = join(dir, "test.db");
    return {
      url: path,
      open: (now) => openStore({ kind: "sqlite", path }, now),
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  if (postgresProblem)
    throw new Error(`PostgreSQL is unreachable at ${POSTGRES_ADMIN_URL}: ${postgresProblem}`);
  const name = `costguard_t_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    open: (now) => openStore({ kind: "postgres", url: url.toString() }, now),
    async drop() {
      const c = new pg.Client({ connectionString: POSTGRES_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export interface DatabaseContext {
  readonly kind: DatabaseKind;
  readonly db: TestDatabase;
  /** A store opened on the suite's database before its tests. */
  readonly store: Store;
}

/** Declares `body` once per database, with a fresh database for each. */
export function describeEachDatabase(title: string, body: (ctx: DatabaseContext) => void): void {
  for (const kind of ["sqlite", "postgres"] as const) {
    const skip = kind === "postgres" && postgresProblem !== null && !process.env.CI;
    describe(`${title} [${kind}]`, {
      skip: skip ? `PostgreSQL unreachable: ${postgresProblem}` : false,
    }, () => {
      let db: TestDatabase | undefined;
      let store: Store | undefined;
      before(async () => {
        db = await createTestDatabase(kind);
        store = await db.open();
      });
      after(async () => {
        await store?.close();
        await db?.drop();
      });
      body({
        kind,
        get db() {
          return db!;
        },
        get store() {
          return store!;
        },
      });
    });
  }
}
