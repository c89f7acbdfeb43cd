import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { forEachPackedRow, packRow, RowPacker, unpackRows } from "../../src/store/packed-rows.js";
import type { SqlValue } from "../../src/store/sql.js";

const utf8 = new TextEncoder();

function pack(rows: readonly (readonly SqlValue[])[]) {
  const packer = new RowPacker(1);
  for (const row of rows) packer.addBytes(utf8.encode(packRow(row)));
  return packer.take();
}

// Strings made mostly of the characters packing gives a meaning to, and of text beyond one byte.
const tricky = fc.string({
  unit: fc.constantFrom(
    "\u0000",
    "\u0001",
    "\u0002",
    "\u001e",
    "\u001f",
    "a",
    ",",
    '"',
    "\\",
    "é",
    "✓",
    "😀",
    "\ud800",
    "\udfff",
  ),
  maxLength: 6,
});
const value: fc.Arbitrary<SqlValue> = fc.oneof(
  tricky,
  fc.string(),
  fc.constant(null),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

test("packed rows come back as the values packed, whatever the strings hold", () => {
  fc.assert(
    fc.property(fc.array(fc.array(value, { minLength: 1, maxLength: 8 }), { maxLength: 20 }), (rows) => {
      const packed = pack(rows);
      assert.equal(packed.length, rows.length);
      // -0 goes through JSON as 0, as it does through SQLite's REAL.
      assert.deepEqual(
        unpackRows(packed),
        rows.map((r) => r.map((v) => (Object.is(v, -0) ? 0 : v))),
      );
    }),
    { numRuns: 300 },
  );
});

test("rows of strings and nulls are packed as text with separators; anything else as JSON", () => {
  assert.equal(packRow(["a", null, "", "b"]), "a\u001f\u0000\u001f\u001fb");
  assert.equal(packRow([null]), "\u0000");
  assert.equal(packRow(["\u0000"]), '\u0002["\\u0000"]');
  assert.equal(packRow(["half \ud800"]), '\u0002["half \\ud800"]');
  assert.equal(packRow(["pair 😀"]), "pair 😀");
  assert.equal(packRow(["a\u001fb"]), '\u0002["a\\u001fb"]');
  assert.throws(() => packRow([1n]), /BigInt/);
});

test("a packer grows past what it expected, and each take starts it empty", () => {
  const packer = new RowPacker(1);
  const long = "x".repeat(5000);
  for (let i = 0; i < 5; i++) packer.addBytes(utf8.encode(packRow([`k${i}`, long])));
  const first = packer.take();
  assert.equal(first.length, 5);
  packer.addBytes(utf8.encode(packRow(["only"])));
  const second = packer.take();
  const seen: SqlValue[][] = [];
  forEachPackedRow(second.bytes, second.ends, (v) => seen.push(v));
  assert.deepEqual(seen, [["only"]]);
  assert.deepEqual(
    unpackRows(first).map((r) => r[0]),
    ["k0", "k1", "k2", "k3", "k4"],
  );
  // Array rows pass through untouched.
  const arrays = [["a", null]];
  assert.equal(unpackRows(arrays), arrays);
});
