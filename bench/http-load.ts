/**
 * The load-generating half of bench/http.ts: wrk runs (Debian's `wrk`, a C load generator, so the
 * load costs the 2-core machine as little as possible) or autocannon runs (in this Node process) when
 * wrk is not installed; /proc readings; the result table.
 */
import { type ChildProcess, execFile } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";

export const WRK = ["/usr/bin/wrk", "/usr/local/bin/wrk"].find((p) => existsSync(p));
export type Generator = "wrk" | "autocannon";

export interface Row {
  scenario: string;
  connections: number;
  requestsPerSec: number;
  decisionsPerSec: number;
  p50: number;
  p99: number;
  mean: number;
  max: number;
  errors: number;
  serverCpu: number;
}

export interface Server {
  proc: ChildProcess;
  url: string;
  pid: number;
}

/** A process and its descendants (a `--workers` server is a primary and its workers), from /proc. */
function tree(pid: number): number[] {
  const out = [pid];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      const children = readFileSync(`/proc/${pid}/task/${task}/children`, "utf8").trim();
      if (children !== "") for (const c of children.split(" ")) out.push(...tree(Number(c)));
    }
  } catch {
    // The process has gone.
  }
  return out;
}

/** Resident memory of a server (all its processes), from /proc. */
export function rssMiB(pid: number): number {
  let kb = 0;
  for (const p of tree(pid)) {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, "utf8"));
    if (m) kb += Number(m[1]);
  }
  return kb / 1024;
}

/** User + system CPU seconds a server (all its processes) has used, from /proc (ticks of 10 ms). */
export function cpuSeconds(pid: number): number {
  let ticks = 0;
  for (const p of tree(pid)) {
    const fields = readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1]!.split(" ");
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / 100;
}

// wrk reports through this script: bodies rotate per request, and the summary is printed as JSON.
const WRK_SCRIPT = `
local bodies = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do
  local f = assert(io.open(line, "rb")); bodies[#bodies + 1] = f:read("*a"); f:close()
end
local method = os.getenv("BENCH_METHOD")
local path = os.getenv("BENCH_PATH")
local headers = { ["content-type"] = "application/json" }
local i = 0
request = function()
  i = i % math.max(#bodies, 1) + 1
  return wrk.format(method, path, headers, bodies[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"mean_us":%f,"max_us":%d,"socket_errors":%d,"non2xx":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.mean, latency.max,
    e.connect + e.read + e.write + e.timeout, e.status))
end
`;

let scratch: string | undefined;
let scriptFile: string | undefined;

/** One wrk run: one thread (the server has the rest of the machine), bodies rotated per request. */
function runWrk(
  url: string,
  opts: {
    path: string;
    method?: "GET" | "POST";
    bodies: (string | undefined)[];
    connections: number;
    duration: number;
  },
): Promise<{
  requests: number;
  seconds: number;
  p50: number;
  p99: number;
  mean: number;
  max: number;
  errors: number;
}> {
  scratch ??= mkdtempSync(join(tmpdir(), "costguard-bench-http-"));
  if (scriptFile === undefined) {
    scriptFile = join(scratch, "bench.lua");
    writeFileSync(scriptFile, WRK_SCRIPT);
  }
  const list = join(scratch, `bodies-${Math.random().toString(36).slice(2)}.txt`);
  const files = opts.bodies
    .filter((b): b is string => b !== undefined)
    .map((b, i) => {
      const f = `${list}.${i}.json`;
      writeFileSync(f, b);
      return f;
    });
  writeFileSync(list, files.join("\n"));
  return new Promise((resolve, reject) => {
    execFile(
      WRK!,
      [
        "-t1",
        `-c${opts.connections}`,
        `-d${opts.duration}s`,
        "--timeout",
        "10s",
        "-s",
        scriptFile!,
        `${url}${opts.path}`,
      ],
      {
        env: {
          ...process.env,
          BENCH_BODIES: list,
          BENCH_METHOD: opts.method ?? "POST",
          BENCH_PATH: opts.path,
        },
        maxBuffer: 1 << 20,
      },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`wrk failed: ${err.message} ${stderr}`));
        const line = stdout.split("\n").find((l) => l.startsWith("BENCH "));
        if (!line) return reject(new Error(`wrk printed no summary: ${stdout} ${stderr}`));
        const r = JSON.parse(line.slice(6)) as Record<string, number>;
        resolve({
          requests: r.requests!,
          seconds: r.duration_us! / 1e6,
          p50: r.p50_us! / 1000,
          p99: r.p99_us! / 1000,
          mean: r.mean_us! / 1000,
          max: r.max_us! / 1000,
          errors: r.socket_errors! + r.non2xx!,
        });
      },
    );
  });
}

