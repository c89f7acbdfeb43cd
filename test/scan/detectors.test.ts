import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { InputError } from "../../src/errors.js";
import type { Resource } from "../../src/inventory/types.js";
import { parseDetectorConfig } from "../../src/scan/detector-config.js";
import {
  DEFAULT_DETECTORS,
  detectIdle,
  detectUnattached,
  idleOtherState,
  idleUnmeasured,
  unattachedUndated,
} from "../../src/scan/detectors.js";
import { findingsForResource } from "../../src/scan/findings.js";
import { NO_POLICIES, scanContext } from "../helpers/scan-context.js";

const IDLE = DEFAULT_DETECTORS.idle;
const AT = new Date("2026-06-01T00:00:00Z");
const DAY = 86_400_000;

function instance(metrics: Resource["metrics"], extra: Partial<Resource> = {}): Resource {
  return {
    id: "i-1",
    type: "compute/instance",
    state: "running",
    specs: { instance_type: "m5.xlarge", vcpus: 4, memory_gb: 16, instance_family: "general-purpose" },
    hourly_cost: "0.192",
    ...(metrics ? { metrics } : {}),
    ...extra,
  };
}

describe("idle detector: CPU under 5% and network under 1 MB/day over 7 days", () => {
  const cases: [string, Resource["metrics"], boolean][] = [
    [
      "just under both thresholds",
      { avg_cpu_percent: 4.99, avg_network_bytes: 999_999, window_days: 7 },
      true,
    ],
    ["CPU exactly at 5%", { avg_cpu_percent: 5, avg_network_bytes: 10, window_days: 7 }, false],
    ["CPU just over 5%", { avg_cpu_percent: 5.01, avg_network_bytes: 10, window_days: 7 }, false],
    [
      "network exactly 1,000,000 bytes/day",
      { avg_cpu_percent: 0.5, avg_network_bytes: 1_000_000, window_days: 7 },
      false,
    ],
    ["network just under", { avg_cpu_percent: 0.5, avg_network_bytes: 999_999, window_days: 7 }, true],
    [
      "a window shorter than 7 days cannot tell",
      { avg_cpu_percent: 0.5, avg_network_bytes: 10, window_days: 6 },
      false,
    ],
    ["a longer window is fine", { avg_cpu_percent: 0.5, avg_network_bytes: 10, window_days: 14 }, true],
    ["no window given: taken as the configured one", { avg_cpu_percent: 0.5, avg_network_bytes: 10 }, true],
    ["no network figure: cannot tell", { avg_cpu_percent: 0.5, window_days: 7 }, false],
  ];
  for (const [name, metrics, idle] of cases) {
    test(name, () => assert.equal(detectIdle(instance(metrics), IDLE) !== undefined, idle));
  }
  test("only running resources of the configured types", () => {
    const quiet = { avg_cpu_percent: 1, avg_network_bytes: 1, window_days: 7 };
    assert.equal(detectIdle(instance(quiet, { state: "stopped" }), IDLE), undefined);
    assert.equal(detectIdle(instance(quiet, { type: "network/load-balancer" }), IDLE), undefined);
    assert.ok(detectIdle(instance(quiet, { type: "database/instance", state: "available" }), IDLE));
    assert.equal(detectIdle(instance(undefined), IDLE), undefined);
  });
  test("a state in any case: Google Cloud lists RUNNING, people write Running", () => {
    const quiet = { avg_cpu_percent: 1, avg_network_bytes: 1, window_days: 7 };
    for (const state of ["RUNNING", "Running", "AVAILABLE"])
      assert.ok(detectIdle(instance(quiet, { state }), IDLE), state);
    assert.equal(detectIdle(instance(quiet, { state: "STOPPED" }), IDLE), undefined);
  });
  test("Azure's power state: `VM running` is judged, `VM deallocated` is off", () => {
    const quiet = { avg_cpu_percent: 1, avg_network_bytes: 1, window_days: 7 };
    assert.ok(detectIdle(instance(quiet, { state: "VM running" }), IDLE));
    assert.equal(detectIdle(instance(quiet, { state: "VM deallocated" }), IDLE), undefined);
  });
  test("a state neither running nor off is not judged, and named so a scan can count it", () => {
    const quiet = { avg_cpu_percent: 1, avg_network_bytes: 1, window_days: 7 };
    for (const state of ["modifying", "pending", "rebooting", "PROVISIONING", "VM starting", "in flux"]) {
      assert.equal(detectIdle(instance(quiet, { state }), IDLE), undefined, state);
      assert.equal(idleOtherState(instance(quiet, { state }), IDLE), state, state);
      assert.equal(idleUnmeasured(instance(undefined, { state }), IDLE), false, `${state}: not unmeasured`);
    }
    for (const state of [
      "running",
      "Available",
      "stopped",
      "STOPPING",
      "TERMINATED",
      "deallocated",
      "VM Stopped",
    ])
      assert.equal(idleOtherState(instance(quiet, { state }), IDLE), undefined, state);
    const { state: _, ...stateless } = instance(quiet);
    assert.equal(idleOtherState(stateless, IDLE), undefined, "no state: running");
    assert.equal(idleOtherState(instance(quiet, { type: "storage/volume", state: "x" }), IDLE), undefined);
    assert.equal(idleOtherState(instance(quiet, { state: "x" }), { ...IDLE, enabled: false }), undefined);
  });
  test("a running resource it cannot judge (no averages over the window) is counted as unmeasured", () => {
    const quiet = { avg_cpu_percent: 1, avg_network_bytes: 1, window_days: 7 };
    assert.equal(idleUnmeasured(instance(undefined), IDLE), true);
    assert.equal(idleUnmeasured(instance({ avg_cpu_percent: 1, window_days: 7 }), IDLE), true);
    assert.equal(idleUnmeasured(instance({ ...quiet, window_days: 6 }), IDLE), true);
    assert.equal(idleUnmeasured(instance(quiet), IDLE), false, "judged: idle");
    assert.equal(idleUnmeasured(instance({ ...quiet, avg_cpu_percent: 50 }), IDLE), false, "judged: busy");
    assert.equal(idleUnmeasured(instance(undefined, { state: "stopped" }), IDLE), false, "not running");
    assert.equal(
      idleUnmeasured(instance(undefined, { type: "storage/volume" }), IDLE),
      false,
      "not its type",
    );
    assert.equal(idleUnmeasured(instance(undefined), { ...IDLE, enabled: false }), false, "detector off");
  });
  test("thresholds are configurable", () => {
    const cfg = parseDetectorConfig(
      { idle: { cpuPercent: 10, networkBytesPerDay: 5e6, windowDays: 3 } },
      "t",
    );
    const m = { avg_cpu_percent: 7, avg_network_bytes: 2_000_000, window_days: 3 };
    assert.ok(detectIdle(instance(m), cfg.idle));
    assert.equal(detectIdle(instance(m), IDLE), undefined);
  });
  test("an idle instance is a stop finding saving hourly × 730, exactly", () => {
    const ctx = scanContext({ yaml: NO_POLICIES });
    const [f, ...rest] = findingsForResource(
      instance({ avg_cpu_percent: 1.5, avg_network_bytes: 340_000, window_days: 7 }),
      ctx,
    );
    assert.equal(rest.length, 0);
    assert.equal(f?.finding.policy, "idle-resource-detection");
    assert.equal(f?.finding.rule, "low-utilization");
    assert.equal(f?.finding.recommendation.action, "stop");
    assert.equal(f?.finding.savings_monthly, "140.16");
    assert.equal(f?.finding.message, "Instance appears idle (CPU: 1.5%, Network: 340KB/day avg over 7 days)");
  });
  test("the message never rounds a figure onto the threshold it is below", () => {
    const ctx = scanContext({ yaml: NO_POLICIES });
    const message = (cpu: number, network: number) =>
      findingsForResource(
        instance({ avg_cpu_percent: cpu, avg_network_bytes: network, window_days: 7 }),
        ctx,
      )[0]?.finding.message;
    // Idle is strictly below 5% and 1,000,000 bytes a day: 5.0% and 1000KB/day read as at them.
    assert.equal(
      message(4.999, 999_999),
      "Instance appears idle (CPU: 4.999%, Network: 999.999KB/day avg over 7 days)",
    );
    assert.equal(
      message(4.96, 999_600),
      "Instance appears idle (CPU: 4.96%, Network: 999.6KB/day avg over 7 days)",
    );
    // Away from the thresholds, the usual figures.
    assert.equal(
      message(4.94, 999_400),
      "Instance appears idle (CPU: 4.9%, Network: 999KB/day avg over 7 days)",
    );
    // A threshold set in megabytes a day: 4,999,999 bytes is under 5MB/day, not 5.0MB/day.
    const mb = scanContext({
      yaml: NO_POLICIES,
      detectors: parseDetectorConfig({ idle: { networkBytesPerDay: 5e6 } }, "t"),
    });
    const [f] = findingsForResource(
      instance({ avg_cpu_percent: 1, avg_network_bytes: 4_999_999, window_days: 7 }),
      mb,
    );
    assert.match(f!.finding.message, /Network: 4\.999999MB\/day/);
  });
  test("a cost known only by the month saves that month exactly, not its hourly rounding × 730", () => {
    const ctx = scanContext({ yaml: NO_POLICIES });
    const idle = { avg_cpu_percent: 1, avg_network_bytes: 0, window_days: 7 };
    for (const monthly of ["100", "33.33", "999999999999.999999999999"]) {
      const [f] = findingsForResource({ ...instance(idle), hourly_cost: null, monthly_cost: monthly }, ctx);
      assert.equal(f?.finding.savings_monthly, monthly);
    }
  });
});

