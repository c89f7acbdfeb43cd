import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ConflictError, InputError, NotFoundError } from "../../src/errors.js";
import { generateEstate } from "../../src/inventory/sandbox/estate.js";
import { FOCUS_COLUMNS } from "../../src/inventory/sandbox/focus-billing.js";
import {
  actOnSandbox,
  initSandbox,
  resetSandbox,
  SANDBOX_SOURCE,
  sandboxOverview,
  sandboxProvider,
} from "../../src/inventory/sandbox/sandbox.js";
import type { Resource } from "../../src/inventory/types.js";
import { formatAmount, parseAmount } from "../../src/money/exact.js";
import { runScan } from "../../src/scan/run-scan.js";
import { openStore } from "../../src/store/open.js";
import { describeEachDatabase } from "../helpers/databases.js";
import { PRICES, scanContext } from "../helpers/scan-context.js";

const AT = new Date("2026-06-01T00:00:00Z");
const DAY = 86_400_000;

describe("sandbox estate generation", () => {
  const estate = generateEstate({ resources: 1000, seed: "realism", at: AT }, PRICES);
  const of = (type: string) => estate.filter((r) => r.type === type);

  test("the same seed builds the same estate; another seed another one", () => {
    assert.deepEqual(
      generateEstate({ resources: 300, seed: 7, at: AT }, PRICES),
      generateEstate({ resources: 300, seed: 7, at: AT }, PRICES),
    );
    assert.notDeepEqual(
      generateEstate({ resources: 300, seed: 7, at: AT }, PRICES).map((r) => r.id),
      generateEstate({ resources: 300, seed: 8, at: AT }, PRICES).map((r) => r.id),
    );
    assert.equal(estate.length, 1000);
    assert.equal(new Set(estate.map((r) => r.id)).size, 1000);
  });

  test("instances use real EC2 types across families and sizes, priced from the table", () => {
    const instances = of("compute/instance");
    assert.ok(instances.length > 350);
    const categories = new Set(instances.map((r) => r.specs?.instance_family));
    assert.ok(categories.size >= 5, `categories: ${[...categories]}`);
    const types = new Set(instances.map((r) => r.specs?.instance_type));
    assert.ok(types.size > 30);
    for (const r of instances) {
      const shape = PRICES.instanceType(r.specs!.instance_type as string);
      assert.ok(shape, `${r.specs!.instance_type} is a real type`);
      assert.equal(r.hourly_cost, shape.hourly_text);
      assert.equal(r.specs!.vcpus, shape.vcpus);
    }
  });

  test("volumes are attached to real instances or detached with a detach time", () => {
    const ids = new Set(of("compute/instance").map((r) => r.id));
    const volumes = of("storage/volume");
    const detached = volumes.filter((v) => !v.attached_to);
    assert.ok(detached.length > 30 && detached.length < volumes.length);
    for (const v of volumes) {
      if (v.attached_to) {
        assert.ok(ids.has(v.attached_to));
        assert.equal(v.state, "in-use");
      } else {
        assert.equal(v.state, "available");
        const t = Date.parse(v.detached_at!);
        assert.ok(t <= AT.getTime() && t >= Date.parse(v.created_at!));
      }
    }
    // Some recently detached (under 7 days), most longer.
    const recent = detached.filter((v) => AT.getTime() - Date.parse(v.detached_at!) < 7 * DAY);
    assert.ok(recent.length > 0 && recent.length < detached.length);
  });

  test("utilisation includes idle machines; stopped ones have none", () => {
    const running = of("compute/instance").filter((r) => r.state === "running");
    const idle = running.filter(
      (r) => r.metrics!.avg_cpu_percent! < 5 && r.metrics!.avg_network_bytes! < 1e6,
    );
    assert.ok(idle.length / running.length > 0.08 && idle.length / running.length < 0.3);
    for (const r of of("compute/instance").filter((x) => x.state === "stopped"))
      assert.equal(r.metrics, undefined);
    assert.ok(of("database/instance").length > 80);
  });

  test("tags are complete, missing or malformed; owners and cost centres present", () => {
    const tagged = estate.map((r) => r.tags ?? {});
    const complete = tagged.filter(
      (t) =>
        /^CC-\d{6}$/.test(t["cost-center"] ?? "") &&
        /^[a-z]+@company\.com$/.test(t.owner ?? "") &&
        t.project &&
        t.environment,
    );
    const missing = tagged.filter((t) => !t["cost-center"] || !t.owner);
    const malformed = tagged.filter((t) => t["cost-center"] && !/^CC-\d{6}$/.test(t["cost-center"]));
    assert.ok(complete.length > 400, `complete ${complete.length}`);
    assert.ok(missing.length > 50, `missing ${missing.length}`);
    assert.ok(malformed.length > 5, `malformed ${malformed.length}`);
  });
});

