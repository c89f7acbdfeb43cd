import assert from "node:assert/strict";
import { test } from "node:test";
import { compilePolicySet } from "../../src/engine/compile.js";
import type { Resource } from "../../src/inventory/types.js";
import { loadPriceBook } from "../../src/pricing/load.js";
import { DEFAULT_DETECTORS } from "../../src/scan/detectors.js";
import { findingsForResource } from "../../src/scan/findings.js";
import { createScanDecider } from "../../src/scan/scan-decider.js";
import { PRICES, policiesFromYaml } from "../helpers/scan-context.js";

const COST_POLICY = `
apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: cost-caps}
spec:
  type: ResourceLimit
  rules:
    - name: max-instance-cost
      resource: compute/instance
      constraint: {maxMonthlyCost: 100}
`;

const book = loadPriceBook();
const ctx = {
  decider: createScanDecider(compilePolicySet(policiesFromYaml(COST_POLICY)), book),
  prices: PRICES,
  detectors: DEFAULT_DETECTORS,
  at: new Date("2026-06-01T00:00:00Z"),
  currency: "USD",
};
const m5: Resource = {
  id: "i-1",
  type: "compute/instance",
  provider: "aws",
  region: "us-east-1",
  state: "running",
  specs: { instance_type: "m5.xlarge" },
};

test("maxMonthlyCost in a scan: a resource without its own cost is priced by the book, as at the gates", () => {
  // m5.xlarge: 0.192 × 730 = 140.16 > 100
  const [f] = findingsForResource(m5, ctx);
  assert.equal(f?.finding.rule, "max-instance-cost");
  assert.match(f!.finding.message, /140\.16/);
});

test("maxMonthlyCost in a scan: the resource's own cost wins over the book", () => {
  assert.deepEqual(findingsForResource({ ...m5, hourly_cost: "0.1" }, ctx), []);
  assert.equal(
    findingsForResource({ ...m5, monthly_cost: "100.01" }, ctx)[0]?.finding.rule,
    "max-instance-cost",
  );
});
