import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { buildBudgetStateFromFile } from "../../src/budget/build-state.js";
import { compilePolicySet } from "../../src/engine/compile.js";
import { cli } from "../helpers/cli.js";
import { policiesFrom, type TestCharge, tempDir, writeFocusCsv } from "./focus-files.js";

const POLICY = `apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: team-budgets}
spec:
  type: BudgetLimit
  rules:
    - name: team-a
      selector: {tags: {team: a}}
      budget:
        monthly: 1000
        alertThresholds:
          - {percent: 80, action: notify}
          - {percent: 100, action: block-new-resources}
    - name: team-b
      selector: {tags: {team: b}}
      denyOnForecastOverrun: true
      budget: {monthly: 10000}
    - name: team-c
      selector: {tags: {team: c}}
      budget: {monthly: 10000}
`;

/** 10 USD an hour for each team through September 2024. */
function charges(): TestCharge[] {
  const out: TestCharge[] = [];
  const start = Date.parse("2024-09-01T00:00:00Z");
  for (let h = 0; h < 720; h++) {
    const s = new Date(start + h * 3_600_000).toISOString().replace(".000", "");
    const e = new Date(start + (h + 1) * 3_600_000).toISOString().replace(".000", "");
    for (const team of ["a", "b", "c"]) out.push({ start: s, end: e, cost: "10", tags: { team } });
  }
  return out;
}

/** The CLI in-process with its clock stopped at `now`, one team-a request on stdin. */
const runAt = (args: string[], now: string) =>
  cli(args, {
    cwd: process.cwd(),
    now,
    input: JSON.stringify({ type: "compute/instance", tags: { team: "a" } }),
  });

