import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { reachedThresholds } from "../../src/budget/alerts.js";
import { buildBudgetStateFromFile, readBudgetStateFile } from "../../src/budget/build-state.js";
import { parseAt, periodAt } from "../../src/budget/periods.js";
import type { BudgetStatus } from "../../src/budget/state.js";
import { renderBudgetTable } from "../../src/cli/budget-output.js";
import { InputError } from "../../src/errors.js";
import { alertMessages } from "../../src/notify/budget-alerts.js";
import { budgetPolicy, policiesFrom, type TestCharge, tempDir, writeFocusCsv } from "./focus-files.js";

const POLICY = `apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: team-budgets}
spec:
  type: BudgetLimit
  rules:
    - name: team-a
      selector: {tags: {team: a}}
      budget:
        monthly: 100
        quarterly: 250
        alertThresholds:
          - {percent: 50, action: notify}
          - {percent: 100, action: block-new-resources}
    - name: team-a-billed
      selector: {tags: {team: a}, provider: aws}
      budget: {monthly: 100, costColumn: BilledCost}
`;

const hour = (iso: string, cost: string, extra: Partial<TestCharge> = {}): TestCharge => {
  const start = new Date(iso);
  return {
    start: start.toISOString().replace(".000", ""),
    end: new Date(start.getTime() + 3_600_000).toISOString().replace(".000", ""),
    cost,
    tags: { team: "a" },
    ...extra,
  };
};

function find(budgets: BudgetStatus[], rule: string, period: string): BudgetStatus {
  const b = budgets.find((x) => x.rule === rule && x.period === period);
  assert.ok(b, `${rule} ${period}`);
  return b;
}

describe("budget periods with an injected clock", () => {
  const dir = tempDir();
  const policies = policiesFrom(dir, POLICY);
  const file = writeFocusCsv(dir, "periods.csv", [
    hour("2024-06-30T23:00:00Z", "1000"), // previous quarter
    hour("2024-08-15T12:00:00Z", "7"),
    hour("2024-09-29T10:00:00Z", "30", { billed: "31" }),
    hour("2024-09-30T23:00:00Z", "40"),
    hour("2024-10-01T00:00:00Z", "5"),
    hour("2024-09-30T22:00:00Z", "999", { tags: { team: "b" } }), // another team
    hour("2024-09-30T21:00:00Z", "500", { currency: "EUR" }), // another currency: counted apart
  ]);
  const at = async (iso: string) =>
    (await buildBudgetStateFromFile(policies, file, { at: Date.parse(iso) })).state.budgets;

  test("the last second of September: the month and Q3 so far, October not yet seen", async () => {
    const budgets = await at("2024-09-30T23:59:59Z");
    const monthly = find(budgets, "team-a", "monthly");
    assert.equal(monthly.periodLabel, "2024-09");
    assert.equal(monthly.spend, "70");
    assert.equal(monthly.percent, 70);
    assert.equal(monthly.otherCurrencyCharges, 1);
    const quarterly = find(budgets, "team-a", "quarterly");
    assert.equal(quarterly.periodLabel, "2024-Q3");
    assert.equal(quarterly.spend, "77");
    assert.equal(find(budgets, "team-a-billed", "monthly").spend, "71");
    // The data reaches the end of the month: nothing is left to forecast.
    assert.equal(monthly.forecast, "70");
    assert.deepEqual(
      monthly.thresholds.map((t) => t.reached),
      ["actual", null],
    );
  });

  test("midnight starts a new month and quarter; charges count from their start hour", async () => {
    let budgets = await at("2024-10-01T00:00:00Z");
    assert.equal(find(budgets, "team-a", "monthly").periodLabel, "2024-10");
    assert.equal(find(budgets, "team-a", "monthly").spend, "0");
    assert.equal(find(budgets, "team-a", "quarterly").periodLabel, "2024-Q4");
    assert.equal(find(budgets, "team-a", "quarterly").spend, "0");
    budgets = await at("2024-10-01T01:00:00Z");
    assert.equal(find(budgets, "team-a", "monthly").spend, "5");
    assert.equal(find(budgets, "team-a", "quarterly").spend, "5");
    budgets = await at("2024-07-01T00:00:00Z");
    assert.equal(find(budgets, "team-a", "quarterly").spend, "0");
    budgets = await at("2024-06-30T23:30:00Z");
    assert.equal(find(budgets, "team-a", "quarterly").spend, "1000");
    assert.equal(find(budgets, "team-a", "quarterly").state, "blocked");
  });

  test("period boundaries are UTC calendar months and quarters", () => {
    const feb = periodAt("monthly", Date.parse("2024-02-29T12:00:00Z"));
    assert.equal(new Date(feb.end).toISOString(), "2024-03-01T00:00:00.000Z");
    const q4 = periodAt("quarterly", Date.parse("2024-12-31T23:59:59Z"));
    assert.deepEqual([q4.label, new Date(q4.start).toISOString()], ["2024-Q4", "2024-10-01T00:00:00.000Z"]);
  });

  test("parseAt takes 1970 and later: earlier years have no periods (Date.UTC reads 0-99 as 1900s)", () => {
    assert.equal(parseAt("2024-09-30"), Date.UTC(2024, 8, 30));
    assert.throws(() => parseAt("0050-01-01"), /before 1970: budgets have no periods there/);
    assert.throws(() => parseAt("yesterday"), /not a date or time/);
  });
});

