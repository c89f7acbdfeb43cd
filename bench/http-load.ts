/** The load-generating half of bench/http.ts: autocannon runs, /proc readings, the result table. */
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import autocannon from "autocannon";

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

/** Resident memory of a process, from /proc. */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** User + system CPU seconds a process has used, from /proc (clock ticks of 10 ms). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
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
  },
): Promise<Row> {
  const bodies = (opts.bodies ?? [undefined]).map((b) => (b === undefined ? undefined : JSON.stringify(b)));
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