describe("budget-aware gates", () => {
  const dir = tempDir();
  const policies = policiesFrom(dir, POLICY);
  const billing = writeFocusCsv(dir, "billing.csv", charges());
  const decide = async (at: string, request: Record<string, unknown>) => {
    const { state } = await buildBudgetStateFromFile(policies, billing, { at: Date.parse(at) });
    return compilePolicySet(policies, { budgets: { state } }).evaluate({
      type: "compute/instance",
      ...request,
    });
  };

  test("without billing data budget rules are listed as not evaluated", () => {
    const d = compilePolicySet(policies).evaluate({ type: "compute/instance", tags: { team: "a" } });
    assert.equal(d.decision, "allow");
    assert.deepEqual(
      d.not_evaluated.map((n) => n.rule),
      ["team-a"],
    );
  });

  test("a team is allowed, then denied once spend crosses its block threshold, then allowed next month", async () => {
    const request = { tags: { team: "a" } };
    let d = await decide("2024-09-04T00:00:00Z", request); // 72 h: 720 of 1000
    assert.equal(d.decision, "allow");
    assert.equal(d.violations.length, 0);
    d = await decide("2024-09-05T06:00:00Z", request); // 102 h: 1020 of 1000
    assert.equal(d.decision, "deny");
    assert.equal(d.violations.length, 1);
    assert.match(
      d.violations[0]!.message,
      /team-budgets\/team-a .* spent 1,020\.00 USD of its 1,000\.00 USD limit/,
    );
    assert.equal(d.violations[0]!.field, "tags");
    // Other teams and untagged requests are not blocked by team a's budget.
    assert.equal((await decide("2024-09-05T06:00:00Z", { tags: { team: "c" } })).decision, "allow");
    d = await decide("2024-10-01T01:00:00Z", request); // October: no spend yet
    assert.equal(d.decision, "allow");
    assert.equal(d.violations.length, 0);
  });

  test("a request whose estimate pushes the forecast past the limit warns, or denies with denyOnForecastOverrun", async () => {
    // At 2024-09-11T00:00Z each team spent 2400 and runs at 10/h: forecast 7200 of 10000, 480 h left.
    const at = "2024-09-11T00:00:00Z";
    // 4000/month adds 4000 × 480/730 = 2630.14: 9830 stays under the limit.
    assert.equal((await decide(at, { tags: { team: "b" }, estimated_monthly_cost: 4000 })).decision, "allow");
    // 5000/month adds 3287.67: 10487 is past it.
    const denied = await decide(at, { tags: { team: "b" }, estimated_monthly_cost: 5000 });
    assert.equal(denied.decision, "deny");
    assert.match(
      denied.violations[0]!.message,
      /adds an estimated 5,000\.00 USD\/month \(3,287\.67 USD for the rest of 2024-09\).*10,487\.67 USD/,
    );
    // The figure weighed against the limit, as the message says it: the forecast with the request.
    assert.match(String(denied.violations[0]!.actual), /^10487\.67\d* USD$/);
    assert.equal(denied.violations[0]!.limit, "10000 USD");
    const warned = await decide(at, { tags: { team: "c" }, estimated_monthly_cost: 5000 });
    assert.equal(warned.decision, "warn");
    assert.equal(warned.violations[0]!.enforcement, "warn");
  });

  test("the estimate comes from an injected estimator (the price book) when given", async () => {
    const { state } = await buildBudgetStateFromFile(policies, billing, {
      at: Date.parse("2024-09-11T00:00:00Z"),
    });
    const set = compilePolicySet(policies, {
      budgets: { state, estimateMonthly: (r) => (r.specs?.instance_type === "m5.24xlarge" ? "5000" : "10") },
    });
    const big = set.evaluate({
      type: "compute/instance",
      tags: { team: "b" },
      specs: { instance_type: "m5.24xlarge" },
    });
    const small = set.evaluate({
      type: "compute/instance",
      tags: { team: "b" },
      specs: { instance_type: "t3.micro" },
    });
    assert.deepEqual([big.decision, small.decision], ["deny", "allow"]);
  });

  test("a saved state for another month is not applied to today's requests", async () => {
    const { state } = await buildBudgetStateFromFile(policies, billing, {
      at: Date.parse("2024-09-30T00:00:00Z"),
    });
    const d = compilePolicySet(policies, {
      budgets: { state, at: Date.parse("2024-10-02T00:00:00Z") },
    }).evaluate({
      type: "compute/instance",
      tags: { team: "a" },
    });
    assert.equal(d.decision, "allow");
    assert.match(d.not_evaluated[0]!.reason, /is for 2024-09, not for the evaluation time/);
  });

  test("billing data that ends days before the evaluation time proves a block but never a pass", async () => {
    // An export that stopped on 2024-09-06T00:00Z: 120 hours of 10 USD an hour for each team.
    const early = writeFocusCsv(
      dir,
      "stopped.csv",
      charges().filter((c) => Date.parse(c.end!) <= Date.parse("2024-09-06T00:00:00Z")),
    );
    const decideAt = async (at: string, maxDataLagHours?: number) => {
      const { state } = await buildBudgetStateFromFile(policies, early, { at: Date.parse(at) });
      const set = compilePolicySet(policies, {
        budgets: { state, at: Date.parse(at), ...(maxDataLagHours ? { maxDataLagHours } : {}) },
      });
      return (team: string) =>
        set.evaluate({ type: "compute/instance", tags: { team }, estimated_monthly_cost: 10 });
    };
    // Two weeks on: team a's 1,200 of 1,000 still proves its block; team c's 1,200 of 10,000 proves nothing.
    let decide = await decideAt("2024-09-20T00:00:00Z");
    assert.equal(decide("a").decision, "deny");
    assert.deepEqual(decide("a").not_evaluated, []);
    const c = decide("c");
    assert.equal(c.decision, "allow");
    assert.deepEqual(c.violations, []);
    assert.equal(
      c.not_evaluated[0]!.reason,
      "budget team-budgets/team-c is not judged: the billing data ends 2024-09-06T00:00:00.000Z, 14 days before the evaluation time (more than the 72 hours an export may lag)",
    );
    // A day and a half of lag is an export's usual delay; a longer allowance judges older data.
    decide = await decideAt("2024-09-07T12:00:00Z");
    assert.deepEqual(decide("c").not_evaluated, []);
    decide = await decideAt("2024-09-20T00:00:00Z", 24 * 15);
    assert.deepEqual(decide("c").not_evaluated, []);
  });

  test("costguard evaluate --billing --at and --budget-state give the same decision", async () => {
    const run = (args: string[]) => runAt(args, "2024-09-05T06:00:00Z");
    const policyFile = join(dir, "budgets.yaml");
    const direct = await run([
      "evaluate",
      "-p",
      policyFile,
      "--billing",
      billing,
      "--at",
      "2024-09-05T06:00:00Z",
    ]);
    assert.equal(direct.code, 1, direct.stderr);
    assert.equal(JSON.parse(direct.stdout).decision, "deny");
    const stateFile = join(dir, "state.json");
    const saved = await run([
      "budgets",
      "-p",
      policyFile,
      "-b",
      billing,
      "--format",
      "json",
      "--save-state",
      stateFile,
    ]);
    assert.equal(saved.code, 0, saved.stderr);
    const nowhere = await run([
      "budgets",
      "-p",
      policyFile,
      "-b",
      billing,
      "--save-state",
      join(dir, "no", "s.json"),
    ]);
    assert.equal(nowhere.code, 2);
    assert.match(nowhere.stderr, /cannot write --save-state .*s\.json: no such file or directory\n$/);
    // Policies with no budget among them (a wrong --policies): bad input, not an empty report and 0.
    const gates = join(dir, "gates.yaml");
    writeFileSync(
      gates,
      "apiVersion: costguard.dev/v1\nkind: CostPolicy\nmetadata: {name: limits}\nspec:\n  type: ResourceLimit\n  rules:\n    - {name: max, resource: compute/instance, constraint: {maxVCPUs: 16}}\n",
    );
    const none = await run(["budgets", "-p", gates, "-b", billing]);
    assert.equal(none.code, 2, none.stdout);
    assert.match(
      none.stderr,
      /^costguard: no BudgetLimit policy among the 1 policy loaded from \S+gates\.yaml: nothing to evaluate/,
    );
    assert.equal(
      JSON.parse(saved.stdout).budgets.find((b: { rule: string }) => b.rule === "team-a").state,
      "blocked",
    );
    const fromState = await run(["evaluate", "-p", policyFile, "--budget-state", stateFile]);
    assert.equal(fromState.code, 1, fromState.stderr);
    assert.deepEqual(JSON.parse(fromState.stdout), JSON.parse(direct.stdout));
    const bad = await run(["evaluate", "-p", policyFile, "--billing", billing, "--at", "yesterday"]);
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /--at must be an ISO 8601 date or date-time \(e\.g\. 2026-06-01T00:00:00Z\), got yesterday/,
    );
    const early = await run(["evaluate", "-p", policyFile, "--billing", billing, "--at", "0050-01-01"]);
    assert.equal(early.code, 2);
    assert.match(early.stderr, /--at must be 1970 or later, got 0050-01-01/);
  });

  test("--billing given twice is refused by every command that reads it, not read as the last one", async () => {
    const policyFile = join(dir, "budgets.yaml");
    const other = writeFocusCsv(dir, "other.csv", charges());
    for (const command of ["budgets", "evaluate", "plan", "serve"]) {
      const args = command === "plan" ? [command, "-"] : [command];
      const r = await runAt(
        [...args, "-p", policyFile, "-b", billing, "--billing", other],
        "2024-09-05T06:00:00Z",
      );
      assert.equal(r.code, 2, `${command}: ${r.stderr}`);
      assert.match(
        r.stderr,
        /^costguard: --billing names one export file, given twice \(\S+billing\.csv and \S+other\.csv\): costguard reads one file a run/,
        command,
      );
    }
  });

  test("old billing data: budgets and evaluate warn on stderr, and the gate does not pass on it", async () => {
    const policyFile = join(dir, "budgets.yaml");
    // September's data three weeks into October: nothing is known of October's spend.
    const budgets = await runAt(["budgets", "-p", policyFile, "-b", billing], "2024-10-22T00:00:00Z");
    assert.equal(budgets.code, 0, budgets.stderr);
    assert.match(
      budgets.stderr,
      /^costguard: warning: the billing data ends 2024-10-01T00:00:00\.000Z, 21 days before the evaluation time \(more than the 72 hours an export may lag\): these figures miss what was spent since, and gates will not judge budgets by them \(--at evaluates as of the data, --max-billing-lag allows an older export\)$/m,
    );
    assert.match(
      budgets.stdout,
      /\nstale: the billing data ends 2024-10-01T00:00:00\.000Z, 21 days before the evaluation time .*; gates take only the blocks these figures show\n/,
    );
    assert.match(
      budgets.stdout,
      /\nat 2024-10-22T00:00:00\.000Z; billing data through 2024-10-01T00:00:00\.000Z\n/,
    );
    // Before any charge: said in words (it was "billing data through -(none in range)").
    const before = await runAt(["budgets", "-p", policyFile, "-b", billing], "2024-01-01T00:00:00Z");
    assert.match(before.stdout, /\nat 2024-01-01T00:00:00\.000Z; no billing data up to then\n/);
    const json = await runAt(
      ["budgets", "-p", policyFile, "-b", billing, "--format", "json"],
      "2024-10-22T00:00:00Z",
    );
    assert.match(
      JSON.parse(json.stdout).staleBillingData,
      /^the billing data ends 2024-10-01T00:00:00\.000Z, 21 days/,
    );
    const fresh = await runAt(
      ["budgets", "-p", policyFile, "-b", billing, "--format", "json"],
      "2024-10-02T00:00:00Z",
    );
    assert.equal(fresh.stderr, "");
    assert.equal(JSON.parse(fresh.stdout).staleBillingData, null);
    const evaluated = await runAt(["evaluate", "-p", policyFile, "-b", billing], "2024-10-22T00:00:00Z");
    assert.equal(evaluated.code, 0, evaluated.stderr);
    assert.match(
      evaluated.stderr,
      /^costguard: warning: the billing data ends .*: budget rules it does not show blocked are listed under not_evaluated/m,
    );
    assert.match(
      JSON.parse(evaluated.stdout).not_evaluated[0].reason,
      /is not judged: the billing data ends/,
    );
    const allowed = await runAt(
      ["evaluate", "-p", policyFile, "-b", billing, "--max-billing-lag", String(24 * 22)],
      "2024-10-22T00:00:00Z",
    );
    assert.equal(allowed.stderr, "");
    assert.deepEqual(JSON.parse(allowed.stdout).not_evaluated, []);
    const bad = await runAt(
      ["evaluate", "-p", policyFile, "-b", billing, "--max-billing-lag", "soon"],
      "2024-10-22T00:00:00Z",
    );
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--max-billing-lag must be a positive number of hours, got soon/);
  });

  test("the price book's estimate feeds the forecast check: costguard evaluate on the FOCUS sample", async () => {
    const request = {
      type: "compute/instance",
      provider: "aws",
      region: "us-east-1",
      tags: { environment: "dev" },
      specs: { instance_type: "m5.4xlarge" },
    };
    const evaluate = (input: object) =>
      cli(
        [
          "evaluate",
          "-p",
          "examples/budgets",
          "-b",
          "examples/billing/focus-1.0-sample.csv",
          "--at",
          "2024-09-20T00:00:00Z",
        ],
        { cwd: process.cwd(), input: JSON.stringify(input) },
      );
    const { code, stdout: out } = await evaluate(request);
    const decision = JSON.parse(out);
    assert.equal(code, 1);
    assert.equal(decision.estimated_monthly_cost.monthly, "560.64");
    const dev = decision.violations.find((v: { rule: string }) => v.rule === "dev-environment");
    assert.equal(dev.enforcement, "deny"); // denyOnForecastOverrun: true
    assert.match(dev.message, /adds an estimated 560\.64 USD\/month/);
    // The region in another case is the same region: it falls under the us-east-1 budget too.
    const rules = (d: { violations: { rule: string }[] }) => d.violations.map((v) => v.rule).sort();
    const upper = await evaluate({ ...request, region: "US-EAST-1" });
    assert.ok(rules(decision).includes("aws-us-east-1"));
    assert.deepEqual(rules(JSON.parse(upper.stdout)), rules(decision));
  });

  test("costguard plan weighs each planned resource against the budgets too", async () => {
    const args = [
      "plan",
      "test/fixtures/terraform/infracost-default-tags-plan.json",
      "-p",
      "examples/budgets",
    ];
    const without = await cli([...args, "--format", "json"], { cwd: process.cwd() });
    assert.equal(without.code, 0, without.stderr);
    const plain = JSON.parse(without.stdout);
    const { code, stdout: out } = await cli(
      [
        ...args,
        "--format",
        "json",
        "-b",
        "examples/billing/focus-1.0-sample.csv",
        "--at",
        "2024-09-20T00:00:00Z",
      ],
      { cwd: process.cwd() },
    );
    assert.equal(code, 0, out);
    const report = JSON.parse(out);
    const web = report.resources.find((r: { address: string }) => r.address === "aws_instance.web_app");
    const plainWeb = plain.resources.find((r: { address: string }) => r.address === "aws_instance.web_app");
    assert.ok(plainWeb.not_evaluated.some((n: { rule: string }) => n.rule === "aws-us-east-1"));
    assert.equal(web.decision, "warn");
    assert.deepEqual(
      web.violations.map((v: { rule: string; enforcement: string }) => [v.rule, v.enforcement]),
      [
        ["aws-us-east-1", "warn"],
        ["aws-us-east-1", "warn"],
      ],
    );
  });
});

