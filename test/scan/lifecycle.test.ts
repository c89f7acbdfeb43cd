import assert from "node:assert/strict";
import { test } from "node:test";
import { InputError } from "../../src/errors.js";
import type { InventoryProvider, Resource } from "../../src/inventory/types.js";
import { runScan } from "../../src/scan/run-scan.js";
import { describeEachDatabase } from "../helpers/databases.js";
import { incompressibleLetters } from "../helpers/incompressible.js";
import { scanContext } from "../helpers/scan-context.js";

const TAGS = {
  "cost-center": "CC-104233",
  environment: "production",
  owner: "maria@company.com",
  project: "ledger",
};

function memoryInventory(name: string, resources: Resource[]): InventoryProvider {
  return {
    name,
    async *read() {
      // Two batches, to cross batch boundaries.
      yield resources.slice(0, 1);
      yield resources.slice(1);
    },
  };
}

const idle = (id: string, cpu: number): Resource => ({
  id,
  type: "compute/instance",
  state: "running",
  tags: TAGS,
  specs: { instance_type: "m5.large", vcpus: 2, memory_gb: 8, instance_family: "general-purpose" },
  hourly_cost: "0.096",
  metrics: { avg_cpu_percent: cpu, avg_network_bytes: 1000, window_days: 7 },
});

