import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { buildBudgetStateFromFile } from "../../src/budget/build-state.js";
import { focusCsv, policiesFrom, type TestCharge, tempDir } from "./focus-files.js";

const POLICY = `apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: split}
spec:
  type: BudgetLimit
  rules:
    - name: team-a
      selector: {tags: {team: a}}
      budget: {monthly: 100, quarterly: 300}
    - name: aws-east
      selector: {provider: AWS, region: us-east-1}
      budget: {monthly: 100, costColumn: BilledCost}
`;

function charges(n: number, description: (i: number) => string): TestCharge[] {
  const out: TestCharge[] = [];
  for (let i = 0; i < n; i++) {
    const h = i % 700;
    const start = new Date(Date.parse("2024-09-01T00:00:00Z") + h * 3_600_000)
      .toISOString()
      .replace(".000", "");
    out.push({
      start: i === 17 || i === 333 ? "not a time" : start,
      end: null,
      cost: `${(i % 97) / 7}`.slice(0, 12),
      billed: `0.${String(i).padStart(11, "0")}`,
      tags: { team: i % 3 === 0 ? "a" : "b" },
      region: i % 2 === 0 ? "us-east-1" : "eu-west-1",
      description: description(i),
    });
  }
  return out;
}

describe("parallel ingest of a plain CSV", () => {
  const dir = tempDir();
  const policies = policiesFrom(dir, POLICY);
  const at = Date.parse("2024-09-30T12:00:00Z");
  const build = (file: string, threads: number) => buildBudgetStateFromFile(policies, file, { at, threads });

  test("byte ranges in three threads give the sums and line numbers of one pass", async () => {
    const file = join(dir, "split.csv");
    writeFileSync(file, focusCsv(charges(3000, (i) => (i % 500 === 0 ? "two\nlines" : "plain"))));
    const one = await build(file, 1);
    const three = await build(file, 3);
    assert.deepEqual(three.state.budgets, one.state.budgets);
    assert.equal(three.state.dataThrough, one.state.dataThrough);
    assert.deepEqual([three.report.rows, three.report.malformed], [one.report.rows, one.report.malformed]);
    assert.equal(one.report.malformed, 2);
    assert.deepEqual(three.report.problems, one.report.problems);
    assert.deepEqual(
      one.report.problems.map((p) => p.line),
      [20, 336], // rows 17 and 333: header line + 1-based row + the line break in row 0's description
    );
  });

  test("an export that begins with a UTF-8 byte-order mark reads as without it, in one pass or three", async () => {
    const text = focusCsv(charges(3000, () => "plain"));
    const plain = join(dir, "plain.csv");
    const bom = join(dir, "bom.csv");
    writeFileSync(plain, text);
    writeFileSync(bom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]));
    const expected = await build(plain, 1);
    for (const threads of [1, 3]) {
      const got = await build(bom, threads);
      assert.deepEqual(got.state.budgets, expected.state.budgets, `${threads} threads`);
      assert.deepEqual(got.report.problems, expected.report.problems, `${threads} threads`);
      assert.equal(got.report.rows, expected.report.rows);
    }
  });

  test("a split inside a quoted field that spans lines falls back to one pass, with the same result", async () => {
    const file = join(dir, "quoted.csv");
    const long = `start\n${"x,\n".repeat(40_000)}end`;
    writeFileSync(file, focusCsv(charges(200, (i) => (i === 100 ? long : "plain"))));
    const one = await build(file, 1);
    const three = await build(file, 3);
    assert.deepEqual(three.state.budgets, one.state.budgets);
    assert.deepEqual(three.report.problems, one.report.problems);
    assert.equal(one.report.rows, 200);
  });
});

