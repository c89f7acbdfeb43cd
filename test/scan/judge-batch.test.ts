import assert from "node:assert/strict";
import { test } from "node:test";
import { InputError } from "../../src/errors.js";
import type { Resource } from "../../src/inventory/types.js";
import { judgeBatch } from "../../src/scan/judge-batch.js";
import { ScanTally } from "../../src/scan/summary.js";
import type { Finding } from "../../src/scan/types.js";
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
