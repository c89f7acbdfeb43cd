import assert from "node:assert/strict";
import { test } from "node:test";
import { ConflictError } from "../../src/errors.js";
import { initSandbox, resetSandbox, SANDBOX_SOURCE } from "../../src/inventory/sandbox/sandbox.js";
import type { Store } from "../../src/store/store.js";
import { describeEachDatabase } from "../helpers/databases.js";
import { EMPTY_SCAN_SUMMARY } from "../helpers/findings.js";
import { PRICES } from "../helpers/scan-context.js";

const AT = new Date("2026-06-01T00:00:00Z");

const scanOfSandbox = (id: string) => ({
  id,
  inventory: SANDBOX_SOURCE,
  started_at: AT.toISOString(),
  policy_revision: "r",
  policies: [],
});

describeEachDatabase("sandbox init and reset against a scan of the sandbox", (ctx) => {
  test("init and reset are refused while a scan of the sandbox runs, the estate left as it was", async () => {
    await initSandbox(ctx.store, PRICES, { resources: 20, seed: "a", at: AT });
    await ctx.store.scans.start(scanOfSandbox("scan-running"));
    try {
      for (const change of [
        () => initSandbox(ctx.store, PRICES, { resources: 30, seed: "b", at: AT }),
        () => resetSandbox(ctx.store, AT),
      ])
        await assert.rejects(change(), (err: unknown) => {
          assert.ok(err instanceof ConflictError, String(err));
          assert.match(
            err.message,
            /^cannot (re-create|reset) the sandbox: scan-running, started \S+ by process \d+ on .+, is scanning it; run this again when the scan has finished/,
          );
          return true;
        });
      assert.equal(await ctx.store.resources.count(SANDBOX_SOURCE), 20);
      assert.equal(await ctx.store.settings.get("sandbox.seed"), "a");
    } finally {
      await ctx.store.scans.complete("scan-running", AT.toISOString(), EMPTY_SCAN_SUMMARY);
    }
    // Once it has finished: done, and let go of again.
    await initSandbox(ctx.store, PRICES, { resources: 30, seed: "b", at: AT });
    assert.equal(await ctx.store.resources.count(SANDBOX_SOURCE), 30);
    await ctx.store.scans.start(scanOfSandbox("scan-after"));
    await ctx.store.scans.complete("scan-after", AT.toISOString(), EMPTY_SCAN_SUMMARY);
  });

  test("init and reset are refused while a run acts on the sandbox, the estate left as it was", async () => {
    await initSandbox(ctx.store, PRICES, { resources: 20, seed: "a", at: AT });
    // What run or remediate --execute holds from before its scan until its last action.
    const acting = await ctx.store.tasks.tryActing(SANDBOX_SOURCE);
    assert.ok(acting);
    try {
      for (const [doing, change] of [
        ["re-create", () => initSandbox(ctx.store, PRICES, { resources: 30, seed: "b", at: AT })],
        ["reset", () => resetSandbox(ctx.store, AT)],
      ] as const)
        await assert.rejects(change(), (err: unknown) => {
          assert.ok(err instanceof ConflictError, String(err));
          assert.equal(
            err.message,
            `cannot ${doing} the sandbox: a run is acting on it (run or remediate with --execute); run this again when the run has finished (it planned on the estate as it is, and would act on the one that replaced it)`,
          );
          return true;
        });
      assert.equal(await ctx.store.resources.count(SANDBOX_SOURCE), 20);
      assert.equal(await ctx.store.settings.get("sandbox.seed"), "a");
      // Refused, init let go of the scan lock it had taken: a scan starts.
      await ctx.store.scans.start(scanOfSandbox("scan-while-acting"));
      await ctx.store.scans.complete("scan-while-acting", AT.toISOString(), EMPTY_SCAN_SUMMARY);
    } finally {
      await acting.release();
    }
    await resetSandbox(ctx.store, AT);
    assert.equal(await ctx.store.resources.count(SANDBOX_SOURCE), 0);
    // And init and reset let go of the acting lock: a run can act.
    const after = await ctx.store.tasks.tryActing(SANDBOX_SOURCE);
    assert.ok(after);
    await after.release();
  });

  test("while init writes the new estate, no scan of the sandbox can start", async () => {
    let refused = 0;
    // The store as init sees it: at the start of its transaction, a scan tries to start.
    const watched: Store = {
      ...ctx.store,
      transaction: async (fn) => {
        await assert.rejects(ctx.store.scans.start(scanOfSandbox("scan-during")), ConflictError);
        refused++;
        return ctx.store.transaction(fn);
      },
    };
    await initSandbox(watched, PRICES, { resources: 10, seed: "c", at: AT });
    assert.equal(refused, 1);
    await resetSandbox(watched, AT);
    assert.equal(refused, 2);
  });
});
