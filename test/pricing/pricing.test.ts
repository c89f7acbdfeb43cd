import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { createDecider } from "../../src/decide/decider.js";
import { compilePolicySet } from "../../src/engine/compile.js";
import { parseRequest } from "../../src/engine/request.js";
import type { ResourceRequest } from "../../src/engine/types.js";
import { InputError } from "../../src/errors.js";
import { loadPolicies } from "../../src/policy/load.js";
import { createPriceBook } from "../../src/pricing/book.js";
import { createCostAnnotator, createPriceBookEnricher } from "../../src/pricing/enrich.js";
import { estimateCost } from "../../src/pricing/estimate.js";
import { loadPriceBook, readEmbeddedTables } from "../../src/pricing/load.js";
import { formatMoney, monthlyFromHourly, sum } from "../../src/pricing/money.js";
import { parsePriceTable } from "../../src/pricing/parse.js";

const book = loadPriceBook();
const enricher = createPriceBookEnricher(book);

function pricedDecider(policyPaths: string[]) {
  const set = compilePolicySet(loadPolicies(policyPaths).policies);
  return createDecider({ policySet: set, enrichers: [enricher], annotators: [createCostAnnotator(book)] });
}

describe("instance-type enrichment", () => {
  test("p3.8xlarge with only instance_type is caught by deniedInstanceFamilies [gpu] and maxVCPUs", () => {
    const decide = pricedDecider(["examples/policies"]);
    const d = decide.decide({
      type: "compute/instance",
      namespace: "production",
      tags: { "cost-center": "CC-004242", environment: "production" },
      specs: { instance_type: "p3.8xlarge" },
    });
    assert.equal(d.decision, "deny");
    const fields = d.violations.map((v) => `${v.field}=${JSON.stringify(v.actual)}`);
    assert.ok(fields.includes("specs.vcpus=32"), fields.join(", "));
    assert.ok(fields.includes('specs.instance_family="gpu"'), fields.join(", "));
    const denied = d.violations.find((v) => v.message === "Instance family 'gpu' is not allowed");
    assert.ok(denied, "the deniedInstanceFamilies violation is present");
    // Nothing was left unverified: the book filled every spec the rule reads.
    assert.deepEqual(
      d.unverified.filter((u) => u.rule === "max-instance-size"),
      [],
    );
  });

  test("without the price book the same request is only unverified", () => {
    const set = compilePolicySet(loadPolicies(["examples/policies"]).policies);
    const d = set.evaluate({
      type: "compute/instance",
      namespace: "production",
      specs: { instance_type: "p3.8xlarge" },
    });
    assert.ok(d.violations.every((v) => v.rule !== "max-instance-size"));
    assert.ok(d.unverified.some((u) => u.field === "specs.vcpus"));
  });

  test("fills vcpus, memory_gb, instance_family and gpus; never overwrites what the request carries", () => {
    const r = enricher.enrich({
      type: "compute/instance",
      specs: { instance_type: "m5.4xlarge", vcpus: 8 },
    });
    assert.equal(r.specs?.vcpus, 8);
    assert.equal(r.specs?.memory_gb, 64);
    assert.equal(r.specs?.instance_family, "general-purpose");
    assert.equal(r.specs?.gpus, 0);
    const own = enricher.enrich({
      type: "compute/instance",
      specs: { instance_type: "p3.8xlarge", instance_family: "my-own" },
    });
    assert.equal(own.specs?.instance_family, "my-own");
    assert.equal(own.specs?.vcpus, 32);
  });

  test("does not mutate its input", () => {
    const input: ResourceRequest = { type: "compute/instance", specs: { instance_type: "c5.large" } };
    const before = JSON.stringify(input);
    enricher.enrich(input);
    assert.equal(JSON.stringify(input), before);
  });

  test("categories follow the guide's names for each cloud", () => {
    const family = (type: string, t = "compute/instance") =>
      enricher.enrich({ type: t, specs: { instance_type: type } }).specs?.instance_family;
    assert.equal(family("c5.large"), "compute-optimized");
    assert.equal(family("r5.large"), "memory-optimized");
    assert.equal(family("x1.16xlarge"), "high-memory");
    assert.equal(family("inf2.xlarge"), "accelerated");
    assert.equal(family("i3.large"), "storage-optimized");
    assert.equal(family("a2-highgpu-1g"), "gpu");
    assert.equal(family("c2-standard-4"), "compute-optimized");
    assert.equal(family("Standard_NC6s_v3"), "gpu");
    assert.equal(family("standard_d2s_v3"), "general-purpose", "Azure sizes match case-insensitively");
    assert.equal(family("db.r5.large", "database/instance"), "memory-optimized");
  });

  test("a volume's provider type gives the guide's volume class", () => {
    const r = enricher.enrich({
      type: "storage/volume",
      specs: { volume_sku: "io2", size_gb: 10, iops: 100 },
    });
    assert.equal(r.specs?.volume_type, "provisioned-iops");
  });
});

