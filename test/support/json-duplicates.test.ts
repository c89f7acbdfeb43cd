import assert from "node:assert/strict";
import { test } from "node:test";
import { duplicateKey, lineAndColumn } from "../../src/json-duplicates.js";
import { cli } from "../helpers/cli.js";

test("duplicateKey finds a key written twice in one object, at any depth, escapes read as JSON reads them", () => {
  assert.equal(duplicateKey('{"a": 1, "b": {"a": 2}, "c": [{"a": 3}, {"a": 4}]}'), undefined);
  assert.deepEqual(duplicateKey('{"specs": {"vcpus": 80}, "specs": {"vcpus": 1}}'), {
    key: "specs",
    offset: 25,
  });
  assert.deepEqual(duplicateKey('[{"x": 1}, {"t": {"k": "v", "k": "w"}}]'), { key: "k", offset: 28 });
  // "\u0061" is "a"; a string value holding a colon or a quote is no key.
  assert.equal(duplicateKey('{"a": "x:\\"y\\":", "b": ":"}'), undefined);
  assert.deepEqual(duplicateKey('{"a": 1, "\\u0061": 2}'), { key: "a", offset: 9 });
  assert.equal(duplicateKey('["a", "a"]'), undefined);
  // Past a few keys an object's are kept in a set: a repeat is found there too.
  const many = `{${Array.from({ length: 40 }, (_, i) => `"k${i}": 1`).join(", ")}, "k3": 2}`;
  assert.equal(duplicateKey(many)?.key, "k3");
  assert.equal(duplicateKey(`{${Array.from({ length: 40 }, (_, i) => `"k${i}": 1`).join(", ")}}`), undefined);
  const text = '{\n  "a": 1,\n  "a": 2\n}';
  assert.deepEqual(lineAndColumn(text, duplicateKey(text)!.offset), { line: 3, column: 3 });
});

test("evaluate refuses a JSON request with a key written twice, as YAML input is refused", async () => {
  const run = (input: string) =>
    cli(["evaluate", "-p", "examples/policies", "-"], { cwd: process.cwd(), input });
  const single = await run('{"type":"compute/instance","specs":{"vcpus":80},"specs":{"vcpus":1}}');
  assert.equal(single.code, 2, single.stdout);
  assert.equal(
    single.stderr,
    "costguard: stdin:1:49: key `specs` is written twice in one object (JSON would keep only the last; which one was meant is unknown)\n",
  );
  const lines = await run(
    '{"type":"compute/instance"}\n{"type":"compute/instance","tags":{"a":"1","a":"2"}}\n',
  );
  assert.equal(lines.code, 2);
  assert.match(lines.stderr, /^costguard: stdin:2:44: key `a` is written twice/);
  const yaml = await run("type: compute/instance\nspecs: {vcpus: 80}\nspecs: {vcpus: 1}\n");
  assert.equal(yaml.code, 2);
});
