import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import type { Decision } from "../../src/index.js";
import { focusCsv } from "../budget/focus-files.js";
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
async function serve(
  args: string[],
  stdout?: (chunk: string) => void,
  where: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Child> {
  const proc = spawn(process.execPath, [BIN, "serve", "--port", "0", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    ...(where.cwd ? { cwd: where.cwd } : {}),
    ...(where.env ? { env: where.env } : {}),
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
  if (stdout) proc.stdout!.on("data", (chunk: Buffer) => stdout(chunk.toString()));
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
    // New connections are refused once shutdown has begun (fetch's pooled keep-alive connection, open
    // before, would be answered).
    await assert.rejects(
      new Promise((resolve, reject) => {
        const fresh = connect(child.port, "127.0.0.1", () => resolve(fresh.destroy()));
        fresh.on("error", reject);
      }),
      /ECONNREFUSED/,
    );
    // The rest of the body and a second request pipelined behind it, the connection kept open
    // (keep-alive): both answered (a 503 would reject a workload under failurePolicy: Fail), then the
    // connection is closed by the server rather than held until --shutdown-timeout.
    const second = JSON.stringify({ ...request, specs: { vcpus: 2 } });
    socket.write(
      `${body.slice(10)}POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${second.length}\r\n\r\n${second}`,
    );
    await ended;
    const answers = answer.split(/(?=HTTP\/1\.1 )/);
    assert.deepEqual(
      answers.map((a) => a.slice(0, 12)),
      ["HTTP/1.1 200", "HTTP/1.1 200"],
      answer,
    );
    const decisions = answers.map(
      (a) => (JSON.parse(a.slice(a.indexOf("\r\n\r\n") + 4)) as Decision).decision,
    );
    assert.deepEqual(decisions, ["deny", "allow"]);
    decided++;

    assert.equal(await child.exited, 0);
    const lines = readFileSync(decisionLog, "utf8").trim().split("\n");
    assert.equal(lines.length, decided + 1, "every decision, the in-flight ones included, is in the log");
    const last = lines.slice(-2).map((l) => JSON.parse(l) as { decision: string; gate: string });
    assert.deepEqual(
      last.map((d) => [d.gate, d.decision]),
      [
        ["evaluate", "deny"],
        ["evaluate", "allow"],
      ],
    );
    assert.ok(child.logs.some((l) => l.msg === "stopped"));
    assert.ok(
      !child.logs.some((l) => String(l.msg).startsWith("shutdown timed out")),
      JSON.stringify(child.logs),
    );
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

for (const workers of [1, 2]) {
  const title =
    workers === 1
      ? "serve --billing enforces budgets and follows the billing file as spend crosses the threshold and falls back"
      : "serve --workers 2 --billing: the primary reads the export once and every worker follows the state it builds";
  test(title, () => servesBudgetsFromBilling(workers));
}

async function servesBudgetsFromBilling(workers: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "costguard-proc-"));
  // The server's temporary folder in one of the test's own: other servers on the machine (a test
  // run beside this one) make and remove theirs in the system's.
  const ownTmp = join(dir, "tmp");
  mkdirSync(ownTmp);
  const sharedDirs = () => readdirSync(ownTmp).filter((n) => n.startsWith("costguard-serve-")).length;
  const sharedBefore = sharedDirs();
  const policies = join(dir, "budgets.yaml");
  writeFileSync(
    policies,
    `apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: team-budgets}
spec:
  type: BudgetLimit
  rules:
    - name: team-a
      selector: {tags: {team: a}}
      budget:
        monthly: 100
        alertThresholds: [{percent: 100, action: block-new-resources}]
`,
  );
  const billing = join(dir, "billing.csv");
  const spend = (cost: string) =>
    focusCsv([{ start: "2024-09-02 00:00:00", end: "2024-09-02 01:00:00", cost, tags: { team: "a" } }]);
  // Replaced the way exporters do it: written aside, then renamed over the old file.
  const replace = (cost: string) => {
    writeFileSync(join(dir, "billing.tmp"), spend(cost));
    renameSync(join(dir, "billing.tmp"), billing);
  };
  writeFileSync(billing, spend("40"));
  const child = await serve(
    [
      "--policies",
      policies,
      "--billing",
      billing,
      "--at",
      "2024-09-02T12:00:00Z", // 11 hours after the data ends: an export's usual lag
      "--no-estimates",
      "--no-exceptions",
      "--workers",
      String(workers),
    ],
    undefined,
    { env: { ...process.env, TMPDIR: ownTmp } },
  );
  try {
    // A connection per request: with workers, the primary hands them out in turn, so both answer.
    const post = async (tags: Record<string, string>) => {
      const { status, json } = await postOnNewConnection(child.port, "/v1/evaluate", {
        type: "compute/instance",
        tags,
        specs: { vcpus: 2 },
      });
      assert.equal(status, 200);
      return json;
    };
    // Several in a row must agree: with two workers, one that lags would show up.
    const decisions = async (tags: Record<string, string>) =>
      new Set(await Promise.all(Array.from({ length: 6 }, async () => (await post(tags)).decision)));
    const first = await post({ team: "a" });
    assert.equal(first.decision, "allow", JSON.stringify(first));
    assert.equal(first.not_evaluated.length, 0, "with billing data the budget is evaluated");
    const ready = (await (await fetch(`http://127.0.0.1:${child.port}/readyz`)).json()) as {
      budgets: { data_through: string; stale: string | null; max_billing_lag_hours: number };
    };
    assert.deepEqual(
      [ready.budgets.data_through, ready.budgets.stale, ready.budgets.max_billing_lag_hours],
      ["2024-09-02T01:00:00.000Z", null, 72],
    );

    replace("140");
    await eventually(
      async () => [...(await decisions({ team: "a" }))].join() === "deny",
      "the budget to block",
      20_000,
    );
    const denied = await post({ team: "a" });
    const message = denied.violations.map((v) => v.message).join(" ");
    assert.match(message, /team-a/);
    assert.match(message, /140/);
    assert.match(message, /100/);
    assert.equal((await post({ team: "b" })).decision, "allow", "other teams are not blocked");
    if (workers === 1) assert.ok(child.logs.some((l) => l.msg === "budget state rebuilt from billing"));
    else {
      // Built by the primary; each worker only read the state file again.
      assert.ok(child.logs.some((l) => l.msg === "budget state rebuilt from billing for the workers"));
      assert.ok(
        !child.logs.some((l) => l.msg === "budget state rebuilt from billing"),
        "no worker read the export",
      );
      await eventually(
        () =>
          new Set(child.logs.filter((l) => l.msg === "budget state read again").map((l) => l.worker)).size ===
          2,
        "both workers to read the new state",
      );
    }

    replace("30");
    await eventually(
      async () => [...(await decisions({ team: "a" }))].join() === "allow",
      "the block to lift",
      20_000,
    );
    // Only workers share a state file (in a folder of its own); one server keeps its state in memory.
    assert.equal(
      sharedDirs(),
      sharedBefore + (workers > 1 ? 1 : 0),
      "the shared state's folder is in TMPDIR",
    );
  } finally {
    child.proc.kill("SIGTERM");
    assert.equal(await child.exited, 0);
    assert.equal(sharedDirs(), sharedBefore, "the shared state's folder is removed at shutdown");
    rmSync(dir, { recursive: true, force: true });
  }
}

test("serve refuses --billing with --budget-state, and a missing billing file, before listening", async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-proc-"));
  const policies = join(dir, "policies.yaml");
  writeFileSync(policies, policiesWithLimit(8));
  const junk = join(dir, "junk.pem");
  writeFileSync(junk, "not a certificate\n");
  try {
    for (const [args, pattern] of [
      // Was an internal error from inside the TLS server ("PEM routines::no start line").
      [
        ["--tls-cert", junk, "--tls-key", junk],
        /are not a PEM certificate and its private key: .*no start line/,
      ],
      [["--billing", join(dir, "a.csv"), "--budget-state", join(dir, "b.json")], /not both/],
      [["--billing", join(dir, "missing.csv")], /missing\.csv/],
      [["--workers", "2", "--billing", join(dir, "missing.csv")], /missing\.csv/],
      // Past Node's timer limit the refresh fired every millisecond; under a second is a mistake too.
      [["--exceptions-refresh", "99999999999s"], /--exceptions-refresh: at most 24 days/],
      [["--exceptions-refresh", "10ms"], /--exceptions-refresh: at least 1s/],
      [["--budget-refresh", "1d"], /--budget-refresh: expected a duration such as 500ms, 10s, 5m or 1h/],
    ] as const) {
      const proc = spawn(process.execPath, [BIN, "serve", "--port", "0", "--policies", policies, ...args], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      let err = "";
      proc.stderr!.on("data", (d: Buffer) => {
        err += d.toString();
      });
      const code = await new Promise<number | null>((resolve) => proc.on("exit", resolve));
      assert.equal(code, 2, err);
      assert.match(err, pattern);
      assert.doesNotMatch(err, /at .*\.js:\d+/, "a readable error, not a stack trace");
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** One POST on a connection of its own (the cluster's primary hands connections to workers in turn). */
function postOnNewConnection(
  port: number,
  path: string,
  body: unknown,
): Promise<{ status: number; json: Decision }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        agent: false,
        headers: { "content-type": "application/json" },
      },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => {
          text += d.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Decision }));
      },
    );
    req.on("error", reject);
    req.end(JSON.stringify(body));
  });
}

