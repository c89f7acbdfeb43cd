import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import type { ResourceRequest } from "../src/engine/types.js";
import type { PolicyDocument } from "../src/policy/types.js";

/** A small seeded PRNG (mulberry32) so every run benchmarks the same inputs. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

export interface Workload {
  name: string;
  policies: PolicyDocument[];
  requests: ResourceRequest[];
}

const FAMILIES = [
  "general-purpose",
  "compute-optimized",
  "memory-optimized",
  "gpu",
  "high-memory",
  "storage-optimized",
];
const ENVIRONMENTS = ["production", "staging", "development", "test"];

/** (a) The guide's example policies with requests shaped like its two examples, half compliant. */
export function guideRequests(count: number, seed = 1): ResourceRequest[] {
  const rand = prng(seed);
  const out: ResourceRequest[] = [];
  for (let i = 0; i < count; i++) {
    const compliant = rand() < 0.5;
    out.push({
      type: pick(rand, ["compute/instance", "compute/instance", "storage/volume", "database/instance"]),
      tags: {
        "cost-center": compliant
          ? `CC-${String(Math.floor(rand() * 1e6)).padStart(6, "0")}`
          : pick(rand, ["INVALID", "CC-12", "cc-000001"]),
        environment: compliant ? pick(rand, ENVIRONMENTS.slice(0, 3)) : pick(rand, ENVIRONMENTS),
      },
      specs: {
        vcpus: compliant ? pick(rand, [2, 4, 8, 16]) : pick(rand, [8, 16, 32, 64]),
        memory_gb: compliant ? pick(rand, [4, 16, 32, 64]) : pick(rand, [32, 128, 256]),
        instance_family: compliant ? pick(rand, FAMILIES.slice(0, 3)) : pick(rand, FAMILIES),
      },
    });
  }
  return out;
}

const CATEGORIES: Record<string, string[]> = {
  compute: ["instance", "instance-group", "function", "container"],
  storage: ["volume", "bucket", "snapshot"],
  database: ["instance", "cluster", "cache"],
  network: ["load-balancer", "nat-gateway", "vpn"],
};
const TYPES = Object.entries(CATEGORIES).flatMap(([c, kinds]) => kinds.map((k) => `${c}/${k}`));

/** Organisation-wide tag conventions: each key has one rule, as in a real tagging standard. */
const TAG_CONVENTIONS: {
  key: string;
  pattern?: string;
  allowedValues?: string[];
  good: string[];
  bad: string[];
}[] = [
  {
    key: "cost-center",
    pattern: "^CC-[0-9]{6}$",
    good: ["CC-001234", "CC-870001", "CC-000042"],
    bad: ["INVALID", "CC-12"],
  },
  {
    key: "environment",
    allowedValues: ["production", "staging", "development"],
    good: ["production", "staging", "development"],
    bad: ["test"],
  },
  {
    key: "owner",
    pattern: "^[a-z]+@company\\.com$",
    good: ["alice@company.com", "bob@company.com"],
    bad: ["alice@gmail.com"],
  },
  {
    key: "project",
    pattern: "^[a-z][a-z0-9-]{2,30}$",
    good: ["ledger", "web-frontend", "ingest2"],
    bad: ["X"],
  },
  {
    key: "team",
    allowedValues: ["payments", "platform", "data", "web"],
    good: ["payments", "platform", "data", "web"],
    bad: ["misc"],
  },
  { key: "tier", pattern: "^(gold|silver|bronze)$", good: ["gold", "silver", "bronze"], bad: ["platinum"] },
  { key: "service", pattern: "^svc-[a-z]+$", good: ["svc-api", "svc-batch"], bad: ["api"] },
  {
    key: "data-class",
    allowedValues: ["public", "internal", "confidential"],
    good: ["internal", "public"],
    bad: ["secret"],
  },
];

/**
 * (b) A generated set of 50 policies with 200 rules over many resource types (half limits, half tag
 * rules following one tagging standard, a fifth namespaced), and requests of which most comply and
 * some break a rule or two — the shape of real traffic at a gate. With `violationHeavy`, every tag on
 * every request is wrong and sizes are large: the worst case, where decisions carry dozens of violations.
 */
