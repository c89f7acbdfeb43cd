import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { RE2JS } from "re2js";
import { compilePattern } from "../../src/policy/pattern.js";

/** Characters where JavaScript's `\s` and `.` part from RE2's, and their neighbours. */
const TRICKY = [
  "\t",
  "\n",
  "\v",
  "\f",
  "\r",
  " ",
  "\u0085",
  "\u00a0",
  "\u1680",
  "\u2000",
  "\u200a",
  "\u2028",
  "\u2029",
  "\u202f",
  "\u205f",
  "\u3000",
  "\ufeff",
  "a",
  "z",
  "_",
  "0",
  "-",
  "]",
  "é",
  "\u{1f600}",
];

/** Pieces of ASCII patterns, so each takes V8's path where it can. */
const ATOMS = [
  ".",
  "\\s",
  "\\S",
  "[\\s]",
  "[^\\s]",
  "[a-z\\s]",
  "[\\s-z]",
  "[-\\s]",
  "[\\S]",
  "[^\\S]",
  "[]a]",
  "[^]a]",
  "[.]",
  "\\.",
  "\\d",
  "\\w",
  "\\W",
  "\\D",
  "[^a]",
  "a",
  "-",
  "(a|\\s)",
];
const QUANTIFIERS = ["", "", "*", "+", "?", "{1,2}"];

const patternArb = fc
  .tuple(
    fc.boolean(),
    fc.array(fc.tuple(fc.constantFrom(...ATOMS), fc.constantFrom(...QUANTIFIERS)), {
      minLength: 1,
      maxLength: 4,
    }),
    fc.boolean(),
  )
  .map(
    ([start, parts, end]) => `${start ? "^" : ""}${parts.map(([a, q]) => a + q).join("")}${end ? "$" : ""}`,
  );
const valueArb = fc.array(fc.constantFrom(...TRICKY), { maxLength: 5 }).map((cs) => cs.join(""));

describe("tag patterns match as RE2 does", () => {
  test("\\s is RE2's [\\t\\n\\f\\r ] and . anything but \\n, still on V8's engine", () => {
    const space = compilePattern("^\\s$");
    assert.equal(space.engine, "v8");
    for (const c of ["\t", "\n", "\f", "\r", " "]) assert.equal(space.test(c), true, JSON.stringify(c));
    for (const c of ["\v", "\u00a0", "\u2000", "\u200a", "\u2028", "\u3000", "\ufeff"])
      assert.equal(space.test(c), false, JSON.stringify(c));
    const nonSpace = compilePattern("^\\S$");
    assert.equal(nonSpace.test("\v"), true);
    assert.equal(nonSpace.test("\u00a0"), true);
    const any = compilePattern("^[a-z]+.[a-z]+$");
    assert.equal(any.engine, "v8");
    assert.equal(any.test("ab\rcd"), true);
    assert.equal(any.test("ab\u2028cd"), true);
    assert.equal(any.test("ab\ncd"), false);
  });

  test("classes JavaScript reads otherwise ([]a], [^]a], \\S inside a class) run on re2js", () => {
    for (const source of ["[]a]", "[^]a]", "[\\S]", "[\\s-z]"]) {
      assert.equal(compilePattern(source).engine, "re2js", source);
    }
    assert.equal(compilePattern("^[]a]$").test("]"), true);
    assert.equal(compilePattern("^[^]a]$").test("]"), false);
  });

  test("every pattern decides as re2js does on the characters where the engines part", () => {
    fc.assert(
      fc.property(patternArb, valueArb, (source, value) => {
        const expected = RE2JS.compile(source).test(value);
        assert.equal(
          compilePattern(source).test(value),
          expected,
          `${JSON.stringify(source)} on ${JSON.stringify(value)}`,
        );
      }),
      { numRuns: 3000 },
    );
  });
});
