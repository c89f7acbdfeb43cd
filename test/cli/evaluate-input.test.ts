import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { cli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "costguard-evaluate-input-"));
after(() => rmSync(dir, { recursive: true, force: true }));

writeFileSync(
  join(dir, "lim.yaml"),
  `apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: lim}
spec:
  type: ResourceLimit
  rules:
  - {name: cpu, resource: compute/instance, constraint: {maxVCPUs: 16}}
`,
);

const evaluate = (args: string[], input = "") =>
  cli(["evaluate", "-p", join(dir, "lim.yaml"), ...args], { cwd: dir, input });
const file = (name: string, text: string) => {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
};

describe("a JSON document over several lines that is not valid JSON", () => {
  test("is said at the line and column of its mistake, not at line 1 as JSON lines", async () => {
    const trailing = file(
      "trail.json",
      '{\n  "type": "compute/instance",\n  "specs": {"vcpus": 4},\n  "tags": {"team": "web"},\n}\n',
    );
    const run = await evaluate([trailing]);
    assert.equal(run.code, 2);
    assert.equal(
      run.stderr,
      `costguard: ${trailing}:4:26: not valid JSON: a comma before the closing } (JSON allows none)\n`,
    );
    assert.equal(run.stdout, "");

    const missing = file("missing.json", '\n{\n  "type": "compute/instance"\n  "specs": {"vcpus": 4}\n}\n');
    assert.equal(
      (await evaluate([missing])).stderr,
      `costguard: ${missing}:4:3: not valid JSON: Expected ',' or '}' after property value\n`,
    );
    // JSON.parse names no offset for some mistakes; the line is found all the same.
    const array = file(
      "array.json",
      '[\n  {"type": "compute/instance"},\n  {"type": "compute/instance"},\n]\n',
    );
    assert.equal(
      (await evaluate([array])).stderr,
      `costguard: ${array}:3:31: not valid JSON: a comma before the closing ] (JSON allows none)\n`,
    );
  });
});

describe("a YAML flow mapping request, on one line", () => {
  test("is a request (it starts with { but is not JSON)", async () => {
    const run = await evaluate([], "{type: compute/instance, specs: {vcpus: 64}}\n");
    assert.equal(run.code, 1, run.stderr);
    assert.equal(JSON.parse(run.stdout).decision, "deny");
    const over = await evaluate(["-"], "{type: compute/instance,\n specs: {vcpus: 4}}\n");
    assert.equal(over.code, 0, over.stderr);
    assert.equal(JSON.parse(over.stdout).decision, "allow");
  });

  test("that is not YAML either is said where", async () => {
    const run = await evaluate([], "{type: compute/instance, specs: {vcpus: 64}\n");
    assert.equal(run.code, 2);
    assert.equal(run.stderr, "costguard: stdin:2:1: not valid JSON or YAML: Flow map must end with a }\n");
  });

  test("JSON lines are still JSON lines, their bad line named", async () => {
    const lines = '{"type":"compute/instance"}\n{"type":"compute/instance","specs":{"vcpus":64}}\n';
    const run = await evaluate([], lines);
    assert.equal(run.code, 1, run.stderr);
    assert.deepEqual(
      run.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).decision),
      ["allow", "deny"],
    );
    const bad = await evaluate([], '{"type":"compute/instance"}\n{"type":\n');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^costguard: stdin:2: not valid JSON/);
  });
});

describe("a request nested past MAX_NESTING", () => {
  // JSON.parse reads any depth; the copy every request is checked into crashed past ~2,000 levels.
  const deep = (levels: number) =>
    `{"type":"compute/instance","specs":{"x":${"[".repeat(levels)}${"]".repeat(levels)}}}`;
  const refused = /is not valid: its lists and maps nest more than 256 levels deep/;

  test("is bad input naming the request, as JSON, JSON lines or on stdin, at any depth", async () => {
    for (const levels of [3000, 100_000]) {
      const one = await evaluate([file(`deep-${levels}.json`, deep(levels))]);
      assert.equal(one.code, 2, one.stderr);
      assert.match(one.stderr, new RegExp(`^costguard: \\S+deep-${levels}\\.json ${refused.source}`));
      assert.doesNotMatch(one.stderr, /RangeError|internal error/);
      const lines = await evaluate([
        file(`deep-${levels}.jsonl`, `{"type":"compute/instance"}\n${deep(levels)}\n`),
      ]);
      assert.equal(lines.code, 2, lines.stderr);
      assert.match(lines.stderr, new RegExp(`deep-${levels}\\.jsonl:2 ${refused.source}`));
      assert.equal(lines.stdout, "");
      const stdin = await evaluate([], `[{"type":"compute/instance"},${deep(levels)}]`);
      assert.equal(stdin.code, 2, stdin.stderr);
      assert.match(stdin.stderr, new RegExp(`^costguard: stdin item 1 ${refused.source}`));
    }
  });

  test("a YAML request too, said where its text passes the limit, before the YAML library reads it", async () => {
    const run = await evaluate(
      [],
      `type: compute/instance\nspecs:\n  x: ${"[".repeat(300)}${"]".repeat(300)}\n`,
    );
    assert.equal(run.code, 2, run.stderr);
    // The 257th level: the 255th bracket, after the request's map and its specs'.
    assert.equal(
      run.stderr,
      "costguard: stdin:3:260: lists and maps nest more than 256 levels deep here (costguard reads 256)\n",
    );
  });
});
