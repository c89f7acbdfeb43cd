import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
// As a library user reads them: from the package's entry point.
import { billedCost, readBillingCosts } from "../../src/index.js";
import { billingKeys, isRunningUnit } from "../../src/scan/billing-costs.js";
import { writeFocusCsv, writeFocusParquet } from "../budget/focus-files.js";
import { cli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "costguard-billing-costs-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const AT = new Date("2026-06-01T00:00:00Z");
const DAY = 86_400_000;
const iso = (ms: number) => new Date(ms).toISOString().replace("T", " ").replace(".000Z", "");

/** A FOCUS CSV of the columns a scan reads: rows of [start ms, end ms, currency, cost, resource, unit]. */
function focus(rows: [number, number, string, string, string | null, string][]): string {
  const file = join(dir, `billing-${Math.random().toString(36).slice(2)}.csv`);
  const lines = rows.map(
    ([s, e, cur, cost, id, unit]) =>
      `${iso(s)},${iso(e)},${cur},${cost},${id === null ? "NULL" : `"${id}"`},${unit},"{}"`,
  );
  writeFileSync(
    file,
    `ChargePeriodStart,ChargePeriodEnd,BillingCurrency,EffectiveCost,ResourceId,PricingUnit,Tags\n${lines.join("\n")}\n`,
  );
  return file;
}

const days = (n: number, from: number, cost: string, id: string | null, unit: string) =>
  Array.from(
    { length: n },
    (_, i) =>
      [from + i * DAY, from + (i + 1) * DAY, "USD", cost, id, unit] as [
        number,
        number,
        string,
        string,
        string | null,
        string,
      ],
  );

test("charges become rates: running (by the hour) and everything (by the month), over the hours they cover", async () => {
  const at = AT.getTime();
  const file = focus([
    // Ten days of instance hours: 1.00 an hour.
    ...days(10, at - 10 * DAY, "24.00", "i-run", "Hours"),
    // A volume named by its ARN, all thirty days of the window: storage only.
    ...days(30, at - 30 * DAY, "1.00", "arn:aws:ec2:us-east-1:111111111111:volume/vol-1", "GB-Mo"),
    // A database named by its ARN: 12.00 of instance hours and 2.00 of storage a day, five days.
    ...days(5, at - 5 * DAY, "12.00", "arn:aws:rds:us-east-1:111111111111:db:orders", "Hrs"),
    ...days(5, at - 5 * DAY, "2.00", "arn:aws:rds:us-east-1:111111111111:db:orders", "GB-Mo"),
    // Twelve hours of charges: too little to tell a rate.
    [at - DAY / 2, at - DAY / 2 + 3_600_000, "USD", "0.50", "i-new", "Hours"],
    // Credits larger than the charges: it costs nothing.
    ...days(3, at - 3 * DAY, "5.00", "i-credit", "Hours"),
    [at - 2 * DAY, at - DAY, "USD", "-40.00", "i-credit", "Hours"],
    // Not counted: another currency, no resource, before the window, after the clock.
    [at - DAY, at, "EUR", "99.00", "i-run", "Hours"],
    [at - DAY, at, "USD", "99.00", null, "Hours"],
    [at - 60 * DAY, at - 59 * DAY, "USD", "99.00", "i-run", "Hours"],
    [at + 3_600_000, at + 7_200_000, "USD", "99.00", "i-run", "Hours"],
  ]);
  const billing = await readBillingCosts(file, AT, "USD");
  const rate = (r: Parameters<typeof billedCost>[1]) => {
    const c = billedCost(billing.costs, r);
    return c && [Number(c.hourly) / 1e12, Number(c.monthly) / 1e12];
  };
  assert.deepEqual(rate({ id: "i-run", type: "compute/instance" }), [1, 730]);
  // 30.00 over 720 hours, × 730, to the cent.
  assert.deepEqual(rate({ id: "vol-1", type: "storage/volume" }), [0, 30.42]);
  const db = {
    id: "db-ABCDEF",
    type: "database/instance",
    provider: "aws",
    name: "orders",
    region: "us-east-1",
    account: "111111111111",
  };
  // Hours: 60.00 over 120 hours; everything: 70.00 over 120 hours × 730.
  assert.deepEqual(rate(db), [0.5, 425.83]);
  assert.equal(
    rate({ ...db, account: "222222222222" }),
    undefined,
    "another account's database of that name",
  );
  assert.equal(rate({ id: "i-new", type: "compute/instance" }), undefined);
  assert.deepEqual(rate({ id: "i-credit", type: "compute/instance" }), [0, 0]);
  assert.deepEqual(
    [billing.otherCurrency, billing.resourceless, billing.outside, billing.tooRecent],
    [1, 1, 2, 1],
  );
  assert.equal(billing.from, new Date(at - 30 * DAY).toISOString());
  assert.equal(billing.through, AT.toISOString());
  assert.equal(billing.exportFrom, new Date(at - 60 * DAY).toISOString());
});

test("units of time running are told from units of storage", () => {
  for (const unit of ["Hours", "Hrs", "hour", "vCPU-Hours", "ACU-Hours", "LCU-Hours"])
    assert.equal(isRunningUnit(unit), true, unit);
  for (const unit of ["GB-Mo", "GB-Months", "GB Hours", "GiB-Hours", "Requests", "IOPS-Months", ""])
    assert.equal(isRunningUnit(unit), false, unit);
  assert.equal(isRunningUnit(null), false);
});

test("scan --billing prices resources from their charges, on one thread and on two, and says how many", async () => {
  const cwd = mkdtempSync(join(dir, "scan-"));
  const at = AT.getTime();
  const idle = {
    id: "i-run",
    type: "compute/instance",
    state: "running",
    specs: { instance_type: "m5.large" },
    tags: { environment: "production", team: "web" },
    metrics: { avg_cpu_percent: 1, avg_network_bytes: 10, window_days: 7 },
  };
  const orphan = {
    id: "vol-1",
    type: "storage/volume",
    state: "available",
    specs: { size_gb: 100, volume_type: "gp3" },
    detached_at: "2026-05-01T00:00:00Z",
    tags: { environment: "production", team: "web" },
  };
  writeFileSync(join(cwd, "estate.jsonl"), `${JSON.stringify(idle)}\n${JSON.stringify(orphan)}\n`);
  writeFileSync(
    join(cwd, "billing.csv"),
    // The file written by focus(), moved beside the estate.
    (await import("node:fs")).readFileSync(
      focus([
        ...days(10, at - 10 * DAY, "24.00", "i-run", "Hours"),
        ...days(30, at - 30 * DAY, "1.00", "arn:aws:ec2:us-east-1:111111111111:volume/vol-1", "GB-Mo"),
      ]),
    ),
  );
  const base = ["scan", "-p", resolve("examples/policies"), "-i", "file:estate.jsonl", "--no-store"];
  const savings = async (more: string[]) => {
    const run = await cli([...base, "--at", AT.toISOString(), "--format", "json", ...more], { cwd });
    assert.equal(run.code, 0, run.stderr);
    const doc = JSON.parse(run.stdout) as {
      findings: { policy: string; savings_monthly: string; recommendation: { basis: string } }[];
    };
    const of = (policy: string) => doc.findings.find((f) => f.policy === policy)!;
    return {
      idle: of("idle-resource-detection"),
      orphan: of("orphaned-resource-detection"),
      stderr: run.stderr,
    };
  };
  const book = await savings([]);
  assert.match(book.idle.recommendation.basis, /\(from the price book\)$/);
  for (const jobs of ["1", "2"]) {
    const billed = await savings(["--billing", "billing.csv", "--jobs", jobs]);
    assert.equal(billed.idle.savings_monthly, "730");
    assert.match(billed.idle.recommendation.basis, /1\.0000\/hour × 730 \(from the billing export\)$/);
    assert.equal(billed.orphan.savings_monthly, "30.42");
    assert.match(
      billed.stderr,
      /\nCosts from billing: 2 of 2 resources priced from their charges in billing\.csv \(EffectiveCost, 2026-05-02 to 2026-06-01\); the rest from their own cost or the price book\n$/,
    );
  }
  // Kept with a stored scan: its history says which savings came from charges.
  const stored = await cli(
    [
      "scan",
      "-p",
      resolve("examples/policies"),
      "-i",
      "file:estate.jsonl",
      "-b",
      "billing.csv",
      "--at",
      AT.toISOString(),
    ],
    { cwd },
  );
  assert.equal(stored.code, 0, stored.stderr);
  const shown = await cli(["scans", "show"], { cwd });
  assert.match(
    shown.stdout,
    /\n {2}savings {7}760\.42 USD per month \(2 resources priced from their charges in a billing export\)\n/,
  );
  // The daily cycle prices its scan the same way.
  const cycle = await cli(
    ["run", "-p", resolve("examples/policies"), "-i", "file:estate.jsonl", "-b", "billing.csv"].concat([
      "--at",
      AT.toISOString(),
      "--format",
      "json",
    ]),
    { cwd },
  );
  assert.equal(cycle.code, 0, cycle.stderr);
  const summary = JSON.parse(cycle.stdout) as { resources_billed: number; potential_monthly_savings: string };
  assert.deepEqual([summary.resources_billed, summary.potential_monthly_savings], [2, "760.42"]);
  assert.match(
    cycle.stderr,
    /Costs from billing: 2 of 2 resources priced from their charges in billing\.csv/,
  );
  // Charges for other resources only: said, not passed silently.
  writeFileSync(
    join(cwd, "other.csv"),
    `ChargePeriodStart,ChargePeriodEnd,BillingCurrency,EffectiveCost,ResourceId\n${iso(at - DAY)},${iso(at)},USD,5.00,i-elsewhere\n`,
  );
  const other = await savings(["--billing", "other.csv"]);
  assert.match(other.idle.recommendation.basis, /\(from the price book\)$/);
  assert.match(
    other.stderr,
    /\nCosts from billing: no resource scanned has a charge in other\.csv \(its ResourceId values name others, e\.g\. i-elsewhere\)/,
  );
  // Charges naming no resource (an export without ResourceId): said so.
  writeFileSync(
    join(cwd, "unnamed.csv"),
    `ChargePeriodStart,ChargePeriodEnd,BillingCurrency,EffectiveCost\n${iso(at - DAY)},${iso(at)},USD,5.00\n`,
  );
  const unnamed = await savings(["--billing", "unnamed.csv"]);
  assert.match(
    unnamed.stderr,
    /\nCosts from billing: no charge in unnamed\.csv names a resource \(its ResourceId is empty or missing\)/,
  );
  // Not a FOCUS export: bad input, before anything is scanned.
  const bad = await cli([...base, "--billing", "estate.jsonl"], { cwd });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /estate\.jsonl is not a FOCUS export: missing columns ChargePeriodStart/);
  const twice = await cli([...base, "-b", "billing.csv", "--billing", "other.csv"], { cwd });
  assert.equal(twice.code, 2);
  assert.match(twice.stderr, /--billing names one export file/);
  const missing = await cli([...base, "--billing", "nowhere.csv"], { cwd });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /nowhere\.csv/);
});

