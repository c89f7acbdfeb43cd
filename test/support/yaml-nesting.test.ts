import assert from "node:assert/strict";
import { test } from "node:test";
import { Document, isCollection, parseAllDocuments, type ToStringOptions, visit } from "yaml";
import { MAX_NESTING } from "../../src/objects.js";
import { yamlTooDeep } from "../../src/yaml-value.js";

/** A value `levels` lists and maps deep, with shallower branches beside its spine (seeded, so the same each run). */
function nested(levels: number, seed: number): unknown {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const branch = (depth: number): unknown => {
    if (depth === 0 || random() < 0.3) return random() < 0.5 ? "a - b: [c]" : 7;
    return random() < 0.5 ? [branch(depth - 1)] : { k: branch(depth - 1), "q: x": "# [" };
  };
  let value: unknown = "leaf";
  for (let level = 1; level <= levels; level++) {
    const beside = branch(Math.min(level - 1, 3));
    value = random() < 0.5 ? [beside, value] : { side: beside, down: value };
  }
  return value;
}

/** The depth the yaml library reads in `text`, its documents' deepest. */
function depthRead(text: string): number {
  const depth = (v: unknown): number =>
    v === null || typeof v !== "object" ? 0 : 1 + Math.max(0, ...Object.values(v).map(depth));
  const docs = parseAllDocuments(text);
  return Math.max(...(Array.isArray(docs) ? docs : []).map((d) => depth(d.toJS())));
}

/** `value` as YAML: block collections down to `flowFrom` levels deep, flow ones below. */
function written(value: unknown, options: ToStringOptions, flowFrom = Number.POSITIVE_INFINITY): string {
  const doc = new Document(value);
  visit(doc, {
    Collection(_, node, path) {
      if (path.filter(isCollection).length + 1 >= flowFrom) node.flow = true;
    },
  });
  return doc.toString(options);
}

test("yamlTooDeep finds text nested past MAX_NESTING in every layout the yaml library writes, and no other", () => {
  const layouts: [ToStringOptions, number?][] = [
    [{}],
    [{ indent: 4 }],
    [{ indentSeq: false }],
    [{ collectionStyle: "flow" }],
    [{}, 3],
    [{ indentSeq: false }, MAX_NESTING - 3],
  ];
  for (const levels of [MAX_NESTING - 1, MAX_NESTING, MAX_NESTING + 1, MAX_NESTING + 2])
    for (let seed = 1; seed <= 6; seed++)
      for (const [options, flowFrom] of layouts) {
        const text = written(nested(levels, seed), options, flowFrom);
        assert.equal(depthRead(text), levels);
        assert.equal(
          yamlTooDeep(text) !== undefined,
          levels > MAX_NESTING,
          `${levels} ${seed} ${JSON.stringify(options)} ${flowFrom}`,
        );
      }
});

test("yamlTooDeep counts no level for what only looks like one, and counts each document alone", () => {
  const openers = "- [ { ? : ".repeat(MAX_NESTING);
  for (const text of [
    `a: |\n${`  - ${openers}\n`.repeat(3)}`,
    `a: "${openers}"\nb: '${openers}'\n`,
    `a: 1 # ${openers}\n`,
    `${`- ${"[".repeat(200)}${"]".repeat(200)}\n`.repeat(3)}`,
    `${`${"- ".repeat(200)}x\n---\n`.repeat(3)}`,
    // A list written at its map's column (`a:` then `- x`), the map going on after it: maps within
    // maps, a list in the innermost, MAX_NESTING levels in all.
    Array.from(
      { length: MAX_NESTING - 1 },
      (_, i) => `${"  ".repeat(i)}k${i}:\n${"  ".repeat(i)}- x\n${"  ".repeat(i)}v${i}:`,
    ).join("\n"),
  ]) {
    assert.ok(depthRead(text) <= MAX_NESTING);
    assert.equal(yamlTooDeep(text), undefined, text.slice(0, 80));
  }
});

test("yamlTooDeep says where the level past MAX_NESTING opens: the bracket, the dash, or the key", () => {
  const past = MAX_NESTING + 1;
  assert.deepEqual(yamlTooDeep(`a:\n  ${"[".repeat(past)}${"]".repeat(past)}\n`), {
    line: 2,
    column: 3 + MAX_NESTING - 1,
  });
  assert.deepEqual(yamlTooDeep(`${"- ".repeat(past)}x\n`), { line: 1, column: 1 + 2 * MAX_NESTING });
  const keys = Array.from({ length: past }, (_, i) => `${" ".repeat(i)}k${i}:`).join("\n");
  assert.deepEqual(yamlTooDeep(`${keys} v\n`), { line: past, column: past });
});
