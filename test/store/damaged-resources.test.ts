import assert from "node:assert/strict";
import { test } from "node:test";
import { StoredDataError } from "../../src/errors.js";
import { initSandbox, SANDBOX_SOURCE } from "../../src/inventory/sandbox/sandbox.js";
import { openPostgresDb } from "../../src/store/postgres-db.js";
import { openSqliteDb } from "../../src/store/sqlite-db.js";
import { cli } from "../helpers/cli.js";
import { describeEachDatabase } from "../helpers/databases.js";
import { PRICES } from "../helpers/scan-context.js";

describeEachDatabase("a resource row changed by hand", (ctx) => {
  test("is the database's failure naming the row (exit 3), whether not JSON or not a resource", async () => {
    await initSandbox(ctx.store, PRICES, { resources: 5, seed: "d", at: new Date("2026-06-01T00:00:00Z") });
    const [first] = await ctx.store.resources.list(SANDBOX_SOURCE, { limit: 1 });
    const id = first!.id;
    const raw = ctx.kind === "sqlite" ? openSqliteDb(ctx.db.url) : openPostgresDb(ctx.db.url);
    try {
      for (const [data, why] of [
        ["xx", /: not JSON as costguard stores it \(/],
        ["[1,2]", /: not a resource as costguard stores it \(an object with its id and type\)/],
      ] as const) {
        await raw.run("UPDATE resources SET data = ? WHERE source = ? AND id = ?", [
          data,
          SANDBOX_SOURCE,
          id,
        ]);
        for (const read of [
          () => ctx.store.resources.list(SANDBOX_SOURCE),
          () => ctx.store.resources.get(SANDBOX_SOURCE, id),
        ])
          await assert.rejects(read(), (err: unknown) => {
            assert.ok(err instanceof StoredDataError, String(err));
            assert.match(err.message, new RegExp(`^the data of resource ${id} in sandbox`));
            assert.match(err.message, why);
            return true;
          });
        for (const args of [
          ["sandbox", "show"],
          ["scan", "-p", "examples/policies", "-i", "sandbox"],
        ]) {
          const r = await cli([...args, "--database", ctx.db.url], { cwd: process.cwd() });
          assert.equal(r.code, 3, `${args.join(" ")}: ${r.stderr}`);
          assert.match(
            r.stderr,
            new RegExp(`^costguard: the database failed: the data of resource ${id} in sandbox: not `),
          );
          assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
        }
      }
    } finally {
      await raw.close();
    }
  });
});
