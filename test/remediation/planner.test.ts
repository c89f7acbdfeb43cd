import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { DEFAULT_REMEDIATION_CONFIG, parseRemediationConfig } from "../../src/remediation/config.js";
import { updateTask } from "../../src/remediation/task.js";
import type { PlannableFinding } from "../../src/remediation/types.js";
import { DAY_MS, HOUR_MS } from "../../src/time/duration.js";
import { finding, taskBook } from "./helpers.js";

const T0 = Date.parse("2025-03-03T09:00:00Z");
const at = (ms: number) => new Date(T0 + ms);

describe("grace periods by severity", () => {
  test("critical: no grace, due at once, no warning", () => {
    const book = taskBook();
    const plan = book.plan({ findings: [finding({ severity: "critical" })], now: at(0) });
    assert.equal(plan.created.length, 1);
    assert.equal(plan.created[0]!.state, "due");
    assert.deepEqual(
      plan.due.map((t) => t.id),
      [plan.created[0]!.id],
    );
    assert.deepEqual(plan.warnings, []);
  });

  test("high: warned once when the grace starts, once before it ends, due after 24 hours", () => {
    const book = taskBook();
    const f = [finding({ severity: "high" })];
    const first = book.plan({ findings: f, now: at(0) });
    assert.equal(first.created[0]!.state, "notified");
    assert.equal(first.created[0]!.grace_ends_at, at(24 * HOUR_MS).toISOString());
    assert.deepEqual(
      first.warnings.map((w) => [w.kind, w.owner]),
      [["grace-started", "maria@company.com"]],
    );
    assert.deepEqual(first.due, []);

    // Hourly runs: no warning is repeated; the final one goes 6 hours before the end.
    const kinds: string[] = [];
    for (let h = 1; h < 24; h++) {
      const p = book.plan({ findings: f, now: at(h * HOUR_MS) });
      kinds.push(...p.warnings.map((w) => `${h}:${w.kind}`));
      assert.deepEqual(p.due, [], `not due at hour ${h}`);
    }
    assert.deepEqual(kinds, ["18:grace-ending"]);
    const last = book.plan({ findings: f, now: at(24 * HOUR_MS) });
    assert.equal(last.due.length, 1);
    assert.equal(last.due[0]!.state, "due");
    assert.deepEqual(last.warnings, []);
    assert.deepEqual(
      book.all()[0]!.history.map((h) => h.to),
      ["pending", "notified", "due"],
    );
  });

  test("low: 30 days, final warning 3 days before", () => {
    const book = taskBook();
    const f = [finding({ severity: "low", action: "notify" })];
    book.plan({ findings: f, now: at(0) });
    assert.deepEqual(book.plan({ findings: f, now: at(26 * DAY_MS) }).warnings, []);
    assert.deepEqual(
      book.plan({ findings: f, now: at(27 * DAY_MS) }).warnings.map((w) => w.kind),
      ["grace-ending"],
    );
    assert.equal(book.plan({ findings: f, now: at(30 * DAY_MS - 1) }).due.length, 0);
    assert.equal(book.plan({ findings: f, now: at(30 * DAY_MS) }).due.length, 1);
  });

  test("medium: a 7-day notice, then escalated to high with a fresh 24-hour grace", () => {
    const book = taskBook();
    const f = [finding({ severity: "medium", action: "tag" })];
    assert.deepEqual(
      book.plan({ findings: f, now: at(0) }).warnings.map((w) => w.kind),
      ["grace-started"],
    );
    assert.deepEqual(
      book.plan({ findings: f, now: at(6 * DAY_MS) }).warnings.map((w) => w.kind),
      ["grace-ending"],
    );
    const escalation = book.plan({ findings: f, now: at(7 * DAY_MS) });
    assert.deepEqual(
      escalation.warnings.map((w) => w.kind),
      ["escalated"],
    );
    assert.deepEqual(escalation.due, []);
    const task = book.all()[0]!;
    assert.equal(task.severity, "high");
    assert.equal(task.initial_severity, "medium");
    assert.equal(task.grace_ends_at, at(8 * DAY_MS).toISOString());
    assert.deepEqual(book.plan({ findings: f, now: at(7 * DAY_MS + 17 * HOUR_MS) }).warnings, []);
    assert.deepEqual(
      book.plan({ findings: f, now: at(7 * DAY_MS + 18 * HOUR_MS) }).warnings.map((w) => w.kind),
      ["grace-ending"],
    );
    const due = book.plan({ findings: f, now: at(8 * DAY_MS) });
    assert.equal(due.due.length, 1);
    assert.equal(due.due[0]!.action, "tag");
  });

  test("the escalation names the notice as configured, not a fixed seven days", () => {
    const config = parseRemediationConfig({ grace: { medium: "3d", high: "12h" } });
    const book = taskBook();
    const f = [finding({ severity: "medium", action: "tag" })];
    book.plan({ findings: f, now: at(0), config });
    const [escalated] = book.plan({ findings: f, now: at(3 * DAY_MS), config }).warnings;
    assert.equal(escalated?.kind, "escalated");
    assert.match(
      escalated.text,
      /^The 3d notice for i-0001 \(idle-resource-detection\/low-utilization\) ran out/,
    );
    assert.match(escalated.text, new RegExp(`after ${at(3 * DAY_MS + 12 * HOUR_MS).toISOString()}`));
  });

  test("a run after a long gap goes straight to due (or escalation) without replaying warnings", () => {
    const book = taskBook();
    const f = [finding({ severity: "high" })];
    book.plan({ findings: f, now: at(0) });
    const p = book.plan({ findings: f, now: at(3 * DAY_MS) });
    assert.deepEqual(p.warnings, []);
    assert.equal(p.due.length, 1);
  });

  test("grace periods and escalation are configurable", () => {
    const config = parseRemediationConfig({ grace: { high: "2h", medium: "1d" }, escalateMedium: false });
    const book = taskBook();
    const f = [
      finding({ id: "a", severity: "high" }),
      finding({ id: "b", resource_id: "i-0002", severity: "medium" }),
    ];
    book.plan({ findings: f, now: at(0), config });
    assert.deepEqual(
      book.plan({ findings: f, now: at(2 * HOUR_MS), config }).due.map((t) => t.finding_id),
      ["a"],
    );
    const day = book.plan({ findings: f, now: at(DAY_MS), config });
    assert.deepEqual(
      day.due.map((t) => [t.finding_id, t.severity]),
      [
        ["a", "high"],
        ["b", "medium"],
      ],
    );
    assert.throws(
      () => parseRemediationConfig({ grace: { urgent: "1h" } }),
      /grace.urgent is not a known setting/,
    );
    assert.throws(() => parseRemediationConfig({ grace: { high: "soon" } }), /must look like 30d/);
    // Tags remediation writes are checked as the cloud checks them (each tag action failed at run time).
    assert.throws(
      () => parseRemediationConfig({ tagDefaults: { "aws:team": "x" } }),
      /^InputError: remediation\.tagDefaults key "aws:team": keys starting with aws: are reserved for AWS$/,
    );
    assert.throws(
      () => parseRemediationConfig({ addTags: { note: "v".repeat(257) } }),
      /^InputError: remediation\.addTags "note": its value is over 256 characters$/,
    );
    const longest = { ["k".repeat(128)]: "v".repeat(256) };
    assert.deepEqual(parseRemediationConfig({ tagDefaults: longest }).tagDefaults, longest);
    // Past a hundred years a due date is no date (approving a plan with one was an internal error).
    assert.equal(parseRemediationConfig({ grace: { low: "36500d" } }).grace.low, 36_500 * 86_400_000);
    assert.throws(
      () => parseRemediationConfig({ grace: { low: "99999999999d" } }),
      /remediation.grace.low must be at most 36500d/,
    );
    assert.throws(
      () => parseRemediationConfig({ finalWarning: { high: "1e300d" } }),
      /remediation.finalWarning.high must look like 30d/,
    );
  });

  test("a duration given as a bare number is refused, naming the setting and the unit it lacks; 0 is at once", () => {
    // `medium: 7` was a grace of 7 ms: a medium finding acted on at once, without a word.
    for (const [config, key] of [
      [{ grace: { medium: 7 } }, "grace.medium"],
      [{ finalWarning: { low: 3 } }, "finalWarning.low"],
      [{ grace: { high: 1e300 } }, "grace.high"],
    ] as const)
      assert.throws(
        () => parseRemediationConfig(config),
        new RegExp(
          `^InputError: remediation\\.${key.replace(".", "\\.")} is the bare number [^:]+: give its unit, as in \\S+d \\(days\\)`,
        ),
        key,
      );
    assert.throws(
      () => parseRemediationConfig({ grace: { medium: 7 } }),
      /remediation\.grace\.medium is the bare number 7: give its unit, as in 7d \(days\), 7h or 7m \(only 0 goes without one\)$/,
    );
    const zero = parseRemediationConfig({ grace: { critical: 0, high: 0 }, finalWarning: { high: 0 } });
    assert.equal(zero.grace.high, 0);
    assert.equal(zero.finalWarning.high, 0);
  });
});

