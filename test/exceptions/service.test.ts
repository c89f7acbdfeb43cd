import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConflictError, InputError, NotFoundError, PermissionDeniedError } from "../../src/errors.js";
import { policyCatalog } from "../../src/exceptions/catalog.js";
import { createExceptionService } from "../../src/exceptions/service.js";
import { createMemoryExceptionStore } from "../../src/exceptions/store.js";
import { loadPolicies } from "../../src/policy/load.js";
import { manualClock } from "../../src/time/clock.js";
import { DAY_MS } from "../../src/time/duration.js";
import { CONFIG, recordingNotifier, sequentialIds } from "./helpers.js";

const catalog = policyCatalog(loadPolicies(["examples/policies"]).policies);

function setup() {
  const clock = manualClock("2025-03-01T00:00:00Z");
  const store = createMemoryExceptionStore();
  const notifier = recordingNotifier();
  const service = createExceptionService({
    store,
    clock: clock.now,
    config: CONFIG,
    catalog,
    notifier,
    newId: sequentialIds(),
  });
  return { clock, store, notifier, service };
}

const tagRequest = {
  resource_id: "i-0abc",
  policy: "mandatory-tags",
  rule: "cost-center-required",
  justification: "migration in progress",
  requested_by: "alice",
  duration_ms: 30 * DAY_MS,
};