export function generatedWorkload(seed = 42, violationHeavy = false): Workload {
  const rand = prng(seed);
  const policies: PolicyDocument[] = [];
  let rules = 0;
  for (let p = 0; p < 50; p++) {
    const limit = p % 2 === 0;
    const namespace = p % 5 === 0 ? pick(rand, ENVIRONMENTS.slice(0, 3)) : undefined;
    const ruleList = [];
    for (let r = 0; r < 4; r++, rules++) {
      const category = pick(rand, Object.keys(CATEGORIES));
      const scope = rand() < 0.3 ? `${category}/*` : `${category}/${pick(rand, CATEGORIES[category]!)}`;
      if (limit) {
        const constraint: Record<string, unknown> = { maxVCPUs: pick(rand, [16, 32, 64]) };
        if (rand() < 0.7) constraint.maxMemoryGB = pick(rand, [64, 128, 256]);
        if (rand() < 0.5)
          constraint.deniedInstanceFamilies = ["gpu", pick(rand, ["high-memory", "storage-optimized"])];
        if (rand() < 0.3) constraint.maxSizeGB = pick(rand, [1000, 4000]);
        ruleList.push({ name: `rule-${r}`, resource: scope, constraint });
      } else {
        const conventions = [...TAG_CONVENTIONS]
          .sort(() => rand() - 0.5)
          .slice(0, 2 + Math.floor(rand() * 2));
        ruleList.push({
          name: `rule-${r}`,
          scope: [scope, `${pick(rand, Object.keys(CATEGORIES))}/*`],
          requiredTags: conventions.map(({ key, pattern, allowedValues }) =>
            pattern ? { key, pattern } : { key, allowedValues },
          ),
        });
      }
    }
    policies.push({
      apiVersion: "costguard.dev/v1",
      kind: "CostPolicy",
      metadata: { name: `generated-${p}`, ...(namespace ? { namespace } : {}) },
      spec: limit
        ? {
            type: "ResourceLimit",
            enforcement: pick(rand, ["deny", "warn"] as const),
            rules: ruleList as never,
          }
        : { type: "TagRequirement", rules: ruleList as never },
    } as PolicyDocument);
  }
  if (rules !== 200) throw new Error(`expected 200 rules, made ${rules}`);
  const requests: ResourceRequest[] = [];
  for (let i = 0; i < 1000; i++) {
    const sloppy = violationHeavy || rand() < 0.2; // one request in five breaks something
    const tags: Record<string, string> = {};
    for (const c of TAG_CONVENTIONS) {
      if (violationHeavy) tags[c.key] = pick(rand, c.bad);
      else if (sloppy && rand() < 0.15)
        continue; // a forgotten tag
      else tags[c.key] = sloppy && rand() < 0.15 ? pick(rand, c.bad) : pick(rand, c.good);
    }
    const big = violationHeavy || (sloppy && rand() < 0.3);
    requests.push({
      type: pick(rand, TYPES),
      tags,
      specs: {
        vcpus: big ? pick(rand, [96, 128]) : pick(rand, [2, 4, 8, 16]),
        memory_gb: big ? pick(rand, [384, 512]) : pick(rand, [4, 16, 32, 64]),
        instance_family: big ? "gpu" : pick(rand, FAMILIES.slice(0, 3)),
        size_gb: big ? 8000 : pick(rand, [100, 500, 800]),
      },
    });
  }
  return {
    name: violationHeavy ? "generated, every request violating" : "generated 50 policies / 200 rules",
    policies,
    requests,
  };
}

/** Writes a workload where seed_bench.py can read it: a folder of YAML policies and a JSON array of requests. */
export function writeWorkload(
  dir: string,
  policies: readonly PolicyDocument[],
  requests: readonly ResourceRequest[],
): { policies: string; requests: string } {
  const policyDir = join(dir, "policies");
  mkdirSync(policyDir, { recursive: true });
  for (const [i, p] of policies.entries()) {
    writeFileSync(join(policyDir, `${String(i).padStart(3, "0")}.yaml`), stringify(p));
  }
  const requestsFile = join(dir, "requests.json");
  writeFileSync(requestsFile, JSON.stringify(requests));
  return { policies: policyDir, requests: requestsFile };
}
