import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConflictError, InputError, PermissionDeniedError } from "../../src/errors.js";
import { eligibleApprovers } from "../../src/exceptions/approvers.js";
import { parseExceptionConfig } from "../../src/exceptions/config.js";
import {
  approveException,
  createException,
  effectiveStatus,
  expireException,
  isReviewOverdue,
  rejectException,
  renewException,
  revokeException,
} from "../../src/exceptions/lifecycle.js";
import { summarizeException } from "../../src/exceptions/report.js";
import type { ExceptionRequest } from "../../src/exceptions/types.js";
import { DAY_MS, HOUR_MS, MINUTE_MS } from "../../src/time/duration.js";
import { APPROVERS } from "./helpers.js";

const T0 = new Date("2025-03-01T00:00:00Z");
const at = (days: number) => new Date(T0.getTime() + days * DAY_MS);
const base: ExceptionRequest = {
  resource_id: "i-0abc",
  policy: "mandatory-tags",
  rule: "cost-center-required",
  justification: "migration in progress",
  requested_by: "alice",
};
const create = (req: Partial<ExceptionRequest> = {}) =>
  createException({ ...base, ...req }, { id: "exc-1", now: T0, policyType: "TagRequirement" });
const approversOf = (e: Parameters<typeof eligibleApprovers>[0]) => eligibleApprovers(e, APPROVERS);

describe("creating an exception", () => {
  test("a duration makes it temporary; it stays pending and has no expiry until approved", () => {
    const e = create({ duration_ms: 30 * DAY_MS });
    assert.equal(e.type, "temporary");
    assert.equal(e.status, "pending");
    assert.equal(e.expires_at, null);
    assert.equal(e.review_interval_days, null);
    assert.deepEqual(
      e.history.map((h) => h.action),
      ["requested"],
    );
  });

  test("no duration makes it permanent with the 90-day review; a selector makes it conditional", () => {
    assert.equal(create().type, "permanent");
    assert.equal(create().review_interval_days, 90);
    const c = create({ resource_id: undefined, selector: { tags: { team: "ml" }, type: "compute/*" } });
    assert.equal(c.type, "conditional");
    assert.deepEqual(c.selector, { tags: { team: "ml" }, type: "compute/*" });
  });

  test("refuses what makes no sense, each with its own message", () => {
    assert.throws(() => create({ justification: " " }), /justification/);
    assert.throws(() => create({ type: "temporary" }), /needs a duration/);
    assert.throws(() => create({ type: "permanent", duration_ms: DAY_MS }), /has no duration/);
    assert.throws(() => create({ selector: { account: "1" } }), /not both/);
    assert.throws(
      () => create({ resource_id: undefined }),
      /needs a resource id \(--resource\) or a selector/,
    );
    assert.throws(() => create({ type: "conditional" }), /defined by a selector/);
    // Resource ids are indexed: PostgreSQL failed a longer one as a database error.
    assert.equal(create({ resource_id: "i".repeat(2048) }).resource_id?.length, 2048);
    assert.throws(
      () => create({ resource_id: "é".repeat(1025) }),
      /^InputError: an exception's resource id is 2,050 bytes: a resource id is at most 2,048 \(an ARN's longest\)$/,
    );
    assert.throws(() => create({ resource_id: undefined, selector: {} }), /at least one of/);
    for (const type of ["compute", "compute/**", "Compute/Instance"])
      assert.throws(
        () => create({ resource_id: undefined, selector: { type } }),
        /a selector's type is a resource type \(compute\/instance\), a category \(compute\/\*\) or \*/,
        type,
      );
    assert.equal(
      create({ resource_id: undefined, selector: { type: "compute/*" } }).selector?.type,
      "compute/*",
    );
    assert.throws(() => create({ duration_ms: DAY_MS, review_interval_days: 30 }), InputError);
  });
});