describe("exception service", () => {
  test("request → approve, notifying the approvers and then the requester", async () => {
    const { service, notifier, store } = setup();
    const exc = await service.request(tagRequest);
    assert.equal(exc.id, "exc-0001");
    assert.equal(exc.policy_type, "TagRequirement");
    assert.deepEqual(notifier.sent[0]!.recipients.sort(), ["carol", "frank"]);
    const approved = await service.approve(exc.id, "frank", "ok for a month");
    assert.equal((await store.get(exc.id))!.status, "approved");
    assert.equal(approved.history.at(-1)!.note, "ok for a month");
    assert.deepEqual(notifier.sent[1]!.recipients, ["alice"]);
    assert.equal(notifier.sent[1]!.kind, "approved");
  });

  test("a requester trying to approve their own exception is refused and nothing changes", async () => {
    const { service, store } = setup();
    const exc = await service.request(tagRequest);
    await assert.rejects(service.approve(exc.id, "alice"), PermissionDeniedError);
    assert.equal((await store.get(exc.id))!.status, "pending");
    assert.equal((await store.get(exc.id))!.version, 1);
  });

  test("a name written in another case is the same user: a requester cannot approve their own as `FRANK`", async () => {
    const { service, store } = setup();
    const exc = await service.request({ ...tagRequest, requested_by: "Frank" });
    // Frank (security) is not among the approvers of Frank's request, in any case.
    await assert.rejects(
      service.approve(exc.id, "frank"),
      (e: unknown) =>
        e instanceof PermissionDeniedError &&
        e.message ===
          "frank requested exception exc-0001 and cannot approve it; eligible approvers: no one but the requester (exceptions.approvers in costguard.yaml names who approves; see docs/exceptions.md)",
    );
    assert.equal((await store.get(exc.id))!.status, "pending");
    // An approver is one in any case too, and a manager is found for the requester so written.
    const alices = await service.request({ ...tagRequest, requested_by: "ALICE" });
    await service.approve(alices.id, "Carol");
    assert.equal((await store.get(alices.id))!.status, "approved");
  });

  test("a lookalike of a name is the same user: fullwidth, accented or folded, nobody approves their own", async () => {
    const { service, store } = setup();
    // frank (security) asks as a name that only looks like his, then approves as frank.
    for (const as of ["ｆrank", "Frank\u0301", "FRAŃK", "ＦＲＡＮＫ"]) {
      const exc = await service.request({ ...tagRequest, requested_by: as });
      await assert.rejects(service.approve(exc.id, "frank"), (e: unknown) => {
        assert.ok(e instanceof PermissionDeniedError, String(e));
        assert.match(e.message, /^frank requested exception exc-\d+ and cannot approve it/);
        return true;
      });
      assert.equal((await store.get(exc.id))!.status, "pending", as);
    }
    // Names spelt with ß and ss are one user as well (case folding, not only lower case).
    const strasse = await service.request({ ...tagRequest, requested_by: "STRASSE" });
    await assert.rejects(service.approve(strasse.id, "straße"), PermissionDeniedError);
  });

  test("a name with an invisible or control character in it is refused, as requester or as actor", async () => {
    const { service, store } = setup();
    for (const as of ["frank\u200b", "fr\ufeffank", "fr\u00adank", "fr\u202eank", "frank\u001b[2J"])
      await assert.rejects(service.request({ ...tagRequest, requested_by: as }), (e: unknown) => {
        assert.ok(e instanceof InputError, String(e));
        assert.match(
          e.message,
          /^the requester: a user name cannot hold an invisible or control character \(this one has U\+[0-9A-F]{4}\)/,
        );
        return true;
      });
    assert.equal((await store.list({})).length, 0);
    const exc = await service.request(tagRequest);
    await assert.rejects(service.approve(exc.id, "fr\u200dank"), /^InputError: the acting user: .* U\+200D/);
    await assert.rejects(service.revoke(exc.id, "alice\u200b"), /the acting user: .* U\+200B/);
    assert.equal((await store.get(exc.id))!.version, 1);
  });

  test("revoking tells the requester unless they revoke it themselves, under any spelling", async () => {
    const { service, notifier } = setup();
    const exc = await service.request(tagRequest);
    await service.revoke(exc.id, "ALICE", "no longer needed");
    assert.deepEqual(notifier.sent.at(-1)!.recipients, []);
  });

  test("unknown policies and rules are refused with a suggestion", async () => {
    const { service } = setup();
    await assert.rejects(
      service.request({ ...tagRequest, policy: "mandatory-tag" }),
      /did you mean 'mandatory-tags'/,
    );
    await assert.rejects(service.request({ ...tagRequest, rule: "cost-centre-required" }), InputError);
    await assert.rejects(service.approve("exc-9999", "frank"), NotFoundError);
  });

  test("a selector type that meets no resource the waived rule judges is refused: it would waive nothing", async () => {
    const { service, store } = setup();
    const conditional = {
      policy: "resource-limits",
      justification: "lab",
      requested_by: "alice",
    };
    await assert.rejects(
      service.request({ ...conditional, rule: "max-storage-size", selector: { type: "compute/instance" } }),
      {
        message:
          "the selector's type compute/instance selects no resource that rule 'resource-limits/max-storage-size' judges (storage/volume): the exception would waive nothing",
      },
    );
    await assert.rejects(
      service.request({ ...conditional, selector: { type: "storage/volumes" } }),
      /any rule of policy 'resource-limits' judges \(compute\/instance, storage\/volume, database\/instance; did you mean storage\/volume\?\)/,
    );
    assert.equal((await store.list({})).length, 0);
    // A category, or a type one of the policy's rules judges, is taken.
    await service.request({ ...conditional, rule: "max-storage-size", selector: { type: "storage/*" } });
    await service.request({ ...conditional, selector: { type: "database/instance" } });
    // Budget rules judge requests by their selector, of every type.
    await service.request({
      ...conditional,
      policy: "team-budgets",
      selector: { type: "serverless/function" },
    });
    assert.equal((await store.list({})).length, 3);
  });

  test("a stale write loses: two approvers acting on the same version", async () => {
    const { service, store } = setup();
    const exc = await service.request(tagRequest);
    const stale = (await store.get(exc.id))!;
    await service.approve(exc.id, "frank");
    await assert.rejects(store.update({ ...stale, status: "rejected", version: 2 }, 1), ConflictError);
  });

  test("sweep stores expiries and sends an overdue review reminder once per period", async () => {
    const { service, clock, notifier, store } = setup();
    const temp = await service.request(tagRequest);
    const perm = await service.request({
      ...tagRequest,
      resource_id: "i-0def",
      duration_ms: undefined,
      review_interval_days: 30,
    });
    await service.approve(temp.id, "frank");
    await service.approve(perm.id, "carol");
    clock.advance(31 * DAY_MS);
    // A dry run says what the sweep would do and does none of it.
    const preview = await service.sweep({ dryRun: true });
    assert.deepEqual(
      [preview.expired.map((e) => e.id), preview.reviewRequested.map((e) => e.id)],
      [[temp.id], [perm.id]],
    );
    assert.equal((await store.get(temp.id))!.status, "approved");
    assert.equal((await store.get(perm.id))!.version, 2);
    assert.equal(notifier.sent.filter((n) => n.kind === "review-overdue" || n.kind === "expired").length, 0);
    const first = await service.sweep();
    assert.deepEqual(
      first.expired.map((e) => e.id),
      [temp.id],
    );
    assert.deepEqual(
      first.reviewRequested.map((e) => e.id),
      [perm.id],
    );
    assert.equal((await store.get(temp.id))!.status, "expired");
    const reminders = () => notifier.sent.filter((n) => n.kind === "review-overdue").length;
    assert.equal(reminders(), 1);
    clock.advance(DAY_MS);
    const second = await service.sweep();
    assert.equal(second.reviewRequested.length, 0);
    assert.equal(reminders(), 1);
    await service.renew(perm.id, "frank");
    clock.advance(31 * DAY_MS);
    assert.equal((await service.sweep()).reviewRequested.length, 1);
    assert.equal(reminders(), 2);
  });

  test("the report counts by status, policy and type and lists expiring and overdue ones", async () => {
    const { service, clock } = setup();
    const soon = await service.request({ ...tagRequest, duration_ms: 5 * DAY_MS });
    const later = await service.request({ ...tagRequest, resource_id: "i-2", duration_ms: 60 * DAY_MS });
    const perm = await service.request({
      resource_id: "vol-1",
      policy: "resource-limits",
      rule: "max-storage-size",
      justification: "archive",
      requested_by: "bob",
      review_interval_days: 1,
    });
    await service.request({ ...tagRequest, resource_id: "i-3" });
    const selector = await service.request({
      selector: { tags: { project: "alpha" } },
      policy: "team-budgets",
      justification: "launch month",
      requested_by: "bob",
    });
    for (const e of [soon, later, perm]) await service.approve(e.id, "frank");
    await service.reject(selector.id, "erin", "use the project budget");
    clock.advance(2 * DAY_MS);
    const r = await service.report();
    assert.equal(r.total, 5);
    assert.deepEqual(r.by_status, { approved: 3, pending: 1, rejected: 1 });
    assert.deepEqual(r.by_policy, { "mandatory-tags": 3, "resource-limits": 1, "team-budgets": 1 });
    assert.deepEqual(r.by_type, { temporary: 3, permanent: 1, conditional: 1 });
    assert.deepEqual(
      r.expiring_soon.map((e) => e.id),
      [soon.id],
    );
    assert.deepEqual(
      r.needing_review.map((e) => e.id),
      [perm.id],
    );
  });
});
