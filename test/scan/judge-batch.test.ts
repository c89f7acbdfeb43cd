import assert from "node:assert/strict";
import { test } from "node:test";
import { InputError } from "../../src/errors.js";
import { buildExceptionIndex } from "../../src/exceptions/match.js";
import { EXCEPTED_STRIDE } from "../../src/exceptions/scan-path.js";
import type { Resource } from "../../src/inventory/types.js";
import { judgeBatch } from "../../src/scan/judge-batch.js";
import { ScanTally } from "../../src/scan/summary.js";
import type { Finding } from "../../src/scan/types.js";
import { approvedException } from "../helpers/exceptions.js";
import { NO_POLICIES, scanContext } from "../helpers/scan-context.js";

const AT = new Date("2026-06-01T00:00:00Z");
const orphan = (id: string, extra: Partial<Resource> = {}): Resource => ({
  id,
  type: "storage/volume",
  state: "available",
  attached_to: null,
  detached_at: "2026-05-01T00:00:00Z",
  monthly_cost: "80",
  ...extra,
});

test("a count alone makes no finding, yet counts, totals and top findings are those of the findings made", () => {
  const ctx = scanContext({ yaml: NO_POLICIES, at: AT });
  const resources = [
    orphan("vol-1"),
    orphan("vol-2", { monthly_cost: "120" }),
    orphan("vol-3", { attached_to: "i-1" }),
  ];
  const counted = new ScanTally("USD");
  judgeBatch(resources, ctx, counted, undefined);
  const listed = new ScanTally("USD");
  const out: Finding[] = [];
  judgeBatch(resources, scanContext({ yaml: NO_POLICIES, at: AT }), listed, out);
  assert.equal(out.length, 2);
  assert.deepEqual(counted.summary(null), listed.summary(null));
  assert.deepEqual(counted.topFindings(), out.slice().reverse());
  assert.equal(
    counted.topFindings()[0]?.message,
    "Volume has been unattached since 2026-05-01 (more than 7 days)",
  );
});

test("a resource priced in another currency fails the scan even when no finding is made", () => {
  const ctx = scanContext({ yaml: NO_POLICIES, at: AT });
  for (const out of [undefined, [] as Finding[]])
    assert.throws(
      () => judgeBatch([orphan("vol-eur", { currency: "EUR" })], ctx, new ScanTally("USD"), out),
      (err: unknown) =>
        err instanceof InputError &&
        /vol-eur is priced in EUR, the scan in USD \(the price book's currency\): costguard converts no currency/.test(
          err.message,
        ),
    );
});

test("approved exceptions are matched on each resource as judged, and take what they cover off its savings at stake", () => {
  // An idle production instance over the size limit: stop it (1,121.28 USD a month) or resize it
  // (1,051.20): alternatives, so the resource stands for the larger.
  const big: Resource = {
    id: "i-big",
    type: "compute/instance",
    provider: "aws",
    account: "111111111111",
    region: "us-east-1",
    namespace: "production",
    state: "running",
    tags: {
      team: "payments",
      "cost-center": "CC-104233",
      environment: "production",
      owner: "maria@company.com",
      project: "checkout",
    },
    specs: { instance_type: "m6i.8xlarge", vcpus: 32, memory_gb: 128, instance_family: "general-purpose" },
    metrics: { avg_cpu_percent: 2, avg_network_bytes: 1000, window_days: 7 },
  };
  const waiver = (id: string, policy: string) =>
    approvedException(id, { resource_id: "i-big", policy, policy_type: null, type: "permanent" });
  const judged = (approved: ReturnType<typeof waiver>[]) => {
    const tally = new ScanTally("USD");
    const found: Finding[] = [];
    const covered: string[] = [];
    const index = buildExceptionIndex(approved);
    judgeBatch([big], scanContext({ at: AT }), tally, found, { index, now: AT, out: covered });
    const summary = tally.summary(null);
    const named: string[] = [];
    for (let i = 0; i < covered.length; i += EXCEPTED_STRIDE)
      named.push(
        `${found.find((f) => f.fingerprint === covered[i])?.policy} ${covered[i + 1]} ${covered[i + 2]}`,
      );
    return { summary, named, found };
  };
  const none = judged([]);
  assert.deepEqual(
    none.found.map((f) => [f.policy, f.savings_monthly]),
    [
      ["resource-limits", "1051.2"],
      ["idle-resource-detection", "1121.28"],
    ],
  );
  assert.equal(none.summary.savings_monthly, "1121.28");
  assert.equal(none.summary.excepted_savings_monthly, undefined);
  // The stop waived: the resize is still open, so only the difference is no longer at stake.
  const stop = judged([waiver("exc-stop", "idle-resource-detection")]);
  assert.deepEqual(stop.named, ["idle-resource-detection exc-stop medium"]);
  assert.equal(stop.summary.savings_monthly, "1121.28");
  assert.equal(stop.summary.excepted_savings_monthly, "70.08");
  // The resize waived: the stop still stands for the most, so nothing comes off.
  const resize = judged([waiver("exc-resize", "resource-limits")]);
  assert.deepEqual(resize.named, ["resource-limits exc-resize high"]);
  assert.equal(resize.summary.excepted_savings_monthly, undefined);
  // Both: the whole of it.
  const both = judged([
    waiver("exc-stop", "idle-resource-detection"),
    waiver("exc-resize", "resource-limits"),
  ]);
  assert.equal(both.named.length, 2);
  assert.equal(both.summary.excepted_savings_monthly, "1121.28");
  // A tally merged from pieces carries it too.
  const merged = new ScanTally("USD");
  const piece = new ScanTally("USD");
  judgeBatch([big], scanContext({ at: AT }), piece, undefined, {
    index: buildExceptionIndex([waiver("exc-stop", "idle-resource-detection")]),
    now: AT,
    out: [],
  });
  merged.merge(piece.partial());
  merged.merge(piece.partial());
  assert.equal(merged.summary(null).excepted_savings_monthly, "140.16");
});