test("the same charges give the same costs from CSV, gzipped CSV and Parquet (FOCUS 1.0 to 1.2)", async () => {
  const charges = Array.from({ length: 4 }, (_, i) => ({
    start: `2026-05-2${i + 1} 00:00:00`,
    end: `2026-05-2${i + 2} 00:00:00`,
    cost: "4.80",
    ResourceId: "i-0abc",
    PricingUnit: "Hours",
  })).concat([
    {
      start: "2026-05-21 00:00:00",
      end: "2026-05-22 00:00:00",
      cost: "0.25",
      ResourceId: "i-0abc",
      PricingUnit: "GB-Mo",
    },
  ]);
  const files = [
    writeFocusCsv(dir, "b.csv", charges, "1.0"),
    writeFocusCsv(dir, "b.csv.gz", charges, "1.1"),
    writeFocusParquet(dir, "b.parquet", charges, "1.2"),
  ];
  const rates = await Promise.all(
    files.map(async (f) => {
      const c = billedCost((await readBillingCosts(f, AT, "USD")).costs, { id: "i-0abc", type: "x/y" })!;
      return [c.hourly, c.monthly];
    }),
  );
  // 19.20 of hours over 96 hours (the first charge to the last), and 19.45 of everything × 730, to the cent.
  for (const r of rates) assert.deepEqual(r, [200_000_000_000n, 147_900_000_000_000n]);
});

