import assert from "node:assert/strict";
import { test } from "node:test";
import { compilePolicySet } from "../../src/engine/compile.js";
import { loadPolicies } from "../../src/policy/load.js";
import { typeCoverage } from "../../src/scan/coverage.js";
import { DEFAULT_DETECTORS, type DetectorConfig } from "../../src/scan/detectors.js";
import { ScanTally } from "../../src/scan/summary.js";
import { writeTemp } from "../helpers/policies.js";

/** The example policies: limits on three types, tags on four families, and two budget rules (every type). */
const examples = compilePolicySet(loadPolicies(["examples/policies"]).policies).rules;

test("a type is judged by a rule naming it or by a detector; budget rules, matching every type, judge none", () => {
  const cover = typeCoverage(examples, DEFAULT_DETECTORS);
  for (const type of ["compute/instance", "storage/volume", "network/load-balancer", "compute/function"])
    assert.equal(cover.judges(type), true, type);
  // team-budgets' rules have no resource scope (every type), but a scan does not judge budgets.
  for (const type of ["aws/ec2", "Compute/Instance", "cache/cluster"])
    assert.equal(cover.judges(type), false, type);
  // With one tag rule on instances alone: a volume is judged by the unattached detector, a database by
  // the idle detector, and by nothing once they are off.
  const off: DetectorConfig = {
    ...DEFAULT_DETECTORS,
    idle: { ...DEFAULT_DETECTORS.idle, enabled: false },
    unattached: { ...DEFAULT_DETECTORS.unattached, enabled: false },
  };
  const tagsOnly = compilePolicySet(
    loadPolicies([
      writeTemp(
        `apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: tags}
spec:
  type: TagRequirement
  rules:
    - name: team
      scope: [compute/instance]
      requiredTags: [{key: team}]
`,
        "tags-only.yaml",
      ),
    ]).policies,
  ).rules;
  assert.equal(typeCoverage(tagsOnly, off).judges("storage/volume"), false);
  assert.equal(
    typeCoverage(tagsOnly, DEFAULT_DETECTORS).judges("storage/volume"),
    true,
    "the unattached detector",
  );
  assert.equal(
    typeCoverage(tagsOnly, DEFAULT_DETECTORS).judges("database/instance"),
    true,
    "the idle detector",
  );
  assert.deepEqual(cover.idleRules(["compute/instance", "storage/volume"]), [
    "resource-limits/max-database-size",
  ]);
  assert.deepEqual(cover.idleRules(["aws/ec2"]), [
    "resource-limits/max-instance-size",
    "resource-limits/max-storage-size",
    "resource-limits/max-database-size",
    "mandatory-tags/cost-center-required",
  ]);
});

test("a summary names the resources nothing judged by type and the rules that judged none", () => {
  const cover = typeCoverage(examples, DEFAULT_DETECTORS);
  const tally = new ScanTally("USD");
  for (const type of ["aws/ec2", "aws/ec2", "storage/volume", "compute/instance", "cache/cluster"]) {
    tally.addResource([]);
    tally.addType(type);
  }
  const s = tally.summary(null, cover);
  assert.deepEqual(s.unjudged_types, { "aws/ec2": 2, "cache/cluster": 1 });
  assert.deepEqual(s.rules_judging_nothing, ["resource-limits/max-database-size"]);
  // Without coverage (a caller with no rules at hand), and with nothing scanned: neither is said.
  assert.equal("unjudged_types" in tally.summary(null), false);
  const empty = new ScanTally("USD").summary(null, cover);
  assert.equal("unjudged_types" in empty || "rules_judging_nothing" in empty, false);
});

test("past 4,096 distinct types the tally stops keeping them: rules judging nothing are then not said", () => {
  const cover = typeCoverage(examples, DEFAULT_DETECTORS);
  const pieces = [new ScanTally("USD"), new ScanTally("USD")];
  for (let i = 0; i < 5000; i++) pieces[i % 2]!.addType(`made/up-${i}`);
  const merged = new ScanTally("USD");
  for (const p of pieces) merged.merge(structuredClone(p.partial()));
  const s = merged.summary(null, cover);
  // The 4,096 kept are counted (20 named, the rest as one); of the 904 not kept nothing is known.
  assert.equal(Object.keys(s.unjudged_types!).length, 21);
  assert.equal(
    Object.values(s.unjudged_types!).reduce((a, b) => a + b, 0),
    4096,
  );
  assert.equal(s.unjudged_types!["(other types)"], 4096 - 20);
  // Every example rule names a type none of those kept is, but 904 types were not kept: unknown.
  assert.equal(s.rules_judging_nothing, undefined);
});
