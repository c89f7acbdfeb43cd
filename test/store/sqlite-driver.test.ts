import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import Database from "better-sqlite3";
import { reportError } from "../../src/cli/exit.js";
import { SqliteDriverError } from "../../src/errors.js";
import { sqliteDriverError } from "../../src/store/sqlite-db.js";

// better-sqlite3 without its compiled addon (install scripts skipped) or with one built for another
// Node.js cannot open any SQLite file. The errors it throws then are made here as it makes them: the
// `bindings` package it loads the addon with, looking in a folder holding no build, and Node's own
// dlopen of a file that is no addon for this machine.

const driverRequire = createRequire(createRequire(import.meta.url).resolve("better-sqlite3"));

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  assert.fail("expected a throw");
}

function inFolder<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), "costguard-driver-"));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function assertOneClearLine(err: SqliteDriverError | undefined, why: string): void {
  assert.ok(err instanceof SqliteDriverError);
  assert.doesNotMatch(err.message, /\n/);
  assert.match(err.message, /^the native module better-sqlite3 is not built for this Node\.js/);
  assert.ok(err.message.includes(`(${process.version}: ${why})`), err.message);
  assert.ok(err.message.includes("`npm rebuild better-sqlite3`"), err.message);
  assert.ok(err.message.includes("PostgreSQL (COSTGUARD_DATABASE_URL=postgres://...)"), err.message);
}

test("an addon never built (bindings' 'Could not locate the bindings file') is said in one line", () => {
  const err = inFolder((dir) =>
    thrown(() => driverRequire("bindings")({ bindings: "better_sqlite3.node", module_root: dir })),
  );
  assert.match((err as Error).message, /^Could not locate the bindings file\. Tried:\n/);
  assertOneClearLine(sqliteDriverError(err), "its install script did not run");
});

test("an addon that does not load here (ERR_DLOPEN_FAILED) is said in one line", () => {
  const err = inFolder((dir) => {
    const addon = join(dir, "better_sqlite3.node");
    writeFileSync(addon, "built for another machine");
    return thrown(() => driverRequire(addon));
  });
  assert.equal((err as { code?: string }).code, "ERR_DLOPEN_FAILED");
  assertOneClearLine(sqliteDriverError(err), "it was built for another Node.js or machine");
});

test("other failures are not the driver's: SQLite's own, a file's, another addon's", () => {
  inFolder((dir) => {
    assert.equal(
      sqliteDriverError(thrown(() => new Database(join(dir, "missing", "x.db"), { fileMustExist: true }))),
      undefined,
    );
    assert.equal(sqliteDriverError(thrown(() => new Database(dir))), undefined);
    const other = join(dir, "other.node");
    writeFileSync(other, "not an addon");
    assert.equal(sqliteDriverError(thrown(() => driverRequire(other))), undefined);
  });
  assert.equal(sqliteDriverError(Object.assign(new Error("gone"), { code: "ENOENT" })), undefined);
  assert.equal(sqliteDriverError(undefined), undefined);
});

test("the CLI says it in that one line and exits 3, as for a database that fails", () => {
  const err = new PassThrough();
  let text = "";
  err.on("data", (c: Buffer) => {
    text += c.toString();
  });
  const driver = sqliteDriverError(
    new Error("Could not locate the bindings file. Tried:\n → build/Release/better_sqlite3.node"),
  );
  assert.equal(reportError(driver, err), 3);
  assert.equal(text, `costguard: ${driver!.message}\n`);
});
