import assert from "node:assert/strict";
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { BuiltBudgetState } from "../../src/budget/build-state.js";
import { watchBudgetState } from "../../src/budget/watch.js";
import { compilePolicySet } from "../../src/engine/compile.js";
import { focusCsv, policiesFrom, tempDir } from "./focus-files.js";

const POLICY = `apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: watched}
spec:
  type: BudgetLimit
  rules:
    - name: team-a
      selector: {tags: {team: a}}
      budget:
        monthly: 100
        alertThresholds: [{percent: 100, action: block-new-resources}]
`;

test("a long-running gate picks up a replaced billing file and starts denying", async () => {
  const dir = tempDir();
  const policies = policiesFrom(dir, POLICY);
  const billing = join(dir, "billing.csv");
  const charge = (cost: string) => [
    { start: "2024-09-02 00:00:00", end: "2024-09-02 01:00:00", cost, tags: { team: "a" } },
  ];
  writeFileSync(billing, focusCsv(charge("40")));
  const states: BuiltBudgetState[] = [];
  let changed: () => void = () => {};
  const watcher = watchBudgetState({
    billingFile: billing,
    policies: () => policies,
    now: () => Date.parse("2024-09-10T00:00:00Z"),
    onState: (s) => {
      states.push(s);
      changed();
    },
    onError: (err) => assert.fail(String(err)),
    debounceMs: 20,
  });
  try {
    await watcher.refresh();
    const decide = () =>
      compilePolicySet(policies, { budgets: { state: states.at(-1)!.state } }).evaluate({
        type: "compute/instance",
        tags: { team: "a" },
      }).decision;
    assert.equal(decide(), "allow");
    // The export is replaced the way exporters do it: written aside, then renamed over the old file.
    const next = new Promise<void>((resolve) => {
      changed = resolve;
    });
    writeFileSync(join(dir, "billing.tmp"), focusCsv(charge("140")));
    renameSync(join(dir, "billing.tmp"), billing);
    await next;
    assert.equal(states.at(-1)!.state.budgets[0]!.spend, "140");
    assert.equal(decide(), "deny");
  } finally {
    watcher.close();
  }
});