describe("estimated_monthly_cost", () => {
  test("is exact decimal text: hourly × 730, with the source entry", () => {
    const e = estimateCost(book, { type: "compute/instance", specs: { instance_type: "m5.4xlarge" } });
    assert.equal(e.status, "known");
    assert.equal(e.currency, "USD");
    assert.equal(e.hourly, "0.768");
    assert.equal(e.monthly, "560.64");
    assert.equal(e.hours_per_month, 730);
    assert.match(e.method, /0\.768 USD\/hour × 730 hours = 560\.64 USD\/month/);
    assert.match(e.components[0]!.entry, /aws compute m5\.4xlarge us-east-1 \(embedded:aws-ec2\.csv:\d+\)/);
    assert.match(e.components[0]!.source, /karpenter-provider-aws.*2026-07-20/);
    assert.deepEqual(e.assumptions, ["region us-east-1 assumed: the request names none"]);
  });

  test("sums without binary floating point", () => {
    assert.equal(sum(["0.1", "0.2"]), "0.3");
    assert.notEqual(String(0.1 + 0.2), "0.3");
    // e2-micro: the source's own monthly figure is 6.114792075 for 730 hours.
    assert.equal(monthlyFromHourly("0.0083764275"), "6.114792075");
    assert.equal(formatMoney("1234567.005", "USD"), "1,234,567.01 USD");
  });

  test("GCP prices reproduce the source figures", () => {
    const hourly = (type: string) =>
      estimateCost(book, { type: "compute/instance", specs: { instance_type: type } }).hourly;
    assert.equal(hourly("e2-micro"), "0.0083764275");
    assert.equal(hourly("e2-standard-16"), "0.53609136");
    assert.equal(hourly("n1-highmem-32"), "1.892848");
    assert.equal(hourly("n2-highmem-96"), "6.288672");
  });

  test("unknown types, specs-only types and other regions say unknown with the reason", () => {
    const unknown = estimateCost(book, { type: "compute/instance", specs: { instance_type: "zz9.huge" } });
    assert.equal(unknown.status, "unknown");
    assert.match(unknown.reason!, /`zz9\.huge` is not in the price book/);
    assert.equal(unknown.monthly, undefined);
    const specsOnly = estimateCost(book, {
      type: "compute/instance",
      specs: { instance_type: "n2d-standard-4" },
    });
    assert.match(specsOnly.reason!, /no sourceable price/);
    const region = estimateCost(book, {
      type: "compute/instance",
      region: "eu-west-1",
      specs: { instance_type: "m5.large" },
    });
    assert.match(region.reason!, /no price for `m5\.large` in eu-west-1/);
    const windows = estimateCost(book, {
      type: "compute/instance",
      specs: { instance_type: "Standard_B2s", os: "windows" },
    });
    assert.match(windows.reason!, /OS windows/);
    const noModel = estimateCost(book, { type: "network/nat", specs: {} });
    assert.match(noModel.reason!, /no price model/);
  });

  test("a provider is matched whatever its case (FOCUS says AWS); one the type is not priced for is named", () => {
    for (const provider of ["aws", "AWS", "Aws"]) {
      const e = estimateCost(book, {
        type: "compute/instance",
        provider,
        specs: { instance_type: "m5.large" },
      });
      assert.equal(e.monthly, "70.08", provider);
    }
    const volume = estimateCost(book, {
      type: "storage/volume",
      provider: "AWS",
      specs: { volume_sku: "gp3", size_gb: 100 },
    });
    assert.equal(volume.status, "known");
    const other = estimateCost(book, {
      type: "compute/instance",
      provider: "gcp",
      specs: { instance_type: "m5.large" },
    });
    assert.equal(other.reason, "`m5.large` is in the price book for aws, not for provider gcp");
  });

  test("volumes: per GB-month, provisioned IOPS beyond the included amount, Azure tiers", () => {
    const gp3 = estimateCost(book, {
      type: "storage/volume",
      specs: { volume_sku: "gp3", size_gb: 100, iops: 4000 },
    });
    assert.equal(gp3.monthly, "13"); // 100 × 0.08 + (4000 − 3000) × 0.005
    const gp3base = estimateCost(book, {
      type: "storage/volume",
      specs: { volume_sku: "gp3", size_gb: 100 },
    });
    assert.equal(gp3base.monthly, "8");
    const io1 = estimateCost(book, { type: "storage/volume", specs: { volume_sku: "io1", size_gb: 1000 } });
    assert.equal(io1.status, "unknown", "io1 without IOPS cannot be priced");
    const premium = estimateCost(book, {
      type: "storage/volume",
      provider: "azure",
      specs: { volume_sku: "Premium_LRS", size_gb: 100 },
    });
    assert.equal(premium.monthly, "19.71");
    assert.match(premium.components[0]!.name, /up to 128 GB/);
  });

  test("databases: instance hours, storage, Multi-AZ doubling", () => {
    const single = estimateCost(book, {
      type: "database/instance",
      specs: { instance_type: "db.m5.large", engine: "postgres", storage_gb: 100, storage_type: "gp2" },
    });
    assert.equal(single.monthly, "141.44"); // 0.178 × 730 + 100 × 0.115
    const multi = estimateCost(book, {
      type: "database/instance",
      specs: {
        instance_type: "db.m5.large",
        engine: "postgresql",
        storage_gb: 100,
        storage_type: "gp2",
        multi_az: true,
      },
    });
    assert.equal(multi.monthly, "282.88");
    const oracle = estimateCost(book, {
      type: "database/instance",
      specs: { instance_type: "db.m5.large", engine: "oracle-se2", storage_gb: 100, storage_type: "gp2" },
    });
    assert.equal(oracle.status, "unknown");
  });

  test("the decider puts the estimate on every decision", () => {
    const decide = pricedDecider(["examples/guide-main"]);
    const d = decide.decide({ type: "compute/instance", specs: { instance_type: "t3.micro" } });
    assert.equal(d.estimated_monthly_cost?.monthly, "7.592");
    const unknown = decide.decide({ type: "compute/instance", specs: { instance_type: "nope.large" } });
    assert.equal(unknown.estimated_monthly_cost?.status, "unknown");
  });

  test("a cost the request carries is kept, not recomputed", () => {
    const r = enricher.enrich({
      type: "compute/instance",
      specs: { instance_type: "m5.large" },
      cost: { monthly: "12.5" },
    });
    assert.deepEqual(r.cost, { monthly: "12.5" });
    const d = createCostAnnotator(book).annotate(r, {
      decision: "allow",
      violations: [],
      unverified: [],
      not_evaluated: [],
    });
    assert.equal(d.estimated_monthly_cost?.monthly, "12.5");
    assert.match(d.estimated_monthly_cost!.method, /supplied by the request/);
  });

  test("a carried cost without monthly, below zero, not an amount, or in no currency code is bad input", () => {
    const base = { type: "compute/instance" };
    assert.equal(parseRequest({ ...base, cost: { monthly: "12.50", currency: "EUR" } }).type, base.type);
    assert.equal(parseRequest({ ...base, cost: { monthly: 12 } }).type, base.type);
    // -5 was taken as a known cost, and a maxMonthlyCost limit passed it.
    // Infinity (YAML .inf, JSON 1e400) passed as a known cost of "Infinity".
    for (const monthly of ["-5", -5, "1e3", true, Number.POSITIVE_INFINITY])
      assert.throws(
        () => parseRequest({ ...base, cost: { monthly } }),
        (err: Error) =>
          err instanceof InputError &&
          err.message ===
            'request is not valid: `cost.monthly` must be an amount of zero or more, e.g. "123.45"',
        String(monthly),
      );
    // {} or {currency: USD} was no estimate: maxMonthlyCost went unverified while the book's said 70.08.
    for (const cost of [{}, { currency: "USD" }])
      assert.throws(
        () => parseRequest({ ...base, cost }),
        (err: Error) =>
          err instanceof InputError &&
          err.message ===
            'request is not valid: `cost` has no `monthly`: give the amount (`{"monthly": "123.45"}`), or leave `cost` out for the price book to estimate it',
        JSON.stringify(cost),
      );
    assert.throws(
      () => parseRequest({ ...base, cost: { monthly: "1", currency: "usd" } }),
      /`cost.currency` must be a three-letter code such as USD/,
    );
    // Any three letters passed, where a policy's currency must be ISO 4217.
    assert.throws(
      () => parseRequest({ ...base, cost: { monthly: "1", currency: "UDS" } }),
      (err: Error) =>
        err instanceof InputError &&
        err.message ===
          "request is not valid: `cost.currency` `UDS` is not an ISO 4217 currency code — did you mean `USD`?",
    );
    // YAML reads .nan as NaN, which fails every bound: one message, not "too big" and "negative".
    assert.throws(
      () => parseRequest({ type: "compute/instance", specs: { vcpus: Number.NaN } }),
      (err: Error) => err.message === "request is not valid: `specs.vcpus` must be a number, got NaN",
    );
    // JSON.parse reads 1e400 as Infinity: "Requested Infinity vCPUs exceeds limit of 16".
    assert.throws(
      () => parseRequest(JSON.parse('{"type": "compute/instance", "specs": {"vcpus": 1e400}}')),
      /`specs.vcpus` is too big to be a number \(it reads as Infinity\)/,
    );
  });
});

