/**
 * HTTP load benchmark of `costguard serve`: starts the server in its own process(es), drives it with
 * wrk (Debian's C load generator; autocannon in this process when wrk is missing), and prints
 * throughput, latency and memory per scenario beside two references taken in the same run
 * (GET /healthz: the HTTP floor; in-process decisions: the engine).
 *
 *   npm run bench:http                       # 5 s per scenario, 20 s memory run, --workers auto
 *   npm run bench:http -- --soak 120         # the 2-minute memory run
 *   npm run bench:http -- --workers 1        # one server process
 *   npm run bench:http -- --duration 10 --decision-log off --generator autocannon --json
 */
import { spawn } from "node:child_process";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createDecider, type Decider } from "../src/decide/decider.js";
import { compilePolicySet } from "../src/engine/compile.js";
import { loadPolicies } from "../src/policy/load.js";
import { loadPriceBook } from "../src/pricing/load.js";
import { createPricedDecider } from "../src/pricing/priced-decider.js";
import { ADMISSION_BODIES, BATCH_BODY, BATCH_SIZE, EVALUATE_BODIES } from "./http-fixtures.js";
import {
  fmt,
  type Generator,
  load as loadWith,
  type Row,
  rssMiB,
  type Server,
  table,
  WRK,
} from "./http-load.js";

const ROOT = join(import.meta.dirname, "..");
const POLICIES = [join(ROOT, "examples/policies"), join(ROOT, "bench/policies")];

const { values: args } = parseArgs({
  options: {
    duration: { type: "string", default: process.env.BENCH_DURATION ?? "5" },
    soak: { type: "string", default: process.env.BENCH_SOAK ?? "20" },
    "decision-log": { type: "string", default: "/dev/null" },
    json: { type: "boolean", default: false },
    workers: { type: "string", default: process.env.BENCH_WORKERS ?? "auto" },
    generator: { type: "string", default: WRK ? "wrk" : "autocannon" },
  },
});
if (args.generator !== "wrk" && args.generator !== "autocannon") {
  console.error(`--generator: wrk or autocannon, got ${args.generator}`);
  process.exit(2);
}
if (args.generator === "wrk" && !WRK) {
  console.error("--generator wrk: wrk is not installed (apt-get install wrk)");
  process.exit(2);
}
const GENERATOR = args.generator as Generator;
const DURATION = Number(args.duration);
const SOAK = Number(args.soak);

const load = (server: Server, scenario: string, opts: Parameters<typeof loadWith>[2]) =>
  loadWith(server, scenario, { ...opts, generator: GENERATOR });

async function startServer(extra: string[] = []): Promise<Server> {
  const decisionLog = args["decision-log"] === "off" ? [] : ["--decision-log", args["decision-log"]!];
  const proc = spawn(
    process.execPath,
    [
      join(ROOT, "bin/costguard.js"),
      "serve",
      "--policies",
      POLICIES.join(","),
      "--port",
      "0",
      "--no-watch",
      "--workers",
      args.workers!,
      ...decisionLog,
      ...extra,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  return new Promise((resolve, reject) => {
    let seen = "";
    proc.stderr!.on("data", (d: Buffer) => {
      seen += d.toString();
      const m = /"url":"(http:\/\/[^"]+)".*"msg":"costguard decision server listening"/.exec(seen);
      if (m) resolve({ proc, url: m[1]!, pid: proc.pid! });
    });
    proc.on("exit", (code) => reject(new Error(`server exited with ${code}: ${seen}`)));
  });
}

/** Checks every body gets a 200 decision before timing anything. */
async function checkAnswers(server: Server): Promise<string[]> {
  const seen: string[] = [];
  const post = async (path: string, body: object) => {
    const res = await fetch(`${server.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${await res.text()}`);
    return res.json() as Promise<Record<string, unknown>>;
  };
  for (const b of EVALUATE_BODIES) seen.push(`evaluate:${(await post("/v1/evaluate", b)).decision}`);
  const batch = (await post("/v1/evaluate", BATCH_BODY)) as unknown as unknown[];
  if (batch.length !== BATCH_SIZE) throw new Error("batch answer has the wrong length");
  for (const b of ADMISSION_BODIES) {
    const r = (await post("/v1/admission", b)).response as { allowed: boolean; warnings?: string[] };
    seen.push(`admission:${r.allowed ? (r.warnings ? "warn" : "allow") : "deny"}`);
  }
  return seen;
}

/**
 * Deciders alone, in this process, on the same requests: the engine by itself, and the engine with the
 * price book as `costguard serve` runs it (request filled from the book, cost estimated).
 */