describe("forecast from the recent daily run-rate", () => {
  test("a steady 1 USD an hour for 10 days forecasts 720 for September", async () => {
    const dir = tempDir();
    const policies = policiesFrom(
      dir,
      `apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: steady}
spec:
  type: BudgetLimit
  rules:
    - name: team-a
      selector: {tags: {team: a}}
      budget:
        monthly: 1000
        alertThresholds:
          - {percent: 20, action: notify}
          - {percent: 50, action: notify}
          - {percent: 80, action: block-new-resources}
`,
    );
    const charges: TestCharge[] = [];
    for (let h = 0; h < 240; h++)
      charges.push(hour(new Date(Date.parse("2024-09-01T00:00:00Z") + h * 3_600_000).toISOString(), "1"));
    // A burst in the first days does not count in the run-rate, which looks at the last 7 days only.
    charges.push(hour("2024-09-02T00:00:00Z", "10"));
    const file = writeFocusCsv(dir, "steady.csv", charges);
    const { state } = await buildBudgetStateFromFile(policies, file, {
      at: Date.parse("2024-09-11T00:00:00Z"),
    });
    const b = state.budgets[0]!;
    assert.equal(state.dataThrough, "2024-09-11T00:00:00.000Z");
    assert.equal(b.spend, "250");
    assert.equal(b.runRatePerDay, "24");
    assert.equal(b.forecast, "730"); // 250 + 1/h × 480 h left
    assert.equal(b.forecastPercent, 73);
    assert.deepEqual(
      b.thresholds.map((t) => [t.percent, t.reached]),
      [
        [20, "actual"],
        [50, "forecast"],
        [80, null],
      ],
    );
    assert.equal(b.state, "alert");
    assert.equal(b.blocked, false);
  });
});

