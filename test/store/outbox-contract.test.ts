import assert from "node:assert/strict";
import { test } from "node:test";
import type { OutboxMessage } from "../../src/notify/types.js";
import { describeEachDatabase } from "../helpers/databases.js";

// After 2038 in ms: more than 32 bits, so PostgreSQL's BIGINT (read back as text) is exercised.
const T0 = Date.parse("2026-09-30T12:00:00Z");

function message(id: string, at = T0): OutboxMessage {
  return {
    id,
    channel: "webhook:bot",
    kind: "budget.threshold",
    subject: `subject ${id}`,
    text: `text of ${id}`,
    data: { title: `title ${id}`, severity: "warning", fields: [{ label: "Spend", value: "80.00 USD" }] },
    createdAt: at,
  };
}

describeEachDatabase("notification outbox in the store", (ctx) => {
  test("messages are queued once per id and read back with their times as numbers", async () => {
    const outbox = ctx.store.outbox;
    assert.equal(await outbox.enqueue([message("a1"), message("a2", T0 + 5)]), 2);
    assert.equal(
      await outbox.enqueue([message("a1"), message("a3", T0 + 9)]),
      1,
      "a known id is not queued again",
    );
    const pending = await outbox.list({ status: "pending" });
    assert.deepEqual(
      pending.map((e) => [e.id, e.createdAt, e.nextAttemptAt, e.attempts]),
      [
        ["a1", T0, T0, 0],
        ["a2", T0 + 5, T0 + 5, 0],
        ["a3", T0 + 9, T0 + 9, 0],
      ],
    );
    assert.deepEqual(pending[0]!.data.fields, [{ label: "Spend", value: "80.00 USD" }]);
  });

  test("list takes a limit, oldest first; count gives what it would list without one", async () => {
    const outbox = ctx.store.outbox;
    await outbox.enqueue([message("l3", T0 - 3), message("l1", T0 - 5), message("l2", T0 - 5)]);
    await outbox.markDelivered("l2", T0);
    assert.deepEqual(
      (await outbox.list({ limit: 2 })).map((e) => e.id),
      ["l1", "l2"],
      "oldest first, then by id",
    );
    assert.deepEqual(
      (await outbox.list({ status: "pending", limit: 2 })).map((e) => e.id),
      ["l1", "l3"],
    );
    assert.equal(await outbox.count({ status: "delivered" }), 1);
    assert.equal(
      await outbox.count({ status: "pending" }),
      (await outbox.list({ status: "pending" })).length,
    );
    assert.equal(await outbox.count(), (await outbox.list()).length);
  });

  test("a claim leases due messages; a failure backs off; a delivery is final", async () => {
    const outbox = ctx.store.outbox;
    await outbox.enqueue([message("b1", T0 + 100), message("b2", T0 + 100), message("b3", T0 + 10_000)]);
    const now = T0 + 1_000;
    const claimed = (await outbox.claimDue(now, 10, 60_000))
      .map((e) => e.id)
      .filter((id) => id.startsWith("b"));
    assert.deepEqual(claimed, ["b1", "b2"], "b3 is not due yet");
    assert.deepEqual(
      (await outbox.claimDue(now + 1, 10, 60_000)).filter((e) => e.id.startsWith("b")),
      [],
      "leased messages are not claimed again before the lease ends",
    );
    await outbox.markFailed("b1", "HTTP 503", now + 30_000);
    await outbox.markDelivered("b2", now + 2);
    const byId = new Map((await outbox.list()).map((e) => [e.id, e]));
    assert.deepEqual(
      [
        byId.get("b1")!.status,
        byId.get("b1")!.attempts,
        byId.get("b1")!.lastError,
        byId.get("b1")!.nextAttemptAt,
      ],
      ["pending", 1, "HTTP 503", now + 30_000],
    );
    assert.deepEqual(
      [byId.get("b2")!.status, byId.get("b2")!.attempts, byId.get("b2")!.deliveredAt],
      ["delivered", 1, now + 2],
    );
    // The failed one comes back when its retry is due; the delivered one never does.
    const later = (await outbox.claimDue(now + 30_000, 10, 60_000)).map((e) => e.id);
    assert.ok(later.includes("b1") && !later.includes("b2"), later.join(","));
  });

  test("an outcome is recorded only while the claim that sent it still holds", async () => {
    const outbox = ctx.store.outbox;
    await outbox.enqueue([message("h1", T0), message("h2", T0)]);
    const first = T0 + 1_000;
    const mine = (await outbox.claimDue(first, 10, 60_000)).filter((e) => e.id.startsWith("h"));
    assert.deepEqual(
      mine.map((e) => e.id),
      ["h1", "h2"],
    );
    // The lease ran out: another deliverer claims them and records h1 failed.
    const later = first + 60_000;
    const theirs = (await outbox.claimDue(later, 10, 60_000)).filter((e) => e.id.startsWith("h"));
    assert.equal(theirs.length, 2);
    assert.deepEqual(
      await outbox.markAllFailed([{ id: "h1", nextAttemptAt: later + 30_000 }], "HTTP 503", later + 60_000),
      ["h1"],
    );
    // The first claim's outcomes come late: nothing of theirs is overwritten.
    assert.deepEqual(await outbox.markAllDelivered(["h1", "h2"], later + 1, first + 60_000), []);
    assert.deepEqual(
      await outbox.markAllFailed([{ id: "h2", nextAttemptAt: later + 30_000 }], "timeout", first + 60_000),
      [],
    );
    const byId = new Map((await outbox.list()).map((e) => [e.id, e]));
    assert.deepEqual(
      [byId.get("h1")!.status, byId.get("h1")!.attempts, byId.get("h1")!.lastError],
      ["pending", 1, "HTTP 503"],
    );
    assert.deepEqual([byId.get("h2")!.status, byId.get("h2")!.attempts], ["pending", 0]);
    // The second claim still holds h2: its outcome is recorded.
    assert.deepEqual(await outbox.markAllDelivered(["h2"], later + 2, later + 60_000), ["h2"]);
  });

  test("a run's claims leave out channels whose receiver is down; a released claim is due again at once", async () => {
    const outbox = ctx.store.outbox;
    const to = (id: string, channel: string): OutboxMessage => ({ ...message(id, T0 + 70_000), channel });
    await outbox.enqueue([to("x1", "webhook:x-down"), to("x2", "webhook:x-down"), to("y1", "webhook:y-up")]);
    const now = T0 + 80_000;
    const mine = (await outbox.claimDue(now, 10, 60_000, { exceptChannels: ["webhook:x-down"] })).filter(
      (e) => /^[xy]/.test(e.id),
    );
    assert.deepEqual(
      mine.map((e) => e.id),
      ["y1"],
    );
    const [x1] = (await outbox.claimDue(now, 1, 60_000, { channel: "webhook:x-down" })).map((e) => e.id);
    assert.equal(x1, "x1");
    await outbox.release(["x1"], now + 60_000);
    assert.deepEqual(
      (await outbox.claimDue(now + 1, 10, 60_000, { channel: "webhook:x-down" })).map((e) => e.id),
      ["x1", "x2"],
      "released: claimed again before its lease would have ended",
    );
    assert.equal(await outbox.count({ channel: "webhook:x-down", dueBy: now }), 2);
    assert.equal(await outbox.count({ channel: "webhook:x-down", dueBy: T0 }), 0);
  });

  test("a digest's notices keep the key they were first sent under; new notices are claimed apart", async () => {
    const outbox = ctx.store.outbox;
    const of = (id: string): OutboxMessage => ({
      ...message(id, T0 + 90_000),
      channel: "email:k@example.com",
      kind: "remediation.acted",
    });
    await outbox.enqueue([of("k1"), of("k2")]);
    const now = T0 + 100_000;
    const only = { channel: "email:k@example.com", kind: "remediation.acted", unsent: true };
    const claimed = await outbox.claimDue(now, 10, 60_000, only);
    assert.deepEqual(
      claimed.map((e) => [e.id, e.sentAs]),
      [
        ["k1", null],
        ["k2", null],
      ],
    );
    await outbox.markSentAs(["k1", "k2"], "digest:k|email:k@example.com", now + 60_000);
    await outbox.enqueue([of("k3")]);
    // The lease ran out (a crash): the digest's notices come back by its key, the new one apart.
    const later = now + 60_000;
    assert.deepEqual(
      (await outbox.claimDue(later, 10, 60_000, only)).map((e) => e.id),
      ["k3"],
    );
    assert.deepEqual(
      (await outbox.claimDue(later, 10, 60_000, { sentAs: "digest:k|email:k@example.com" })).map((e) => [
        e.id,
        e.sentAs,
      ]),
      [
        ["k1", "digest:k|email:k@example.com"],
        ["k2", "digest:k|email:k@example.com"],
      ],
    );
  });

  test("an id combines with a run's filters; a cancelled message is never claimed, re-sent with its digest, nor counted", async () => {
    const outbox = ctx.store.outbox;
    const to = (id: string, channel: string, kind = "test"): OutboxMessage => ({
      ...message(id, T0 + 200_000),
      channel,
      kind,
    });
    await outbox.enqueue([to("q1", "webhook:q"), to("q2", "webhook:q")]);
    const now = T0 + 210_000;
    assert.deepEqual(await outbox.claimDue(now, 10, 60_000, { id: "q2", dueBy: T0 + 199_999 }), []);
    assert.deepEqual(await outbox.claimDue(now, 10, 60_000, { id: "q2", exceptChannels: ["webhook:q"] }), []);
    assert.deepEqual(
      (await outbox.claimDue(now, 10, 60_000, { id: "q2", dueBy: now, exceptChannels: ["webhook:x"] })).map(
        (e) => e.id,
      ),
      ["q2"],
      "only the message named, not the other due to its channel",
    );

    // A digest first sent as z1+z2; z2 is cancelled once the claim ran out (the deliverer crashed).
    const mail = "email:z@example.com";
    await outbox.enqueue([to("z1", mail, "remediation.acted"), to("z2", mail, "remediation.acted")]);
    const key = "digest:z|email:z@example.com";
    const claimed = await outbox.claimDue(now, 10, 60_000, { channel: mail, unsent: true });
    assert.deepEqual(
      claimed.map((e) => e.id),
      ["z1", "z2"],
    );
    await outbox.markSentAs(["z1", "z2"], key, now + 60_000);
    const later = now + 60_000;
    const { cancelled, refused } = await outbox.cancel(["z2"], later);
    assert.deepEqual(
      [cancelled.map((e) => [e.id, e.status, e.sentAs]), refused],
      [[["z2", "cancelled", key]], []],
    );
    assert.deepEqual(
      (await outbox.claimDue(later, 10, 60_000, { sentAs: key })).map((e) => e.id),
      ["z1"],
      "the digest goes again without its cancelled notice",
    );
    assert.deepEqual(await outbox.claimDue(later + 1, 10, 60_000, { id: "z2" }), []);
    assert.deepEqual(await outbox.claimDue(later + 1, 10, 60_000, { channel: mail }), [], "z1 still held");
    assert.equal(await outbox.count({ channel: mail, dueBy: later + 1 }), 1, "z1 alone");
    // An outcome is never recorded on it: delivered or failed, a cancelled message stays cancelled.
    assert.deepEqual(await outbox.markAllDelivered(["z2"], later), []);
    assert.deepEqual(await outbox.markAllFailed([{ id: "z2", nextAttemptAt: later }], "x"), []);
    const z2 = (await outbox.list({ status: "cancelled" })).filter((e) => e.id === "z2");
    assert.deepEqual(
      z2.map((e) => [e.status, e.attempts]),
      [["cancelled", 0]],
    );
  });

  test("a digest's companions: claimed by channel and kind, marked together", async () => {
    const outbox = ctx.store.outbox;
    const of = (id: string, channel: string, kind: string): OutboxMessage => ({
      ...message(id, T0 + 50_000),
      channel,
      kind,
    });
    await outbox.enqueue([
      of("d1", "email:a@example.com", "remediation.grace-started"),
      of("d2", "email:b@example.com", "remediation.grace-started"),
      of("d3", "email:a@example.com", "remediation.acted"),
      of("d4", "email:a@example.com", "remediation.grace-started"),
      of("d5", "email:a@example.com", "remediation.grace-started"),
    ]);
    const now = T0 + 60_000;
    const only = { channel: "email:a@example.com", kind: "remediation.grace-started" };
    assert.deepEqual(
      (await outbox.claimDue(now, 2, 60_000, only)).map((e) => e.id),
      ["d1", "d4"],
    );
    assert.deepEqual(
      (await outbox.claimDue(now, 10, 60_000, only)).map((e) => e.id),
      ["d5"],
      "the leased ones are not claimed again",
    );
    await outbox.markAllFailed(
      [
        { id: "d1", nextAttemptAt: now + 30_000 },
        { id: "d4", nextAttemptAt: now + 60_000 },
      ],
      "SMTP 451",
    );
    await outbox.markAllDelivered(["d5"], now + 1);
    const byId = new Map((await outbox.list()).map((e) => [e.id, e]));
    assert.deepEqual(
      ["d1", "d4", "d5"].map((id) => [
        byId.get(id)!.status,
        byId.get(id)!.attempts,
        byId.get(id)!.nextAttemptAt,
      ]),
      [
        ["pending", 1, now + 30_000],
        ["pending", 1, now + 60_000],
        ["delivered", 1, T0 + 50_000],
      ],
    );
    assert.equal(byId.get("d4")!.lastError, "SMTP 451");
  });

  test("two servers on one database claim each message once", async () => {
    // Two stores: two connections (two pools on PostgreSQL), as two servers would have.
    const a = await ctx.db.open();
    const b = await ctx.db.open();
    try {
      const ids = Array.from({ length: 40 }, (_, i) => `c${String(i).padStart(2, "0")}`);
      await a.outbox.enqueue(ids.map((id) => message(id, T0 + 20_000)));
      // Rounds of four concurrent claims (two per server) until nothing is left: the ones that lose
      // a race get fewer messages, never the same one.
      const got: string[] = [];
      for (let round = 0; round < 20; round++) {
        const claims = await Promise.all(
          Array.from({ length: 4 }, (_, i) => (i % 2 === 0 ? a : b).outbox.claimDue(T0 + 30_000, 7, 600_000)),
        );
        const ids = claims.flat().map((e) => e.id);
        if (ids.length === 0) break;
        got.push(...ids.filter((id) => id.startsWith("c")));
      }
      assert.equal(new Set(got).size, got.length, "no message was claimed twice");
      assert.deepEqual([...got].sort(), ids, "every due message was claimed by someone");
    } finally {
      await a.close();
      await b.close();
    }
  });

  test("budget thresholds fire once", async () => {
    const ledger = ctx.store.outbox;
    assert.deepEqual(await ledger.markFired(["k1", "k2"], T0), ["k1", "k2"]);
    assert.deepEqual(await ledger.markFired(["k2", "k3"], T0 + 1), ["k3"]);
    assert.deepEqual([...(await ledger.fired(["k1", "k3", "k4"]))].sort(), ["k1", "k3"]);
    const many = Array.from({ length: 1200 }, (_, i) => `m${i}`);
    await ledger.markFired(many.slice(0, 700), T0);
    assert.equal((await ledger.fired(many)).size, 700, "more keys than one IN list holds");
  });
});