export async function load(
  server: Server,
  scenario: string,
  opts: {
    path: string;
    method?: "GET" | "POST";
    bodies?: object[];
    connections: number;
    duration: number;
    perRequest?: number;
    generator?: Generator;
  },
): Promise<Row> {
  const bodies = (opts.bodies ?? [undefined]).map((b) => (b === undefined ? undefined : JSON.stringify(b)));
  if ((opts.generator ?? (WRK ? "wrk" : "autocannon")) === "wrk") {
    const cpu0 = cpuSeconds(server.pid);
    const t0 = performance.now();
    const r = await runWrk(server.url, { ...opts, bodies });
    const cpu = (cpuSeconds(server.pid) - cpu0) / ((performance.now() - t0) / 1000);
    const requestsPerSec = r.requests / r.seconds;
    return {
      scenario,
      connections: opts.connections,
      requestsPerSec,
      decisionsPerSec: requestsPerSec * (opts.perRequest ?? 1),
      p50: r.p50,
      p99: r.p99,
      mean: r.mean,
      max: r.max,
      errors: r.errors,
      serverCpu: cpu,
    };
  }
  const latencies = new Float64Array(4_000_000);
  let n = 0;
  const cpu0 = cpuSeconds(server.pid);
  const t0 = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: server.url,
        connections: opts.connections,
        duration: opts.duration,
        requests: bodies.map((body) => ({
          method: opts.method ?? "POST",
          path: opts.path,
          headers: { "content-type": "application/json" },
          ...(body === undefined ? {} : { body }),
        })),
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on("response", (_client, _status, _bytes, responseTime) => {
      if (n < latencies.length) latencies[n++] = responseTime;
    });
  });
  const seconds = (performance.now() - t0) / 1000;
  const cpu = (cpuSeconds(server.pid) - cpu0) / seconds;
  const sorted = latencies.subarray(0, n).sort();
  const at = (q: number) => sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))] ?? Number.NaN;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  const requestsPerSec = result.requests.total / result.duration;
  return {
    scenario,
    connections: opts.connections,
    requestsPerSec,
    decisionsPerSec: requestsPerSec * (opts.perRequest ?? 1),
    p50: at(0.5),
    p99: at(0.99),
    mean: sum / n,
    max: sorted[n - 1] ?? Number.NaN,
    errors: result.errors + result.timeouts + result.non2xx,
    serverCpu: cpu,
  };
}

export const fmt = (v: number, digits = 0) =>
  Number.isFinite(v)
    ? v.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : "-";

export function table(rows: Row[]): string {
  const head = [
    "scenario",
    "conns",
    "req/s",
    "decisions/s",
    "p50 ms",
    "p99 ms",
    "mean ms",
    "max ms",
    "errors",
    "server CPU",
    "CPU µs/decision",
  ];
  const body = rows.map((r) => [
    r.scenario,
    String(r.connections),
    fmt(r.requestsPerSec),
    fmt(r.decisionsPerSec),
    fmt(r.p50, 2),
    fmt(r.p99, 2),
    fmt(r.mean, 2),
    fmt(r.max, 1),
    String(r.errors),
    `${fmt(r.serverCpu * 100)}%`,
    fmt((r.serverCpu * 1e6) / r.decisionsPerSec, 1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(head), line(widths.map((w) => "-".repeat(w))), ...body.map(line)].join("\n");
}