test("an idle database whose storage cannot be priced saves its instance hours, which the book knows", () => {
  const ctx = scanContext({ yaml: NO_POLICIES });
  const db = (specs: Record<string, unknown>): Resource => ({
    id: "db-1",
    type: "database/instance",
    provider: "aws",
    region: "us-east-1",
    state: "available",
    specs: { instance_type: "db.r6g.4xlarge", engine: "postgres", storage_gb: 100, ...specs },
    metrics: { avg_cpu_percent: 1, avg_network_bytes: 0, window_days: 7 },
  });
  // No storage type: the whole cost is unknown, and was "no cost known", saving 0.
  const [f] = findingsForResource(db({}), ctx);
  assert.equal(f?.finding.recommendation.action, "stop");
  assert.equal(f?.finding.savings_monthly, "1314"); // 1.80 × 730
  assert.match(
    f!.finding.recommendation.basis,
    /^stopping saves its running cost, 1\.8000\/hour × 730 \(from the price book: its instance hours; its storage, with no storage type the book knows, is not priced, and goes on costing when stopped\)$/,
  );
  // With its storage priced, the same saving: stopping never ended the storage.
  const [priced] = findingsForResource(db({ storage_type: "gp3" }), ctx);
  assert.equal(priced?.finding.savings_monthly, "1314");
  assert.equal(
    priced?.finding.recommendation.basis,
    "stopping saves its running cost, 1.8000/hour × 730 (from the price book)",
  );
  // A class the book does not know is still unknown.
  const [unknown] = findingsForResource(db({ instance_type: "db.x99.huge" }), ctx);
  assert.equal(unknown?.finding.savings_monthly, "0");
  assert.equal(unknown?.finding.recommendation.basis, "no cost known for this resource");
});

