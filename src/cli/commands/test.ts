import { statSync } from "node:fs";
import type { Command } from "commander";
import type { Decision } from "../../engine/types.js";
import { formatProblem, InputError } from "../../errors.js";
import { realPath, walkFolder } from "../../files.js";
import { cycleText, TEST_SUITE } from "../../policy/load.js";
import { runSuite, type SuiteRun } from "../../policy-test/run.js";
import { readSuite } from "../../policy-test/suite.js";
import type { CliContext } from "../context.js";
import { CliExit, EXIT, reportError } from "../exit.js";
import { collect, configInUse } from "../policy-options.js";
import { loadPriceBookForCli } from "../price-options.js";
import { paint, printable, useColor } from "../table.js";

export function registerTest(program: Command, ctx: CliContext): void {
  program
    .command("test")
    .description(
      "run policy test suites (*.test.yaml): requests with the decision and violations they must get",
    )
    .argument("<paths...>", "suite files or folders searched for *.test.yaml, *.test.yml and *.test.json")
    .option(
      "--price-book <path>",
      "CSV or YAML price table adding to or overriding the embedded book (repeatable), as evaluate's",
      collect,
    )
    .addHelpText(
      "after",
      `
A suite file:
  policies: [./policies.yaml]          # files or folders, relative to the suite
  cases:
    - name: gpu instances are denied
      request: {type: compute/instance, specs: {instance_family: gpu}}   # or requestFile: x.json
      expect:
        decision: deny
        violations: [{policy: resource-limits, rule: max-instance-size}]  # compared as a set
        count: 1                       # optional: number of violations

Cases are decided as evaluate decides them: a request with only specs.instance_type gets its specs
and monthly cost from the price book (embedded, plus --price-book files). Billing data and approved
exceptions in the store are not read: a suite gives the same result on every machine (budget rules
are listed under not_evaluated).

A failing case shows what was expected against what it got, then each violation it got and each
rule left unverified or not evaluated, with its message.

Ends with "N passed, M failed" (and how many malformed suites were not run); exit 1 if any case
failed, 2 if a suite is malformed (a case's request that is not a valid one included) — the
others are run all the same. Warnings (the policies', a case whose request type looks misspelt) go
to standard error, as evaluate prints them, and change no exit code.`,
    )
    .action((paths: string[], opts: { priceBook?: string[] }) => {
      const files = findSuites(paths, ctx);
      if (files.length === 0)
        throw new InputError(
          `no test suites (*.test.yaml, *.test.yml, *.test.json) under ${paths.join(", ")}`,
        );
      const book = loadPriceBookForCli(opts.priceBook);
      const color = useColor(ctx.stdout);
      const skip = configInUse(ctx);
      let passed = 0;
      let failed = 0;
      let malformed = 0;
      const warned = new Set<string>();
      for (const file of files) {
        let run: SuiteRun;
        try {
          run = runSuite(readSuite(file), book, { skip });
        } catch (err) {
          // One malformed suite stops only itself: the others still run and the summary is written.
          const code = reportError(err, ctx.stderr);
          if (code !== EXIT.badInput) throw new CliExit(code);
          malformed++;
          ctx.stdout.write(
            `${file}\n  ${paint(color, "red", "BAD ")} not run: the suite is malformed (standard error says why)\n`,
          );
          continue;
        }
        // As evaluate and validate say them; a policy file two suites read warns once. No effect on
        // the exit code, as in evaluate and validate.
        for (const w of run.warnings) {
          const line = formatProblem(w);
          if (warned.has(line)) continue;
          warned.add(line);
          ctx.stderr.write(`${line}\n`);
        }
        ctx.stdout.write(`${file}\n`);
        for (const r of run.results) {
          if (r.passed) {
            passed++;
            ctx.stdout.write(`  ${paint(color, "green", "ok  ")} ${printable(r.name)}\n`);
          } else {
            failed++;
            ctx.stdout.write(`  ${paint(color, "red", "FAIL")} ${printable(r.name)}\n`);
            for (const d of r.differences) ctx.stdout.write(`         ${d}\n`);
            if (r.decision !== undefined) ctx.stdout.write(outcomeText(r.decision));
          }
        }
      }
      const notRun =
        malformed > 0 ? `, ${malformed} malformed ${malformed === 1 ? "suite" : "suites"} not run` : "";
      ctx.stdout.write(`${passed} passed, ${failed} failed${notRun}\n`);
      if (malformed > 0) throw new CliExit(EXIT.badInput);
      if (failed > 0) throw new CliExit(EXIT.denied);
    });
}

/**
 * Why a failing case got its decision, under its differences: each violation, and each rule left
 * unverified (no cost estimate, a spec missing) or not evaluated (budgets), a line each as evaluate's
 * table shows them. "decision: expected deny, got allow" alone left the reason to a second run.
 */
function outcomeText(decision: Decision): string {
  const line = (kind: string, { policy, rule }: { policy: string; rule: string }, message: string) =>
    `           ${kind.padEnd(14)} ${printable(`${policy}/${rule}: ${message}`)}\n`;
  const lines = [
    ...decision.violations.map((v) => line(v.enforcement, v, v.message)),
    ...decision.unverified.map((u) => line("unverified", u, u.message)),
    ...decision.not_evaluated.map((n) => line("not evaluated", n, n.reason)),
  ];
  return lines.length === 0 ? "         got: no violations\n" : `         got:\n${lines.join("")}`;
}

function findSuites(paths: readonly string[], ctx: CliContext): string[] {
  const out: string[] = [];
  for (const p of paths) {
    if (statSync(p).isDirectory())
      walkFolder(
        p,
        (file, name) => {
          if (TEST_SUITE.test(name)) out.push(file);
        },
        {
          onCycle: ({ link, target }) =>
            ctx.stderr.write(`costguard: warning: ${link}: ${cycleText(target)}\n`),
        },
      );
    else out.push(p);
  }
  // A suite named twice (a folder and a suite in it, a link to it) is run once: twice, its cases
  // were counted twice in the summary.
  const seen = new Set<string>();
  return out.filter((file) => {
    const real = realPath(file);
    if (seen.has(real)) return false;
    seen.add(real);
    return true;
  });
}