describe("a finding whose severity changes during its grace", () => {
  test("raised to critical: due at once, and the owner told why", () => {
    const book = taskBook();
    book.plan({ findings: [finding({ severity: "low", action: "tag" })], now: at(0) });
    const raised = book.plan({
      findings: [finding({ severity: "critical", action: "tag" })],
      now: at(DAY_MS),
    });
    assert.deepEqual(
      raised.due.map((t) => [t.severity, t.initial_severity, t.state]),
      [["critical", "low", "due"]],
    );
    assert.deepEqual(
      raised.warnings.map((w) => [w.kind, w.owner, w.severity]),
      [["severity-raised", "maria@company.com", "critical"]],
    );
    assert.match(raised.warnings[0]!.text, /is now critical, was low\. .*costguard will tag it now/);
    assert.deepEqual(
      book.all()[0]!.history.map((h) => h.note),
      [
        `low finding: grace until ${at(30 * DAY_MS).toISOString()}`,
        "owner warned: grace period started",
        "severity raised from low to critical: grace period over",
        "grace period over: due",
      ],
    );
  });

  test("raised to high: the grace ends 24 hours after it started, with its last warning", () => {
    const book = taskBook();
    book.plan({ findings: [finding({ severity: "low", action: "tag" })], now: at(0) });
    const f = [finding({ severity: "high", action: "tag" })];
    const raised = book.plan({ findings: f, now: at(2 * HOUR_MS) });
    assert.deepEqual(raised.due, []);
    assert.deepEqual(
      raised.waiting.map((t) => [t.severity, t.grace_ends_at]),
      [["high", at(24 * HOUR_MS).toISOString()]],
    );
    assert.equal(raised.warnings.length, 1);
    assert.match(
      raised.warnings[0]!.text,
      new RegExp(
        `is now high, was low\\. costguard will tag it after ${at(24 * HOUR_MS).toISOString()} \\(in 22h\\), not ${at(30 * DAY_MS).toISOString()}`,
      ),
    );
    // Raised once: not told again, and the last warning comes 6 hours before the new end.
    assert.deepEqual(book.plan({ findings: f, now: at(17 * HOUR_MS) }).warnings, []);
    assert.deepEqual(
      book.plan({ findings: f, now: at(18 * HOUR_MS) }).warnings.map((w) => w.kind),
      ["grace-ending"],
    );
    assert.equal(book.plan({ findings: f, now: at(24 * HOUR_MS) }).due.length, 1);
  });

  test("raised to medium once its notice is over: escalated, as a medium notice that ran out", () => {
    const book = taskBook();
    book.plan({ findings: [finding({ severity: "low", action: "tag" })], now: at(0) });
    const raised = book.plan({
      findings: [finding({ severity: "medium", action: "tag" })],
      now: at(8 * DAY_MS),
    });
    assert.deepEqual(
      raised.warnings.map((w) => w.kind),
      ["escalated"],
    );
    assert.deepEqual(
      raised.waiting.map((t) => [t.severity, t.grace_ends_at]),
      [["high", at(9 * DAY_MS).toISOString()]],
    );
  });

  test("lowered: the notice already given stands", () => {
    const book = taskBook();
    book.plan({ findings: [finding({ severity: "high" })], now: at(0) });
    const lowered = book.plan({ findings: [finding({ severity: "low" })], now: at(HOUR_MS) });
    assert.deepEqual(lowered.warnings, []);
    assert.deepEqual(lowered.updated, []);
    assert.deepEqual(
      lowered.waiting.map((t) => [t.severity, t.grace_ends_at]),
      [["high", at(24 * HOUR_MS).toISOString()]],
    );
  });
});