describe("unattached volume detector: more than 7 days", () => {
  const volume = (extra: Partial<Resource>): Resource => ({
    id: "vol-1",
    type: "storage/volume",
    state: "available",
    attached_to: null,
    created_at: "2025-01-01T00:00:00Z",
    monthly_cost: "80",
    specs: { size_gb: 1000, volume_type: "ssd" },
    ...extra,
  });
  const cfg = DEFAULT_DETECTORS.unattached;
  const ago = (ms: number) => new Date(AT.getTime() - ms).toISOString();

  test("exactly 7 days is not more than 7 days", () =>
    assert.equal(detectUnattached(volume({ detached_at: ago(7 * DAY) }), cfg, AT), undefined));
  test("7 days and a second is", () =>
    assert.deepEqual(detectUnattached(volume({ detached_at: ago(7 * DAY + 1000) }), cfg, AT), {
      days: 7,
      since: ago(7 * DAY + 1000),
      sinceMs: AT.getTime() - (7 * DAY + 1000),
    }));
  test("6 days is not", () =>
    assert.equal(detectUnattached(volume({ detached_at: ago(6 * DAY) }), cfg, AT), undefined));
  test("attached volumes never are", () => {
    assert.equal(
      detectUnattached(volume({ attached_to: "i-1", detached_at: ago(30 * DAY) }), cfg, AT),
      undefined,
    );
    // EBS `in-use` (any case), Azure's `Attached` and `Reserved` (attached to a deallocated machine).
    for (const state of ["in-use", "IN-USE", "Attached", "Reserved"])
      assert.equal(
        detectUnattached(volume({ state, detached_at: ago(30 * DAY) }), cfg, AT),
        undefined,
        state,
      );
    for (const state of ["available", "Unattached"])
      assert.ok(detectUnattached(volume({ state, detached_at: ago(30 * DAY) }), cfg, AT), state);
  });
  test("a volume never attached counts from its creation", () =>
    assert.equal(detectUnattached(volume({}), cfg, AT)?.days, 516));
  test("an unattached volume with neither detached_at nor created_at is counted as undated", () => {
    const { created_at: _, ...undated } = volume({});
    assert.equal(detectUnattached(undated, cfg, AT), undefined);
    assert.equal(unattachedUndated(undated, cfg), true);
    assert.equal(unattachedUndated(volume({}), cfg), false, "dated by its creation");
    assert.equal(unattachedUndated({ ...undated, attached_to: "i-1" }, cfg), false, "attached");
    assert.equal(unattachedUndated({ ...undated, state: "in-use" }, cfg), false, "in use");
    assert.equal(unattachedUndated(undated, { ...cfg, enabled: false }), false, "detector off");
  });
  test("the threshold is configurable", () => {
    const thirty = parseDetectorConfig({ unattached: { days: 30 } }, "t").unattached;
    assert.equal(detectUnattached(volume({ detached_at: ago(20 * DAY) }), thirty, AT), undefined);
    assert.ok(detectUnattached(volume({ detached_at: ago(31 * DAY) }), thirty, AT));
  });
  test("a detach time that is not a date is an input error, not a silent pass", () =>
    assert.throws(() => detectUnattached(volume({ detached_at: "last tuesday" }), cfg, AT), InputError));

  test("a day the calendar has not is refused, naming the field it came from", () => {
    // Date.parse reads 2026-02-30 as 2 March.
    assert.throws(
      () => detectUnattached(volume({ detached_at: "2026-02-30T00:00:00Z" }), cfg, AT),
      /detached_at `2026-02-30T00:00:00Z` is not a date/,
    );
    assert.throws(
      () => detectUnattached(volume({ created_at: "2026-04-31" }), cfg, AT),
      /created_at `2026-04-31` is not a date/,
    );
  });

  test("a time without a zone is UTC, whatever the machine's zone; RFC 2822 still reads", () => {
    // 7 days and one second before AT, in the two forms.
    assert.equal(detectUnattached(volume({ detached_at: "2026-05-24T23:59:59" }), cfg, AT)?.days, 7);
    assert.equal(
      detectUnattached(volume({ detached_at: "Sun, 24 May 2026 23:59:59 GMT" }), cfg, AT)?.sinceMs,
      Date.UTC(2026, 4, 24, 23, 59, 59),
    );
  });
  test("the finding recommends delete and saves the volume's monthly cost", () => {
    const ctx = scanContext({ yaml: NO_POLICIES, at: AT });
    const [f] = findingsForResource(volume({ detached_at: ago(12 * DAY) }), ctx);
    assert.equal(f?.finding.recommendation.action, "delete");
    assert.equal(f?.finding.savings_monthly, "80");
    assert.equal(
      f?.finding.message,
      `Volume has been unattached since ${ago(12 * DAY).slice(0, 10)} (more than 7 days)`,
    );
  });
  test("the finding is the same a day later (a rescan has nothing to rewrite)", () => {
    const v = volume({ detached_at: ago(12 * DAY) });
    const today = findingsForResource(v, scanContext({ yaml: NO_POLICIES, at: AT }));
    const tomorrow = findingsForResource(
      v,
      scanContext({ yaml: NO_POLICIES, at: new Date(AT.getTime() + DAY) }),
    );
    assert.equal(today.length, 1);
    assert.deepEqual(tomorrow[0]?.finding, today[0]?.finding);
  });
});