describe("the forecast at a period's start, and how far the data reaches", () => {
  const dir = tempDir();
  const policies = budgetPolicy(
    dir,
    "early",
    `    - name: team-a
      selector: {tags: {team: a}}
      budget: {monthly: 100}
`,
  );
  const steadySeptember = (): TestCharge[] => {
    const charges: TestCharge[] = [];
    for (let h = 0; h < 30 * 24; h++)
      charges.push(hour(new Date(Date.parse("2024-09-01T00:00:00Z") + h * 3_600_000).toISOString(), "0.13"));
    return charges;
  };

  test("an export lagging into a new month forecasts the run-rate before it, not zero", async () => {
    // 0.13 USD an hour through September; on 2 October the data reaches 1 October 00:00.
    const file = writeFocusCsv(dir, "lag.csv", steadySeptember());
    const { state } = await buildBudgetStateFromFile(policies, file, {
      at: Date.parse("2024-10-02T12:00:00Z"),
    });
    const b = state.budgets[0]!;
    assert.equal(b.periodLabel, "2024-10");
    assert.equal(b.spend, "0", "September's charges are not October's spend");
    assert.equal(b.runRatePerDay, "3.12");
    assert.equal(b.forecast, "96.72"); // 0.13 × 744 hours
    assert.equal(b.matchedCharges, 0, "nor counted as October's charges");
  });

  test("a day's charge at the month's first hour is averaged over the week before, not extrapolated from one hour", async () => {
    const charges = steadySeptember();
    charges.push({
      start: "2024-10-01T00:00:00Z",
      end: "2024-10-02T00:00:00Z",
      cost: "40",
      tags: { team: "a" },
    });
    const file = writeFocusCsv(dir, "daily.csv", charges);
    const { state } = await buildBudgetStateFromFile(policies, file, {
      at: Date.parse("2024-10-01T01:00:00Z"),
    });
    const b = state.budgets[0]!;
    assert.equal(b.spend, "40");
    // The week to 01:00: 167 hours of 0.13 and the 40 → 61.71 / 168 h × 743 h left (272.92), plus the 40.
    assert.equal(b.forecast, "312.919821428571");
  });

  test("a new export: the run-rate counts from where the data begins, not over days it does not have", async () => {
    // Two days at 1 USD an hour, the export's first: 24 a day, not 48 over a week (6.86 a day).
    const twoDays: TestCharge[] = [];
    for (let h = 0; h < 48; h++)
      twoDays.push(hour(new Date(Date.parse("2024-09-10T00:00:00Z") + h * 3_600_000).toISOString(), "1"));
    const at = { at: Date.parse("2024-09-12T00:00:00Z") };
    const fresh = (await buildBudgetStateFromFile(policies, writeFocusCsv(dir, "new.csv", twoDays), at))
      .state;
    const b = fresh.budgets[0]!;
    assert.equal(b.spend, "48");
    assert.equal(b.runRatePerDay, "24");
    assert.equal(b.forecast, "504"); // 48 + 24 × the 19 days left
    // Where the data began earlier (another team's charges from the 1st), the days before team a's
    // first charge are known to hold none of its spend: the week's 48 over 7 days.
    const older = [...twoDays, hour("2024-09-01T00:00:00Z", "5", { tags: { team: "b" } })];
    const known = (await buildBudgetStateFromFile(policies, writeFocusCsv(dir, "older.csv", older), at))
      .state;
    assert.equal(known.budgets[0]!.runRatePerDay, "6.857142857143");
  });

  test("a charge over a month (a fee) does not make billing weeks old look current", async () => {
    const charges: TestCharge[] = ["01", "02", "03", "04", "05"].map((d) =>
      hour(`2024-09-${d}T00:00:00Z`, "1"),
    );
    charges.push({
      start: "2024-09-01T00:00:00Z",
      end: "2024-10-01T00:00:00Z",
      cost: "5",
      tags: { team: "a" },
    });
    const file = writeFocusCsv(dir, "fee.csv", charges);
    const { state } = await buildBudgetStateFromFile(policies, file, {
      at: Date.parse("2024-09-29T00:00:00Z"),
    });
    assert.equal(state.dataThrough, "2024-09-05T01:00:00.000Z");
  });
});

