import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { InputError } from "../../src/errors.js";
import { openStore } from "../../src/store/open.js";
import { openPostgresDb } from "../../src/store/postgres-db.js";
import { createTestDatabase, SHARED_DATABASE, type TestDatabase } from "../helpers/databases.js";

describe("PostgreSQL: a schema that holds a table of costguard's name already", {
  skip: SHARED_DATABASE !== "postgres" && "PostgreSQL unreachable (outside CI)",
}, () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestDatabase("postgres");
  });
  after(async () => {
    await db?.drop();
  });

  test("is refused naming the clash, and nothing is left behind", async () => {
    const admin = openPostgresDb(db.url);
    try {
      await admin.exec("CREATE SCHEMA app; CREATE TABLE app.resources (id INTEGER PRIMARY KEY)");
      const url = new URL(db.url);
      url.searchParams.set("options", "-c search_path=app");
      await assert.rejects(openStore({ kind: "postgres", url: url.toString() }), (err: unknown) => {
        assert.ok(err instanceof InputError, String(err));
        assert.match(
          err.message,
          /^cannot open the database postgres:\/\/\S+: it already has a table or index named resources, not costguard's, left as it is; costguard's tables go by such names: give costguard a database or schema of its own/,
        );
        return true;
      });
      const tables = await admin.all<{ name: string }>(
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'app' ORDER BY 1",
      );
      assert.deepEqual(
        tables.map((t) => t.name),
        ["resources"],
        "no schema_migrations (nor any other table) left beside it",
      );
    } finally {
      await admin.close();
    }
  });
});
