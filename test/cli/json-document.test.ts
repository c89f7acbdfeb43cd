import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, test } from "node:test";
import { writeJsonDocument } from "../../src/cli/json-document.js";

async function text(doc: Record<string, unknown>): Promise<{ text: string; writes: number }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  await writeJsonDocument(out, doc);
  await new Promise((r) => setImmediate(r));
  return { text: Buffer.concat(chunks).toString("utf8"), writes: chunks.length };
}

describe("writeJsonDocument", () => {
  test("writes what JSON.stringify(doc, null, 2) writes, for every shape of value", async () => {
    const docs: Record<string, unknown>[] = [
      {},
      { a: 1 },
      { a: [], b: {}, c: null, d: "x\ny", e: [1, "two", { three: [3, { four: 4 }] }, [], null] },
      { skipped: undefined, fn: () => 1, list: [undefined, () => 1, { nested: undefined }], last: true },
      { nested: { deep: [{ a: [1, 2] }, { b: {} }] }, after: [[1, [2, [3]]]] },
    ];
    for (const doc of docs) assert.equal((await text(doc)).text, `${JSON.stringify(doc, null, 2)}\n`);
  });

  test("a long array goes out in many writes, the same text", async () => {
    const doc = {
      mode: "dry-run",
      due: Array.from({ length: 5000 }, (_, i) => ({ id: `task-${i}`, notes: ["a", "b"], n: i })),
      waiting: [],
    };
    const r = await text(doc);
    assert.equal(r.text, `${JSON.stringify(doc, null, 2)}\n`);
    assert.ok(r.writes > 3, `${r.writes} writes`);
  });
});
