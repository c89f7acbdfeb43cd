import assert from "node:assert/strict";
import { test } from "node:test";
import { copyPlan, copyText } from "../../src/store/postgres-copy.js";
import { numberPlaceholders } from "../../src/store/postgres-db.js";
import { splitInsert } from "../../src/store/sql.js";

test("splitInsert reads past quoted text: parentheses, commas and question marks in literals", () => {
  const sql = "INSERT INTO t (a, b, c) VALUES (?, 'it''s (1)?, x', ?) ON CONFLICT (a) DO NOTHING";
  assert.deepEqual(splitInsert(sql), {
    head: "INSERT INTO t (a, b, c) VALUES ",
    tuple: "(?, 'it''s (1)?, x', ?)",
    tail: " ON CONFLICT (a) DO NOTHING",
    placeholders: 2,
  });
  assert.equal(splitInsert("insert into t (a) values(lower(?))").placeholders, 1);
  assert.throws(() => splitInsert("UPDATE t SET a = ?"), /INSERT \.\.\. VALUES/);
  assert.throws(() => splitInsert("INSERT INTO t (a) VALUES ('unclosed"), /INSERT \.\.\. VALUES/);
});

test("copyPlan: placeholders become a typed temporary table's columns; literals and the tail stay", () => {
  const plan = copyPlan(
    "INSERT INTO findings (fingerprint, inventory, message, status) VALUES (?, 'file:a (1)?.json', ?, 'open') ON CONFLICT (fingerprint) DO NOTHING",
  );
  assert.ok(plan);
  assert.match(plan.temp, /^costguard_copy_\d+$/);
  assert.equal(
    plan.create,
    `CREATE TEMP TABLE ${plan.temp} ON COMMIT DROP AS SELECT fingerprint AS c1, message AS c2 FROM findings WITH NO DATA`,
  );
  assert.equal(plan.copy, `COPY ${plan.temp} (c1, c2) FROM STDIN`);
  assert.equal(
    plan.insert,
    `INSERT INTO findings (fingerprint, inventory, message, status) SELECT c1, 'file:a (1)?.json', c2, 'open' FROM ${plan.temp} ON CONFLICT (fingerprint) DO NOTHING`,
  );
  // Another statement filling the same columns shares the table (an upsert's fallback reuses the rows).
  const other = copyPlan(
    "INSERT INTO findings (fingerprint, inventory, message, status) VALUES (?, 'x', ?, 'open') ON CONFLICT (fingerprint) DO UPDATE SET message = excluded.message",
  );
  assert.equal(other?.temp, plan.temp);
  assert.notEqual(copyPlan("INSERT INTO findings (fingerprint) VALUES (?)")?.temp, plan.temp);
});

test("copyPlan declines what it cannot copy: the statement then goes as multi-row VALUES", () => {
  for (const sql of [
    "INSERT INTO t (a, b) VALUES (?, lower(?))", // a placeholder inside an expression
    "INSERT INTO t VALUES (?, ?)", // no column list
    "INSERT INTO t (a, b) VALUES (?)", // columns and values disagree
    "INSERT INTO t (a) VALUES ('constant')", // nothing to copy
    'INSERT INTO "odd name" (a) VALUES (?)', // a quoted identifier
    "UPDATE t SET a = ?",
  ]) {
    assert.equal(copyPlan(sql), undefined, sql);
  }
});

test("copyText: tabs, newlines, carriage returns and backslashes escaped; NULL as \\N; numbers as text", () => {
  assert.equal(
    copyText([
      ["plain", null, 42, 1.5, ""],
      ["tab\there", "line\nbreak", "cr\rhere", "back\\slash", "\\N"],
      [10n, "ünïcødé ✓", "'quoted'", "a,b", null],
    ]),
    "plain\t\\N\t42\t1.5\t\n" +
      "tab\\there\tline\\nbreak\tcr\\rhere\tback\\\\slash\t\\\\N\n" +
      "10\tünïcødé ✓\t'quoted'\ta,b\t\\N\n",
  );
});

test("numberPlaceholders numbers the placeholders outside quoted text only", () => {
  assert.equal(
    numberPlaceholders(`SELECT ?, 'what?', "odd?name", ? FROM t WHERE a = 'it''s ?' AND b IN (?, ?)`),
    `SELECT $1, 'what?', "odd?name", $2 FROM t WHERE a = 'it''s ?' AND b IN ($3, $4)`,
  );
  assert.equal(numberPlaceholders("SELECT 1"), "SELECT 1");
});
