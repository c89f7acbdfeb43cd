import { createReadStream } from "node:fs";
import type { buildBudgetStateFromFile as BuildFn } from "../src/budget/build-state.js";
import type { loadPolicies as LoadFn } from "../src/policy/load.js";

/**
 * One measurement of bench/budget.ts, run in its own process so its peak RSS is its own.
 * Prints one JSON line: {rows, seconds, maxRssMB, ...}.
 */
const [mode, file, policiesPath, atText] = process.argv.slice(2) as [string, string, string, string];

async function byteScan(): Promise<Record<string, unknown>> {
  let rows = -1;
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    let i = chunk.indexOf(10);
    while (i >= 0) {
      rows++;
      i = chunk.indexOf(10, i + 1);
    }
  }
  return { rows };
}

// The built package (npm run bench:budget builds first), as users run it; worker threads load plain JS.
const dist = (path: string) => new URL(`../dist/src/${path}`, import.meta.url).href;
const { buildBudgetStateFromFile } = (await import(dist("budget/build-state.js"))) as {
  buildBudgetStateFromFile: typeof BuildFn;
};
const { loadPolicies } = (await import(dist("policy/load.js"))) as { loadPolicies: typeof LoadFn };

// Policies are loaded (and their schema compiled) before the clock starts: a fixed cost, not per row.
const { policies } = mode === "costguard" ? loadPolicies([policiesPath]) : { policies: [] };

async function costguard(): Promise<Record<string, unknown>> {
  const { state, report } = await buildBudgetStateFromFile(policies, file, { at: Date.parse(atText) });
  return {
    rows: report.rows,
    malformed: report.malformed,
    spend: Object.fromEntries(state.budgets.map((b) => [`${b.rule}/${b.period}`, b.spend])),
  };
}

async function csvParse(): Promise<Record<string, unknown>> {
  const { parse } = await import("csv-parse");
  let rows = 0;
  const parser = createReadStream(file, { highWaterMark: 1 << 20 }).pipe(parse({ from_line: 2 }));
  for await (const _record of parser) rows++;
  return { rows };
}

const modes: Record<string, () => Promise<Record<string, unknown>>> = {
  scan: byteScan,
  costguard,
  "csv-parse": csvParse,
};
const started = process.hrtime.bigint();
const cpuStart = process.cpuUsage();
const result = await modes[mode]!();
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const cpu = process.cpuUsage(cpuStart);
process.stdout.write(
  `${JSON.stringify({ mode, ...result, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`,
);
