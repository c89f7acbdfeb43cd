import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, describe, test } from "node:test";
import type { CliContext } from "../../src/cli/context.js";
import { runCli } from "../../src/cli/main.js";

// Streamed evaluation without 64 MiB inputs: the context lowers the size above which a file streams.
const dir = mkdtempSync(join(tmpdir(), "costguard-evaluate-stream-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const POLICY = join(dir, "lim.yaml");
writeFileSync(
  POLICY,
  `apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: lim}
spec:
  type: ResourceLimit
  rules:
  - {name: cpu, resource: compute/instance, constraint: {maxVCPUs: 16}}
`,
);

/** A valid request about 200 bytes long: a few hundred of them span several 64 KiB chunks. */
const request = (i: number) =>
  JSON.stringify({
    type: "compute/instance",
    name: `vm-${i}`,
    specs: { vcpus: 4 },
    tags: { note: "x".repeat(120) },
  });
const BAD = '{"type":"compute/instance","specs":{"vcpus":-1}}';

function write(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}

async function evaluate(args: string[], context: Partial<CliContext> = {}) {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = "";
  let stderr = "";
  out.on("data", (c: Buffer) => {
    stdout += c.toString();
  });
  err.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const code = await runCli(["evaluate", "-p", POLICY, ...args], {
    stdout: out,
    stderr: err,
    readStdin: () => "",
    cwd: process.cwd(),
    env: {},
    streamAbove: 1000,
    ...context,
  });
  await new Promise((r) => setImmediate(r));
  return { code, stdout, stderr };
}

describe("a streamed evaluate stopped by a bad request", () => {
  const lines = (n: number, bad: number, badText = BAD) =>
    Array.from({ length: n }, (_, i) => (i + 1 === bad ? badText : request(i + 1))).join("\n");

  test("writes every decision before the bad line (JSON lines)", async () => {
    for (const bad of [2, 700, 1500]) {
      const run = await evaluate([write(`bad-${bad}.jsonl`, `${lines(2000, bad)}\n`)]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, new RegExp(`bad-${bad}\\.jsonl:${bad} is not valid`));
      const decisions = run.stdout.trim() === "" ? [] : run.stdout.trim().split("\n");
      assert.equal(decisions.length, bad - 1, `bad line ${bad}`);
      for (const d of decisions) assert.equal(JSON.parse(d).decision, "allow");
    }
  });

  test("writes every decision before a line that is not JSON", async () => {
    const run = await evaluate([write("syntax.jsonl", `${lines(2000, 1500, '{"type":')}\n`)]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /syntax\.jsonl:1500: not valid JSON/);
    assert.equal(run.stdout.trim().split("\n").length, 1499);
  });

  test("writes every decision before the bad item (a JSON array)", async () => {
    const items = (bad: number, badText = BAD) =>
      `[\n${Array.from({ length: 2000 }, (_, i) => (i === bad ? badText : request(i))).join(",\n")}\n]\n`;
    for (const [file, text, where] of [
      ["bad-item.json", items(1500), /bad-item\.json item 1500 \(line 1502\)/],
      ["syntax-item.json", items(1500, '{"type":,}'), /syntax-item\.json:1502: not valid JSON/],
    ] as const) {
      const run = await evaluate([write(file, text)]);
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, where);
      // The array stays open: the output stopped with the input.
      const written = run.stdout.match(/^ {4}"decision": /gm) ?? [];
      assert.equal(written.length, 1500, file);
    }
  });

  test("writes the table of the decisions before the bad request", async () => {
    const run = await evaluate(["--format", "table", write("table.jsonl", `${lines(300, 250)}\n`)]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stdout, /vm-249\b/);
    assert.doesNotMatch(run.stdout, /vm-250\b/);
  });
});
