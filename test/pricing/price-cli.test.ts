import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { cli } from "./harness.js";

describe("costguard price", () => {
  test("prints entries with specs, price, monthly and source", async () => {
    const r = await cli(["price", "m5.large", "p3.8xlarge"]);
    assert.equal(r.code, 0, r.stderr);
    const m5 = r.stdout.split("\n").find((l) => l.includes("m5.large"))!;
    assert.match(
      m5,
      /aws\s+compute\s+m5\.large\s+us-east-1\s+linux\s+general-purpose\s+2\s+8\s+0\.096 USD\/hour\s+70\.08 USD\s+aws-ec2-karpenter/,
    );
    assert.match(r.stdout, /p3\.8xlarge.*gpu\s+32\s+244\s+12\.24 USD\/hour\s+8,935\.20 USD/);
    assert.match(r.stdout, /monthly = hourly × 730/);
    assert.match(r.stdout, /aws-ec2-karpenter: karpenter-provider-aws/);
  });

  test("json output parses and keeps exact amounts", async () => {
    const r = await cli(["price", "e2-micro", "--format", "json"]);
    assert.equal(r.code, 0);
    const [entry] = JSON.parse(r.stdout) as { price: string; monthly: string; source: string }[];
    assert.equal(entry!.price, "0.0083764275");
    assert.equal(entry!.monthly, "6.114792075");
    assert.match(entry!.source, /Cyclenerd/);
  });

  test("a type named twice, in any case, is shown once; an empty --region is refused", async () => {
    const r = await cli(["price", "m5.large", "M5.LARGE", "e2-micro", "--format", "json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      (JSON.parse(r.stdout) as { type: string }[]).map((e) => e.type),
      ["m5.large", "e2-micro"],
    );
    const empty = await cli(["price", "m5.large", "--region", ""]);
    assert.equal(empty.code, 2);
    assert.equal(empty.stderr, "costguard: --region needs a value\n");
  });

  test("unknown types: a clear message, exit 2, known ones still printed", async () => {
    const r = await cli(["price", "m5.large", "m5.lrage"]);
    assert.equal(r.code, 2);
    assert.match(r.stdout, /m5\.large/);
    assert.match(r.stderr, /unknown type `m5\.lrage`: not in the price book \(did you mean `m5\.large`\?\)/);
  });

  test("a type known only in other regions names them, not itself as a near miss", async () => {
    const r = await cli(["price", "m5.large", "--region", "mars-1"]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /`m5\.large` is not in the price book for region mars-1, only for us-east-1;/);
    assert.doesNotMatch(r.stderr, /did you mean/);
  });

  test("--price-book entries show up and override", async () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-price-cli-"));
    const file = join(dir, "mine.csv");
    writeFileSync(file, "# source ea: our agreement\nsku,price,source\nm5.large,0.05,ea\nmy.custom,1.5,ea\n");
    const r = await cli(["price", "my.custom", "m5.large", "--price-book", file, "--format", "json"]);
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as { type: string; price: string; source: string; region: string }[];
    assert.ok(rows.some((x) => x.type === "my.custom" && x.price === "1.5" && x.source === "our agreement"));
    assert.ok(rows.some((x) => x.type === "m5.large" && x.region === "*" && x.price === "0.05"));
  });

  test("an entry that estimates do not use says which one they use instead", async () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-price-cli-"));
    const file = join(dir, "mine.csv");
    // For every region (so over the embedded us-east-1 entry too), and for eu-west-1 alone.
    writeFileSync(file, "sku,region,price\nm5.large,,0.05\nm5.large,eu-west-1,0.2\n");
    const json = await cli(["price", "m5.large", "--price-book", file, "--format", "json"]);
    assert.equal(json.code, 0, json.stderr);
    const rows = JSON.parse(json.stdout) as {
      region: string;
      price: string;
      used: boolean;
      used_instead?: { source: string; region: string; price: string };
    }[];
    assert.deepEqual(
      rows.map((x) => [x.region, x.price, x.used, x.used_instead]),
      [
        ["us-east-1", "0.096", false, { source: "user", region: "*", price: "0.05" }],
        ["*", "0.05", true, undefined],
        ["eu-west-1", "0.2", true, undefined],
      ],
    );
    const table = await cli(["price", "m5.large", "--price-book", file]);
    const embedded = table.stdout.split("\n").find((l) => l.includes("us-east-1"))!;
    assert.match(embedded, /aws-ec2-karpenter \(not used: user's entry for every region wins\)$/);
    // Asked about eu-west-1, the table's own eu-west-1 entry is the one used there, not the `*` one.
    const inRegion = await cli([
      "price",
      "m5.large",
      "--price-book",
      file,
      "--region",
      "eu-west-1",
      "--format",
      "json",
    ]);
    assert.deepEqual(
      (JSON.parse(inRegion.stdout) as typeof rows).map((x) => [x.region, x.used, x.used_instead?.region]),
      [
        ["*", false, "eu-west-1"],
        ["eu-west-1", true, undefined],
      ],
    );
    const regionTable = await cli(["price", "m5.large", "--price-book", file, "--region", "eu-west-1"]);
    const star = regionTable.stdout.split("\n").find((l) => / \* /.test(l))!;
    assert.match(star, /user \(not used: user's entry for eu-west-1 wins\)$/);
    // Entries that name no source: the legend says so rather than "user: user".
    assert.match(regionTable.stdout, /^ {2}user: a --price-book entry that names no source$/m);
    assert.doesNotMatch(regionTable.stdout, /user: user/);
    // Without a table of one's own, every embedded entry is the one used.
    const plain = await cli(["price", "m5.large", "db.r5.large", "gp3", "--format", "json"]);
    assert.ok((JSON.parse(plain.stdout) as { used: boolean }[]).every((x) => x.used));
  });

  test("a later table's per-GB price for every region wins over the embedded Azure tiers, and price says so", async () => {
    // The tiers priced the disk (19.71) while `price` marked both the tiers and the per-GB entry used.
    const dir = mkdtempSync(join(tmpdir(), "costguard-price-cli-"));
    const file = join(dir, "az.csv");
    writeFileSync(file, "sku,service,price\nPremium_LRS,volume,0.10\n");
    const json = await cli(["price", "Premium_LRS", "--price-book", file, "--format", "json"]);
    assert.equal(json.code, 0, json.stderr);
    const rows = JSON.parse(json.stdout) as {
      region: string;
      max_gb?: number;
      used: boolean;
      used_instead?: { region: string; price: string };
    }[];
    const tiers = rows.filter((x) => x.max_gb !== undefined);
    assert.ok(tiers.length >= 4, json.stdout);
    for (const t of tiers)
      assert.deepEqual([t.used, t.used_instead], [false, { source: "user", region: "*", price: "0.10" }]);
    assert.deepEqual(
      rows.filter((x) => x.max_gb === undefined).map((x) => [x.region, x.used]),
      [["*", true]],
    );
    const disk = JSON.stringify({
      type: "storage/volume",
      provider: "azure",
      region: "eastus",
      specs: { volume_sku: "Premium_LRS", size_gb: 100 },
    });
    const priced = await cli(
      ["evaluate", "--policies", "examples/policies", "-", "--price-book", file, "--no-exceptions"],
      disk,
    );
    assert.equal(
      (JSON.parse(priced.stdout) as { estimated_monthly_cost: { monthly: string } }).estimated_monthly_cost
        .monthly,
      "10",
      priced.stderr,
    );
    // Without it, the tiers price the disk and are the entries used.
    const plain = await cli(["price", "Premium_LRS", "--format", "json"]);
    assert.ok((JSON.parse(plain.stdout) as { used: boolean }[]).every((x) => x.used));
  });

  test("a bad price book is bad input", async () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-price-cli-"));
    const file = join(dir, "bad.csv");
    writeFileSync(file, "sku,cost\nm5.large,1\n");
    const r = await cli(["price", "m5.large", "--price-book", file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown column `cost`/);
  });
});

describe("costguard evaluate with the price book", () => {
  test("evaluate fills specs and prints the estimate", async () => {
    const req = JSON.stringify({
      type: "compute/instance",
      namespace: "production",
      tags: { "cost-center": "CC-000001", environment: "production" },
      specs: { instance_type: "p3.8xlarge" },
    });
    const r = await cli(["evaluate", "--policies", "examples/policies", "-"], req);
    assert.equal(r.code, 1, r.stderr);
    const d = JSON.parse(r.stdout) as { decision: string; estimated_monthly_cost: { monthly: string } };
    assert.equal(d.decision, "deny");
    assert.equal(d.estimated_monthly_cost.monthly, "8935.2");
  });

  test("--price-book changes the estimate", async () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-eval-"));
    const file = join(dir, "p.csv");
    writeFileSync(file, "sku,price\nt3.micro,0.01\n");
    const req = JSON.stringify({ type: "compute/instance", specs: { instance_type: "t3.micro" } });
    const r = await cli(["evaluate", "--policies", "examples/guide-main", "--price-book", file, "-"], req);
    const d = JSON.parse(r.stdout) as { estimated_monthly_cost: { monthly: string } };
    assert.equal(d.estimated_monthly_cost.monthly, "7.3");
  });
});