test("serve --workers 2: both workers answer, metrics add up across them, SIGHUP reaches each, a dead worker is replaced (each backing off on its own from 1 s; all of them at once too), the stdout decision log stays whole", async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-proc-"));
  const policies = join(dir, "policies.yaml");
  writeFileSync(policies, policiesWithLimit(16));
  let stdout = "";
  const child = await serve(
    ["--policies", policies, "--workers", "2", "--no-watch", "--decision-log", "-", "--no-exceptions"],
    (chunk) => {
      stdout += chunk;
    },
  );
  try {
    // Each worker logs from its own process: the primary's line can come before a worker's.
    const workers = () => child.logs.filter((l) => l.msg === "worker listening");
    await eventually(() => workers().length === 2, "both workers' lines", 5000).catch(() => {});
    assert.deepEqual(
      workers()
        .map((l) => l.worker)
        .sort(),
      [1, 2],
      JSON.stringify(child.logs),
    );
    assert.equal(child.logs.filter((l) => l.msg === "costguard decision server listening").length, 1);

    const request = { type: "compute/instance", tags: { team: "a" }, specs: { vcpus: 10 } };
    const N = 40;
    for (let i = 0; i < N; i++) {
      const { status, json } = await postOnNewConnection(child.port, "/v1/evaluate", request);
      assert.equal(status, 200);
      assert.equal(json.decision, "allow");
    }
    // Whichever worker answers /metrics, it counts every worker's decisions.
    for (let i = 0; i < 4; i++) {
      const text = await (await fetch(`${child.url}/metrics`, { headers: { connection: "close" } })).text();
      assert.match(
        text,
        new RegExp(`costguard_decisions_total\\{gate="evaluate",decision="allow"\\} ${N}\\b`),
      );
      assert.match(text, /costguard_policy_last_reload_success 1\b/);
    }

    // SIGHUP to the primary reloads every worker: the edit applies whichever worker answers.
    writeFileSync(policies, policiesWithLimit(8));
    child.proc.kill("SIGHUP");
    await eventually(
      () => child.logs.filter((l) => l.trigger === "SIGHUP" && l.msg === "policies loaded").length === 2,
      "both workers to reload",
    );
    for (let i = 0; i < 6; i++)
      assert.equal((await postOnNewConnection(child.port, "/v1/evaluate", request)).json.decision, "deny");

    // A worker that dies is replaced, and the port keeps answering meanwhile.
    const victim = workers()[0]!.pid as number;
    process.kill(victim, "SIGKILL");
    await eventually(
      () => child.logs.some((l) => l.msg === "a worker died: restarting it"),
      "the restart notice",
    );
    await eventually(
      () => child.logs.filter((l) => l.msg === "worker listening").length === 3,
      "the replacement to listen",
      20_000,
    );
    assert.equal((await postOnNewConnection(child.port, "/v1/evaluate", request)).json.decision, "deny");

    // Restarts back off per worker, from 1 s: the replacement dying within a minute waits 2 s, the
    // other worker's first death 1 s. (They waited 2 s, then 4 s and 8 s: one delay for all, doubled
    // before its first use.)
    const slot = workers()[0]!.worker;
    const deaths = () => child.logs.filter((l) => l.msg === "a worker died: restarting it");
    assert.deepEqual(
      deaths().map((l) => [l.worker, l.restart_in_ms]),
      [[slot, 1000]],
    );
    const replacement = workers()[2]!;
    assert.equal(replacement.worker, slot);
    const other = workers().find((l) => l.worker !== slot)!;
    process.kill(other.pid as number, "SIGKILL");
    await eventually(() => workers().length === 4, "the other's replacement to listen", 20_000);
    process.kill(replacement.pid as number, "SIGKILL");
    await eventually(() => workers().length === 5, "the replacement's replacement to listen", 20_000);
    assert.deepEqual(
      deaths().map((l) => [l.worker, l.restart_in_ms]),
      [
        [slot, 1000],
        [other.worker, 1000],
        [slot, 2000],
      ],
    );
    assert.equal((await postOnNewConnection(child.port, "/v1/evaluate", request)).json.decision, "deny");

    // Every worker dead at once: the primary stays and restarts both (it exited 13, nothing serving).
    for (const l of workers().slice(-2)) process.kill(l.pid as number, "SIGKILL");
    await eventually(() => workers().length === 7 || child.proc.exitCode !== null, "both to restart", 20_000);
    assert.equal(child.proc.exitCode, null, "the primary is still running");
    assert.equal(workers().length, 7);
    // With --port 0 the port closed with the last worker; the new ones listen on the announced one
    // again (they were given another, and the URL the primary announced served nothing).
    assert.equal(Number(new URL(String(workers().at(-1)!.url)).port), child.port);
    assert.equal((await postOnNewConnection(child.port, "/v1/evaluate", request)).json.decision, "deny");

    child.proc.kill("SIGTERM");
    assert.equal(await child.exited, 0);
    // Every decision is one whole JSON line on the primary's standard output (the killed worker's
    // unflushed lines excepted: SIGKILL gives it no chance).
    const lines = stdout.trim().split("\n");
    for (const line of lines) assert.equal((JSON.parse(line) as { gate: string }).gate, "evaluate");
    assert.ok(lines.length >= 1 && lines.length <= N + 9, `${lines.length} lines`);
  } finally {
    child.proc.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});

