import assert from "node:assert/strict";
import { test } from "node:test";
import { channelOf } from "../../src/cli/notices.js";
import { buildExceptionsReport } from "../../src/exceptions/report.js";
import type { PolicyException } from "../../src/exceptions/types.js";
import { resolveChannel } from "../../src/notify/channels.js";
import { NOTIFY_DEFAULTS } from "../../src/notify/config.js";

// Maps keyed by what a user wrote (people, webhooks, policy names) are read by their own keys only:
// `constructor`, `toString` or `__proto__` read plainly answered from Object.prototype.

test("a person, webhook or Slack channel named after a prototype key is not configured by Object.prototype", () => {
  assert.equal(channelOf("constructor", {}), undefined);
  assert.equal(channelOf("toString", { carol: "slack:#carol" }), undefined);
  assert.equal(channelOf("constructor", { constructor: "slack:#ops" }), "slack:#ops");
  assert.equal(
    resolveChannel("webhook:constructor", NOTIFY_DEFAULTS),
    "no URL configured for webhook constructor (notify.webhooks)",
  );
  assert.equal(
    resolveChannel("slack:#toString", NOTIFY_DEFAULTS),
    "no Slack webhook configured for #toString (notify.slack.webhooks)",
  );
  const config = { ...NOTIFY_DEFAULTS, webhooks: { constructor: "https://hooks.example.com/c" } };
  assert.deepEqual(resolveChannel("webhook:constructor", config), {
    kind: "webhook",
    name: "constructor",
    url: "https://hooks.example.com/c",
  });
});

test("the exceptions report counts a policy named constructor or __proto__ from zero, under its own key", () => {
  const exc = (id: string, policy: string): PolicyException => ({
    id,
    resource_id: "i-1",
    selector: null,
    policy,
    rule: null,
    policy_type: null,
    type: "temporary",
    justification: "j",
    requested_by: "alice",
    requested_at: "2025-03-01T00:00:00.000Z",
    status: "pending",
    duration_ms: 86_400_000,
    expires_at: null,
    review_interval_days: null,
    last_reviewed_at: null,
    decided_by: null,
    decided_at: null,
    reason: null,
    review_notified_at: null,
    version: 1,
    history: [],
  });
  const report = buildExceptionsReport(
    [exc("a", "constructor"), exc("b", "__proto__"), exc("c", "__proto__"), exc("d", "toString")],
    new Date("2025-03-02T00:00:00Z"),
  );
  assert.equal(Object.getPrototypeOf(report.by_policy), Object.prototype);
  assert.deepEqual(Object.entries(report.by_policy), [
    ["constructor", 1],
    ["__proto__", 2],
    ["toString", 1],
  ]);
  assert.equal(JSON.stringify(report.by_policy), '{"constructor":1,"__proto__":2,"toString":1}');
});