function inProcessDecisionsPerSec(): { engine: number; priced: number } {
  const policySet = compilePolicySet(loadPolicies(POLICIES).policies);
  const rate = (decider: Decider) => {
    let count = 0;
    const t0 = performance.now();
    while (performance.now() < t0 + 1000) {
      for (let i = 0; i < 1000; i++) decider.decide(EVALUATE_BODIES[i & 3] as never);
      count += 1000;
    }
    return count / ((performance.now() - t0) / 1000);
  };
  return {
    engine: rate(createDecider({ policySet })),
    priced: rate(createPricedDecider(policySet, loadPriceBook())),
  };
}

async function main() {
  const log = (s: string) => {
    if (!args.json) console.log(s);
  };
  log(
    `costguard HTTP benchmark — ${cpus().length} cores (${cpus()[0]?.model}), load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  log(
    `policies: 17 (examples/policies + bench/policies); ${DURATION}s per scenario; decision log: ${args["decision-log"]}; server --workers ${args.workers}; load generator: ${GENERATOR === "wrk" ? `${WRK} (1 thread)` : "autocannon (in this process)"}; Node ${process.version}`,
  );
  const engine = inProcessDecisionsPerSec();
  const server = await startServer();
  const answers = await checkAnswers(server);
  log(`answers checked: ${answers.join(", ")}`);
  const rssStart = rssMiB(server.pid);
  await load(server, "warm-up", {
    path: "/v1/evaluate",
    bodies: EVALUATE_BODIES,
    connections: 10,
    duration: 2,
  });
  const rssWarm = rssMiB(server.pid);

  const rows: Row[] = [];
  const d = DURATION;
  rows.push(
    await load(server, "GET /healthz (HTTP floor)", {
      path: "/healthz",
      method: "GET",
      connections: 10,
      duration: d,
    }),
  );
  rows.push(
    await load(server, "evaluate, single", {
      path: "/v1/evaluate",
      bodies: EVALUATE_BODIES,
      connections: 10,
      duration: d,
    }),
  );
  rows.push(
    await load(server, "evaluate, single", {
      path: "/v1/evaluate",
      bodies: EVALUATE_BODIES,
      connections: 100,
      duration: d,
    }),
  );
  rows.push(
    await load(server, `evaluate, batch of ${BATCH_SIZE}`, {
      path: "/v1/evaluate",
      bodies: [BATCH_BODY],
      connections: 10,
      duration: d,
      perRequest: BATCH_SIZE,
    }),
  );
  rows.push(
    await load(server, `evaluate, batch of ${BATCH_SIZE}`, {
      path: "/v1/evaluate",
      bodies: [BATCH_BODY],
      connections: 100,
      duration: d,
      perRequest: BATCH_SIZE,
    }),
  );
  rows.push(
    await load(server, "admission review", {
      path: "/v1/admission",
      bodies: ADMISSION_BODIES,
      connections: 10,
      duration: d,
    }),
  );
  rows.push(
    await load(server, "admission review", {
      path: "/v1/admission",
      bodies: ADMISSION_BODIES,
      connections: 100,
      duration: d,
    }),
  );
  const rssAfterScenarios = rssMiB(server.pid);

  // The memory run: a mix of all three for SOAK seconds, RSS sampled as it goes.
  const samples: { t: number; rss: number }[] = [];
  if (SOAK > 0) {
    const t0 = Date.now();
    const sampler = setInterval(
      () => samples.push({ t: (Date.now() - t0) / 1000, rss: rssMiB(server.pid) }),
      Math.max(1000, (SOAK * 1000) / 24),
    );
    const mixed = [
      load(server, "memory run: single", {
        path: "/v1/evaluate",
        bodies: EVALUATE_BODIES,
        connections: 20,
        duration: SOAK,
      }),
      load(server, "memory run: batch", {
        path: "/v1/evaluate",
        bodies: [BATCH_BODY],
        connections: 4,
        duration: SOAK,
        perRequest: BATCH_SIZE,
      }),
      load(server, "memory run: admission", {
        path: "/v1/admission",
        bodies: ADMISSION_BODIES,
        connections: 20,
        duration: SOAK,
      }),
    ];
    rows.push(...(await Promise.all(mixed)));
    clearInterval(sampler);
  }
  const rssEnd = rssMiB(server.pid);

  server.proc.kill("SIGTERM");
  const exitCode = await new Promise<number | null>((resolve) => server.proc.on("exit", resolve));

  // The same without the price book (--no-estimates): what the server does around the engine alone.
  const plain = await startServer(["--no-estimates"]);
  await load(plain, "warm-up", {
    path: "/v1/evaluate",
    bodies: EVALUATE_BODIES,
    connections: 10,
    duration: 2,
  });
  rows.push(
    await load(plain, "evaluate, single, no estimates", {
      path: "/v1/evaluate",
      bodies: EVALUATE_BODIES,
      connections: 10,
      duration: d,
    }),
  );
  rows.push(
    await load(plain, `evaluate, batch of ${BATCH_SIZE}, no estimates`, {
      path: "/v1/evaluate",
      bodies: [BATCH_BODY],
      connections: 10,
      duration: d,
      perRequest: BATCH_SIZE,
    }),
  );
  rows.push(
    await load(plain, "admission review, no estimates", {
      path: "/v1/admission",
      bodies: ADMISSION_BODIES,
      connections: 100,
      duration: d,
    }),
  );
  plain.proc.kill("SIGTERM");
  await new Promise((resolve) => plain.proc.on("exit", resolve));

  const single = rows.find((r) => r.scenario === "evaluate, single" && r.connections === 10)!;
  const singlePlain = rows.find((r) => r.scenario === "evaluate, single, no estimates")!;
  const batch = rows.filter(
    (r) => r.scenario.startsWith("evaluate, batch") && !r.scenario.endsWith("no estimates"),
  );
  const batchPlain = rows.find(
    (r) => r.scenario.startsWith("evaluate, batch") && r.scenario.endsWith("no estimates"),
  )!;
  const floor = rows[0]!;
  const admission100 = rows.find((r) => r.scenario === "admission review" && r.connections === 100)!;
  const errors = rows.reduce((s, r) => s + r.errors, 0);
  const half = samples.slice(Math.floor(samples.length / 2));
  const firstHalf = samples.slice(1, Math.max(2, Math.floor(samples.length / 2)));
  const avg = (xs: { rss: number }[]) => xs.reduce((s, x) => s + x.rss, 0) / Math.max(1, xs.length);
  // Growth only: RSS falling after a collection is not a leak.
  const growth = samples.length >= 4 ? avg(half) / avg(firstHalf) - 1 : Number.NaN;

  if (args.json) {
    console.log(
      JSON.stringify(
        {
          rows,
          engine,
          rss: { start: rssStart, warm: rssWarm, afterScenarios: rssAfterScenarios, end: rssEnd, samples },
          exitCode,
        },
        null,
        2,
      ),
    );
    return;
  }
  log("");
  log(table(rows));
  log("");
  const bestBatch = Math.max(...batch.map((b) => b.decisionsPerSec));
  log(
    `references (same run): in process, engine alone ${fmt(engine.engine)} decisions/s, with the price book ${fmt(engine.priced)} decisions/s; GET /healthz ${fmt(floor.requestsPerSec)} req/s`,
  );
  log(
    `  single evaluation at 10 connections = ${fmt((single.requestsPerSec / floor.requestsPerSec) * 100)}% of the HTTP floor`,
  );
  log(
    `  best batch = ${fmt((bestBatch / engine.priced) * 100)}% of the in-process priced decider (${fmt((bestBatch / engine.engine) * 100)}% of the engine alone)`,
  );
  log(
    `memory (server RSS): start ${fmt(rssStart, 1)} MiB, warm ${fmt(rssWarm, 1)} MiB, after scenarios ${fmt(rssAfterScenarios, 1)} MiB, end ${fmt(rssEnd, 1)} MiB`,
  );
  if (samples.length > 0)
    log(
      `  memory run (${SOAK}s): ${samples.map((s) => fmt(s.rss, 0)).join(" ")} MiB; second half vs first half ${growth >= 0 ? "+" : ""}${fmt(growth * 100, 1)}%`,
    );
  log(
    `admission at 100 connections: mean ${fmt(admission100.mean, 2)} ms, p99 ${fmt(admission100.p99, 2)} ms (Kyverno publishes 42.67 ms mean at 100 virtual users, 17 policies)`,
  );
  log(`server exit code after SIGTERM: ${exitCode}`);
  log(
    `no estimates: best batch = ${fmt((batchPlain.decisionsPerSec / engine.engine) * 100)}% of the in-process engine`,
  );
  log("");
  const check = (ok: boolean, text: string) => log(`${ok ? "PASS" : "MISS"}  ${text}`);
  for (const [label, s, b] of [
    ["with estimates", single, bestBatch],
    ["no estimates", singlePlain, batchPlain.decisionsPerSec],
  ] as const) {
    check(
      s.requestsPerSec >= 10_000,
      `${label}: >= 10,000 single decisions/s (10 connections): ${fmt(s.requestsPerSec)}`,
    );
    check(s.p99 <= 5, `${label}: single p99 <= 5 ms: ${fmt(s.p99, 2)} ms`);
    check(b >= 100_000, `${label}: >= 100,000 decisions/s through batches: ${fmt(b)}`);
  }
  check(errors === 0, `zero errors: ${errors}`);
  if (samples.length >= 4)
    check(
      growth < 0.1,
      `memory flat over the ${SOAK}s run (second half's RSS under 110% of the first half's): ${growth >= 0 ? "+" : ""}${fmt(growth * 100, 1)}%`,
    );
}

await main();