describe("the run-rate's lead-in before a period, split across threads or in any order", () => {
  test("is the data's last 7 days, whichever thread read them and whatever the row order", async () => {
    const dir = tempDir();
    const policies = policiesFrom(dir, POLICY);
    // 1 USD an hour for team a through September to the 30th 00:00, read on 3 October (October's run-
    // rate is all lead-in); 100 more at 5 September 00:00 (in the first thread's own last week, and in
    // the ring slot of 26 September 03:00), 22 September 23:00 (an hour before the window) and
    // 23 September 00:00 (its first hour).
    const rows: TestCharge[] = [];
    const start = Date.parse("2024-09-01T00:00:00Z");
    for (let h = 0; h < 29 * 24; h++) {
      const [iso, end] = [h, h + 1].map((n) =>
        new Date(start + n * 3_600_000).toISOString().replace(".000", ""),
      );
      rows.push({ start: iso!, end: end!, cost: "1", tags: { team: "a" }, description: "x".repeat(200) });
      if (["2024-09-05T00", "2024-09-22T23", "2024-09-23T00"].includes(iso!.slice(0, 13)))
        rows.push({ start: iso!, end: end!, cost: "100", tags: { team: "a" } });
    }
    const write = (name: string, charges: TestCharge[]) => {
      const file = join(dir, name);
      writeFileSync(file, focusCsv(charges));
      return file;
    };
    const inOrder = write("in-order.csv", rows);
    const reversed = write("reversed.csv", [...rows].reverse());
    const at = Date.parse("2024-10-03T00:00:00Z");
    for (const [file, threads] of [
      [inOrder, 1],
      [inOrder, 3],
      [reversed, 1],
      [reversed, 3],
    ] as const) {
      const { state } = await buildBudgetStateFromFile(policies, file, { at, threads });
      const october = state.budgets.find((b) => b.rule === "team-a" && b.period === "monthly")!;
      const q4 = state.budgets.find((b) => b.rule === "team-a" && b.period === "quarterly")!;
      const what = `${file} in ${threads}`;
      assert.equal(state.dataThrough, "2024-09-30T00:00:00.000Z", what);
      // 23 September 00:00 to 30 September 00:00: 168 + 100 over 168 hours.
      assert.equal(october.runRatePerDay, "38.285714285714", what);
      assert.equal(october.forecast, "1186.857142857143", what); // 268 / 168 × 744
      assert.equal(q4.runRatePerDay, october.runRatePerDay, what);
    }
  });
});

describe("a budget whose selector matches no charge", () => {
  const dir = tempDir();
  const at = Date.parse("2024-09-30T12:00:00Z");
  const policies = policiesFrom(
    dir,
    `apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: typo}
spec:
  type: BudgetLimit
  rules:
    - name: team-a
      selector: {tags: {team: a}}
      budget: {monthly: 100}
    - name: misspelt-team
      selector: {tags: {team: aa}}
      budget: {monthly: 100, quarterly: 300}
    - name: misspelt-region
      selector: {provider: AWS, region: us-east1}
      budget: {monthly: 100}
    - name: no-such-tag
      selector: {tags: {squad: a}}
      budget: {monthly: 100}
    - name: never-together
      selector: {tags: {team: a}, region: eu-west-1}
      budget: {monthly: 100}
    - name: key-case
      selector: {tags: {Team: a}}
      budget: {monthly: 100}
`,
  );
  test("is named with the condition no charge met and the values the data has instead, in one pass or three", async () => {
    // Team a is every third row, always an even one: in us-east-1, never in eu-west-1.
    const rows = charges(3000, () => "plain").map((c, i) => ({
      ...c,
      region: i % 3 === 0 || i % 2 === 0 ? "us-east-1" : "eu-west-1",
    }));
    const file = join(dir, "typo.csv");
    writeFileSync(file, focusCsv(rows));
    const expected = [
      "typo/misspelt-team: no charge in 2024-09 and 2024-Q3 matches its selector (misspelt, it watches nothing): no charge has tag team aa (the data has a, b — did you mean a?)",
      "typo/misspelt-region: no charge in 2024-09 matches its selector (misspelt, it watches nothing): no charge has region us-east1 (the data has eu-west-1, us-east-1 — did you mean us-east-1?)",
      "typo/no-such-tag: no charge in 2024-09 matches its selector (misspelt, it watches nothing): no charge has tag squad at all (the data's tags: team)",
      "typo/never-together: no charge in 2024-09 matches its selector (misspelt, it watches nothing): each of its conditions holds for some charge, but none holds for all of them at once",
      "typo/key-case: no charge in 2024-09 matches its selector (misspelt, it watches nothing): no charge has tag Team at all (the data's tags: team — did you mean team?)",
    ];
    for (const threads of [1, 3]) {
      const built = await buildBudgetStateFromFile(policies, file, { at, threads });
      assert.deepEqual(built.unmatched, expected, `${threads} threads`);
    }
    // Billing data that ends before the period begins says nothing of it: no warning.
    const early = await buildBudgetStateFromFile(policies, file, {
      at: Date.parse("2024-11-15T00:00:00Z"),
      threads: 1,
    });
    assert.deepEqual(early.unmatched, []);
  });
});