describe("what the planner leaves alone", () => {
  test("an excepted finding gets no task, and the reason names the exception", () => {
    const book = taskBook();
    const plan = book.plan({
      findings: [finding({ status: "excepted", exception_id: "exc-42" })],
      now: at(0),
    });
    assert.deepEqual(plan.created, []);
    assert.deepEqual(plan.passed, [
      {
        finding_id: "f-1",
        resource_id: "i-0001",
        policy: "idle-resource-detection",
        rule: "low-utilization",
        reason: "excepted by exc-42",
        exception_id: "exc-42",
      },
    ]);
  });

  test("an exception approved mid-grace skips the task; when it expires a new grace starts", () => {
    const book = taskBook();
    const f = [finding({ severity: "high" })];
    let until = 0;
    const exceptionFor = (s: { resource_id: string; rule: string }, now: Date) =>
      s.resource_id === "i-0001" && now.getTime() < until ? "exc-7" : undefined;
    book.plan({ findings: f, now: at(0), exceptionFor });
    until = T0 + 5 * DAY_MS;
    const skipped = book.plan({ findings: f, now: at(HOUR_MS), exceptionFor });
    assert.equal(skipped.updated[0]!.state, "skipped");
    assert.equal(skipped.updated[0]!.result, "excepted by exc-7");
    assert.equal(book.plan({ findings: f, now: at(4 * DAY_MS), exceptionFor }).created.length, 0);
    const after = book.plan({ findings: f, now: at(5 * DAY_MS), exceptionFor });
    assert.equal(after.created.length, 1);
    assert.equal(after.created[0]!.grace_ends_at, at(6 * DAY_MS).toISOString());
    assert.notEqual(after.created[0]!.id, skipped.updated[0]!.id);
  });

  test("a resolved finding skips its task; a task already acting is finished instead", () => {
    const book = taskBook();
    book.plan({ findings: [finding({ id: "a" }), finding({ id: "b", resource_id: "i-2" })], now: at(0) });
    const b = book.all().find((t) => t.finding_id === "b")!;
    book.tasks.set(b.id, updateTask(b, at(0), { state: "in_progress" }, "acting"));
    const plan = book.plan({
      findings: [
        finding({ id: "a", status: "resolved" }),
        finding({ id: "b", resource_id: "i-2", status: "resolved" }),
      ],
      now: at(HOUR_MS),
    });
    assert.deepEqual(
      plan.updated.map((t) => [t.finding_id, t.state]),
      [["a", "skipped"]],
    );
    assert.deepEqual(
      plan.due.map((t) => t.finding_id),
      ["b"],
    );
  });

  test("failed tasks are retried up to maxAttempts; completed ones are not repeated", () => {
    const book = taskBook();
    const f = [finding({ severity: "critical" })];
    const t = book.plan({ findings: f, now: at(0) }).created[0]!;
    book.tasks.set(
      t.id,
      updateTask(t, at(0), { state: "failed", attempts: 1, result: "throttled" }, "failed"),
    );
    assert.equal(book.plan({ findings: f, now: at(HOUR_MS) }).due[0]!.id, t.id);
    const again = book.tasks.get(t.id)!;
    book.tasks.set(
      t.id,
      updateTask(
        again,
        at(0),
        { state: "failed", attempts: DEFAULT_REMEDIATION_CONFIG.maxAttempts },
        "failed",
      ),
    );
    const given = book.plan({ findings: f, now: at(2 * HOUR_MS) });
    assert.deepEqual(given.due, []);
    assert.match(given.passed[0]!.reason, /failed 3 times/);
    book.tasks.set(t.id, updateTask(again, at(0), { state: "completed" }, "done"));
    const done = book.plan({ findings: f, now: at(3 * HOUR_MS) });
    assert.deepEqual(done.created, []);
    assert.match(done.passed[0]!.reason, /already remediated/);
  });

  test("a completed task's finding resolved by a full scan and found again gets a new task", () => {
    const book = taskBook();
    const f = [finding({ severity: "high" })];
    const t = book.plan({ findings: f, now: at(0) }).created[0]!;
    book.tasks.set(t.id, updateTask(t, at(DAY_MS), { state: "completed" }, "completed"));
    // A scan that is not the whole inventory says nothing about absent findings.
    assert.deepEqual(book.plan({ findings: [], now: at(DAY_MS + HOUR_MS) }).updated, []);
    const gone = book.plan({ findings: [], now: at(DAY_MS + 2 * HOUR_MS), complete: true });
    assert.deepEqual(
      gone.updated.map((u) => [u.id, u.state, u.finding_resolved_at]),
      [[t.id, "completed", at(DAY_MS + 2 * HOUR_MS).toISOString()]],
    );
    // Marked once.
    assert.deepEqual(book.plan({ findings: [], now: at(DAY_MS + 3 * HOUR_MS), complete: true }).updated, []);
    const back = book.plan({ findings: f, now: at(2 * DAY_MS), complete: true });
    assert.deepEqual(back.passed, []);
    assert.equal(back.created.length, 1);
    assert.notEqual(back.created[0]!.id, t.id);
    assert.equal(back.created[0]!.grace_ends_at, at(3 * DAY_MS).toISOString());
    assert.deepEqual(
      back.warnings.map((w) => [w.kind, w.task_id]),
      [["grace-started", back.created[0]!.id]],
    );
  });

  test("planning the same state twice yields the same task ids", () => {
    const f = [finding({ id: "x" }), finding({ id: "y", resource_id: "i-9" })];
    const a = taskBook().plan({ findings: f, now: at(0) });
    const b = taskBook().plan({ findings: f, now: at(0) });
    assert.deepEqual(
      a.created.map((t) => t.id),
      b.created.map((t) => t.id),
    );
  });
});