describe("approving", () => {
  test("an eligible approver approves; the expiry counts from approval", () => {
    const e = approveException(create({ duration_ms: 30 * DAY_MS }), "carol", at(2), approversOf(create()));
    assert.equal(e.status, "approved");
    assert.equal(e.decided_by, "carol");
    assert.equal(e.expires_at, at(32).toISOString());
    assert.equal(e.version, 2);
  });

  test("the requester cannot approve their own exception, with a message naming who can", () => {
    const e = create();
    assert.throws(
      () => approveException(e, "alice", T0, approversOf(e)),
      (err: Error) =>
        err instanceof PermissionDeniedError &&
        /alice requested exception exc-1 and cannot approve it/.test(err.message) &&
        /carol \(manager of alice\)/.test(err.message),
    );
  });

  test("someone outside the approver list is refused", () => {
    const e = create();
    assert.throws(() => approveException(e, "erin", T0, approversOf(e)), /erin is not an eligible approver/);
  });

  test("a change as of a time before the exception's latest one is refused (its history moves forward)", () => {
    // `--at` replays: approved before it was requested, it applied before it existed.
    const e = create({ duration_ms: 30 * DAY_MS });
    assert.throws(
      () => approveException(e, "carol", at(-1), approversOf(e)),
      (err: Error) =>
        err instanceof InputError &&
        err.message ===
          "cannot record 'approved' on exception exc-1 as of 2025-02-28T00:00:00.000Z: its latest change ('requested') is as of 2025-03-01T00:00:00.000Z; act as of that time or later",
    );
    const approved = approveException(e, "carol", T0, approversOf(e));
    assert.throws(
      () => revokeException(approved, "alice", "done", at(-2), approversOf(e)),
      /its latest change \('approved'\)/,
    );
    assert.equal(revokeException(approved, "alice", "done", T0, approversOf(e)).status, "revoked");
    // Expired on its own at day 30 (recorded at that time), renewed at day 40.
    const expired = expireException(approved, at(35))!;
    assert.equal(expired.history.at(-1)?.at, at(30).toISOString());
    assert.equal(renewException(expired, "carol", at(40), approversOf(e)).status, "approved");
  });

  test("approving twice is a conflict", () => {
    const e = approveException(create(), "carol", T0, approversOf(create()));
    assert.throws(() => approveException(e, "frank", T0, approversOf(e)), ConflictError);
  });
});

