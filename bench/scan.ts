/**
 * npm run bench:scan — the scan against its floor, measured in the same run.
 *
 * 1. Generates N resources (default 1,000,000) as JSON lines from the sandbox estate generator.
 * 2. In a fresh child process each (so peak memory is each phase's own):
 *    - floor: JSON.parse over the same lines, held in memory (the strictest floor), and the same
 *      with the lines streamed from the file (what any scan must at least do);
 *    - scan: the guide's policies (examples/policies) and the default detectors over the file,
 *      through the file provider, the decider and the findings, nothing stored, with the threads a
 *      user gets by default (`--jobs auto`: one per core for a big JSON-lines file), and the same on
 *      one thread (`--jobs 1`);
 *    - scan + store: the same, with findings and history stored in a fresh SQLite file (a first
 *      scan: every finding is new; the threads `--jobs auto` gives, as the CLI stores by default);
 *    - rescan + store: a first scan stored untimed, then the same estate scanned again a day later
 *      and timed (the steady state: findings seen again, mostly unchanged; orphaned volumes' ages
 *      move, so their findings are rewritten);
 *    - storing alone: the first scan's findings, made untimed and held in memory, then recorded into
 *      a fresh SQLite file through the store's own recording, timed — what storing a first scan
 *      costs with no reading or judging beside it (its peak memory holds every finding at once).
 * 3. Prints wall and CPU times (CPU of every thread of the process), their ratios to the floor, and
 *    peak RSS. The floor phases are single-threaded JSON.parse, whatever the machine.
 *
 * Options: --resources N, --keep (keep the generated file), --file PATH (reuse a file).
 */
import { spawnSync } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type * as FileProviderModule from "../src/inventory/file/file-provider.js";
import type * as TextChunksModule from "../src/inventory/file/text-chunks.js";
import type * as EstateModule from "../src/inventory/sandbox/estate.js";
import type * as LoadModule from "../src/policy/load.js";
import type * as PricingLoadModule from "../src/pricing/load.js";
import type * as DetectorsModule from "../src/scan/detectors.js";
import type * as ParallelScanModule from "../src/scan/parallel-scan.js";
import type * as PricesModule from "../src/scan/prices.js";
import type * as RunScanModule from "../src/scan/run-scan.js";
import type * as ScanRecipeModule from "../src/scan/scan-recipe.js";
import type * as TypesModule from "../src/scan/types.js";
import type * as OpenModule from "../src/store/open.js";

/** The compiled build (npm run build), as users run it: not the tsx-transformed sources. */
const dist = (path: string) => new URL(`../dist/src/${path}`, import.meta.url).href;
const { fileProvider } = (await import(dist("inventory/file/file-provider.js"))) as typeof FileProviderModule;
const { readLines } = (await import(dist("inventory/file/text-chunks.js"))) as typeof TextChunksModule;
const { generateEstate } = (await import(dist("inventory/sandbox/estate.js"))) as typeof EstateModule;
const { loadPolicies } = (await import(dist("policy/load.js"))) as typeof LoadModule;
const { DEFAULT_DETECTORS } = (await import(dist("scan/detectors.js"))) as typeof DetectorsModule;
const { loadPrices } = (await import(dist("scan/prices.js"))) as typeof PricesModule;
const { scanContextFromRecipe, scanRecipe } = (await import(
  dist("scan/scan-recipe.js")
)) as typeof ScanRecipeModule;
const { autoJobs, parallelJsonLines } = (await import(
  dist("scan/parallel-scan.js")
)) as typeof ParallelScanModule;
const { loadPriceTables } = (await import(dist("pricing/load.js"))) as typeof PricingLoadModule;
const { runScan } = (await import(dist("scan/run-scan.js"))) as typeof RunScanModule;
const { openStore } = (await import(dist("store/open.js"))) as typeof OpenModule;

const AT = new Date("2026-06-01T00:00:00Z");
const POLICIES = ["examples/policies"];

