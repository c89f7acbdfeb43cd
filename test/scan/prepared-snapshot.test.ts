import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { FindingKinds, prepareFindings } from "../../src/scan/sql-finding-repository.js";
import { openStore } from "../../src/store/open.js";
import { idleFinding } from "../helpers/findings.js";

const dir = mkdtempSync(join(tmpdir(), "costguard-snapshot-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Fingerprints as the scanner makes them: 16 hex digits (the snapshot holds only those). */
const finding = (n: number, message = `idle ${n}`) =>
  idleFinding(`i-${n}`, { fingerprint: `00000000000000${n.toString(16).padStart(2, "0")}`, message });

const rowsOf = (p: ReturnType<typeof prepareFindings>) =>
  Array.from({ length: p.count }, (_, i) => p.rowStarts[i + 1]! > p.rowStarts[i]!);

test("findings stored unchanged get no row; a row needed after all stops the batch, and resuming with every row records it", async () => {
  const store = await openStore({ kind: "sqlite", path: join(dir, "s.db") });
  try {
    const f = store.findings;
    const first = await f.beginScan("s1", "file:x", "2026-06-01T00:00:00.000Z");
    assert.equal(first.snapshot, undefined, "nothing stored yet: no snapshot");
    await first.add([finding(1), finding(2), finding(3)]);
    await first.finish();

    const second = await f.beginScan("s2", "file:x", "2026-06-02T00:00:00.000Z");
    assert.ok(second.snapshot instanceof SharedArrayBuffer);
    // 1 unchanged, 2 changed, 3 changed then (later in the scan) back to what is stored, 4 new.
    const batchA = [finding(1), finding(2, "changed"), finding(3, "changed")];
    const batchB = [finding(4), finding(3)];
    const a = prepareFindings(batchA, new FindingKinds(), second.snapshot);
    assert.deepEqual(rowsOf(a), [false, true, true]);
    assert.equal(await second.addPrepared(a), undefined);
    const b = prepareFindings(batchB, new FindingKinds(), second.snapshot);
    assert.deepEqual(rowsOf(b), [true, false]);
    // Finding 3's stored row was rewritten by batch A: its row is needed now, and it was skipped.
    assert.equal(await second.addPrepared(b), 1);
    assert.equal(await second.addPrepared(prepareFindings(batchB, new FindingKinds()), 1), undefined);
    // Finding 3 came twice, counted once though its batch was looked at twice.
    assert.deepEqual(await second.finish(), { newFindings: 1, resolvedFindings: 0, repeatedFindings: 1 });

    const stored = await f.list({ inventory: "file:x" });
    assert.deepEqual(
      stored.map((x) => [x.resource_id, x.message, x.last_scan_id, x.first_scan_id]),
      [
        ["i-1", "idle 1", "s2", "s1"],
        ["i-2", "changed", "s2", "s1"],
        ["i-3", "idle 3", "s2", "s1"],
        ["i-4", "idle 4", "s2", "s2"],
      ],
    );
  } finally {
    await store.close();
  }
});

test("fingerprints that are not 16 hex digits always get their row", () => {
  const odd = { ...finding(1), fingerprint: "not-a-hex-fingerprint" };
  assert.deepEqual(rowsOf(prepareFindings([odd], new FindingKinds(), new SharedArrayBuffer(1024 * 17))), [
    true,
  ]);
});

test("thousands of findings, hex and not, prepared or not: a rescan finds each, resolves exactly the unseen", async () => {
  const store = await openStore({ kind: "sqlite", path: join(dir, "many.db") });
  try {
    const f = store.findings;
    // Leading zeros, the largest halves, and fingerprints of other shapes, past the table's first size.
    const hex = (n: number) => (n * 2654435761).toString(16).padStart(16, "0").slice(-16);
    const all = Array.from({ length: 3000 }, (_, n) =>
      idleFinding(`i-${n}`, {
        fingerprint: n % 10 === 0 ? `other-${n}` : n === 1 ? "ffffffffffffffff" : hex(n),
      }),
    );
    const first = await f.beginScan("s1", "file:many", "2026-06-01T00:00:00.000Z");
    await first.add(all.slice(0, 1500));
    assert.equal(await first.addPrepared(prepareFindings(all.slice(1500), new FindingKinds())), undefined);
    assert.deepEqual(await first.finish(), { newFindings: 3000, resolvedFindings: 0, repeatedFindings: 0 });

    // Every finding but three (one of each shape) seen again; half through add, half prepared.
    const gone = new Set(["i-1", "i-20", "i-77"]);
    const seen = all.filter((x) => !gone.has(x.resource_id));
    const second = await f.beginScan("s2", "file:many", "2026-06-02T00:00:00.000Z");
    await second.add(seen.slice(0, 1000));
    assert.equal(
      await second.addPrepared(prepareFindings(seen.slice(1000), new FindingKinds(), second.snapshot)),
      undefined,
    );
    assert.deepEqual(await second.finish(), { newFindings: 0, resolvedFindings: 3, repeatedFindings: 0 });
    const resolved = await f.list({ inventory: "file:many", status: "resolved" });
    assert.deepEqual(
      resolved.map((x) => x.fingerprint).sort(),
      ["ffffffffffffffff", "other-20", hex(77)].sort(),
    );
    assert.equal(await f.count({ inventory: "file:many", status: "open" }), 2997);
  } finally {
    await store.close();
  }
});
