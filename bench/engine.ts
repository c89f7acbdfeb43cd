/**
 * Engine benchmark: costguard against the anchors on the same policies and requests, in one run.
 *   npm run bench                  (default: 3 s per engine per workload, and the 10M-decision memory check)
 *   BENCH_SECONDS=1 BENCH_MEMORY_DECISIONS=1000000 npm run bench   (quicker)
 * Prints decisions per second for each engine and costguard's ratio to each.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { compilePolicySet } from "../src/engine/compile.js";
import type { ResourceRequest } from "../src/engine/types.js";
import { loadPolicies } from "../src/policy/load.js";
import type { LoadedPolicy, PolicyDocument } from "../src/policy/types.js";
import { cedarEngine, decisionOf } from "./anchors/cedar.js";
import { jsonRulesEngine } from "./anchors/json-rules.js";
import { generatedWorkload, guideRequests, writeWorkload } from "./workloads.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const MEMORY_DECISIONS = Number(process.env.BENCH_MEMORY_DECISIONS ?? 10_000_000);
const ANCHORS = resolve(process.env.COSTGUARD_ANCHORS ?? "../shared/anchors");

interface Result {
  engine: string;
  decisionsPerSecond: number;
  note?: string;
}

function timeSync(requests: readonly ResourceRequest[], decide: (r: ResourceRequest) => unknown): number {
  for (let i = 0; i < 3; i++) for (const r of requests) decide(r); // warm up
  let n = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(SECONDS * 1e9));
  let sink = 0;
  while (process.hrtime.bigint() - start < budget) {
    for (let i = 0; i < requests.length; i++) if (decide(requests[i]!)) sink++;
    n += requests.length;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (sink < 0) console.log(sink);
  return n / seconds;
}

async function timeAsync(
  requests: readonly ResourceRequest[],
  decide: (r: ResourceRequest) => Promise<unknown>,
): Promise<number> {
  for (const r of requests) await decide(r);
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < SECONDS * 1000) {
    for (const r of requests) await decide(r);
    n += requests.length;
  }
  return n / ((performance.now() - start) / 1000);
}

function seedPython(policiesPath: string, requestsPath: string): Result | undefined {
  const script = join(ANCHORS, "seed_bench.py");
  if (!existsSync(script)) {
    console.log(`  (skipping the guide's Python engine: ${script} not found)`);
    return undefined;
  }
  const run = spawnSync("python3", [script, policiesPath, requestsPath, String(SECONDS)], {
    encoding: "utf8",
  });
  if (run.status !== 0) throw new Error(`seed_bench.py failed: ${run.stderr}`);
  const out = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as { decisionsPerSecond: number };
  return {
    engine: "guide's Python engine (seed_bench.py)",
    decisionsPerSecond: out.decisionsPerSecond,
    note: "evaluates only the checks it implements",
  };
}

function agreement(
  policies: readonly LoadedPolicy[],
  requests: readonly ResourceRequest[],
  other: (r: ResourceRequest) => string,
): string {
  const set = compilePolicySet(policies);
  let same = 0;
  for (const r of requests) if (decisionOf(set.evaluate(r)) === other(r)) same++;
  return `${((100 * same) / requests.length).toFixed(1)}% same allow/deny as costguard`;
}

async function runWorkload(
  label: string,
  policies: LoadedPolicy[],
  requests: ResourceRequest[],
): Promise<void> {
  const docs: PolicyDocument[] = policies.map((p) => p.document);
  const rules = docs.reduce((n, d) => n + d.spec.rules.length, 0);
  console.log(
    `\n${label}: ${docs.length} policies, ${rules} rules, ${requests.length} distinct requests, ${SECONDS}s per engine`,
  );
  const set = compilePolicySet(policies);
  const results: Result[] = [
    { engine: "costguard", decisionsPerSecond: timeSync(requests, (r) => set.evaluate(r)) },
  ];

  const dir = mkdtempSync(join(tmpdir(), "costguard-bench-"));
  const files = writeWorkload(dir, docs, requests);
  const seed = seedPython(files.policies, files.requests);
  if (seed) results.push(seed);

  const cedar = cedarEngine(docs);
  results.push({
    engine: `Cedar (cedar-wasm, ${cedar.policyCount} forbid policies, pre-parsed)`,
    decisionsPerSecond: timeSync(requests, (r) => cedar.decide(r)),
    note: agreement(policies, requests.slice(0, 500), (r) => cedar.decide(r)),
  });

  const jre = jsonRulesEngine(docs);
  const jreAnswers = new Map<ResourceRequest, string>();
  for (const r of requests.slice(0, 500)) jreAnswers.set(r, await jre.decide(r));
  results.push({
    engine: `json-rules-engine (${jre.ruleCount} rules)`,
    decisionsPerSecond: await timeAsync(requests, (r) => jre.decide(r)),
    note: agreement(policies, requests.slice(0, 500), (r) => jreAnswers.get(r)!),
  });

  const ours = results[0]!.decisionsPerSecond;
  for (const r of results) {
    const ratio = r === results[0] ? "" : `  costguard is ${(ours / r.decisionsPerSecond).toFixed(1)}×`;
    const micro = (1e6 / r.decisionsPerSecond).toFixed(3);
    console.log(
      `  ${r.engine.padEnd(58)} ${Math.round(r.decisionsPerSecond).toLocaleString("en-US").padStart(12)} decisions/s  ${micro.padStart(8)} µs${ratio}${r.note ? `  (${r.note})` : ""}`,
    );
  }
}

function memoryCheck(policies: LoadedPolicy[], requests: ResourceRequest[]): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  const set = compilePolicySet(policies);
  const heap = () => {
    gc?.();
    return process.memoryUsage().heapUsed / 2 ** 20;
  };
  const checkpoints = [heap()];
  const step = MEMORY_DECISIONS / 4;
  let done = 0;
  const start = performance.now();
  while (done < MEMORY_DECISIONS) {
    for (let i = 0; i < step; i++) set.evaluate(requests[i % requests.length]!);
    done += step;
    checkpoints.push(heap());
  }
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `\nmemory over ${MEMORY_DECISIONS.toLocaleString("en-US")} decisions (guide policies, ${seconds.toFixed(1)} s): heap used after GC ${checkpoints.map((m) => `${m.toFixed(1)} MB`).join(" → ")}${gc ? "" : " (run with --expose-gc for exact figures)"}; RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`,
  );
}

async function main(): Promise<void> {
  console.log(`costguard engine benchmark — node ${process.version}, one thread`);
  const guide = loadPolicies(["examples/guide-main"]).policies;
  const guideReqs = guideRequests(1000);
  await runWorkload("(a) the guide's example policies", guide, guideReqs);

  const generated = generatedWorkload();
  const loaded: LoadedPolicy[] = generated.policies.map((document, index) => ({
    document,
    source: { file: "generated", index, locate: () => ({ line: 1, column: 1 }) },
  }));
  await runWorkload(
    "(b) generated policy set, typical traffic (most requests comply)",
    loaded,
    generated.requests,
  );
  const heavy = generatedWorkload(42, true);
  await runWorkload(
    "(c) the same policy set, worst case (every request breaks ~100 checks)",
    loaded,
    heavy.requests,
  );
  memoryCheck(guide, guideReqs);
}

await main();