interface Measure {
  phase: string;
  ms: number;
  cpuMs: number;
  maxRssMb: number;
  /** Threads that judged resources (scan phases). */
  jobs?: number;
  extra?: Record<string, unknown>;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function generate(path: string, n: number): Promise<void> {
  const prices = loadPrices();
  const out = createWriteStream(path);
  const chunk = 10_000;
  for (let done = 0, seed = 0; done < n; seed++) {
    const count = Math.min(chunk, n - done);
    const estate = generateEstate({ resources: count, seed: `bench-${seed}`, at: AT }, prices);
    let text = "";
    for (const r of estate) text += `${JSON.stringify({ ...r, id: `${r.id}-${seed}` })}\n`;
    if (!out.write(text)) await once(out, "drain");
    done += count;
  }
  out.end();
  await once(out, "finish");
}

function maxRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

/** Wall and CPU time of `fn`, in milliseconds. */
async function timed<T>(fn: () => Promise<T> | T): Promise<{ value: T; ms: number; cpuMs: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { value, ms, cpuMs: (c.user + c.system) / 1000 };
}

async function child(phase: string, file: string): Promise<Measure> {
  if (phase === "floor-memory") {
    // Read first (a 550 MB file is longer than one string may be), then time only the parsing.
    const lines: string[] = [];
    for await (const chunk of readLines(file, file)) for (const l of chunk) lines.push(l.text);
    const t = await timed(() => {
      let n = 0;
      for (const line of lines) {
        if (line.length === 0) continue;
        JSON.parse(line);
        n++;
      }
      return n;
    });
    return { phase, ms: t.ms, cpuMs: t.cpuMs, maxRssMb: maxRssMb(), extra: { resources: t.value } };
  }
  if (phase === "floor-stream") {
    const t = await timed(async () => {
      let n = 0;
      for await (const lines of readLines(file, file)) {
        for (const l of lines) {
          if (l.text.length === 0) continue;
          JSON.parse(l.text);
          n++;
        }
      }
      return n;
    });
    return { phase, ms: t.ms, cpuMs: t.cpuMs, maxRssMb: maxRssMb(), extra: { resources: t.value } };
  }
  if (phase === "store-alone") return storeAlone(phase, file);
  const recipe = benchRecipe(file);
  const context = scanContextFromRecipe(recipe);
  // What the CLI does: --jobs auto (stored or not); "scan-1" is the same scan on one thread.
  const jobs = phase === "scan-1" ? 1 : autoJobs(statSync(file).size);
  const provider = () =>
    jobs > 1 ? parallelJsonLines({ path: file, name: file, jobs, recipe }) : fileProvider(file);
  const dir = mkdtempSync(join(tmpdir(), "costguard-bench-db-"));
  const store =
    phase === "scan-store" || phase === "rescan-store"
      ? await openStore({ kind: "sqlite", path: join(dir, "bench.db") })
      : undefined;
  try {
    if (phase === "rescan-store") {
      await runScan({ provider: fileProvider(file), context, store: store! });
      context.at = new Date(AT.getTime() + 86_400_000);
    }
    const t = await timed(() => runScan({ provider: provider(), context, ...(store ? { store } : {}) }));
    const s = t.value.summary;
    return {
      phase,
      ms: t.ms,
      cpuMs: t.cpuMs,
      maxRssMb: maxRssMb(),
      jobs,
      extra: {
        resources: s.resources_scanned,
        findings: s.findings,
        new: s.new_findings,
        resolved: s.resolved_findings,
        savings_monthly: s.savings_monthly,
      },
    };
  } finally {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What every scan phase judges with: the guide's policies, the embedded prices, the default detectors. */
function benchRecipe(file: string) {
  return scanRecipe(
    `file:${file}`,
    loadPolicies(POLICIES).policies,
    loadPriceTables(),
    DEFAULT_DETECTORS,
    AT,
    "USD",
  );
}

/** The first scan's findings made untimed, then only their recording into a fresh store timed. */
async function storeAlone(phase: string, file: string): Promise<Measure> {
  const recipe = benchRecipe(file);
  // Held as the scan hands them over (one batch per 256 resources read), recorded the same way.
  const batches: (readonly TypesModule.Finding[])[] = [];
  await runScan({
    provider: fileProvider(file),
    context: scanContextFromRecipe(recipe),
    onFindings: (batch) => {
      batches.push(batch);
    },
  });
  const dir = mkdtempSync(join(tmpdir(), "costguard-bench-db-"));
  const store = await openStore({ kind: "sqlite", path: join(dir, "bench.db") });
  try {
    const t = await timed(async () => {
      const recording = await store.findings.beginScan("scan-bench", file, AT.toISOString());
      for (const batch of batches) await recording.add(batch);
      return recording.finish();
    });
    return {
      phase,
      ms: t.ms,
      cpuMs: t.cpuMs,
      maxRssMb: maxRssMb(),
      extra: { findings: batches.reduce((n, b) => n + b.length, 0), new: t.value.newFindings },
    };
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function runChild(phase: string, file: string): Measure {
  const self = fileURLToPath(import.meta.url);
  const r = spawnSync(process.execPath, ["--import", "tsx", self, "--child", phase, "--file", file], {
    encoding: "utf8",
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`${phase} failed:\n${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as Measure;
}

const PHASES = [
  "floor-memory",
  "floor-stream",
  "scan",
  "scan-1",
  "scan-store",
  "rescan-store",
  "store-alone",
] as const;
const NAMES: Record<string, string> = {
  "floor-memory": "JSON.parse of every line (lines in memory): the floor",
  "floor-stream": "JSON.parse of every line, streamed from the file",
  scan: "scan: guide policies + detectors, nothing stored",
  "scan-1": "the same scan on one thread (--jobs 1)",
  "scan-store": "scan + stored (SQLite), first scan: all new",
  "rescan-store": "scan + stored (SQLite), rescan a day later",
  "store-alone": "storing alone: the first scan's findings, no judging",
};

async function main(): Promise<void> {
  const childPhase = arg("--child");
  if (childPhase) {
    process.stdout.write(`${JSON.stringify(await child(childPhase, arg("--file")!))}\n`);
    return;
  }
  const n = Number(arg("--resources") ?? 1_000_000);
  const runs = Number(arg("--runs") ?? 2);
  const dir = mkdtempSync(join(tmpdir(), "costguard-bench-"));
  const file = arg("--file") ?? join(dir, "estate.jsonl");
  try {
    if (!arg("--file")) {
      const t0 = performance.now();
      await generate(file, n);
      process.stdout.write(
        `generated ${n.toLocaleString("en-US")} resources as JSON lines (${(statSync(file).size / 1e6).toFixed(0)} MB) in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
      );
    }
    process.stdout.write(
      `load average at the start: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")} (${cpus().length} CPUs)\n`,
    );
    // Phases interleaved, each run in a fresh process; the best of `runs` counts (the machine is shared).
    const best = new Map<string, Measure>();
    /** Every run's measures, for the ratios within each run (the machine's speed drifts between runs). */
    const perRun: Map<string, Measure>[] = [];
    for (let r = 0; r < runs; r++) {
      const thisRun = new Map<string, Measure>();
      perRun.push(thisRun);
      for (const phase of PHASES) {
        const m = runChild(phase, file);
        thisRun.set(phase, { ...m });
        const prev = best.get(phase);
        if (!prev || m.ms < prev.ms)
          best.set(phase, { ...m, cpuMs: Math.min(m.cpuMs, prev?.cpuMs ?? m.cpuMs) });
        else prev.cpuMs = Math.min(prev.cpuMs, m.cpuMs);
      }
    }
    const floor = best.get("floor-memory")!;
    process.stdout.write(
      `\nbest of ${runs} runs, each phase in its own process; cpu: all threads of the process\n${"phase".padEnd(56)}${"jobs".padStart(5)}${"wall".padStart(9)}${"× floor".padStart(9)}${"cpu".padStart(9)}${"× floor".padStart(9)}${"peak RSS".padStart(10)}\n`,
    );
    for (const phase of PHASES) {
      const m = best.get(phase)!;
      process.stdout.write(
        `${NAMES[phase]!.padEnd(56)}${String(m.jobs ?? 1).padStart(5)}${`${(m.ms / 1000).toFixed(2)}s`.padStart(9)}${(m.ms / floor.ms).toFixed(2).padStart(9)}${`${(m.cpuMs / 1000).toFixed(2)}s`.padStart(9)}${(m.cpuMs / floor.cpuMs).toFixed(2).padStart(9)}${`${m.maxRssMb} MB`.padStart(10)}\n`,
      );
    }
    if (runs > 1) {
      // Best-of figures may pair a floor from a fast moment with a phase from a slow one: each run's
      // own ratios say how steady they are.
      process.stdout.write(
        `\nwall × the floor of the same run (runs in order)\n${PHASES.filter((p) => p !== "floor-memory")
          .map(
            (phase) =>
              `${NAMES[phase]!.padEnd(56)}${perRun
                .map((run) => `${(run.get(phase)!.ms / run.get("floor-memory")!.ms).toFixed(2)}`.padStart(7))
                .join("")}`,
          )
          .join("\n")}\n`,
      );
    }
    const scan = best.get("scan")!;
    const stored = best.get("scan-store")!;
    const rescan = best.get("rescan-store")!;
    const alone = best.get("store-alone")!;
    process.stdout.write(
      `\nscan: ${JSON.stringify(scan.extra)}\nfirst scan stored: ${JSON.stringify(stored.extra)}\nrescan stored: ${JSON.stringify(rescan.extra)}\n` +
        `targets (wall): scan ≤ 1.5× floor: ${(scan.ms / floor.ms).toFixed(2)}×; stored ≤ 3× floor: first scan ${(stored.ms / floor.ms).toFixed(2)}× (storing its findings alone: ${(alone.ms / floor.ms).toFixed(2)}×), rescan ${(rescan.ms / floor.ms).toFixed(2)}×; peak memory < 1.5 GB: ${Math.max(scan.maxRssMb, stored.maxRssMb, rescan.maxRssMb)} MB\n` +
        `load average at the end: ${loadavg()
          .map((l) => l.toFixed(2))
          .join(" ")} (${cpus().length} CPUs)\n`,
    );
  } finally {
    if (!process.argv.includes("--keep") && !arg("--file")) rmSync(dir, { recursive: true, force: true });
    else process.stdout.write(`kept ${file}\n`);
  }
}

await main();
