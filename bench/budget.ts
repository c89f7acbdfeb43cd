import { execFileSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { decimal, toText } from "../src/budget/decimal.js";
import { budgetDefinitions } from "../src/budget/definitions.js";
import { periodAt } from "../src/budget/periods.js";
import { loadPolicies } from "../src/policy/load.js";
import { generateFocusFile } from "./focus-generator.js";

/**
 * npm run bench:budget [-- --rows N]
 *
 * Generates a FOCUS file of N rows shaped like the FinOps sample (default 200,000; the target run is
 * 2,000,000), then measures in the same run, each in its own process so peak RSS is its own:
 *   scan       a plain byte scan of the file (read + count line feeds): the floor
 *   costguard  FOCUS ingest + budget evaluation of bench/budget-policies.yaml
 *   python     a straightforward Python csv + json + Decimal aggregation of the same budgets
 * and checks that costguard and Python found the same spend for every budget and period.
 */
const SAMPLE = "examples/billing/focus-1.0-sample.csv";
const POLICIES = "bench/budget-policies.yaml";
const AT = "2024-09-30T23:00:00Z";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

const rows = Number(arg("rows") ?? process.env.BUDGET_BENCH_ROWS ?? 200_000);
const file = arg("file") ?? join(tmpdir(), `costguard-bench-focus-${rows}.csv`);

interface Measurement {
  mode: string;
  rows: number;
  seconds: number;
  cpuSeconds: number;
  maxRssMB: number;
  spend?: Record<string, string>;
  [k: string]: unknown;
}

function child(command: string, args: string[]): Measurement {
  const out = execFileSync(command, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(out.trim().split("\n").at(-1)!) as Measurement;
}

async function main(): Promise<void> {
  if (!existsSync(file)) {
    process.stdout.write(`generating ${rows.toLocaleString("en")} FOCUS rows into ${file} ...\n`);
    await generateFocusFile(SAMPLE, file, rows);
  } else {
    process.stdout.write(`reusing ${file}\n`);
  }
  const bytes = statSync(file).size;
  const definitions = budgetDefinitions(loadPolicies([POLICIES]).policies);
  const at = Date.parse(AT);
  const budgets = definitions.flatMap((d) =>
    d.limits.map((l) => ({
      key: `${d.rule}/${l.period}`,
      selector: d.selector,
      costColumn: d.costColumn,
      currency: d.currency,
      periodStart: new Date(periodAt(l.period, at).start).toISOString(),
      at: AT,
    })),
  );
  const node = [process.execPath, "--import", "tsx", "bench/budget-child.ts"];
  const run = (mode: string) => child(node[0]!, [...node.slice(1), mode, file, POLICIES, AT]);
  const scan = run("scan");
  const costguard = run("costguard");
  const python = child("python3", ["bench/budget_reference.py", file, JSON.stringify(budgets)]);

  const mb = bytes / 1024 / 1024;
  const n = (x: number) => Math.round(x).toLocaleString("en");
  const line = (m: Measurement) =>
    `${m.mode.padEnd(10)} ${n(m.rows / m.seconds).padStart(11)} rows/s ${(mb / m.seconds).toFixed(0).padStart(6)} MB/s ${m.seconds.toFixed(2).padStart(8)} s wall ${m.cpuSeconds.toFixed(2).padStart(8)} s CPU ${n(m.rows / m.cpuSeconds).padStart(11)} rows/CPU-s  peak RSS ${String(m.maxRssMB).padStart(5)} MB`;
  process.stdout.write(
    `\n${rows.toLocaleString("en")} rows, ${mb.toFixed(0)} MB, ${budgets.length} budget periods (${definitions.length} BudgetLimit rules), at ${AT}\n`,
  );
  for (const m of [scan, costguard, python]) process.stdout.write(`${line(m)}\n`);
  process.stdout.write(
    `(machine: ${availableParallelism()} cores, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(
        " ",
      )} at the end; costguard splits files from 64 MiB across the cores, so its CPU time can exceed wall time)\n`,
  );
  const rate = (m: Measurement) => m.rows / m.seconds;
  process.stdout.write(
    `\ncostguard: ${(rate(costguard) / rate(scan)).toFixed(2)}× the byte-scan floor's speed, ${(rate(costguard) / rate(python)).toFixed(1)}× Python's\n`,
  );
  process.stdout.write(
    `target: ≥ 500,000 rows/s and < 1024 MB peak RSS: ${rate(costguard) >= 500_000 ? "met" : "NOT met"} (${Math.round(rate(costguard)).toLocaleString("en")} rows/s), ${costguard.maxRssMB < 1024 ? "met" : "NOT met"} (${costguard.maxRssMB} MB)\n`,
  );
  const disagree = budgets.filter(
    (b) =>
      toText(decimal(costguard.spend?.[b.key] ?? "NaN")) !== toText(decimal(python.spend?.[b.key] ?? "NaN")),
  );
  process.stdout.write(
    disagree.length === 0
      ? `spend agrees with the Python reference for all ${budgets.length} budget periods\n`
      : `DISAGREES with Python on ${disagree.map((b) => `${b.key} (${costguard.spend?.[b.key]} vs ${python.spend?.[b.key]})`).join(", ")}\n`,
  );
  if (disagree.length > 0) process.exitCode = 1;
}

await main();
