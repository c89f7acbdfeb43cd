import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable, Writable } from "node:stream";
import { after, describe, test } from "node:test";
import type { CliContext } from "../../src/cli/context.js";
import { outputClosed, outputFailed } from "../../src/cli/interrupt.js";
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

  test("a request nested past MAX_NESTING stops it as any bad request, not as a crash", async () => {
    for (const levels of [3000, 100_000]) {
      const deep = `{"type":"compute/instance","specs":{"x":${"[".repeat(levels)}${"]".repeat(levels)}}}`;
      const why = "is not valid: its lists and maps nest more than 256 levels deep";
      const jsonLines = await evaluate([write(`deep-${levels}.jsonl`, `${lines(10, 6, deep)}\n`)]);
      assert.equal(jsonLines.code, 2, jsonLines.stderr);
      assert.ok(jsonLines.stderr.includes(`deep-${levels}.jsonl:6 ${why}`), jsonLines.stderr);
      assert.equal(jsonLines.stdout.trim().split("\n").length, 5);
      const items = `[\n${Array.from({ length: 10 }, (_, i) => (i === 5 ? deep : request(i))).join(",\n")}\n]\n`;
      const array = await evaluate([write(`deep-${levels}.json`, items)]);
      assert.equal(array.code, 2, array.stderr);
      assert.ok(array.stderr.includes(`deep-${levels}.json item 5 (line 7) ${why}`), array.stderr);
    }
  });

  test("writes the table of the decisions before the bad request", async () => {
    const run = await evaluate(["--format", "table", write("table.jsonl", `${lines(300, 250)}\n`)]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stdout, /vm-249\b/);
    assert.doesNotMatch(run.stdout, /vm-250\b/);
  });
});

describe("a streamed evaluate whose output goes away", () => {
  // Far more decisions than one write: the output fails while requests are left to decide, one of
  // them denied.
  const lines = Array.from({ length: 2000 }, (_, i) =>
    i === 1800 ? '{"type":"compute/instance","specs":{"vcpus":64}}' : request(i),
  );
  const file = write("long.jsonl", `${lines.join("\n")}\n`);

  /**
   * Standard output that takes `accepted` writes, then fails each with `code`; its errors are handled
   * as bin/costguard.js handles process.stdout's: `taken` says whether the command took the failure
   * (false: the binary exits at once, with the exit code set so far, 0 before a command ends).
   */
  const failingOutput = (code: "EPIPE" | "ENOSPC", accepted: number) => {
    let writes = 0;
    const state = { taken: undefined as boolean | undefined, stdout: "" };
    const stdout = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (writes++ < accepted) {
          state.stdout += chunk.toString();
          callback();
        } else
          callback(
            Object.assign(
              new Error(code === "EPIPE" ? "write EPIPE" : "ENOSPC: no space left on device, write"),
              { code },
            ),
          );
      },
    });
    stdout.on("error", (err) => {
      state.taken ??= code === "EPIPE" ? outputClosed() : outputFailed(err);
    });
    return { stdout, state };
  };

  test("a reader closing it early (| head) stops it with exit 141 and a line, never 0", async () => {
    const { stdout, state } = failingOutput("EPIPE", 1);
    const run = await evaluate([file], { stdout });
    assert.equal(state.taken, true, "the binary would have exited 0 at the closed pipe");
    assert.equal(run.code, 141, run.stderr);
    assert.match(
      run.stderr,
      /^costguard: the output was closed: stopped after \d+ requests; the rest were not decided\n$/,
    );
    assert.ok(state.stdout.length > 0);
  });

  test("output that cannot be written stops it with exit 3, saying why", async () => {
    const { stdout, state } = failingOutput("ENOSPC", 0);
    const run = await evaluate([file], { stdout });
    assert.equal(state.taken, true);
    assert.equal(run.code, 3, run.stderr);
    assert.match(
      run.stderr,
      /^costguard: cannot write the output: no space left on device: stopped after \d+ requests; the rest were not decided\n$/,
    );
  });

  test("Ctrl-C is left to Node (nothing to finish): the streamed evaluate holds no signal", async () => {
    const before = process.listenerCount("SIGINT");
    let during = -1;
    const stdout = new Writable({
      write(_chunk, _encoding, callback) {
        during = process.listenerCount("SIGINT");
        callback();
      },
    });
    const run = await evaluate([file], { stdout });
    assert.equal(run.code, 1, run.stderr);
    assert.equal(during, before);
  });
});

describe("standard input over the size read whole", () => {
  /** Standard input arriving in pieces of 4 KiB, as a pipe brings it. */
  const stdinOf = (text: string) => () => {
    const bytes = Buffer.from(text);
    const pieces: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += 4096) pieces.push(bytes.subarray(at, at + 4096));
    return Readable.from(pieces);
  };
  const lines = (n: number, bad?: number) =>
    `${Array.from({ length: n }, (_, i) => (i + 1 === bad ? BAD : request(i + 1))).join("\n")}\n`;

  test("is read as a stream, as a file is: the decisions before a bad request are written", async () => {
    const run = await evaluate(["-"], { stdinChunks: stdinOf(lines(2000, 1500)) });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /^costguard: stdin:1500 is not valid/);
    assert.equal(run.stdout.trim().split("\n").length, 1499);

    const all = await evaluate([], { stdinChunks: stdinOf(lines(2000)) });
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout.trim().split("\n").length, 2000);
    const array = await evaluate([], {
      stdinChunks: stdinOf(`[${lines(2000).trim().replaceAll("\n", ",\n")}]`),
    });
    assert.equal(array.code, 0, array.stderr);
    assert.equal(JSON.parse(array.stdout).length, 2000);
  });

  test("under the size, stdin is read whole: every shape, every request checked first", async () => {
    const one = await evaluate([], {
      stdinChunks: stdinOf("{type: compute/instance, specs: {vcpus: 64}}\n"),
    });
    assert.equal(one.code, 1, one.stderr);
    assert.equal(JSON.parse(one.stdout).decision, "deny");
    const bad = await evaluate([], { stdinChunks: stdinOf(lines(3, 2)), streamAbove: 1 << 20 });
    assert.equal(bad.code, 2);
    assert.equal(bad.stdout, "");
  });

  test("YAML over the size is refused, saying why", async () => {
    const yaml = `- type: compute/instance\n  tags: {note: ${"x".repeat(2000)}}\n`;
    const run = await evaluate([], { stdinChunks: stdinOf(yaml) });
    assert.equal(run.code, 2);
    assert.match(
      run.stderr,
      /^costguard: stdin is over 64 MiB: inputs over 64 MiB are read as a stream, so they must be JSON lines or a JSON array/,
    );
  });
});