describe("alternatives on one resource", () => {
  test("stop and resize of one instance: the larger saving is planned, the other passed", () => {
    const book = taskBook();
    const plan = book.plan({
      findings: [
        finding({ id: "idle", action: "stop", estimated_monthly_savings: "140.16", severity: "critical" }),
        finding({
          id: "big",
          action: "resize",
          estimated_monthly_savings: "70.08",
          severity: "critical",
          rule: "max-instance-size",
        }),
        finding({ id: "tags", action: "tag", severity: "critical", rule: "cost-center-required" }),
      ],
      now: at(0),
    });
    assert.deepEqual(plan.created.map((t) => t.finding_id).sort(), ["idle", "tags"]);
    assert.match(plan.passed[0]!.reason, /superseded by idle \(stop saves more than resize\)/);
  });

  test("one id in two places, or of two types, is two resources: each keeps its own action", () => {
    // A file inventory may list i-0001 in two accounts: the idle one saving more in one account
    // superseded the other account's stop, which was then never planned.
    const places: [string, Partial<PlannableFinding>][] = [
      ["another account", { account: "222222222222" }],
      ["another region", { region: "eu-west-1" }],
      ["another provider", { provider: "gcp" }],
      ["another type", { resource_type: "storage/volume", action: "delete" }],
    ];
    for (const [what, place] of places) {
      const plan = taskBook().plan({
        findings: [
          finding({
            id: "here",
            provider: "aws",
            account: "111111111111",
            region: "us-east-1",
            estimated_monthly_savings: "140.16",
            severity: "critical",
          }),
          finding({
            id: "there",
            provider: "aws",
            account: "111111111111",
            region: "us-east-1",
            estimated_monthly_savings: "70.08",
            severity: "critical",
            ...place,
          }),
        ],
        now: at(0),
      });
      assert.deepEqual(plan.passed, [], what);
      assert.deepEqual(plan.created.map((t) => t.finding_id).sort(), ["here", "there"], what);
      const there = plan.created.find((t) => t.finding_id === "there")!;
      assert.deepEqual(
        [there.provider, there.account, there.region, there.resource_type],
        [
          place.provider ?? "aws",
          place.account ?? "111111111111",
          place.region ?? "us-east-1",
          place.resource_type ?? "compute/instance",
        ],
        `${what}: the task says where its resource is`,
      );
    }
    // In the same place the alternatives still exclude each other.
    const same = taskBook().plan({
      findings: [
        finding({ id: "here", account: "111111111111", estimated_monthly_savings: "140.16" }),
        finding({ id: "there", account: "111111111111", estimated_monthly_savings: "70.08" }),
      ],
      now: at(0),
    });
    assert.deepEqual(
      same.created.map((t) => t.finding_id),
      ["here"],
    );
    assert.match(same.passed[0]!.reason, /^superseded by here /);
  });
});