test("serve --workers 2: /metrics answers while a worker restarts, summing the workers that listen", async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-proc-"));
  const policies = join(dir, "policies.yaml");
  writeFileSync(policies, policiesWithLimit(16));
  // Once the mark exists, a worker starting holds still for 6 s before it loads anything: longer than
  // prom-client's 5 s, so a scrape that waited for it failed (500, "Operation timed out.").
  const mark = join(dir, "slow-start");
  const preload = join(dir, "slow-start.mjs");
  writeFileSync(
    preload,
    `import cluster from "node:cluster";
import { existsSync } from "node:fs";
if (cluster.isWorker && existsSync(${JSON.stringify(mark)}))
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 6000);
`,
  );
  const child = await serve(
    ["--policies", policies, "--workers", "2", "--no-watch", "--no-exceptions"],
    undefined,
    {
      env: {
        ...process.env,
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import=${pathToFileURL(preload).href}`,
      },
    },
  );
  try {
    const workers = () => child.logs.filter((l) => l.msg === "worker listening");
    await eventually(() => workers().length === 2, "both workers' lines");
    const scrape = async () => {
      const res = await fetch(`${child.url}/metrics`, {
        headers: { connection: "close" },
        signal: AbortSignal.timeout(20_000),
      });
      const text = await res.text();
      return { status: res.status, reporting: /^costguard_workers_reporting (\d+)$/m.exec(text)?.[1], text };
    };
    const first = await scrape();
    assert.equal(first.status, 200);

    writeFileSync(mark, "");
    process.kill(workers()[0]!.pid as number, "SIGKILL");
    await eventually(
      () => child.logs.some((l) => l.msg === "a worker died: restarting it"),
      "the restart notice",
    );
    // Scrapes from the death until the replacement listens (its restart delay, then its slow start).
    const seen: { status: number; reporting: string | undefined }[] = [];
    const until = Date.now() + 30_000;
    while (workers().length < 3 && Date.now() < until) {
      const { status, reporting, text } = await scrape();
      assert.equal(status, 200, text);
      seen.push({ status, reporting });
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(workers().length, 3, "the replacement listens");
    assert.equal(first.reporting, "2");
    // One worker until the replacement listens (the last may already count it: its log line can lag).
    assert.ok(
      seen.some((s) => s.reporting === "1") && seen.every((s) => s.reporting === "1" || s.reporting === "2"),
      JSON.stringify(seen),
    );
    assert.ok(
      !child.logs.some((l) => /timed out/i.test(String(l.err ?? l.msg))),
      JSON.stringify(child.logs.filter((l) => Number(l.level) >= 50)),
    );
    // And once it listens, it is summed again.
    await eventually(async () => (await scrape()).reporting === "2", "both workers in the answer");

    child.proc.kill("SIGTERM");
    assert.equal(await child.exited, 0);
  } finally {
    child.proc.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  }
});

test("serve --workers 2 on a port already taken exits 2 with the reason, leaving no process behind", async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-proc-"));
  const policies = join(dir, "policies.yaml");
  writeFileSync(policies, policiesWithLimit(8));
  const { createServer } = await import("node:net");
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  const port = (blocker.address() as { port: number }).port;
  try {
    const { code, err } = await serveUntilExit([
      "--policies",
      policies,
      "--workers",
      "2",
      "--port",
      String(port),
      "--no-exceptions",
    ]);
    assert.equal(code, 2, err);
    assert.match(err, /EADDRINUSE/);
    assert.match(err, /a worker failed to start: stopping/);
  } finally {
    blocker.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test("serve --host naming no address exits 2 with the reason, not an internal error", async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-proc-"));
  const policies = join(dir, "policies.yaml");
  writeFileSync(policies, policiesWithLimit(8));
  try {
    for (const host of ["999.1.1.1", "no-such-host.invalid"]) {
      const { code, err } = await serveUntilExit([
        "--policies",
        policies,
        "--port",
        "0",
        "--host",
        host,
        "--no-exceptions",
      ]);
      assert.equal(code, 2, err);
      assert.match(
        err,
        new RegExp(`^costguard: cannot listen on ${host.replace(/\./g, "\\.")}:0: no such host`, "m"),
      );
      assert.doesNotMatch(err, /internal error/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** `costguard serve ARGS` run until it exits by itself (a refusal at start): its code and stderr. */
async function serveUntilExit(args: string[]): Promise<{ code: number | null; err: string }> {
  const proc = spawn(process.execPath, [BIN, "serve", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  proc.stderr!.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const code = await new Promise<number | null>((resolve) => proc.on("exit", resolve));
  return { code, err };
}

test("serve takes its policies from --policies, else COSTGUARD_POLICIES, else costguard.yaml", async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-proc-config-"));
  writeFileSync(join(dir, "limit-8.yaml"), policiesWithLimit(8));
  writeFileSync(join(dir, "limit-32.yaml"), policiesWithLimit(32));
  // Relative to the configuration file, as every path in it.
  writeFileSync(join(dir, "costguard.yaml"), "policies: [limit-8.yaml]\n");
  const env = { ...process.env };
  delete env.COSTGUARD_POLICIES;
  delete env.COSTGUARD_CONFIG;
  const decide = async (child: Child) => {
    const res = await fetch(`${child.url}/v1/evaluate`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: "compute/instance", tags: { team: "a" }, specs: { vcpus: 16 } }),
    });
    return ((await res.json()) as Decision).decision;
  };
  try {
    for (const [args, extra, expected] of [
      [["--no-exceptions"], {}, "deny"],
      [["--no-exceptions"], { COSTGUARD_POLICIES: join(dir, "limit-32.yaml") }, "allow"],
      [["--no-exceptions", "-p", join(dir, "limit-32.yaml")], {}, "allow"],
    ] as const) {
      const child = await serve([...args], undefined, { cwd: dir, env: { ...env, ...extra } });
      try {
        assert.equal(await decide(child), expected, `${args.join(" ")} ${JSON.stringify(extra)}`);
      } finally {
        child.proc.kill("SIGTERM");
        await child.exited;
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
