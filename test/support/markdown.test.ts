import assert from "node:assert/strict";
import { test } from "node:test";
import { code, md } from "../../src/markdown.js";

test("md: text stays text in a list item or table cell", () => {
  assert.equal(
    md("a *b* _c_ `d` [e](f) <b>g</b> h|i ~j~ &amp;"),
    "a \\*b\\* \\_c\\_ \\`d\\` \\[e\\](f) \\<b\\>g\\</b\\> h\\|i \\~j\\~ \\&amp;",
  );
  // At the start of an item a # would make a heading and a + or - a nested list.
  assert.equal(md("# not a heading"), "\\# not a heading");
  assert.equal(md("- not a list"), "\\- not a list");
  assert.equal(md("cost + tax (monthly)"), "cost + tax (monthly)");
  assert.equal(md("two\nlines"), "two lines");
});

test("code: a fence longer than any backtick run inside, padded at a backtick edge", () => {
  assert.equal(code("aws_instance.a"), "`aws_instance.a`");
  assert.equal(code('a["x`y"]'), '``a["x`y"]``');
  assert.equal(code("`edge"), "`` `edge ``");
  assert.equal(code("a|b", true), "`a\\|b`");
  assert.equal(code("a|b"), "`a|b`");
});