describe("interrupted tasks", () => {
  test("a task left in progress is resumed even when the scan no longer reports its finding", () => {
    const book = taskBook();
    const t = book.plan({ findings: [finding({ severity: "critical", action: "resize" })], now: at(0) })
      .created[0]!;
    book.tasks.set(t.id, updateTask(t, at(0), { state: "in_progress" }, "acting"));
    const plan = book.plan({ findings: [], now: at(HOUR_MS) });
    assert.deepEqual(
      plan.due.map((x) => x.id),
      [t.id],
    );
  });
});

describe("findings a full scan no longer sees", () => {
  test("their waiting tasks are skipped; without a full scan they are left alone", () => {
    const book = taskBook();
    const t = book.plan({ findings: [finding({ severity: "high" })], now: at(0) }).created[0]!;
    assert.deepEqual(book.plan({ findings: [], now: at(HOUR_MS) }).updated, []);
    const plan = book.plan({ findings: [], now: at(2 * HOUR_MS), complete: true });
    assert.deepEqual(
      plan.updated.map((x) => [x.id, x.state, x.result]),
      [[t.id, "skipped", "the finding is resolved (a scan no longer sees it)"]],
    );
  });
});

describe("owners", () => {
  test("the placeholder costguard's tag action writes (owner=unassigned) is no owner: defaultOwner is told", () => {
    const config = { ...DEFAULT_REMEDIATION_CONFIG, defaultOwner: "finops@company.com" };
    const book = taskBook();
    const plan = book.plan({
      findings: [
        finding({ id: "f-placeholder", resource_id: "i-1", tags: { owner: "unassigned" } }),
        finding({ id: "f-tagged", resource_id: "i-2", tags: { owner: "maria@company.com" } }),
        finding({ id: "f-none", resource_id: "i-3", tags: {} }),
      ],
      now: at(0),
      config,
    });
    const owners = Object.fromEntries(plan.created.map((t) => [t.resource_id, t.owner]));
    assert.deepEqual(owners, {
      "i-1": "finops@company.com",
      "i-2": "maria@company.com",
      "i-3": "finops@company.com",
    });
    // Its warning goes to the default owner too, not to `unassigned`.
    assert.equal(plan.warnings.find((w) => w.resource_id === "i-1")?.owner, "finops@company.com");
    // A configured placeholder is the one that counts as absent; without a default owner, no one.
    const custom = taskBook().plan({
      findings: [finding({ tags: { owner: "TBD" } })],
      now: at(0),
      config: { ...DEFAULT_REMEDIATION_CONFIG, missingTagValue: "TBD" },
    });
    assert.equal(custom.created[0]!.owner, null);
  });
});

