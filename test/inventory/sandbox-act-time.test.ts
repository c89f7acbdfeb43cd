import assert from "node:assert/strict";
import { before, test } from "node:test";
import { InputError } from "../../src/errors.js";
import { actOnSandbox, initSandbox, SANDBOX_SOURCE } from "../../src/inventory/sandbox/sandbox.js";
import type { Resource } from "../../src/inventory/types.js";
import type { Store } from "../../src/store/store.js";
import { manualClock } from "../../src/time/clock.js";
import { describeEachDatabase } from "../helpers/databases.js";
import { PRICES } from "../helpers/scan-context.js";

const AT = new Date("2026-06-01T00:00:00Z");
const MINUTE = 60_000;

describeEachDatabase("sandbox actions without a time: as of now, read when they act", (ctx) => {
  let instances: Resource[] = [];
  const updatedAt = async (id: string) => (await ctx.store.resources.get(SANDBOX_SOURCE, id))!.updated_at;

  before(async () => {
    await initSandbox(ctx.store, PRICES, { resources: 120, seed: "act-time", at: AT });
    instances = (await ctx.store.resources.list(SANDBOX_SOURCE, { type: "compute/instance" })).filter(
      (r) => r.state === "running",
    );
    assert.ok(instances.length >= 3);
  });

  test("an action that waited for another on the same resource is dated after it, not refused", async () => {
    const id = instances[0]!.id;
    const clock = manualClock(new Date(AT.getTime() + MINUTE));
    // The store as the start sees it: while it waits for its transaction, a stop lands as of a
    // moment later than the start was asked for, and time goes on.
    const waited: Store = {
      ...ctx.store,
      transaction: async (fn) => {
        await actOnSandbox(
          ctx.store,
          PRICES,
          { action: "stop", id },
          { at: new Date(AT.getTime() + 2 * MINUTE) },
        );
        clock.set(new Date(AT.getTime() + 3 * MINUTE));
        return ctx.store.transaction(fn);
      },
    };
    const started = await actOnSandbox(
      waited,
      PRICES,
      { action: "start", id },
      { now: clock.now, actor: "t" },
    );
    assert.equal(started.applied, true);
    assert.equal(await updatedAt(id), "2026-06-01T00:03:00.000Z");
    const [entry] = await ctx.store.audit.list({ subjectId: id, action: "resource.start" });
    assert.equal(entry!.at, "2026-06-01T00:03:00.000Z");
  });

  test("a last change ahead of now by no more than clocks differ is taken as now; beyond, refused", async () => {
    const id = instances[1]!.id;
    await actOnSandbox(
      ctx.store,
      PRICES,
      { action: "stop", id },
      { at: new Date(AT.getTime() + 10 * MINUTE) },
    );
    // Another machine's clock, four minutes ahead of this one's.
    const behind = () => new Date(AT.getTime() + 6 * MINUTE);
    assert.equal(
      (await actOnSandbox(ctx.store, PRICES, { action: "start", id }, { now: behind })).applied,
      true,
    );
    assert.equal(await updatedAt(id), "2026-06-01T00:10:00.000Z");
    // An hour ahead is no clock difference: refused as an explicit time before it is, nothing changed.
    await actOnSandbox(
      ctx.store,
      PRICES,
      { action: "stop", id },
      { at: new Date(AT.getTime() + 70 * MINUTE) },
    );
    await assert.rejects(
      actOnSandbox(ctx.store, PRICES, { action: "start", id }, { now: behind }),
      (e: Error) =>
        e instanceof InputError &&
        e.message ===
          `cannot start ${id} as of 2026-06-01T00:06:00.000Z (now): it last changed as of 2026-06-01T01:10:00.000Z, and the sandbox's history only moves forward. Act as of that time or later.`,
    );
    assert.equal((await ctx.store.resources.get(SANDBOX_SOURCE, id))!.resource.state, "stopped");
    // An explicit time before the last change is refused as before, however close.
    await assert.rejects(
      actOnSandbox(ctx.store, PRICES, { action: "start", id }, { at: new Date(AT.getTime() + 69 * MINUTE) }),
      /cannot start \S+ as of 2026-06-01T01:09:00\.000Z: it last changed as of 2026-06-01T01:10:00\.000Z/,
    );
  });

  test("actions on one resource at once each act on what the one before left: none is lost", async () => {
    const id = instances[2]!.id;
    const now = () => new Date(AT.getTime() + 2 * 60 * MINUTE);
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, k) =>
        actOnSandbox(ctx.store, PRICES, { action: "tag", id, tags: { [`k${k}`]: "v" } }, { now }),
      ),
    );
    assert.ok(outcomes.every((o) => o.applied));
    const tags = (await ctx.store.resources.get(SANDBOX_SOURCE, id))!.resource.tags!;
    assert.deepEqual(
      Array.from({ length: 8 }, (_, k) => tags[`k${k}`]),
      Array(8).fill("v"),
    );
    // Two stops at once: one stops it, the other finds it stopped (both stopped it, audited twice).
    const stops = await Promise.all([
      actOnSandbox(ctx.store, PRICES, { action: "stop", id }, { now }),
      actOnSandbox(ctx.store, PRICES, { action: "stop", id }, { now }),
    ]);
    assert.deepEqual(stops.map((o) => o.applied).sort(), [false, true]);
  });
});
