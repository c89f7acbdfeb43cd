import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DEFAULT_REMEDIATION_CONFIG } from "../../src/remediation/config.js";
import { checkSafety } from "../../src/remediation/safety.js";
import type { RemediationAction } from "../../src/remediation/types.js";
import { finding, taskBook } from "./helpers.js";

const NOW = new Date("2025-03-03T09:00:00Z");
const safety = DEFAULT_REMEDIATION_CONFIG.safety;

function dueTasks(actions: RemediationAction[]) {
  const findings = actions.map((action, i) =>
    finding({ id: `f${i}`, resource_id: `r-${i}`, severity: "critical", action }),
  );
  return taskBook().plan({ findings, now: NOW }).due;
}

describe("safety rules", () => {
  test("terminate and delete are withheld unless enabled; the owner is told once", () => {
    const due = dueTasks(["terminate", "delete", "stop"]);
    const v = checkSafety(due, safety, 100, NOW);
    assert.deepEqual(
      v.actionable.map((t) => t.action),
      ["stop"],
    );
    assert.deepEqual(
      v.blocked.map((b) => b.task.action),
      ["terminate", "delete"],
    );
    assert.match(v.blocked[0]!.reason, /allowTerminate: false/);
    assert.deepEqual(
      v.warnings.map((w) => w.kind),
      ["manual-action-required", "manual-action-required"],
    );
    const again = checkSafety(v.updated, safety, 100, NOW);
    assert.equal(again.blocked.length, 2);
    assert.deepEqual(again.warnings, [], "told once, not on every run");

    const enabled = checkSafety(due, { ...safety, allowTerminate: true, allowDeleteVolumes: true }, 100, NOW);
    assert.deepEqual(
      enabled.actionable.map((t) => t.action),
      ["terminate", "delete", "stop"],
    );
  });

  test("blast radius: more changed resources than maxActions aborts the run", () => {
    const due = dueTasks(["stop", "stop", "tag", "resize", "notify", "notify"]);
    const ok = checkSafety(due, { ...safety, maxActions: 4, maxActionsPercent: 100 }, 10, NOW);
    assert.equal(ok.abort, undefined);
    assert.equal(ok.changes, 4, "notifications change nothing");
    const over = checkSafety(due, { ...safety, maxActions: 3, maxActionsPercent: 100 }, 10, NOW);
    assert.match(
      over.abort!,
      /would change 4 of 10 resources, more than remediation.safety.maxActions \(3\);/,
    );
  });

  test("blast radius: one id in two places, or of two types, is two resources changed", () => {
    // Counted by id alone, two accounts' instances i-1 were one change, and a run over the cap acted.
    const findings = [
      finding({ id: "a", resource_id: "i-1", account: "111111111111", region: "us-east-1" }),
      finding({ id: "b", resource_id: "i-1", account: "222222222222", region: "us-east-1" }),
      finding({ id: "c", resource_id: "i-1", account: "111111111111", region: "eu-west-1" }),
      finding({ id: "d", resource_id: "i-1", account: "111111111111", region: "us-east-1", provider: "gcp" }),
      finding({
        id: "e",
        resource_id: "i-1",
        account: "111111111111",
        region: "us-east-1",
        resource_type: "storage/volume",
        action: "tag",
      }),
      // The first resource again: a tag beside its stop is still one resource changed.
      finding({ id: "f", resource_id: "i-1", account: "111111111111", region: "us-east-1", action: "tag" }),
    ].map((f) => ({ ...f, severity: "critical" as const }));
    const due = taskBook().plan({ findings, now: NOW }).due;
    assert.equal(due.length, 6);
    const v = checkSafety(due, { ...safety, maxActions: 4, maxActionsPercent: 100 }, 10, NOW);
    assert.equal(v.changes, 5);
    assert.match(v.abort!, /would change 5 of 10 resources, more than remediation.safety.maxActions \(4\)/);
  });

  test("blast radius: over both caps, both are named (the summary's cap is the smaller)", () => {
    // It named maxActions (25) while the summary said "cap 10", the share's.
    const due = dueTasks(Array.from({ length: 29 }, () => "stop" as const));
    const v = checkSafety(due, { ...safety, maxActions: 25, maxActionsPercent: 10 }, 100, NOW);
    assert.equal(v.cap, 10);
    assert.equal(
      v.abort,
      "blast radius: this run would change 29 of 100 resources, more than remediation.safety.maxActions (25) and remediation.safety.maxActionsPercent (10% = 10); nothing was done",
    );
  });

  test("blast radius: more than maxActionsPercent of the scanned resources aborts the run", () => {
    const due = dueTasks(["stop", "stop", "stop"]);
    assert.equal(checkSafety(due, { ...safety, maxActionsPercent: 10 }, 30, NOW).abort, undefined);
    const v = checkSafety(due, { ...safety, maxActionsPercent: 10 }, 29, NOW);
    assert.match(v.abort!, /3 of 29 resources, more than remediation.safety.maxActionsPercent \(10% = 2\)/);
  });
});
