import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { InputError } from "../../src/errors.js";
import { formatAmount } from "../../src/money/exact.js";
import { loadPrices } from "../../src/scan/prices.js";
import { resourceCost } from "../../src/scan/resource-cost.js";

const dir = mkdtempSync(join(tmpdir(), "costguard-scan-prices-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function table(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const m5 = {
  id: "i-1",
  type: "compute/instance",
  region: "us-east-1",
  specs: { instance_type: "m5.large" },
} as const;

test("a price book entry in another currency is refused where a scan would count it, not taken for dollars", () => {
  const eur = loadPrices([table("eur.csv", "sku,region,price,currency\nm5.large,,0.1,EUR\n")]);
  assert.throws(
    () => resourceCost(m5, eur),
    (e: Error) =>
      e instanceof InputError &&
      /^resource i-1: its price book estimate \(.*eur\.csv:2\)\) is priced in EUR, and scans and remediation count savings in USD: costguard converts no currency/.test(
        e.message,
      ),
  );
  // As a resize target's price too.
  assert.throws(() => eur.instanceType("m5.large"), /eur\.csv:2: m5\.large is priced in EUR/);
  // Entries in dollars, and resources priced by their own cost, are unaffected.
  assert.equal(eur.instanceType("m5.xlarge")?.hourly_text, "0.192");
  assert.equal(resourceCost({ ...m5, hourly_cost: "0.2" }, eur)?.from, "resource");
  const usd = loadPrices([table("usd.csv", "sku,region,price,currency\nm5.large,,0.1,USD\n")]);
  assert.equal(formatAmount(resourceCost(m5, usd)!.monthly), "73");
});

test("a database class priced in another currency is refused as a resize target's price", () => {
  const eur = loadPrices([
    table(
      "db.csv",
      "service,sku,engine,region,price,currency\ndatabase,db.m5.large,postgres,us-east-1,0.2,EUR\n",
    ),
  ]);
  assert.throws(
    () => eur.databaseHourly("db.m5.large", "postgres"),
    /db\.csv:2: db\.m5\.large is priced in EUR/,
  );
});