test("costguard budgets says on stderr which budgets match no charge: the guide's against the FOCUS sample", async () => {
  const billing = "examples/billing/focus-1.0-sample.csv";
  const onSample = (args: string[], input?: string) =>
    cli([...args, "--at", "2024-09-30T23:00:00Z", "-b", billing], {
      cwd: process.cwd(),
      ...(input === undefined ? {} : { input }),
    });
  const warningsOf = (stderr: string) =>
    stderr.split("\n").filter((l) => l.startsWith("costguard: warning: team-budgets/"));
  const run = await onSample(["budgets", "-p", "examples/policies"]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /team-budgets\/engineering-team-budget/);
  const warnings = warningsOf(run.stderr);
  assert.equal(warnings.length, 2, run.stderr);
  assert.match(
    warnings[0]!,
    /engineering-team-budget: no charge in 2024-09 matches its selector .*no charge has tag cost-center at all .*did you mean CostCenter\?\)$/,
  );
  assert.match(
    warnings[1]!,
    /project-alpha-budget: no charge in 2024-09 and 2024-Q3 matches .*did you mean Project\?\)$/,
  );
  // So does a gate reading the same billing data.
  const gate = await onSample(
    ["evaluate", "-p", "examples/policies"],
    '{"type": "compute/instance", "specs": {"vcpus": 2}}',
  );
  assert.deepEqual(warningsOf(gate.stderr), warnings);
  // The sample's own budgets match charges: nothing said of them.
  const sized = await onSample(["budgets", "-p", "examples/budgets"]);
  assert.equal(sized.code, 0, sized.stderr);
  assert.doesNotMatch(sized.stderr, /warning/);
});
