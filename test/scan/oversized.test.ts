import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Resource } from "../../src/inventory/types.js";
import { findingsForResource } from "../../src/scan/findings.js";
import { resizeTarget } from "../../src/scan/resize.js";
import { PRICES, scanContext } from "../helpers/scan-context.js";

/** The guide's resource limits (production) and tags, loaded unchanged from examples/policies. */
const ctx = scanContext({ paths: ["examples/policies"] });

const TAGS = {
  "cost-center": "CC-104233",
  environment: "production",
  owner: "maria@company.com",
  project: "ledger",
};

function m5(type: string, cpu: number, extra: Partial<Resource> = {}): Resource {
  const shape = PRICES.instanceType(type)!;
  return {
    id: `i-${type}`,
    type: "compute/instance",
    state: "running",
    tags: TAGS,
    specs: {
      instance_type: type,
      vcpus: shape.vcpus,
      memory_gb: shape.memory_gb,
      instance_family: shape.category,
    },
    hourly_cost: shape.hourly_text,
    metrics: { avg_cpu_percent: cpu, avg_network_bytes: 5e9, window_days: 7 },
    ...extra,
  };
}

describe("oversized instances against ResourceLimit, with a resize target", () => {
  test("m5.8xlarge (32 vCPUs, 128 GB) at 10% CPU over a 16 vCPU / 64 GB limit → m5.2xlarge", () => {
    const found = findingsForResource(m5("m5.8xlarge", 10), ctx);
    assert.equal(found.length, 1);
    const f = found[0]!.finding;
    assert.equal(f.policy, "resource-limits");
    assert.equal(f.rule, "max-instance-size");
    assert.equal(f.recommendation.action, "resize");
    // Needs ≥ 32 × 10 / 60 = 5.3 vCPUs within the limits: m5.2xlarge (8 vCPUs, 0.384/h).
    assert.deepEqual(f.recommendation.target, {
      instance_type: "m5.2xlarge",
      vcpus: 8,
      memory_gb: 32,
      hourly_cost: "0.384",
    });
    // (1.536 − 0.384) × 730
    assert.equal(f.savings_monthly, "840.96");
    assert.deepEqual(
      f.checks.map((c) => c.field),
      ["specs.vcpus", "specs.memory_gb"],
    );
  });

  test("at 30% CPU the load needs exactly 16 vCPUs: m5.4xlarge still fits (limits are inclusive)", () => {
    const f = findingsForResource(m5("m5.8xlarge", 30), ctx)[0]!.finding;
    assert.equal(f.recommendation.target?.instance_type, "m5.4xlarge");
    assert.equal(f.savings_monthly, "560.64");
  });

  test("at 31% CPU no m5 size within the limit carries the load: notify, nothing saved", () => {
    const f = findingsForResource(m5("m5.8xlarge", 31), ctx)[0]!.finding;
    assert.equal(f.recommendation.action, "notify");
    assert.equal(f.savings_monthly, "0");
    assert.match(f.recommendation.basis, /no smaller m5 size/);
  });

  test("within the limit there is no finding at all", () => {
    assert.deepEqual(findingsForResource(m5("m5.4xlarge", 10), ctx), []);
  });

  test("outside production the production limits do not apply", () => {
    const dev = m5("m5.8xlarge", 10, { tags: { ...TAGS, environment: "development" } });
    assert.deepEqual(findingsForResource(dev, ctx), []);
  });

  test("a stopped instance still gets a target but saves nothing until it runs", () => {
    // Google Cloud writes its states in capitals.
    for (const state of ["stopped", "STOPPED"]) {
      const f = findingsForResource(m5("m5.8xlarge", 10, { state }), ctx)[0]!.finding;
      assert.equal(f.recommendation.target?.instance_type, "m5.2xlarge");
      assert.equal(f.savings_monthly, "0", state);
    }
  });

  test("a denied family is not fixed by a smaller size of it: notify", () => {
    const shape = PRICES.instanceType("g5.8xlarge")!;
    const gpu = m5("m5.8xlarge", 5, {
      specs: {
        instance_type: "g5.8xlarge",
        vcpus: shape.vcpus,
        memory_gb: shape.memory_gb,
        instance_family: "gpu",
      },
      hourly_cost: shape.hourly_text,
    });
    const f = findingsForResource(gpu, ctx)[0]!.finding;
    assert.equal(f.recommendation.action, "notify");
  });

  test("databases: db.m5.4xlarge over an 8 vCPU limit → db.m5.2xlarge, own price scaled by the EC2 ratio", () => {
    const db: Resource = {
      id: "db-1",
      type: "database/instance",
      state: "available",
      tags: TAGS,
      specs: { instance_type: "db.m5.4xlarge", vcpus: 16, memory_gb: 64, storage_gb: 100 },
      hourly_cost: "1.4208",
      metrics: { avg_cpu_percent: 20, avg_network_bytes: 5e9, window_days: 7 },
    };
    const f = findingsForResource(db, ctx)[0]!.finding;
    assert.equal(f.rule, "max-database-size");
    assert.equal(f.recommendation.target?.instance_type, "db.m5.2xlarge");
    assert.equal(f.recommendation.target?.hourly_cost, "0.7104");
    assert.equal(f.savings_monthly, "518.592");
  });

  test("databases: the target is an RDS class the price book knows, not an EC2-only size", () => {
    const db = (type: string, engine: string | undefined, cpu: number): Resource => ({
      id: `db-${type}`,
      type: "database/instance",
      state: "available",
      tags: TAGS,
      specs: {
        instance_type: type,
        vcpus: 16,
        memory_gb: 128,
        storage_gb: 250,
        ...(engine ? { engine } : {}),
      },
      hourly_cost: "1.72",
      metrics: { avg_cpu_percent: cpu, avg_network_bytes: 5e9, window_days: 7 },
    });
    // 16 × 1.66 / 60 needs under one vCPU: EC2 has r6g.medium (1 vCPU), RDS starts at db.r6g.large.
    for (const engine of ["mysql", undefined]) {
      const f = findingsForResource(db("db.r6g.4xlarge", engine, 1.66), ctx)[0]!.finding;
      assert.equal(f.recommendation.action, "resize");
      assert.equal(f.recommendation.target?.instance_type, "db.r6g.large");
    }
    // A series the book knows no RDS class of: no invented class, a notify that says why.
    const r7g = findingsForResource(db("db.r7g.4xlarge", "mysql", 1.66), ctx)[0]!.finding;
    assert.equal(r7g.recommendation.action, "notify");
    assert.match(r7g.recommendation.basis, /no smaller db\.r7g class the price book knows/);
    // For an EC2 instance of the same shape the smallest EC2 size is fine.
    const limits = { maxVcpus: 8, avgCpuPercent: 1.66, targetCpuPercent: 60 };
    assert.equal(
      resizeTarget(PRICES.instanceType("r6g.4xlarge")!, limits, PRICES)?.instance_type,
      "r6g.medium",
    );
  });

  test("with no CPU average the target is the largest size within the limits, not the smallest", () => {
    const { metrics: _, ...unmeasured } = m5("m5.24xlarge", 0);
    const f = findingsForResource(unmeasured, ctx)[0]!.finding;
    // 16 vCPU / 64 GB: m5.4xlarge (0.768/h), the least change that complies; not m5.large.
    assert.equal(f.recommendation.target?.instance_type, "m5.4xlarge");
    assert.match(f.recommendation.basis, /largest m5 size within the limits \(no CPU average/);
    // (4.608 − 0.768) × 730
    assert.equal(f.savings_monthly, "2803.2");
    // A CPU average, even a low one, sizes the target by the load.
    const low = findingsForResource(m5("m5.24xlarge", 1), ctx)[0]!.finding;
    assert.equal(low.recommendation.target?.instance_type, "m5.large");
    assert.match(low.recommendation.basis, /cheapest m5 size within the limits that runs the observed load/);
  });

  test("a saving by price ratio is the exact one, rounded once at the pico-unit, not a rounded rate × 730", () => {
    const { metrics: _, ...unmeasured } = m5("m5.24xlarge", 0);
    // m5.4xlarge is 1/6 of m5.24xlarge's price: at 1.0 an hour, 5/6 × 730 = 608.3̅ a month (the target
    // rate truncated to 0.166666666666 first gave 608.33333333382).
    const hourly = findingsForResource({ ...unmeasured, hourly_cost: "1.0" }, ctx)[0]!.finding;
    assert.equal(hourly.savings_monthly, "608.333333333333");
    assert.equal(hourly.recommendation.target?.hourly_cost, "0.166666666667");
    // A cost given by the month is that month's: 5/6 of 100, not of 100 ÷ 730 rounded, × 730.
    const { hourly_cost: __, ...byMonth } = unmeasured;
    const monthly = findingsForResource({ ...byMonth, monthly_cost: "100" }, ctx)[0]!.finding;
    assert.equal(monthly.savings_monthly, "83.333333333333");
  });

  test("resizeTarget never proposes metal, a bigger price, or fewer GPUs", () => {
    const big = PRICES.instanceType("m5.24xlarge")!;
    const t = resizeTarget(big, { maxVcpus: 96, targetCpuPercent: 60, avgCpuPercent: 90 }, PRICES);
    assert.equal(t, undefined); // needs 144 vCPUs: nothing smaller fits
    const g = PRICES.instanceType("g5.12xlarge")!;
    const gt = resizeTarget(g, { maxVcpus: 16, targetCpuPercent: 60 }, PRICES);
    assert.ok(gt === undefined || gt.gpus >= g.gpus);
  });
});

describe("policy findings from the same engine as the gates", () => {
  test("missing and malformed tags group into one tag finding per rule, saving nothing", () => {
    const r = m5("m5.large", 50, { tags: { "cost-center": "cc-12", environment: "production" } });
    const found = findingsForResource(r, ctx);
    assert.equal(found.length, 1);
    const f = found[0]!.finding;
    assert.equal(f.policy, "mandatory-tags");
    assert.equal(f.recommendation.action, "tag");
    assert.deepEqual(f.recommendation.tags, ["cost-center", "owner", "project"]);
    assert.equal(f.savings_monthly, "0");
    assert.equal(f.severity, "high");
    assert.equal(f.enforcement, "deny");
    assert.equal(f.checks.length, 3);
  });

  test("the fingerprint is stable across scans and differs by rule and resource", () => {
    const r = m5("m5.8xlarge", 1, { tags: {} });
    const a = findingsForResource(r, ctx).map((s) => s.finding.fingerprint);
    const b = findingsForResource(structuredClone(r), ctx).map((s) => s.finding.fingerprint);
    assert.deepEqual(a, b);
    assert.equal(new Set(a).size, a.length);
    const other = findingsForResource({ ...r, id: "i-other" }, ctx).map((s) => s.finding.fingerprint);
    assert.equal(a.filter((x) => other.includes(x)).length, 0);
  });
});
