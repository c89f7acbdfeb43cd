import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CsvScanner } from "../../src/budget/csv-scanner.js";
import { type DimensionEntry, DimensionInterner, fingerprint } from "../../src/budget/dimension-interner.js";

/** Interns every record of `csv` (columns Tags, ServiceName) the way the FOCUS reader does. */
function internAll(csv: string, interner = new DimensionInterner(["Tags", "ServiceName"], [0, 1])) {
  const out: { id: number; epoch: number; service: string | null; tags: Record<string, string> }[] = [];
  const scanner = new CsvScanner((rec) => {
    let nulls = 0;
    for (let k = 0; k < 2; k++) {
      const text = rec.buf.toString("latin1", rec.start(k), rec.end(k));
      if (text === "" || text === "NULL") nulls |= 1 << k;
    }
    const e: DimensionEntry = interner.intern(rec, nulls);
    out.push({
      id: e.id,
      epoch: interner.epoch,
      service: e.dimensions.service,
      tags: { ...e.dimensions.tags },
    });
  });
  // Tiny chunks: records span chunk boundaries and each chunk is a new buffer.
  const bytes = Buffer.from(csv);
  for (let i = 0; i < bytes.length; i += 7) scanner.push(bytes.subarray(i, i + 7));
  scanner.end();
  return out;
}

describe("dimension interner", () => {
  test("values whose fingerprints collide keep different ids and their own values", () => {
    const a = `Xa${"s".repeat(38)}`;
    const b = `Xb${"s".repeat(38)}`;
    const fp = (s: string) => fingerprint(0, Buffer.from(s), 0, s.length);
    assert.equal(fp(a), fp(b), "the test needs two values with the same fingerprint");
    const rows = internAll(`{},${a}\n{},${b}\n{},${a}\n{},${b}\n`);
    assert.deepEqual(
      rows.map((r) => r.service),
      [a, b, a, b],
    );
    assert.notEqual(rows[0]!.id, rows[1]!.id);
    assert.equal(rows[0]!.id, rows[2]!.id);
    assert.equal(rows[1]!.id, rows[3]!.id);
  });

  test("the same bytes split differently between fields are different combinations", () => {
    const rows = internAll('"{""k"":""v""}",ab\n"{""k"":""v""}a",b\n"{""k"":""v""}",ab\n');
    assert.equal(rows[0]!.id, rows[2]!.id);
    assert.notEqual(rows[0]!.id, rows[1]!.id);
    assert.deepEqual(rows[0]!.tags, { k: "v" });
    assert.equal(rows[0]!.service, "ab");
  });

  test("null and present values are told apart, tags are decoded once per combination", () => {
    const rows = internAll('NULL,svc\n"{""team"":""ml""}",svc\n,svc\n"{""team"":""ml""}",NULL\n');
    assert.deepEqual(
      rows.map((r) => [r.id, r.service, r.tags.team ?? null]),
      [
        [0, "svc", null],
        [1, "svc", "ml"],
        [0, "svc", null],
        [2, null, "ml"],
      ],
    );
  });

  test("past its bound the interner forgets (new epoch) and still decodes every row right", () => {
    const interner = new DimensionInterner(["Tags", "ServiceName"], [0, 1], 3);
    const services = Array.from({ length: 8 }, (_, i) => `service-${i % 5}`);
    const rows = internAll(services.map((s) => `{},${s}\n`).join(""), interner);
    assert.deepEqual(
      rows.map((r) => r.service),
      services,
    );
    assert.ok(interner.epoch > 0);
    for (let i = 0; i < rows.length; i++)
      for (let j = 0; j < rows.length; j++)
        if (rows[i]!.epoch === rows[j]!.epoch)
          assert.equal(rows[i]!.id === rows[j]!.id, services[i] === services[j], `rows ${i} and ${j}`);
  });

  test("many distinct combinations (the table grows) each keep their own id", () => {
    const n = 5000;
    const csv = Array.from({ length: 2 * n }, (_, i) => `"{""i"":""${i % n}""}",s${(i * 7) % 13}\n`).join("");
    const rows = internAll(csv);
    const seen = new Map<string, number>();
    for (let i = 0; i < rows.length; i++) {
      const key = `${rows[i]!.tags.i}/${rows[i]!.service}`;
      const id = seen.get(key);
      if (id === undefined) seen.set(key, rows[i]!.id);
      else assert.equal(rows[i]!.id, id, key);
    }
    assert.equal(new Set(seen.values()).size, seen.size);
  });
});