describeEachDatabase("finding lifecycle across scans", (ctx) => {
  test("new → still open with last_seen moved → resolved when fixed; every scan in history", async () => {
    const inv = "test:lifecycle";
    const t1 = new Date("2026-06-01T00:00:00Z");
    const t2 = new Date("2026-06-02T00:00:00Z");
    const t3 = new Date("2026-06-03T00:00:00Z");
    const untagged: Resource = { ...idle("i-untagged", 50), tags: { environment: "production" } };

    const first = await runScan({
      provider: memoryInventory(inv, [idle("i-a", 1), idle("i-b", 2), untagged]),
      context: scanContext({ at: t1 }),
      store: ctx.store,
    });
    assert.equal(first.summary.findings, 3);
    assert.equal(first.summary.new_findings, 3);
    assert.equal(first.summary.resolved_findings, 0);
    assert.deepEqual(first.summary.by_policy, { "idle-resource-detection": 2, "mandatory-tags": 1 });
    // 2 × 0.096 × 730
    assert.equal(first.summary.savings_monthly, "140.16");

    const second = await runScan({
      provider: memoryInventory(inv, [idle("i-a", 1), idle("i-b", 2), untagged]),
      context: scanContext({ at: t2 }),
      store: ctx.store,
    });
    assert.equal(second.summary.new_findings, 0);
    assert.equal(second.summary.resolved_findings, 0);
    const [a] = await ctx.store.findings.list({ inventory: inv, resourceId: "i-a" });
    assert.equal(a?.status, "open");
    assert.equal(a?.first_seen, t1.toISOString());
    assert.equal(a?.last_seen, t2.toISOString());
    assert.equal(a?.first_scan_id, first.id);
    assert.equal(a?.last_scan_id, second.id);

    // i-b got busy, the untagged one was tagged: both findings resolve; i-a stays open.
    const third = await runScan({
      provider: memoryInventory(inv, [idle("i-a", 1), idle("i-b", 40), { ...untagged, tags: TAGS }]),
      context: scanContext({ at: t3 }),
      store: ctx.store,
    });
    assert.equal(third.summary.findings, 1);
    assert.equal(third.summary.resolved_findings, 2);
    const b = (await ctx.store.findings.list({ inventory: inv, resourceId: "i-b" }))[0];
    assert.equal(b?.status, "resolved");
    assert.equal(b?.resolved_at, t3.toISOString());
    assert.equal(b?.last_seen, t2.toISOString());
    assert.equal(await ctx.store.findings.count({ inventory: inv, status: "open" }), 1);

    const history = await ctx.store.scans.list({ inventory: inv });
    assert.deepEqual(
      history.map((s) => [s.id, s.status, s.findings, s.new_findings, s.resolved_findings]),
      [
        [third.id, "completed", 1, 0, 2],
        [second.id, "completed", 3, 0, 0],
        [first.id, "completed", 3, 3, 0],
      ],
    );
    assert.deepEqual(history[2]!.by_severity, { medium: 2, high: 1 });
    assert.equal(history[2]!.savings_monthly, "140.16");
  });

  test("an inventory name of up to 2,048 bytes is kept; a longer one is refused before anything is stored", async () => {
    // Inventory names are indexed: PostgreSQL failed such a scan as a database error. A file's is its path.
    const kept = `file:/${incompressibleLetters(2042)}`;
    const scanned = await runScan({
      provider: memoryInventory(kept, [idle("i-long", 1)]),
      context: scanContext({ at: new Date("2026-06-01T00:00:00Z") }),
      store: ctx.store,
    });
    assert.equal(scanned.summary.new_findings, 1);
    assert.equal(await ctx.store.findings.count({ inventory: kept, status: "open" }), 1);
    assert.equal((await ctx.store.scans.list({ inventory: kept })).length, 1);

    const tooLong = `file:/${incompressibleLetters(2043, 11)}`;
    await assert.rejects(
      runScan({
        provider: memoryInventory(tooLong, [idle("i-long", 1)]),
        context: scanContext({ at: new Date("2026-06-01T00:00:00Z") }),
        store: ctx.store,
      }),
      (err: Error) =>
        err instanceof InputError &&
        err.message ===
          "the inventory's name is 2,049 bytes: a stored scan's inventory name is at most 2,048: give a shorter one with --inventory-name",
    );
    assert.equal((await ctx.store.scans.list({ inventory: tooLong })).length, 0);
  });

  test("a scan as of a time before the inventory's latest stored one is refused; the same time or later is kept", async () => {
    // Stored, it moved findings' last_seen before their first_seen (--at is for replays, in order).
    const inv = "test:timeline";
    const scanAt = (iso: string) =>
      runScan({
        provider: memoryInventory(inv, [idle("i-t", 1), idle("i-u", 2)]),
        context: scanContext({ at: new Date(iso) }),
        store: ctx.store,
      });
    const latest = await scanAt("2026-06-05T00:00:00Z");
    await assert.rejects(
      scanAt("2026-06-01T00:00:00Z"),
      (err: Error) =>
        err instanceof InputError &&
        err.message ===
          `cannot store a scan of test:timeline as of 2026-06-01T00:00:00.000Z: its latest stored scan, ${latest.id}, is as of 2026-06-05T00:00:00.000Z, and the findings' history only moves forward. Scan as of that time or later, or without storing it (--no-store) for a what-if.`,
    );
    assert.deepEqual(
      (await ctx.store.scans.list({ inventory: inv })).map((s) => s.started_at),
      ["2026-06-05T00:00:00.000Z"],
    );
    const [f] = await ctx.store.findings.list({ inventory: inv, resourceId: "i-t" });
    assert.deepEqual([f?.first_seen, f?.last_seen], ["2026-06-05T00:00:00.000Z", "2026-06-05T00:00:00.000Z"]);
    // Another inventory has its own timeline; the same time again is a replay.
    await runScan({
      provider: memoryInventory("test:other-timeline", [idle("i-t", 1)]),
      context: scanContext({ at: new Date("2026-06-01T00:00:00Z") }),
      store: ctx.store,
    });
    assert.equal((await scanAt("2026-06-05T00:00:00Z")).summary.new_findings, 0);
    // A scan that could not start lets go of its inventory: the next one runs.
    assert.equal((await scanAt("2026-06-06T00:00:00Z")).summary.findings, 2);
  });

  test("a scan that fails is kept in history as failed and resolves nothing", async () => {
    const inv = "test:failing";
    await runScan({
      provider: memoryInventory(inv, [idle("i-x", 1), idle("i-y", 1)]),
      context: scanContext({ at: new Date("2026-06-01T00:00:00Z") }),
      store: ctx.store,
    });
    const broken: InventoryProvider = {
      name: inv,
      // biome-ignore lint/correctness/useYield: it fails before yielding anything
      async *read() {
        throw new Error("the cloud API is down");
      },
    };
    await assert.rejects(
      runScan({
        provider: broken,
        context: scanContext({ at: new Date("2026-06-02T00:00:00Z") }),
        store: ctx.store,
      }),
      /the cloud API is down/,
    );
    const [latest] = await ctx.store.scans.list({ inventory: inv, limit: 1 });
    assert.equal(latest?.status, "failed");
    assert.equal(latest?.error, "the cloud API is down");
    assert.equal(await ctx.store.findings.count({ inventory: inv, status: "open" }), 2);
  });

  test("a scan that reads no resources resolves nothing while findings are open, unless allowed", async () => {
    const inv = "test:emptied";
    const scan = (resources: Resource[], day: number, allowEmpty?: boolean) =>
      runScan({
        provider: memoryInventory(inv, resources),
        context: scanContext({ at: new Date(Date.UTC(2026, 5, day)) }),
        store: ctx.store,
        ...(allowEmpty ? { allowEmpty } : {}),
      });
    // An inventory that never had findings may be empty: nothing to lose.
    assert.equal((await scan([], 1)).summary.resources_scanned, 0);
    await scan([idle("i-x", 1), idle("i-y", 1)], 2);
    // The export came out empty: the scan fails, the two findings stay open.
    await assert.rejects(
      scan([], 3),
      (err: Error) =>
        err.name === "InputError" &&
        /test:emptied gave no resources, and 2 findings of it are open: finishing this scan would resolve them all\. Nothing was resolved\./.test(
          err.message,
        ),
    );
    const [failed] = await ctx.store.scans.list({ inventory: inv, limit: 1 });
    assert.equal(failed?.status, "failed");
    assert.equal(await ctx.store.findings.count({ inventory: inv, status: "open" }), 2);
    // Said on purpose: the estate is gone, and so are its findings.
    const emptied = await scan([], 4, true);
    assert.equal(emptied.summary.resolved_findings, 2);
    assert.equal(await ctx.store.findings.count({ inventory: inv, status: "open" }), 0);
  });
});