describe("user price books", () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-prices-"));
  const write = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  test("a later table overrides an earlier one; a price-only override keeps the specs", () => {
    const a = write("a.csv", "sku,price\nm5.large,0.05\n");
    const b = write("b.yaml", 'entries:\n  - sku: m5.large\n    price: "0.04"\n    source: negotiated\n');
    const withA = loadPriceBook([a]);
    assert.equal(
      estimateCost(withA, { type: "compute/instance", specs: { instance_type: "m5.large" } }).hourly,
      "0.05",
    );
    const both = loadPriceBook([a, b]);
    const e = estimateCost(both, { type: "compute/instance", specs: { instance_type: "m5.large" } });
    assert.equal(e.hourly, "0.04");
    assert.equal(e.monthly, "29.2");
    assert.equal(e.components[0]!.source, "negotiated");
    assert.deepEqual(e.assumptions, [], "an entry for every region needs no assumption");
    const enriched = createPriceBookEnricher(both).enrich({
      type: "compute/instance",
      specs: { instance_type: "m5.large" },
    });
    assert.equal(enriched.specs?.vcpus, 2, "specs still come from the embedded entry");
  });

  test("a CSV table saved with a byte-order mark and quoted header (Excel's CSV UTF-8) reads as without", () => {
    const file = write("excel.csv", '\uFEFF"sku","price","source"\r\n"m5.large","0.05","ea"\r\n');
    const e = estimateCost(loadPriceBook([file]), {
      type: "compute/instance",
      specs: { instance_type: "m5.large" },
    });
    assert.equal(e.hourly, "0.05");
  });

  test("an override with the same key merges into the embedded entry", () => {
    const p = write(
      "same-key.csv",
      "provider,service,sku,region,price,source\naws,compute,m5.large,us-east-1,0.09,mine\n",
    );
    const merged = loadPriceBook([p]);
    const entry = merged.lookup("m5.large").find((e) => e.service === "compute")!;
    assert.equal(entry.price, "0.09");
    assert.equal(entry.vcpus, 2);
    assert.match(entry.overrides ?? "", /embedded:aws-ec2\.csv/);
  });

  test("an entry for one region says what a type is there only; fields it leaves empty come from the others", () => {
    // p3.2xlarge in eu-west-1 with vcpus but no category took the place of the embedded entry's
    // `gpu` in every region: deniedInstanceFamilies [gpu] let it through in us-east-1.
    const eu = write("eu.csv", "sku,region,price,vcpus,memory_gib\np3.2xlarge,eu-west-1,3.305,8,61\n");
    const mine = write(
      "mine-eu.csv",
      "sku,region,vcpus,category\np3.2xlarge,eu-west-1,9,accelerated\np3.2xlarge,us-east-1,,gpu\n",
    );
    const specsIn = (paths: string[], region?: string) =>
      createPriceBookEnricher(loadPriceBook(paths)).enrich({
        type: "compute/instance",
        ...(region === undefined ? {} : { region }),
        specs: { instance_type: "p3.2xlarge" },
      }).specs;
    for (const region of ["us-east-1", undefined, "eu-west-1"])
      assert.deepEqual(
        specsIn([eu], region),
        { instance_type: "p3.2xlarge", vcpus: 8, memory_gb: 61, instance_family: "gpu", gpus: 1 },
        String(region),
      );
    // A region's own entry wins there, and only there.
    assert.equal(specsIn([mine], "eu-west-1")?.instance_family, "accelerated");
    assert.equal(specsIn([mine], "eu-west-1")?.vcpus, 9);
    assert.equal(specsIn([mine], "us-east-1")?.vcpus, 8);
  });

  test("an override keeps the unit, currency and source it leaves empty; a price brings its own", () => {
    // They were reset to USD, gb-month and user: 50 JPY became 50 USD, a tier a per-GB price.
    const jpy = write("jpy.csv", "sku,region,price,currency\nm5.large,us-east-1,50,JPY\n");
    const specs = write(
      "specs.csv",
      "sku,region,vcpus,memory_gib,category\nm5.large,us-east-1,2,8,general-purpose\n",
    );
    const m5 = (paths: string[]) =>
      loadPriceBook(paths)
        .lookup("m5.large")
        .find((e) => e.service === "compute" && e.region === "us-east-1")!;
    assert.deepEqual(
      [m5([jpy, specs]).price, m5([jpy, specs]).currency, m5([jpy, specs]).source],
      ["50", "JPY", "user"],
    );
    const usd = write("usd.csv", "# source ea: ours\nsku,region,price,source\nm5.large,us-east-1,0.05,ea\n");
    assert.deepEqual(
      [m5([jpy, usd]).currency, m5([jpy, usd]).source],
      ["USD", "ea"],
      "a price is in USD unless said",
    );
    assert.equal(m5([usd, specs]).source, "ea");
    const tier = write("tier.csv", "sku,service,region,max_gb,category\nPremium_LRS,volume,eastus,128,ssd\n");
    const disk = estimateCost(loadPriceBook([tier]), {
      type: "storage/volume",
      provider: "azure",
      region: "eastus",
      specs: { volume_sku: "Premium_LRS", size_gb: 100 },
    });
    assert.equal(disk.monthly, "19.71");
    assert.match(disk.components[0]!.name, /up to 128 GB/);
    assert.match(disk.components[0]!.source, /published pay-as-you-go list price per tier/);
  });

  test("a table's engine postgresql is postgres, as a request's is", () => {
    // The entry was kept as `postgresql`, which no request (normalised to postgres) ever matched.
    const pg = write("pg.csv", "sku,engine,service,price\ndb.m5.large,PostgreSQL,database,0.01\n");
    const e = estimateCost(loadPriceBook([pg]), {
      type: "database/instance",
      region: "us-east-1",
      specs: { instance_type: "db.m5.large", engine: "postgresql", storage_gb: 0 },
    });
    assert.equal(e.hourly, "0.01", e.reason);
    assert.match(e.components[0]!.entry, /^aws database db\.m5\.large any region postgres \(/);
  });

  test("new types and regions are added; YAML prices stay exact text", () => {
    const p = write(
      "new.yaml",
      [
        "sources:",
        "  contract-2025: our enterprise agreement, 2025",
        "entries:",
        "  - {sku: n2d-standard-4, provider: gcp, price: 0.123456789012345678901, region: europe-west4, source: contract-2025}",
        "  - {sku: m5.large, region: eu-west-1, price: 0.107}",
      ].join("\n"),
    );
    const b = loadPriceBook([p]);
    const gcp = estimateCost(b, {
      type: "compute/instance",
      region: "europe-west4",
      specs: { instance_type: "n2d-standard-4" },
    });
    assert.equal(gcp.hourly, "0.123456789012345678901");
    assert.equal(gcp.components[0]!.source, "our enterprise agreement, 2025");
    const eu = estimateCost(b, {
      type: "compute/instance",
      region: "eu-west-1",
      specs: { instance_type: "m5.large" },
    });
    assert.equal(eu.monthly, "78.11");
  });

  test("a table's region in upper case still prices a request that names none (the book region)", () => {
    // `US-EAST-1` was compared exactly to us-east-1: "no price for m5.large without a region".
    const up = loadPriceBook([write("up.csv", "sku,region,price\nm5.large,US-EAST-1,0.05\n")], false);
    const e = estimateCost(up, { type: "compute/instance", specs: { instance_type: "m5.large" } });
    assert.equal(e.monthly, "36.5", e.reason);
    assert.deepEqual(e.assumptions, ["region US-EAST-1 assumed: the request names none"]);
  });

  test("within one table an entry for the region beats one for every region", () => {
    const t = parsePriceTable("sku,region,price\nx.large,*,1\nx.large,r1,2\n", "t.csv");
    const b = createPriceBook([t]);
    assert.equal(
      estimateCost(b, { type: "compute/instance", region: "r1", specs: { instance_type: "x.large" } }).hourly,
      "2",
    );
    assert.equal(
      estimateCost(b, { type: "compute/instance", region: "r2", specs: { instance_type: "x.large" } }).hourly,
      "1",
    );
  });

  test("bad tables are clear input errors", () => {
    assert.throws(
      () => parsePriceTable("sku,prize\nm5.large,1\n", "bad.csv"),
      (e: unknown) => e instanceof InputError && /unknown column `prize`/.test(e.message),
    );
    assert.throws(
      () => parsePriceTable("sku,price\nm5.large,1e3\n", "bad.csv"),
      /not a non-negative decimal/,
    );
    assert.throws(() => parsePriceTable("sku,price\nm5.large,-1\n", "bad.csv"), /not a non-negative decimal/);
    assert.throws(
      () => parsePriceTable("sku,price,currency\nm5.large,0.1,UDS\n", "uds.csv"),
      (e: unknown) =>
        e instanceof InputError &&
        e.message === "uds.csv:2: currency `UDS` is not an ISO 4217 currency code — did you mean `USD`?",
    );
    // -3000 IOPS included billed 6000 for 3000; 1e3 was said to be "not a number".
    for (const included of ["-3000", "1e3"])
      assert.throws(
        () => parsePriceTable(`sku,service,price,included\ngp3,volume-iops,0.005,${included}\n`, "inc.csv"),
        (e: unknown) =>
          e instanceof InputError &&
          e.message === `inc.csv:2: included \`${included}\` is not a non-negative decimal number`,
        included,
      );
    assert.throws(() => parsePriceTable("sku,price\nm5.large\n", "bad.csv"), /bad\.csv:2: 1 fields/);
    // A column named twice kept its last value; a quote never closed made the rest of the file a field.
    assert.throws(
      () => parsePriceTable("sku,price,Price\nm5.large,0.2,0.3\n", "bad.csv"),
      /bad\.csv:1: the header names the column `price` twice/,
    );
    assert.throws(
      () => parsePriceTable('sku,price\nm5.large,"0.2\n', "bad.csv"),
      /bad\.csv:2: a quoted field opened on line 2 is never closed/,
    );
    assert.throws(
      () => parsePriceTable("entries:\n  - sku: a\n    prize: 1\n", "bad.yaml"),
      /unknown key `prize`/,
    );
    assert.throws(() => parsePriceTable("sku\nm5.large\n", "bad.csv"), /neither a price nor specs/);
  });

  test("a JSON table is read as the YAML it is; YAML problems name the entry's line, a misspelt entries: its key", () => {
    const json = parsePriceTable(
      '{"entries": [{"sku": "m5.large", "price": "0.05"}, {"sku": "x.big", "price": 0.5}]}',
      "mine.json",
    );
    assert.deepEqual(
      json.entries.map((e) => [e.sku, e.price]),
      [
        ["m5.large", "0.05"],
        ["x.big", "0.5"],
      ],
    );
    assert.throws(
      () =>
        parsePriceTable(
          'entries:\n  - {sku: m5.large, price: "0.081"}\n\n  - {sku: m5.large, prise: "0.09"}\n',
          "e.yaml",
        ),
      (e: unknown) =>
        e instanceof InputError && e.message.startsWith("e.yaml:4: entries[1]: unknown key `prise`"),
    );
    assert.throws(
      () => parsePriceTable("entires:\n  - {sku: m5.large, price: '0.081'}\n", "e.yaml"),
      (e: unknown) =>
        e instanceof InputError &&
        e.message ===
          "e.yaml: expected `entries:` with a list of price entries (it has `entires`: did you mean `entries`?)",
    );
  });

  test("a table that prices one line twice is refused, naming both (the second replaced the first in silence)", () => {
    assert.throws(
      () =>
        parsePriceTable("sku,region,price\nm5.large,us-east-1,0.1\nM5.LARGE,us-east-1,0.2\n", "twice.csv"),
      (e: unknown) =>
        e instanceof InputError &&
        e.message ===
          "twice.csv:3: `M5.LARGE` (compute, region us-east-1, linux) is priced twice in this table: first at twice.csv:2; a table prices each once (a later --price-book overrides)",
    );
    assert.throws(
      () =>
        parsePriceTable(
          "entries:\n  - {sku: gp3, service: volume, price: '0.08'}\n  - {sku: gp3, service: volume, price: '0.09'}\n",
          "twice.yaml",
        ),
      /twice\.yaml:3: entries\[1\]: `gp3` \(volume, region \*, linux\) is priced twice in this table: first at twice\.yaml:2: entries\[0\]/,
    );
    // A region in another case is the same region (estimates match regions in any case).
    assert.throws(
      () => parsePriceTable("sku,region,price\nm5.large,us-east-1,0.1\nm5.large,US-EAST-1,0.2\n", "case.csv"),
      /case\.csv:3: `m5\.large` \(compute, region US-EAST-1, linux\) is priced twice in this table: first at case\.csv:2/,
    );
    // Different regions, OS, engines, services (a volume's IOPS) and tiers are different lines.
    const lines = parsePriceTable(
      [
        "sku,service,region,os,max_gb,unit,price",
        "x.large,compute,us-east-1,,,,1",
        "x.large,compute,us-west-2,,,,1",
        "x.large,compute,us-east-1,windows,,,2",
        "io9,volume,us-east-1,,,,0.1",
        "io9,volume-iops,us-east-1,,,,0.01",
        "P9,volume,*,,32,month,5",
        "P9,volume,*,,64,month,9",
      ].join("\n"),
      "lines.csv",
    );
    assert.equal(lines.entries.length, 7);
  });

  test("a YAML table under another name is read as YAML after leading comments or ---", () => {
    // `cm.txt` or `<(cat book.yaml)` opening with a comment or --- was read as CSV: "unknown column".
    for (const text of [
      "# our prices\nentries:\n  - {sku: m5.large, price: '0.05'}\n",
      "---\nentries:\n  - {sku: m5.large, price: '0.05'}\n",
      "# ours\n\n---\n- {sku: m5.large, price: '0.05'}\n",
    ])
      assert.equal(parsePriceTable(text, "/dev/fd/63").entries[0]?.price, "0.05", text);
    // A CSV's `# source` lines still open a CSV.
    const csv = parsePriceTable("# source ea: ours\nsku,price,source\nm5.large,0.05,ea\n", "p.txt");
    assert.deepEqual([csv.entries[0]?.price, csv.sources], ["0.05", [{ id: "ea", text: "ours" }]]);
  });

  test("a YAML table's unknown top-level key, a source that is no text and an unknown os are refused", () => {
    // Each was taken: the key dropped unread, the source shown as [object Object], the entry never used.
    const refused: [string, string][] = [
      [
        "entries:\n  - {sku: m5.large, price: '1'}\nentries2: []\n",
        "b.yaml: unknown key `entries2` (did you mean `entries`?); a price book has `entries:` and `sources:`",
      ],
      [
        "source:\n  a: b\nentries:\n  - {sku: m5.large, price: '1'}\n",
        "b.yaml: unknown key `source` (did you mean `sources`?); a price book has `entries:` and `sources:`",
      ],
      [
        "sources:\n  a: {x: 1}\nentries:\n  - {sku: m5.large, price: '1', source: a}\n",
        "b.yaml: sources.a must be text describing the source",
      ],
      [
        "entries:\n  - {sku: m5.large, price: '1', os: windwos}\n",
        "b.yaml:2: entries[0]: os `windwos` is not linux or windows",
      ],
    ];
    for (const [text, message] of refused)
      assert.throws(
        () => parsePriceTable(text, "b.yaml"),
        (e: unknown) => e instanceof InputError && e.message === message,
        message,
      );
    assert.throws(
      () => parsePriceTable("sku,os,price\nm5.large,windwos,1\n", "b.csv"),
      /b\.csv:2: os `windwos`/,
    );
    assert.equal(parsePriceTable("sku,os,price\nm5.large,Windows,1\n", "b.csv").entries[0]?.os, "windows");
  });

  test("quoted CSV fields may hold commas", () => {
    const t = parsePriceTable('sku,price,source\nm5.large,0.1,"ours, 2025"\n', "q.csv");
    assert.equal(t.entries[0]!.source, "ours, 2025");
  });
});

describe("embedded book", () => {
  test("every entry names a declared source, and every price is decimal text", () => {
    for (const table of readEmbeddedTables()) {
      const declared = new Set(table.sources.map((s) => s.id));
      for (const e of table.entries) {
        assert.ok(declared.has(e.source), `${e.origin}: source ${e.source} is declared`);
        if (e.price !== undefined) assert.match(e.price, /^\d+(\.\d+)?$/, e.origin);
      }
    }
  });

  test("keeps the karpenter table whole (1,345 types; the shared README says 1,344) plus the P3 rows", () => {
    const ec2 = book.entries.filter((e) => e.service === "compute" && e.provider === "aws");
    assert.equal(ec2.length, 1345 + 3);
    assert.equal(ec2.filter((e) => e.source === "aws-ec2-karpenter").length, 1345);
  });
});