describe("the run-rate's window is the last 7 days of the data, however long before the period it ends", () => {
  const dir = tempDir();
  const policies = budgetPolicy(
    dir,
    "lagging",
    `    - name: team-a
      selector: {tags: {team: a}}
      budget:
        monthly: 40
        quarterly: 100
        alertThresholds: [{percent: 50, action: notify}, {percent: 80, action: notify}]
`,
  );

  test("an export a day behind at a month's start: 7 days of it, as the quarter reads them", async () => {
    // 1 USD at 00:00 each day of February 2024; on 1 March the data reaches 29 February 01:00.
    const feb = Array.from({ length: 29 }, (_, d) =>
      hour(`2024-02-${String(d + 1).padStart(2, "0")}T00:00:00Z`, "1"),
    );
    const { state } = await buildBudgetStateFromFile(policies, writeFocusCsv(dir, "feb.csv", feb), {
      at: Date.parse("2024-03-01T00:00:00Z"),
    });
    assert.equal(state.dataThrough, "2024-02-29T01:00:00.000Z");
    const monthly = find(state.budgets, "team-a", "monthly");
    const quarterly = find(state.budgets, "team-a", "quarterly");
    // 22 February 01:00 to 29 February 01:00: 7 USD over 168 hours (it read 145 hours, 1.1586 a day).
    assert.equal(monthly.runRatePerDay, "1");
    assert.equal(quarterly.runRatePerDay, monthly.runRatePerDay);
    assert.equal(monthly.forecast, "31"); // 7 / 168 h × 744 h
    assert.equal(monthly.forecastPercent, 77.5);
    assert.deepEqual(
      monthly.thresholds.map((t) => t.reached),
      ["forecast", null],
    );
  });

  test("a charge more than 7 days before the period's start, inside the data's last 7 days, counts", async () => {
    // 70 USD on 22 September; the data (from 10 September, another team's) ends 28 September 00:00.
    const charges = [
      hour("2024-09-10T00:00:00Z", "1", { tags: { team: "b" } }),
      hour("2024-09-22T00:00:00Z", "70"),
      hour("2024-09-27T23:00:00Z", "1", { tags: { team: "b" } }),
    ];
    const { state } = await buildBudgetStateFromFile(policies, writeFocusCsv(dir, "sep.csv", charges), {
      at: Date.parse("2024-10-01T00:00:00Z"),
    });
    assert.equal(state.dataThrough, "2024-09-28T00:00:00.000Z");
    const monthly = find(state.budgets, "team-a", "monthly");
    assert.equal(monthly.spend, "0");
    assert.equal(monthly.runRatePerDay, "10");
    assert.equal(monthly.forecast, "310"); // 70 / 168 h × 744 h (it was 0)
    assert.equal(find(state.budgets, "team-a", "quarterly").runRatePerDay, "10");
  });
});

test("spend under a threshold never shows as reaching it: percent and money are cut, not rounded", async () => {
  const dir = tempDir();
  const policies = budgetPolicy(
    dir,
    "edge",
    `    - name: team-a
      selector: {tags: {team: a}}
      budget:
        monthly: 40
        alertThresholds: [{percent: 100, action: block-new-resources}]
`,
  );
  const file = writeFocusCsv(dir, "edge.csv", [hour("2024-09-01T00:00:00Z", "39.999")]);
  const { state } = await buildBudgetStateFromFile(policies, file, {
    at: Date.parse("2024-09-01T01:00:00Z"),
  });
  const b = state.budgets[0]!;
  assert.equal(b.spend, "39.999");
  assert.equal(b.percent, 99.99); // it was 100, with the 100% threshold not reached
  assert.equal(b.thresholds[0]!.reached, "forecast");
  assert.equal(b.blocked, false);
  const row = renderBudgetTable(state, undefined, false).split("\n")[1]!;
  assert.match(row, / 40\.00 USD +39\.99 +99\.99% /, row); // SPEND was 40.00, USED 100.00%
  const over = writeFocusCsv(dir, "over.csv", [hour("2024-09-01T00:00:00Z", "40.001")]);
  const at40 = (await buildBudgetStateFromFile(policies, over, { at: Date.parse("2024-09-01T01:00:00Z") }))
    .state;
  assert.deepEqual([at40.budgets[0]!.percent, at40.budgets[0]!.state], [100, "blocked"]);
});

test("a budget in yen is shown in whole yen, as in its alerts (it was 40,000.00 JPY)", async () => {
  const dir = tempDir();
  const policies = budgetPolicy(
    dir,
    "yen",
    `    - name: team-a
      selector: {tags: {team: a}}
      budget:
        monthly: 40000
        currency: JPY
        alertThresholds: [{percent: 50, action: notify}]
`,
  );
  const file = writeFocusCsv(dir, "yen.csv", [hour("2024-09-01T00:00:00Z", "39999.6", { currency: "JPY" })]);
  const { state } = await buildBudgetStateFromFile(policies, file, {
    at: Date.parse("2024-09-30T00:00:00Z"),
  });
  const row = renderBudgetTable(state, undefined, false).split("\n")[1]!;
  assert.match(row, / 40,000 JPY +39,999 +99\.99% +28,799,712 /, row);
  const [alert] = reachedThresholds(state);
  const [message] = alertMessages(alert!, ["slack:#x"], 0);
  assert.match(message!.text, /has spent 39,999 JPY of 40,000 JPY \(99\.99%\)/);
});

