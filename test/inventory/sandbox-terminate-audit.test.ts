import assert from "node:assert/strict";
import { before, test } from "node:test";
import { sandboxResourceActions } from "../../src/inventory/sandbox/resource-actions.js";
import { actOnSandbox, initSandbox, SANDBOX_SOURCE } from "../../src/inventory/sandbox/sandbox.js";
import type { Resource } from "../../src/inventory/types.js";
import { fixedClock } from "../../src/time/clock.js";
import { describeEachDatabase } from "../helpers/databases.js";
import { PRICES } from "../helpers/scan-context.js";

const AT = new Date("2026-06-01T00:00:00Z");
const LATER = new Date("2026-06-02T00:00:00Z");

describeEachDatabase("terminating a sandbox instance audits each of its volumes", (ctx) => {
  /** Instances with a volume deleted on termination and one that is not. */
  let mixed: { instance: string; deleted: string[]; detached: string[] }[] = [];

  before(async () => {
    await initSandbox(ctx.store, PRICES, { resources: 300, seed: "vols", at: AT });
    const volumes = await ctx.store.resources.list(SANDBOX_SOURCE, { type: "storage/volume", limit: 1000 });
    const by = new Map<string, Resource[]>();
    for (const v of volumes) if (v.attached_to) by.set(v.attached_to, [...(by.get(v.attached_to) ?? []), v]);
    mixed = [...by]
      .map(([instance, vs]) => ({
        instance,
        deleted: vs
          .filter((v) => v.specs?.delete_on_termination === true)
          .map((v) => v.id)
          .sort(),
        detached: vs
          .filter((v) => v.specs?.delete_on_termination !== true)
          .map((v) => v.id)
          .sort(),
      }))
      .filter((m) => m.deleted.length > 0 && m.detached.length > 0);
    assert.ok(mixed.length >= 2);
  });

  const check = async (m: (typeof mixed)[number], actor: string) => {
    const [entry] = await ctx.store.audit.list({ subjectId: m.instance, action: "resource.terminate" });
    assert.equal(entry!.actor, actor);
    assert.deepEqual(entry!.details.volumes, { deleted: m.deleted, detached: m.detached });
    const named = [...m.deleted.map((id) => `${id} deleted`), ...m.detached.map((id) => `${id} detached`)];
    for (const part of named)
      assert.ok(String(entry!.details.message).includes(part), String(entry!.details.message));
    for (const [ids, action, state, said] of [
      [m.deleted, "resource.delete", "deleted", "deleted (delete on termination)"],
      [m.detached, "resource.detach", "available", "detached"],
    ] as const)
      for (const id of ids) {
        const entries = await ctx.store.audit.list({ subjectId: id });
        assert.equal(entries.length, 1, `${id}: ${JSON.stringify(entries)}`);
        const [e] = entries;
        assert.equal(e!.action, action);
        assert.equal(e!.actor, actor);
        assert.equal(e!.at, LATER.toISOString());
        assert.equal(e!.details.message, `${id} ${said} by terminating ${m.instance}`);
        assert.deepEqual(e!.details.by, { action: "terminate", id: m.instance });
        assert.deepEqual([e!.details.before, e!.details.after], ["in-use", state]);
        assert.equal((await ctx.store.resources.get(SANDBOX_SOURCE, id))!.resource.state, state);
      }
  };

  test("sandbox act terminate: an entry per volume, named in the terminate entry", async () => {
    const m = mixed[0]!;
    await actOnSandbox(
      ctx.store,
      PRICES,
      { action: "terminate", id: m.instance },
      { at: LATER, actor: "cli" },
    );
    await check(m, "cli");
    // Terminated again: nothing happens, nothing more is said of its volumes.
    await actOnSandbox(
      ctx.store,
      PRICES,
      { action: "terminate", id: m.instance },
      { at: LATER, actor: "cli" },
    );
    for (const id of [...m.deleted, ...m.detached])
      assert.equal((await ctx.store.audit.list({ subjectId: id })).length, 1);
  });

  test("remediation's terminate goes through the same action, and says the same", async () => {
    const m = mixed[1]!;
    const actions = sandboxResourceActions(ctx.store, PRICES, fixedClock(LATER));
    await actions.terminate(m.instance);
    await check(m, "costguard:remediation");
  });
});
