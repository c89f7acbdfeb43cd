import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { compilePolicySet } from "../../src/engine/compile.js";
import type { ResourceRequest } from "../../src/engine/types.js";
import type { LoadedPolicy, PolicyDocument } from "../../src/policy/types.js";

const enforcement = fc.constantFrom("deny", "warn", "audit" as const);
const families = ["general-purpose", "compute-optimized", "gpu", "high-memory"];

/** Random ResourceLimit and TagRequirement policies with random enforcement on spec and rules. */
const policyArb = (i: number) =>
  fc
    .record({
      kind: fc.constantFrom("limit", "tag"),
      specEnforcement: fc.option(enforcement, { nil: undefined }),
      rules: fc.array(
        fc.record({
          enforcement: fc.option(enforcement, { nil: undefined }),
          maxVCPUs: fc.integer({ min: 1, max: 64 }),
          denied: fc.subarray(families),
          tag: fc.constantFrom("owner", "team", "cost-center"),
          pattern: fc.constantFrom("^[a-z]+$", "^CC-[0-9]{6}$", "x"),
        }),
        { minLength: 1, maxLength: 3 },
      ),
    })
    .map(({ kind, specEnforcement, rules }): LoadedPolicy => {
      const document = {
        apiVersion: "costguard.dev/v1",
        kind: "CostPolicy",
        metadata: { name: `p${i}` },
        spec:
          kind === "limit"
            ? {
                type: "ResourceLimit",
                ...(specEnforcement ? { enforcement: specEnforcement } : {}),
                rules: rules.map((r, j) => ({
                  name: `r${j}`,
                  resource: "compute/*",
                  ...(r.enforcement ? { enforcement: r.enforcement } : {}),
                  constraint: {
                    maxVCPUs: r.maxVCPUs,
                    ...(r.denied.length ? { deniedInstanceFamilies: r.denied } : {}),
                  },
                })),
              }
            : {
                type: "TagRequirement",
                ...(specEnforcement ? { enforcement: specEnforcement } : {}),
                rules: rules.map((r, j) => ({
                  name: `r${j}`,
                  ...(r.enforcement ? { enforcement: r.enforcement } : {}),
                  requiredTags: [{ key: r.tag, pattern: r.pattern }],
                })),
              },
      } as PolicyDocument;
      return { document, source: { file: `p${i}.yaml`, index: 0, locate: () => ({ line: 1, column: 1 }) } };
    });

const policySetArb = fc
  .integer({ min: 1, max: 5 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => policyArb(i))));

const requestArb: fc.Arbitrary<ResourceRequest> = fc.record({
  type: fc.constantFrom("compute/instance", "compute/gpu-node", "storage/volume"),
  tags: fc.dictionary(
    fc.constantFrom("owner", "team", "cost-center"),
    fc.constantFrom("alice", "CC-123456", "Web", "x1"),
    {
      maxKeys: 3,
    },
  ),
  specs: fc.record(
    { vcpus: fc.integer({ min: 0, max: 128 }), instance_family: fc.constantFrom(...families) },
    {
      requiredKeys: [],
    },
  ),
});

describe("decision properties", () => {
  test("deny exactly when some violation's enforcement is deny; else warn exactly when some is warn", () => {
    fc.assert(
      fc.property(
        policySetArb,
        fc.array(requestArb, { minLength: 1, maxLength: 10 }),
        (policies, requests) => {
          const set = compilePolicySet(policies);
          for (const request of requests) {
            const d = set.evaluate(request);
            const kinds = new Set(d.violations.map((v) => v.enforcement));
            const expected = kinds.has("deny") ? "deny" : kinds.has("warn") ? "warn" : "allow";
            assert.equal(d.decision, expected);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test("every violation's enforcement is its rule's, else its spec's, else deny", () => {
    fc.assert(
      fc.property(policySetArb, requestArb, (policies, request) => {
        const d = compilePolicySet(policies).evaluate(request);
        for (const v of d.violations) {
          const spec = policies.find((p) => p.document.metadata.name === v.policy)!.document.spec;
          const rule = spec.rules.find((r) => r.name === v.rule)!;
          assert.equal(v.enforcement, rule.enforcement ?? spec.enforcement ?? "deny");
        }
      }),
      { numRuns: 200 },
    );
  });

  test("evaluation is deterministic and does not change the request", () => {
    fc.assert(
      fc.property(policySetArb, requestArb, (policies, request) => {
        const set = compilePolicySet(policies);
        const before = JSON.stringify(request);
        const first = set.evaluate(request);
        assert.equal(JSON.stringify(request), before);
        assert.deepEqual(set.evaluate(request), first);
      }),
      { numRuns: 200 },
    );
  });

  test("audit-only policy sets never deny or warn", () => {
    fc.assert(
      fc.property(policySetArb, requestArb, (policies, request) => {
        const audited = policies.map((p) => {
          const doc = structuredClone(p.document);
          doc.spec.enforcement = "audit";
          for (const r of doc.spec.rules) r.enforcement = "audit";
          return { ...p, document: doc };
        });
        assert.equal(compilePolicySet(audited).evaluate(request).decision, "allow");
      }),
      { numRuns: 100 },
    );
  });
});