test("maxMonthlyCost judges a resource by its charges when the scan reads a billing export", async () => {
  const cwd = mkdtempSync(join(dir, "cap-"));
  const at = AT.getTime();
  writeFileSync(
    join(cwd, "caps.yaml"),
    `apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: cost-caps}
spec:
  type: ResourceLimit
  rules:
    - name: instance-monthly-cap
      resource: compute/instance
      constraint: {maxMonthlyCost: 500}
`,
  );
  // An m5.large (70.08 a month in the book) that was charged 730.00 a month.
  const instance = {
    id: "i-run",
    type: "compute/instance",
    state: "stopped",
    specs: { instance_type: "m5.large" },
  };
  writeFileSync(join(cwd, "estate.jsonl"), `${JSON.stringify(instance)}\n`);
  writeFileSync(
    join(cwd, "billing.csv"),
    (await import("node:fs")).readFileSync(focus(days(10, at - 10 * DAY, "24.00", "i-run", "Hours"))),
  );
  const scan = (more: string[]) =>
    cli(
      [
        "scan",
        "-p",
        join(cwd, "caps.yaml"),
        "-i",
        "file:estate.jsonl",
        "--no-store",
        "--at",
        AT.toISOString(),
      ].concat(more),
      {
        cwd,
      },
    );
  const book = await scan([]);
  assert.equal(book.code, 0, book.stderr);
  assert.match(book.stdout, /\n0 findings\n/);
  const billed = await scan(["--billing", "billing.csv"]);
  assert.equal(billed.code, 0, billed.stderr);
  assert.match(billed.stdout, /\n1 finding\n/);
  assert.match(billed.stdout, /\ncost-caps +1\n/);
});

test("an RDS database's charges are looked up by its name too, whatever the case of its provider", () => {
  const db = {
    id: "db-ABC",
    type: "database/instance",
    name: "orders",
    region: "us-east-1",
    account: "111111111111",
  };
  for (const provider of ["aws", "AWS"])
    assert.deepEqual(billingKeys({ ...db, provider }), ["db-ABC", "rds:us-east-1:111111111111:orders"]);
  assert.deepEqual(billingKeys({ ...db, provider: "gcp" }), ["db-ABC"]);
});