describeEachDatabase("sandbox state in the store", (ctx) => {
  const prices = PRICES;
  let dir = "";

  test("init stores the estate, writes matching FOCUS billing, and is repeatable", async () => {
    dir = mkdtempSync(join(tmpdir(), "costguard-sandbox-"));
    const billingPath = join(dir, "billing.csv");
    const result = await initSandbox(ctx.store, prices, {
      resources: 120,
      seed: "s1",
      at: AT,
      billingPath,
      billingDays: 10,
    });
    assert.equal(result.resources, 120);
    assert.equal(await ctx.store.resources.count(SANDBOX_SOURCE), 120);
    const csv = readFileSync(billingPath, "utf8").trim().split("\n");
    assert.equal(csv[0], FOCUS_COLUMNS.map((c) => `"${c}"`).join(","));
    assert.equal(csv.length - 1, result.billing!.rows);
    // The sample file's header (FinOps FOCUS 1.0 sample data) has the same columns in the same order.
    const samplePath = join("..", "shared", "data", "focus", "focus-1.0-sample.csv");
    if (existsSync(samplePath)) assert.equal(csv[0], readFileSync(samplePath, "utf8").split("\n")[0]!.trim());
    // A running instance bills hourly × 24 per day.
    const [first] = await ctx.store.resources
      .list(SANDBOX_SOURCE, { type: "compute/instance", limit: 500 })
      .then((l) =>
        l.filter((r) => r.state === "running" && Date.parse(r.created_at!) < AT.getTime() - 20 * DAY),
      );
    const rows = csv.filter((l) => l.includes(`"${first!.id}"`));
    assert.equal(rows.length, 10);
    const billed = rows[0]!.split(",")[1];
    assert.equal(billed, formatAmount(parseAmount(first!.hourly_cost!) * 24n));
    // A database bills its hours (price × 24) while available, and its storage every day, stopped or
    // not: the overview, remediation and the billing file count a stopped one's storage alike.
    const databases = await ctx.store.resources.list(SANDBOX_SOURCE, {
      type: "database/instance",
      limit: 500,
    });
    const old = (r: Resource) => Date.parse(r.created_at!) < AT.getTime() - 20 * DAY;
    const daily = (r: Resource) =>
      csv.filter((l) => l.includes(`"${r.id}"`) && l.includes('"2026-05-31 00:00:00"'));
    const column = (line: string, name: string) => {
      const fields = line
        .match(/("([^"]|"")*"|[^,]*)(,|$)/g)!
        .map((f) => f.replace(/,$/, "").replace(/^"|"$/g, ""));
      return fields[FOCUS_COLUMNS.indexOf(name as (typeof FOCUS_COLUMNS)[number])];
    };
    const available = databases.find((r) => r.state === "available" && old(r))!;
    const [hours, storage] = daily(available);
    assert.equal(column(hours!, "PricingUnit"), "Hours");
    assert.equal(
      parseAmount(column(hours!, "ListCost")!),
      parseAmount(column(hours!, "ListUnitPrice")!) * BigInt(column(hours!, "PricingQuantity")!),
    );
    assert.equal(column(storage!, "ResourceType"), "DB Storage");
    // Stopped, it goes on costing its storage: the overview drops by its hours alone.
    const before = parseAmount((await sandboxOverview(ctx.store)).monthly_cost);
    await actOnSandbox(ctx.store, prices, { action: "stop", id: available.id }, { at: AT, actor: "test" });
    const after = parseAmount((await sandboxOverview(ctx.store)).monthly_cost);
    assert.equal(before - after, parseAmount(available.hourly_cost!) * 730n);
    assert.ok(parseAmount(String(available.monthly_cost)) > parseAmount(available.hourly_cost!) * 730n);
    const again = await initSandbox(ctx.store, prices, { resources: 120, seed: "s1", at: AT });
    assert.equal(again.resources, 120);
    assert.equal(await ctx.store.resources.count(SANDBOX_SOURCE), 120);
  });

  test("billing that cannot be written fails init with the estate and its billing file as they were", async () => {
    const billingPath = join(dir, "billing.csv");
    const before = readFileSync(billingPath, "utf8");
    // /dev/full takes the file's opening, then refuses every byte: a disk that fills up half way.
    await assert.rejects(
      initSandbox(ctx.store, prices, { resources: 40, seed: "s2", at: AT, billingPath: "/dev/full" }),
      (err: NodeJS.ErrnoException) => err.code === "ENOSPC" && err.path === "/dev/full",
    );
    assert.equal(await ctx.store.resources.count(SANDBOX_SOURCE), 120);
    assert.equal(await ctx.store.settings.get("sandbox.seed"), "s1");
    // Written whole beside its place, then renamed over it: no partial file is left, old or new.
    const again = await initSandbox(ctx.store, prices, {
      resources: 120,
      seed: "s1",
      at: AT,
      billingPath,
      billingDays: 5,
    });
    assert.deepEqual(readdirSync(dir), ["billing.csv"]);
    const after = readFileSync(billingPath, "utf8");
    assert.notEqual(after, before);
    assert.equal(after.trim().split("\n").length - 1, again.billing!.rows);
  });

  test("init interrupted while it writes the billing leaves the estate and billing file as they were", async () => {
    const billingPath = join(dir, "billing.csv");
    const before = readFileSync(billingPath, "utf8");
    const stop = new AbortController();
    const reason = new Error("interrupted for the test");
    await assert.rejects(
      initSandbox(ctx.store, prices, {
        resources: 3000,
        seed: "s3",
        at: AT,
        billingPath,
        signal: stop.signal,
        // Aborted once a thousand resources' billing is written: the next thousand stops it.
        onProgress: (p) => {
          if (p.phase === "billing" && p.done >= 1000) stop.abort(reason);
        },
      }),
      (err) => err === reason,
    );
    assert.deepEqual(readdirSync(dir), ["billing.csv"]);
    assert.equal(readFileSync(billingPath, "utf8"), before);
    assert.equal(await ctx.store.resources.count(SANDBOX_SOURCE), 120);
    // Stopped while the estate is stored: its transaction is rolled back.
    const late = new AbortController();
    await assert.rejects(
      initSandbox(ctx.store, prices, {
        resources: 3000,
        seed: "s3",
        at: AT,
        signal: late.signal,
        onProgress: (p) => {
          if (p.phase === "estate") late.abort(reason);
        },
      }),
      (err) => err === reason,
    );
    assert.equal(await ctx.store.resources.count(SANDBOX_SOURCE), 120);
    assert.equal(await ctx.store.settings.get("sandbox.seed"), "s1");
  });

  test("actions really change the state, follow the cloud's rules, and are audited", async () => {
    const all = await ctx.store.resources.list(SANDBOX_SOURCE, { limit: 1000 });
    const running = all.find(
      (r) => r.type === "compute/instance" && r.state === "running" && r.specs!.vcpus! >= 4,
    )!;
    const at = new Date("2026-06-01T12:00:00Z");
    const act = (action: Parameters<typeof actOnSandbox>[2]) =>
      actOnSandbox(ctx.store, prices, action, { at, actor: "test" });

    await assert.rejects(act({ action: "resize", id: running.id, instanceType: "m5.large" }), ConflictError);
    assert.equal((await act({ action: "stop", id: running.id })).applied, true);
    assert.equal((await act({ action: "stop", id: running.id })).applied, false);
    assert.equal((await ctx.store.resources.get(SANDBOX_SOURCE, running.id))?.resource.state, "stopped");

    const series = (running.specs!.instance_type as string).split(".")[0]!;
    const smaller = prices
      .seriesTypes(series)
      .find((s) => s.vcpus < running.specs!.vcpus! && !s.instance_type.endsWith(".metal"))!;
    await act({ action: "resize", id: running.id, instanceType: smaller.instance_type });
    await act({ action: "start", id: running.id });
    const resized = (await ctx.store.resources.get(SANDBOX_SOURCE, running.id))!.resource;
    assert.equal(resized.state, "running");
    assert.equal(resized.specs!.instance_type, smaller.instance_type);
    assert.equal(resized.specs!.vcpus, smaller.vcpus);
    assert.equal(resized.hourly_cost, smaller.hourly_text);
    await assert.rejects(act({ action: "resize", id: running.id, instanceType: "m5.huge" }), InputError);
    // A database class given without its `db.` names the class meant.
    const database = all.find((r) => r.type === "database/instance")!;
    await assert.rejects(act({ action: "resize", id: database.id, instanceType: "r5.large" }), {
      name: "InputError",
      message: "unknown database instance class r5.large (did you mean db.r5.large?)",
    });

    await act({ action: "tag", id: running.id, tags: { owner: "olu@company.com", project: null } });
    const tagged = (await ctx.store.resources.get(SANDBOX_SOURCE, running.id))!.resource;
    assert.equal(tagged.tags!.owner, "olu@company.com");
    assert.equal(tagged.tags!.project, undefined);
    // Tags the cloud refuses (CreateTags' limits) are refused, and the resource keeps its tags.
    const refused: Record<string, string | null>[] = [
      { ["k".repeat(129)]: "v" },
      { "aws:createdBy": "me" },
      { owner: "v".repeat(257) },
      Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`t${i}`, "x"])),
    ];
    for (const tags of refused)
      await assert.rejects(act({ action: "tag", id: running.id, tags }), InputError);
    assert.deepEqual((await ctx.store.resources.get(SANDBOX_SOURCE, running.id))!.resource.tags, tagged.tags);
    await act({ action: "tag", id: running.id, tags: { ["k".repeat(128)]: "v".repeat(256) } });
    await act({ action: "tag", id: running.id, tags: { ["k".repeat(128)]: null } });

    const attached = all.find((r) => r.type === "storage/volume" && r.attached_to)!;
    await assert.rejects(act({ action: "delete", id: attached.id }), ConflictError);
    const snap = await act({ action: "snapshot", id: attached.id });
    assert.equal(snap.created.length, 1);
    assert.equal(
      (await ctx.store.resources.get(SANDBOX_SOURCE, snap.created[0]!.id))?.resource.type,
      "storage/snapshot",
    );

    // An instance's snapshot is of its volumes: one with none has nothing to snapshot, and nothing is made.
    const mounted = new Set(all.filter((r) => r.type === "storage/volume").map((r) => r.attached_to));
    const bare = all.find(
      (r) => r.type === "compute/instance" && !mounted.has(r.id) && r.state !== "terminated",
    )!;
    const none = await act({ action: "snapshot", id: bare.id });
    assert.deepEqual(
      [none.applied, none.created, none.message],
      [false, [], `${bare.id} has no volume attached: nothing to snapshot`],
    );

    const owner = attached.attached_to!;
    await act({ action: "terminate", id: owner });
    assert.equal((await ctx.store.resources.get(SANDBOX_SOURCE, owner))?.resource.state, "terminated");
    const after = (await ctx.store.resources.get(SANDBOX_SOURCE, attached.id))!.resource;
    assert.equal(after.attached_to, null);
    assert.ok(after.state === "available" || after.state === "deleted");
    await assert.rejects(act({ action: "start", id: owner }), ConflictError);
    assert.equal((await act({ action: "terminate", id: owner })).applied, false);
    await assert.rejects(act({ action: "stop", id: "i-nope" }), NotFoundError);

    const audit = await ctx.store.audit.list({ subjectType: "resource", subjectId: running.id });
    assert.deepEqual(
      audit.map((e) => e.action),
      [
        "resource.stop",
        "resource.stop",
        "resource.resize",
        "resource.start",
        "resource.tag",
        "resource.tag",
        "resource.tag",
      ],
    );
    assert.equal(audit[0]!.actor, "test");
    assert.equal(audit[0]!.details.after, "stopped");

    // History moves forward: an action as of a time before the resource's last change is refused and
    // changes nothing (a stop dated before its start would make it stopped for longer than it was).
    const earlier = new Date(at.getTime() - 60_000);
    await assert.rejects(
      actOnSandbox(ctx.store, prices, { action: "stop", id: running.id }, { at: earlier, actor: "test" }),
      (e: Error) => e instanceof InputError && /last changed as of 2026-06-01T12:00:00\.000Z/.test(e.message),
    );
    assert.equal((await ctx.store.resources.get(SANDBOX_SOURCE, running.id))!.resource.state, "running");
    assert.equal((await ctx.store.audit.list({ subjectType: "resource", subjectId: running.id })).length, 7);
    assert.equal((await act({ action: "stop", id: running.id })).applied, true);
  });

  test("a scan of the sandbox in an in-memory database (one connection) reads while it records", async () => {
    const memory = await openStore({ kind: "sqlite", path: ":memory:" });
    try {
      await initSandbox(memory, prices, { resources: 2500, seed: "memory", at: AT });
      const result = await runScan({
        provider: sandboxProvider(memory),
        context: scanContext({ at: AT }),
        store: memory,
      });
      assert.equal(result.summary.resources_scanned, 2500);
      assert.equal(result.summary.new_findings, result.summary.findings);
      assert.equal(await memory.findings.count({ inventory: SANDBOX_SOURCE }), result.summary.findings);
    } finally {
      await memory.close();
    }
  });

  test("a later scan sees the change: stopping an idle instance resolves its finding", async () => {
    await initSandbox(ctx.store, prices, { resources: 200, seed: "scan", at: AT });
    const scan = (at: Date) =>
      runScan({ provider: sandboxProvider(ctx.store), context: scanContext({ at }), store: ctx.store });
    const before = await scan(AT);
    const idle = (
      await ctx.store.findings.list({
        inventory: SANDBOX_SOURCE,
        policy: "idle-resource-detection",
        status: "open",
      })
    )[0]!;
    const orphan = (
      await ctx.store.findings.list({
        inventory: SANDBOX_SOURCE,
        policy: "orphaned-resource-detection",
        status: "open",
      })
    )[0]!;
    const later = new Date(AT.getTime() + DAY);
    await actOnSandbox(ctx.store, prices, { action: "stop", id: idle.resource_id }, { at: later });
    await actOnSandbox(ctx.store, prices, { action: "delete", id: orphan.resource_id }, { at: later });
    const after = await scan(new Date(later.getTime() + 1000));
    assert.equal((await ctx.store.findings.get(idle.fingerprint))?.status, "resolved");
    assert.equal((await ctx.store.findings.get(orphan.fingerprint))?.status, "resolved");
    assert.ok(after.summary.resolved_findings! >= 2);
    assert.equal(after.summary.resources_scanned, before.summary.resources_scanned - 1);
    const saved =
      BigInt(Math.round(Number(idle.savings_monthly) * 1000)) +
      BigInt(Math.round(Number(orphan.savings_monthly) * 1000));
    const drop =
      BigInt(Math.round(Number(before.summary.savings_monthly) * 1000)) -
      BigInt(Math.round(Number(after.summary.savings_monthly) * 1000));
    assert.equal(drop, saved);
  });

  test("overview and reset", async () => {
    const o = await sandboxOverview(ctx.store);
    assert.equal(o.seed, "scan");
    assert.equal(o.resources + o.gone, 200);
    assert.equal(await resetSandbox(ctx.store, AT), 200);
    assert.equal(await ctx.store.resources.count(SANDBOX_SOURCE, { includeGone: true }), 0);
    assert.equal(await ctx.store.settings.get("sandbox.seed"), undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
});

export type { Resource };