describe("an owner tag changed during the grace", () => {
  test("later notices go to the new owner, who is told when costguard acts", () => {
    const book = taskBook();
    const config = { ...DEFAULT_REMEDIATION_CONFIG, defaultOwner: "finops@company.com" };
    book.plan({ findings: [finding()], now: at(0), config });
    const f = [finding({ tags: { owner: "newowner@company.com", team: "ml" } })];
    const moved = book.plan({ findings: f, now: at(2 * HOUR_MS), config });
    assert.deepEqual(
      moved.warnings.map((w) => [w.kind, w.owner]),
      [["grace-started", "newowner@company.com"]],
    );
    assert.match(
      moved.warnings[0]!.text,
      new RegExp(
        `Its owner is now newowner@company\\.com \\(was maria@company\\.com\\): costguard will stop it after ${at(24 * HOUR_MS).toISOString()} \\(in 22h\\)`,
      ),
    );
    // Not the grace-started notice the first owner had (the outbox keeps one message per key).
    assert.equal(
      moved.warnings[0]!.key,
      `remediation:${book.all()[0]!.id}:grace-started:${at(0).toISOString()}:owner:newowner@company.com`,
    );
    assert.deepEqual(book.all()[0]!.tags, { owner: "newowner@company.com", team: "ml" });
    assert.equal(
      book.all()[0]!.history.at(-1)!.note,
      "owner is now newowner@company.com, was maria@company.com",
    );
    // Told once; the last warning and the task when due are the new owner's.
    assert.deepEqual(book.plan({ findings: f, now: at(3 * HOUR_MS), config }).warnings, []);
    assert.deepEqual(
      book.plan({ findings: f, now: at(18 * HOUR_MS), config }).warnings.map((w) => [w.kind, w.owner]),
      [["grace-ending", "newowner@company.com"]],
    );
    assert.deepEqual(
      book.plan({ findings: f, now: at(24 * HOUR_MS), config }).due.map((t) => t.owner),
      ["newowner@company.com"],
    );
    // The tag removed: defaultOwner, from then on.
    const untagged = book.plan({ findings: [finding({ tags: {} })], now: at(25 * HOUR_MS), config });
    assert.deepEqual(
      untagged.due.map((t) => t.owner),
      ["finops@company.com"],
    );
  });
});

