import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import { test } from "node:test";
import { buildBudgetStateFromFile } from "../../src/budget/build-state.js";
import { liveBudgets } from "../../src/cli/serve-budgets.js";
import { eventually } from "../support/server.js";
import { policiesFrom, tempDir, writeFocusCsv } from "./focus-files.js";

const POLICY = `apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: live}
spec:
  type: BudgetLimit
  rules:
    - name: team-a
      selector: {tags: {team: a}}
      budget: {monthly: 1000}
`;

test("serve --budget-state: an unchanged state file is judged again as time passes, and goes stale", async () => {
  const dir = tempDir();
  const policies = policiesFrom(dir, POLICY);
  const billing = writeFocusCsv(dir, "billing.csv", [
    { start: "2024-09-02T00:00:00Z", end: "2024-09-02T01:00:00Z", cost: "40", tags: { team: "a" } },
  ]);
  const saved = join(dir, "state.json");
  const { state } = await buildBudgetStateFromFile(policies, billing, {
    at: Date.parse("2024-09-02T12:00:00Z"),
  });
  writeFileSync(saved, JSON.stringify(state));
  let clock = Date.parse("2024-09-02T12:00:00Z");
  const quiet = new Writable({ write: (_c, _e, done) => done() });
  const ctx = { stdout: quiet, stderr: quiet, readStdin: () => "", cwd: dir, env: {}, now: () => clock };
  const live = await liveBudgets({ budgetState: saved }, 30, policies, ctx);
  assert.ok(live);
  const logged: string[] = [];
  const reloads: string[] = [];
  live.follow({
    reload: (trigger) => reloads.push(trigger),
    policies: () => policies,
    log: { info: (_o, msg) => logged.push(msg), warn: (_o, msg) => logged.push(msg) },
  });
  try {
    assert.equal(live.view().stale, null);
    // Four days on, nothing rewrote the file: the next refresh judges it at the new time.
    clock = Date.parse("2024-09-06T12:00:00Z");
    // Refreshed every 30 ms: wait for it rather than for a fixed time (a busy machine may be slower).
    await eventually(() => logged.includes("budget state judged again"), "the state judged again");
    assert.ok(reloads.length > 0, "the policies are compiled again with it");
    assert.match(live.view().stale ?? "", /^the billing data ends 2024-09-02T01:00:00\.000Z, 4 days before/);
    assert.equal(live.current()?.at, clock);
  } finally {
    live.close();
  }
});