describe("detector settings", () => {
  test("unknown keys and wrong types are errors, never silently ignored", () => {
    assert.throws(
      () => parseDetectorConfig({ idle: { cpuPercnt: 3 } }, "d.yaml"),
      /unknown setting `idle.cpuPercnt`/,
    );
    assert.throws(
      () => parseDetectorConfig({ unattached: { days: "seven" } }, "d.yaml"),
      /non-negative number/,
    );
    assert.throws(() => parseDetectorConfig({ idle: { severity: "urgent" } }, "d.yaml"), /must be one of/);
    assert.throws(() => parseDetectorConfig(["x"], "d.yaml"), /must be an object/);
    assert.throws(
      () => parseDetectorConfig({ idle: { cpuPercent: 101 } }, "d.yaml"),
      /d\.yaml: idle\.cpuPercent must be in \[0, 100\], got 101/,
    );
    assert.equal(parseDetectorConfig({ idle: { cpuPercent: 100 } }, "d.yaml").idle.cpuPercent, 100);
  });
  test("a partial file keeps every other default", () => {
    const cfg = parseDetectorConfig({ idle: { enabled: false } }, "d.yaml");
    assert.equal(cfg.idle.enabled, false);
    assert.equal(cfg.idle.cpuPercent, 5);
    assert.equal(cfg.unattached.days, 7);
  });
});
