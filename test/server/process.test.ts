import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { Decision } from "../../src/index.js";
import { eventually, policiesWithLimit } from "../support/server.js";

const BIN = join(import.meta.dirname, "../../bin/costguard.js");

interface Child {
  proc: ChildProcess;
  url: string;
  port: number;
  logs: Record<string, unknown>[];
  exited: Promise<number | null>;
}

/** Runs `costguard serve` as a real process and waits for it to listen. */
async function serve(args: string[]): Promise<Child> {
  const proc = spawn(process.execPath, [BIN, "serve", "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const logs: Record<string, unknown>[] = [];
  let buffered = "";
  proc.stderr!.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        logs.push({ msg: line });
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  await eventually(
    () => logs.some((l) => l.msg === "costguard decision server listening") || proc.exitCode !== null,
    "the server to listen",
    30_000,
  );
  const line = logs.find((l) => l.msg === "costguard decision server listening");
  assert.ok(line, JSON.stringify(logs));
  const url = String(line.url);
  return { proc, url, port: Number(new URL(url).port), logs, exited };
}

test("SIGHUP reloads; SIGTERM finishes in-flight requests, flushes the decision log and exits 0", async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-proc-"));
  const policies = join(dir, "policies.yaml");
  const decisionLog = join(dir, "decisions.jsonl");
  writeFileSync(policies, policiesWithLimit(16));
  const child = await serve(["--policies", policies, "--decision-log", decisionLog, "--no-watch"]);
  try {
    const request = { type: "compute/instance", tags: { team: "a" }, specs: { vcpus: 10 } };
    let decided = 0;
    const post = async () => {
      const res = await fetch(`${child.url}/v1/evaluate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(request),
      });
      decided++;
      return (await res.json()) as Decision;
    };
    assert.equal((await post()).decision, "allow");

    // --no-watch: the edit is only picked up on SIGHUP.
    writeFileSync(policies, policiesWithLimit(8));
    assert.equal((await post()).decision, "allow");
    child.proc.kill("SIGHUP");
    await eventually(async () => (await post()).decision === "deny", "the SIGHUP reload");
    const ready = (await (await fetch(`${child.url}/readyz`)).json()) as { last_reload: { trigger: string } };
    assert.equal(ready.last_reload.trigger, "SIGHUP");

    // A request in flight: headers and half the body sent before SIGTERM, the rest after.
    const body = JSON.stringify(request);
    const socket = connect(child.port, "127.0.0.1");
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    let answer = "";
    socket.on("data", (d) => {
      answer += d.toString();
    });
    const ended = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.write(
      `POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
    );
    await new Promise((r) => setTimeout(r, 100));
    child.proc.kill("SIGTERM");
    await eventually(
      () => child.logs.some((l) => String(l.msg).startsWith("shutting down")),
      "shutdown to begin",
    );
    // New connections are refused once shutdown has begun.
    await assert.rejects(fetch(`${child.url}/healthz`));
    socket.end(body.slice(10));
    await ended;
    assert.match(answer, /^HTTP\/1\.1 200 /);
    const decision = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)) as Decision;
    assert.equal(decision.decision, "deny");

    assert.equal(await child.exited, 0);
    const lines = readFileSync(decisionLog, "utf8").trim().split("\n");
    assert.equal(lines.length, decided + 1, "every decision, the in-flight one included, is in the log");
    const last = JSON.parse(lines.at(-1)!) as { decision: string; gate: string };
    assert.deepEqual([last.gate, last.decision], ["evaluate", "deny"]);
    assert.ok(child.logs.some((l) => l.msg === "stopped"));
  } finally {
    child.proc.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});

test("serve refuses a bad policy set at start with the problem and exit code 2", async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-proc-"));
  try {
    writeFileSync(join(dir, "p.yaml"), policiesWithLimit(16).replace("maxVCPUs", "maxVCPU"));
    const proc = spawn(process.execPath, [BIN, "serve", "--policies", dir, "--port", "0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    proc.stderr.on("data", (d) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => proc.on("exit", resolve));
    assert.equal(code, 2);
    assert.match(stderr, /p\.yaml:\d+:\d+: .*maxVCPU/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
