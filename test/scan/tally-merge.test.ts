import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { compilePolicySet } from "../../src/engine/compile.js";
import { loadPolicies } from "../../src/policy/load.js";
import { typeCoverage } from "../../src/scan/coverage.js";
import { DEFAULT_DETECTORS } from "../../src/scan/detectors.js";
import type { ScoredFinding } from "../../src/scan/findings.js";
import { ScanTally } from "../../src/scan/summary.js";
import type { Finding } from "../../src/scan/types.js";

const TYPES = ["compute/instance", "aws/ec2", "storage/volume", "cache/cluster", "database/instance"];
const COVER = typeCoverage(
  compilePolicySet(loadPolicies(["examples/policies"]).policies).rules,
  DEFAULT_DETECTORS,
);

/** A resource's findings, reduced to what a tally reads. */
const resourceFindings = fc.array(
  fc.record({
    policy: fc.constantFrom("p1", "p2", "p3"),
    severity: fc.constantFrom("high", "low"),
    team: fc.constantFrom("a", "b", "c", "d"),
    action: fc.constantFrom("tag", "stop", "resize"),
    // Few distinct savings: many ties, which must break as one tally breaks them (earlier first).
    savings: fc.constantFrom(0n, 5n, 10n, 10n, 250n),
  }),
  { maxLength: 3 },
);

type ResourceSpec = typeof resourceFindings extends fc.Arbitrary<infer T> ? T : never;

function scored(resource: number, spec: ResourceSpec): ScoredFinding[] {
  return spec.map((s, i) => ({
    savings: s.savings,
    policy: s.policy,
    severity: s.severity,
    team: s.team,
    action: s.action,
    currency: "USD",
    finding: {
      fingerprint: `${resource}-${i}`,
      policy: s.policy,
      severity: s.severity,
      team: s.team,
      recommendation: { action: s.action, basis: "" },
    } as unknown as Finding,
  }));
}

test("tallies of consecutive pieces, merged in order, equal one tally of everything", () => {
  fc.assert(
    fc.property(
      fc.array(resourceFindings, { maxLength: 60 }),
      fc.array(fc.nat(60), { maxLength: 8 }),
      fc.integer({ min: 0, max: 6 }),
      (resources, cuts, topCount) => {
        const all = resources.map((r, i) => scored(i, r));
        // Each resource of a type: some judged by the example policies, some by nothing.
        const typeOf = (i: number) => TYPES[(i * 7) % TYPES.length]!;
        const one = new ScanTally("USD", topCount);
        all.forEach((r, i) => {
          one.addResource(r);
          one.addType(typeOf(i));
        });

        const bounds = [...new Set([0, ...cuts.filter((c) => c < all.length), all.length])].sort(
          (a, b) => a - b,
        );
        const merged = new ScanTally("USD", topCount);
        for (let i = 0; i + 1 < bounds.length; i++) {
          const piece = new ScanTally("USD", topCount);
          for (let j = bounds[i]!; j < bounds[i + 1]!; j++) {
            piece.addResource(all[j]!);
            piece.addType(typeOf(j));
          }
          merged.merge(structuredClone(piece.partial()));
        }
        assert.deepEqual(merged.summary(null, COVER), one.summary(null, COVER));
        assert.deepEqual(
          merged.topFindings().map((f) => f.fingerprint),
          one.topFindings().map((f) => f.fingerprint),
        );
        // The key order of savings by team follows first appearance, as in one tally.
        assert.deepEqual(
          Object.keys(merged.summary(null).savings_by_team),
          Object.keys(one.summary(null).savings_by_team),
        );
      },
    ),
    { numRuns: 300 },
  );
});

test("states not judged idle: the 20 most common named, the rest counted as one, merged as one tally", () => {
  const states = Array.from({ length: 25 }, (_, i) => `state-${String(i).padStart(2, "0")}`);
  const one = new ScanTally("USD");
  const pieces = [new ScanTally("USD"), new ScanTally("USD")];
  states.forEach((state, i) => {
    // state-00 once, state-01 twice ... state-24 25 times: the most common are the last ones.
    for (let n = 0; n <= i; n++) {
      one.addIdleOtherState(state);
      pieces[n % 2]!.addIdleOtherState(state);
    }
  });
  one.addIdleOtherState("x".repeat(100));
  pieces[1]!.addIdleOtherState("x".repeat(100));
  const merged = new ScanTally("USD");
  for (const p of pieces) merged.merge(structuredClone(p.partial()));
  const counts = one.summary(null).idle_other_states!;
  assert.deepEqual(merged.summary(null).idle_other_states, counts);
  const keys = Object.keys(counts);
  assert.equal(keys.length, 21);
  assert.deepEqual(keys.slice(0, 3), ["state-24", "state-23", "state-22"]);
  assert.equal(keys[19], "state-05");
  // state-00..04 (1+2+3+4+5) and the long one, cut to 40 characters where it is kept at all.
  assert.equal(counts["(other states)"], 16);
  assert.equal(new ScanTally("USD").summary(null).idle_other_states, undefined, "none: absent");
  const long = new ScanTally("USD");
  long.addIdleOtherState("x".repeat(100));
  assert.deepEqual(long.summary(null).idle_other_states, { [`${"x".repeat(39)}…`]: 1 });
});