describe("expiry, review, reject, revoke, renew", () => {
  test("a temporary exception expires on its own at its expiry time", () => {
    const e = approveException(create({ duration_ms: 10 * DAY_MS }), "carol", T0, approversOf(create()));
    assert.equal(effectiveStatus(e, at(9.99)), "approved");
    assert.equal(effectiveStatus(e, at(10)), "expired");
    assert.equal(expireException(e, at(9)), null);
    const stored = expireException(e, at(12))!;
    assert.equal(stored.status, "expired");
    assert.equal(stored.history.at(-1)!.at, at(10).toISOString());
  });

  test("a permanent exception's review is overdue after its interval", () => {
    const e = approveException(create({ review_interval_days: 30 }), "carol", T0, approversOf(create()));
    assert.equal(isReviewOverdue(e, at(29)), false);
    assert.equal(isReviewOverdue(e, at(30)), true);
    const renewed = renewException(e, "frank", at(31), approversOf(e));
    assert.equal(isReviewOverdue(renewed, at(60)), false);
    assert.equal(isReviewOverdue(renewed, at(61)), true);
  });

  test("renewing extends from the current expiry, or from now once expired", () => {
    const e = approveException(create({ duration_ms: 10 * DAY_MS }), "carol", T0, approversOf(create()));
    assert.equal(renewException(e, "frank", at(5), approversOf(e)).expires_at, at(20).toISOString());
    const late = renewException(e, "frank", at(15), approversOf(e), 7 * DAY_MS);
    assert.equal(late.status, "approved");
    assert.equal(late.expires_at, at(22).toISOString());
    assert.throws(() => renewException(e, "alice", at(5), approversOf(e)), PermissionDeniedError);
  });

  test("durations and renewals under an hour are refused as slips: `1m` is a minute, not a month", () => {
    assert.throws(
      () => create({ duration_ms: MINUTE_MS }),
      /^InputError: an exception's duration must be at least an hour \(1h\), got '1m': m is minutes; a month is e\.g\. 30d$/,
    );
    assert.throws(() => create({ duration_ms: 59 * MINUTE_MS }), /at least an hour/);
    assert.throws(() => create({ duration_ms: 0 }), /must be longer than zero/);
    assert.equal(create({ duration_ms: HOUR_MS }).duration_ms, HOUR_MS);
    const e = approveException(create({ duration_ms: DAY_MS }), "carol", T0, approversOf(create()));
    assert.throws(
      () => renewException(e, "frank", at(0.5), approversOf(e), 30 * MINUTE_MS),
      /a renewal's duration must be at least an hour \(1h\), got '30m'/,
    );
  });

  test("durations, renewals and review intervals past a hundred years are refused, never a broken date", () => {
    assert.throws(() => create({ duration_ms: 99_999_999 * DAY_MS }), /at most 36500d/);
    assert.throws(() => create({ duration_ms: 1e40 }), /at most 36500d/);
    assert.throws(() => create({ type: "permanent", review_interval_days: 36_501 }), /at most 36500/);
    const long = approveException(
      create({ duration_ms: 36_500 * DAY_MS }),
      "carol",
      T0,
      approversOf(create()),
    );
    assert.equal(long.expires_at, at(36_500).toISOString());
    assert.throws(() => renewException(long, "frank", at(1), approversOf(long), 1e18), /at most 36500d/);
    // Renewals add up from the current expiry: the year 9999 is the end.
    let e = long;
    assert.throws(() => {
      for (let i = 0; i < 100; i++) e = renewException(e, "frank", at(1), approversOf(e), 36_500 * DAY_MS);
    }, /expire after the year 9999/);
    assert.match(e.expires_at!, /^\d{4}-/);
  });

  test("reject needs a reason and an approver; revoke allows the requester to withdraw", () => {
    const e = create();
    assert.throws(() => rejectException(e, "carol", "", T0, approversOf(e)), /needs a reason/);
    const r = rejectException(e, "frank", "tag it instead", T0, approversOf(e));
    assert.equal(r.status, "rejected");
    assert.equal(r.reason, "tag it instead");
    assert.throws(() => revokeException(r, "frank", undefined, T0, approversOf(e)), ConflictError);
    const w = revokeException(e, "alice", "no longer needed", T0, approversOf(e));
    assert.equal(w.status, "revoked");
    assert.throws(() => revokeException(e, "mallory", undefined, T0, approversOf(e)), PermissionDeniedError);
  });

  test("only an exception in force has a review due: not once rejected or revoked", () => {
    const e = create({ review_interval_days: 30 });
    const approved = approveException(e, "carol", T0, approversOf(e));
    assert.equal(summarizeException(approved, at(1)).review_due_at, at(30).toISOString());
    const revoked = revokeException(approved, "frank", "done", at(2), approversOf(e));
    assert.equal(summarizeException(revoked, at(3)).review_due_at, null);
    const rejected = rejectException(e, "frank", "too broad", T0, approversOf(e));
    assert.equal(summarizeException(rejected, at(1)).review_due_at, null);
  });
});

describe("the exceptions: settings", () => {
  test("day counts are whole, above zero and at most a hundred years", () => {
    assert.equal(parseExceptionConfig({ reviewIntervalDays: 36_500 }).reviewIntervalDays, 36_500);
    for (const bad of [0, 1.5, 36_501, 1e12, "90"])
      assert.throws(() => parseExceptionConfig({ reviewIntervalDays: bad }), /at most 36500/, String(bad));
  });
});
