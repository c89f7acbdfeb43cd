import assert from "node:assert/strict";
import { test } from "node:test";
import { compilePolicySet } from "../../src/engine/compile.js";
import { generateEstate } from "../../src/inventory/sandbox/estate.js";
import type { Resource } from "../../src/inventory/types.js";
import { loadPolicies } from "../../src/policy/load.js";
import { createSpecsEnricher } from "../../src/pricing/enrich.js";
import { loadPriceBook } from "../../src/pricing/load.js";
import { createPricedDecider } from "../../src/pricing/priced-decider.js";
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
  inventory: "file:estate.jsonl",
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

const GUIDE = loadPolicies(["examples/policies"]).policies;

test("a scan judges an inventory that names only an instance type on its shape, as the gates do", () => {
  const policySet = compilePolicySet(GUIDE);
  const scan = createScanDecider(policySet, book);
  const gate = createPricedDecider(policySet, book);
  const big: Resource = {
    id: "i-big",
    type: "compute/instance",
    provider: "aws",
    region: "us-east-1",
    state: "running",
    tags: { environment: "production" },
    specs: { instance_type: "m5.24xlarge" },
  };
  const messages = (d: { violations: readonly { message: string }[] }) => d.violations.map((v) => v.message);
  const scanned = messages(scan.decide(big));
  assert.ok(scanned.includes("Requested 96 vCPUs exceeds limit of 16"), scanned.join("\n"));
  assert.ok(scanned.includes("Requested 384GB memory exceeds limit of 64GB"), scanned.join("\n"));
  assert.deepEqual(scanned, messages(gate.decide(big)));
  // The finding is the resize the oversized detector recommends, not an unchecked field.
  const findings = findingsForResource(big, { ...ctx, decider: scan });
  assert.equal(
    findings.find((f) => f.finding.rule === "max-instance-size")?.finding.recommendation.action,
    "resize",
  );
});

test("a scan never overwrites the specs a resource carries, and passes it on untouched", () => {
  const scan = createScanDecider(compilePolicySet(GUIDE), book);
  const own: Resource = {
    id: "i-own",
    type: "compute/instance",
    state: "running",
    tags: { environment: "production" },
    specs: { instance_type: "m5.24xlarge", vcpus: 8, memory_gb: 32, instance_family: "general-purpose" },
  };
  assert.deepEqual(
    scan.decide(own).violations.filter((v) => v.policy === "resource-limits"),
    [],
    "8 vCPUs and 32 GB as the resource says, not the 96 and 384 of its type",
  );
  const enricher = createSpecsEnricher(book, new Set(["vcpus", "memory_gb", "instance_family"] as const));
  assert.equal(enricher.enrich(own), own, "nothing to fill: the same object");
  const filled = enricher.enrich({ ...own, specs: { instance_type: "p3.2xlarge", vcpus: 4 } });
  assert.deepEqual(filled.specs, {
    instance_type: "p3.2xlarge",
    vcpus: 4,
    memory_gb: 61,
    instance_family: "gpu",
  });
});

test("a scan fills a volume's class from its SKU when a policy reads the volume type", () => {
  const scan = createScanDecider(compilePolicySet(GUIDE), book);
  const io1: Resource = {
    id: "vol-1",
    type: "storage/volume",
    state: "available",
    tags: { environment: "production" },
    specs: { size_gb: 100, volume_sku: "io1" },
  };
  assert.ok(
    scan.decide(io1).violations.some((v) => v.message.includes("provisioned-iops")),
    JSON.stringify(scan.decide(io1).violations),
  );
});

test("over a sandbox estate, with specs given or only instance types, a scan's policy findings are the gates' violations", () => {
  const policySet = compilePolicySet(GUIDE);
  const gate = createPricedDecider(policySet, book);
  const scanCtx = { ...ctx, decider: createScanDecider(policySet, book) };
  const estate = generateEstate({ resources: 600, seed: 11, at: ctx.at }, PRICES);
  let stripped = 0;
  for (const [i, full] of estate.entries()) {
    // Every other resource with an instance type keeps only the type, as many inventory exports do.
    const r: Resource =
      i % 2 === 1 && typeof full.specs?.instance_type === "string"
        ? { ...full, specs: { instance_type: full.specs.instance_type } }
        : full;
    if (r !== full) stripped++;
    const fromGate = gate
      .decide(r)
      .violations.map((v) => `${v.policy}/${v.rule}`)
      .filter((k, j, all) => all.indexOf(k) === j)
      .sort();
    const fromScan = findingsForResource(r, scanCtx)
      .filter((f) => f.finding.source === "policy")
      .map((f) => `${f.finding.policy}/${f.finding.rule}`)
      .sort();
    assert.deepEqual(fromScan, fromGate, `${r.id} (${JSON.stringify(r.specs)})`);
  }
  assert.ok(stripped > 100, `${stripped} resources judged on their type alone`);
});