describe("costguard's own safety snapshots", () => {
  test("a tag finding on one (costguard:source) gets no task or warning; other findings on it do", () => {
    const snap = { "costguard:source": "vol-1", "cost-center": "bad" };
    const tagFinding = finding({
      id: "f-tag",
      resource_id: "snap-1",
      resource_type: "storage/snapshot",
      tags: snap,
      policy: "mandatory-tags",
      rule: "cost-center-required",
      action: "tag",
      params: { missing_tags: ["cost-center"] },
    });
    const plan = taskBook().plan({
      findings: [
        tagFinding,
        // Planned as a notice where the inventory cannot tag: still about its tags.
        { ...tagFinding, id: "f-tag-notify", resource_id: "snap-2", action: "notify" },
        finding({ id: "f-other", resource_id: "snap-3", resource_type: "storage/snapshot", tags: snap }),
        // A snapshot that is not costguard's is tagged as any resource is.
        { ...tagFinding, id: "f-theirs", resource_id: "snap-4", tags: { "cost-center": "bad" } },
      ],
      now: at(0),
    });
    assert.deepEqual(plan.created.map((t) => t.resource_id).sort(), ["snap-3", "snap-4"]);
    assert.deepEqual(plan.warnings.map((w) => w.resource_id).sort(), ["snap-3", "snap-4"]);
    assert.deepEqual(
      plan.passed.map((p) => [p.resource_id, p.reason]),
      [
        [
          "snap-1",
          "a safety snapshot costguard took of vol-1 (costguard:source): its tags are its source's, not tagged apart",
        ],
        [
          "snap-2",
          "a safety snapshot costguard took of vol-1 (costguard:source): its tags are its source's, not tagged apart",
        ],
      ],
    );
  });

  test("a tag task planned on one before is skipped", () => {
    const book = taskBook();
    const f = finding({
      resource_id: "snap-1",
      resource_type: "storage/snapshot",
      tags: { "cost-center": "bad" },
      action: "tag",
      params: { missing_tags: ["cost-center"] },
    });
    book.plan({ findings: [f], now: at(0) });
    const plan = book.plan({
      findings: [{ ...f, tags: { ...f.tags, "costguard:source": "vol-1" } }],
      now: at(HOUR_MS),
    });
    assert.deepEqual(
      plan.updated.map((t) => [t.state, t.result]),
      [
        [
          "skipped",
          "a safety snapshot costguard took of vol-1 (costguard:source): its tags are its source's, not tagged apart",
        ],
      ],
    );
  });
});
