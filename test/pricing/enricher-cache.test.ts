import assert from "node:assert/strict";
import { test } from "node:test";
import { createPriceBookEnricher } from "../../src/pricing/enrich.js";
import { loadPriceBook } from "../../src/pricing/load.js";

test("the enricher's estimate cache keeps requests that differ in region, specs or unknown fields apart", () => {
  const enricher = createPriceBookEnricher(loadPriceBook([]));
  const cost = (request: Record<string, unknown>) =>
    enricher.enrich({ type: "compute/instance", ...request }).cost as { status: string; monthly?: string };
  const east = cost({ provider: "aws", region: "us-east-1", specs: { instance_type: "m5.4xlarge" } });
  assert.equal(east.monthly, "560.64");
  const mars = cost({ provider: "aws", region: "mars-north-1", specs: { instance_type: "m5.4xlarge" } });
  assert.equal(mars.status, "unknown");
  const small = cost({ provider: "aws", region: "us-east-1", specs: { instance_type: "m5.large" } });
  assert.notEqual(small.monthly, east.monthly);
  const unknownType = cost({
    provider: "aws",
    region: "us-east-1",
    specs: {},
    unknown_fields: ["specs.instance_type"],
  });
  assert.equal(unknownType.status, "unknown");
  const again = cost({ provider: "aws", region: "us-east-1", specs: { instance_type: "m5.4xlarge" } });
  assert.equal(again.monthly, "560.64");
  assert.ok(Object.isFrozen(again), "a shared estimate cannot be changed by one caller under another");
});