test("a billing file without a column the selectors match on is bad input, not a budget at 0.00 and ok", async () => {
  const dir = tempDir();
  const policies = budgetPolicy(
    dir,
    "cols",
    `    - {name: aws, selector: {provider: AWS}, budget: {monthly: 100}}
    - {name: east, selector: {region: us-east-1}, budget: {monthly: 100}}
`,
  );
  const file = join(dir, "bare.csv");
  const rows = Array.from(
    { length: 2000 },
    () => "2024-09-29 00:00:00,2024-09-29 01:00:00,USD,10,us-east-1",
  ).join("\n");
  writeFileSync(file, `ChargePeriodStart,ChargePeriodEnd,BillingCurrency,EffectiveCost,RegionId\n${rows}\n`);
  for (const threads of [1, 2])
    await assert.rejects(
      buildBudgetStateFromFile(policies, file, { at: Date.parse("2024-09-29T02:00:00Z"), threads }),
      (err: Error) =>
        err instanceof InputError &&
        err.message ===
          `${file} has no ProviderName column, which budget selectors match on: no charge could match them`,
      `threads ${threads}`,
    );
  // A region matched on RegionName alone is a column of the group: read.
  const named = join(dir, "named.csv");
  writeFileSync(
    named,
    "ChargePeriodStart,ChargePeriodEnd,BillingCurrency,EffectiveCost,ProviderName,RegionName\n2024-09-29 00:00:00,2024-09-29 01:00:00,USD,10,AWS,us-east-1\n",
  );
  const { state } = await buildBudgetStateFromFile(policies, named, {
    at: Date.parse("2024-09-29T02:00:00Z"),
  });
  assert.equal(state.budgets.length, 2);
});

test("a selector's region matches the billing data's in any case, as its provider does", async () => {
  const dir = tempDir();
  const policies = budgetPolicy(
    dir,
    "cased",
    `    - {name: east, selector: {provider: aws, region: US-EAST-1}, budget: {monthly: 100}}
`,
  );
  const file = writeFocusCsv(dir, "cased.csv", [
    hour("2024-09-29T00:00:00Z", "7", { provider: "AWS", region: "us-east-1" }),
    hour("2024-09-29T01:00:00Z", "5", { provider: "AWS", region: "eu-west-1" }),
  ]);
  const { state, unmatched } = await buildBudgetStateFromFile(policies, file, {
    at: Date.parse("2024-09-30T00:00:00Z"),
  });
  assert.equal(state.budgets[0]!.spend, "7");
  assert.deepEqual(unmatched, []);
});

describe("a saved budget state read back", () => {
  const dir = tempDir();
  const policies = policiesFrom(dir, POLICY);
  const file = writeFocusCsv(dir, "saved.csv", [hour("2024-09-10T00:00:00Z", "250")]);
  const saved = async () =>
    (await buildBudgetStateFromFile(policies, file, { at: Date.parse("2024-09-11T00:00:00Z") })).state;

  test("what --save-state writes reads back as it was", async () => {
    const state = await saved();
    const path = join(dir, "state.json");
    writeFileSync(path, JSON.stringify(state, null, 2));
    assert.deepEqual(readBudgetStateFile(path), state);
  });

  test("a hand-edited state is bad input naming the field: gates block by it", async () => {
    const state = await saved();
    const cases: [(b: Record<string, unknown>) => void, RegExp][] = [
      // A string is truthy: this blocked new resources with no threshold to name.
      [(b) => (b.blocked = "yes"), /`budgets\.0\.blocked` must be boolean/],
      [(b) => (b.spend = "lots"), /`budgets\.0\.spend` must be decimal text such as "123\.45"/],
      [(b) => (b.percent = Number.POSITIVE_INFINITY), /`budgets\.0\.percent` must be number/],
      [(b) => delete b.thresholds, /budgets\.0: missing `thresholds`/],
      [
        (b) => ((b.thresholds as { reached: unknown }[])[0]!.reached = "yes"),
        /`budgets\.0\.thresholds\.0\.reached` must be one of "actual", "forecast", null/,
      ],
    ];
    for (const [edit, message] of cases) {
      const copy = structuredClone(state) as unknown as { budgets: Record<string, unknown>[] };
      edit(copy.budgets[0]!);
      const path = join(dir, "edited.json");
      writeFileSync(path, JSON.stringify(copy));
      assert.throws(
        () => readBudgetStateFile(path),
        (err: Error) => err instanceof InputError && message.test(err.message),
        String(message),
      );
    }
  });
});
