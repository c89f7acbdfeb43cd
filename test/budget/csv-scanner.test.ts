import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { assembleCsvStructure } from "../../scripts/build-csv-wasm.js";
import { type CsvRecord, CsvScanner } from "../../src/budget/csv-scanner.js";
import { CSV_STRUCTURE_WASM } from "../../src/budget/csv-structure-wasm.js";

/** Everything a consumer can see of a record, as text. */
function describeRecord(r: CsvRecord): string {
  const fields: string[] = [];
  for (let i = 0; i < r.count; i++) fields.push(`${r.quoted(i) ? "q" : "u"}:${JSON.stringify(r.text(i))}`);
  const error = r.errorField >= 0 ? ` error ${r.errorField} ${r.errorMessage}` : "";
  return `${r.line}: ${fields.join(" ")}${error}`;
}

/** Scans `bytes` pushed in chunks of the given sizes (cycled); the records, or the error it threw. */
function scanAll(bytes: Buffer, chunkSizes: number[], simd: boolean): string[] {
  const out: string[] = [];
  const scanner = new CsvScanner((r) => out.push(describeRecord(r)), { simd, maxRecordBytes: 1 << 20 });
  try {
    let at = 0;
    for (let k = 0; at < bytes.length; k++) {
      const size = chunkSizes[k % chunkSizes.length]!;
      // Chunks are reused buffers in real reads: the scanner must copy what it keeps.
      const chunk = Buffer.from(bytes.subarray(at, at + size));
      scanner.push(chunk);
      chunk.fill(0x58);
      at += size;
    }
    scanner.end();
  } catch (err) {
    out.push(`threw ${(err as Error).message}`);
  }
  return out;
}

/** The same through pushRead: the scanner hands out its own memory and `read` fills part of it. */
function scanAllRead(bytes: Buffer, readSizes: number[], simd: boolean): string[] {
  const out: string[] = [];
  const scanner = new CsvScanner((r) => out.push(describeRecord(r)), { simd, maxRecordBytes: 1 << 20 });
  try {
    let at = 0;
    let k = 0;
    const read = (target: Buffer) => {
      const n = Math.min(readSizes[k++ % readSizes.length]!, target.length, bytes.length - at);
      bytes.copy(target, 0, at, at + n);
      at += n;
      return n;
    };
    while (scanner.pushRead(read, 256) > 0);
    scanner.end();
  } catch (err) {
    out.push(`threw ${(err as Error).message}`);
  }
  return out;
}

/** A field as a CSV writer would put it: quoted when it must be (or when `quote` says so). */
function csvField(value: string, quote: boolean): string {
  return quote || /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

const fieldText = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.string({ unit: fc.constantFrom("a", "b", "7", ".", " ", "é", "€"), maxLength: 12 }),
  },
  {
    weight: 2,
    arbitrary: fc.string({ unit: fc.constantFrom("a", ",", '"', "\n", "\r", "{", ":"), maxLength: 12 }),
  },
  // Long fields cross the SIMD pass's 64-byte blocks, with structure on either side of a boundary.
  {
    weight: 1,
    arbitrary: fc.string({ unit: fc.constantFrom("x", "y", '"', ","), minLength: 50, maxLength: 200 }),
  },
);
const record = fc.array(fc.record({ value: fieldText, quote: fc.boolean() }), { minLength: 1, maxLength: 8 });
const chunkSizes = fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 5 });

describe("CSV scanner", () => {
  test("the committed SIMD pass is the assembled csv-structure.wat (npm run wasm:build)", async () => {
    assert.equal(CSV_STRUCTURE_WASM, await assembleCsvStructure());
  });

  test("well-formed CSV: every field, quoting and line number, with SIMD and without, any chunking", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ fields: record, crlf: fc.boolean() }), { minLength: 1, maxLength: 30 }),
        chunkSizes,
        fc.boolean(),
        (records, sizes, finalNewline) => {
          let text = "";
          const expected: string[] = [];
          let line = 1;
          records.forEach(({ fields, crlf }, i) => {
            const cells = fields.map((f) => csvField(f.value, f.quote));
            const row = cells.join(",");
            // A lone unquoted empty field is a blank line, which is no record.
            if (row !== "") {
              const described = fields.map(
                (f, k) => `${cells[k]!.startsWith('"') ? "q" : "u"}:${JSON.stringify(f.value)}`,
              );
              expected.push(`${line}: ${described.join(" ")}`);
            }
            line += row.split("\n").length;
            text += row;
            if (i < records.length - 1 || finalNewline) text += crlf ? "\r\n" : "\n";
          });
          // Without a final line break a last field ending in CR keeps it; leave that ambiguity out.
          fc.pre(finalNewline || !text.endsWith("\r"));
          const bytes = Buffer.from(text);
          assert.deepEqual(scanAll(bytes, [1 << 20], false), expected);
          assert.deepEqual(scanAll(bytes, sizes, false), expected);
          assert.deepEqual(scanAll(bytes, [1 << 20], true), expected);
          assert.deepEqual(scanAll(bytes, sizes, true), expected);
          assert.deepEqual(scanAllRead(bytes, sizes, true), expected);
        },
      ),
      { numRuns: 400 },
    );
  });

  test("a UTF-8 byte-order mark before the first (quoted) field is not part of it, in every path", () => {
    const text = '"AvailabilityZone","BilledCost"\n"us-east-1a","1.5"\n';
    const plain = scanAll(Buffer.from(text), [1 << 20], false);
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]);
    // Before, the mark made the first field unquoted: `\uFEFF"AvailabilityZone"`, quotes and all.
    for (const sizes of [[1 << 20], [3], [4, 1], [7, 2, 5], [40]]) {
      assert.deepEqual(scanAll(bom, sizes, false), plain, `push ${sizes}`);
      assert.deepEqual(scanAll(bom, sizes, true), plain, `push simd ${sizes}`);
      assert.deepEqual(scanAllRead(bom, sizes, true), plain, `pushRead simd ${sizes}`);
      assert.deepEqual(scanAllRead(bom, sizes, false), plain, `pushRead ${sizes}`);
    }
    // Only at the start of a file: a range of one (a later line) keeps what it reads.
    const ranged: string[] = [];
    const scanner = new CsvScanner((r) => ranged.push(describeRecord(r)), { startLine: 5 });
    scanner.push(bom);
    scanner.end();
    assert.notDeepEqual(
      ranged.slice(0, 1),
      plain.slice(0, 1).map((l) => l.replace(/^1:/, "5:")),
    );
  });

  test("any bytes, malformed or not: the SIMD path reports exactly what the JavaScript scanner does", () => {
    const noise = fc.string({
      unit: fc.constantFrom(
        "a",
        "b",
        ",",
        '"',
        '"',
        "\n",
        "\r",
        "\r\n",
        '""',
        '",',
        ',"',
        "xxxxxxxxxxxxxxxx",
      ),
      maxLength: 120,
    });
    fc.assert(
      fc.property(noise, chunkSizes, (text, sizes) => {
        const bytes = Buffer.from(text);
        const reference = scanAll(bytes, [1 << 20], false);
        assert.deepEqual(scanAll(bytes, sizes, false), reference);
        assert.deepEqual(scanAll(bytes, [1 << 20], true), reference);
        assert.deepEqual(scanAll(bytes, sizes, true), reference);
        assert.deepEqual(scanAllRead(bytes, sizes, true), reference);
        assert.deepEqual(scanAllRead(bytes, sizes, false), reference);
      }),
      { numRuns: 1500 },
    );
  });

  test("edge cases around quotes, line ends and block boundaries", () => {
    const pad = "p".repeat(61); // puts the next bytes across the first 64-byte block boundary
    const cases: [string, string[]][] = [
      [`${pad},"a\nb",c\n`, [`1: u:"${pad}" q:"a\\nb" u:"c"`]],
      [`${pad}"",x\n`, [`1: u:"${pad}" error 0 a quote inside an unquoted field`]],
      [
        `${pad},"x"y,z\nok\n`,
        [`1: u:"${pad}" q:"x" error 1 unexpected text after a closing quote`, '2: u:"ok"'],
      ],
      [`a,b\r\n"c""d",e\r\n\r\nf\n`, ['1: u:"a" u:"b"', '2: q:"c\\"d" u:"e"', '4: u:"f"']],
      [`${pad}\r\nx\ry\n`, [`1: u:"${pad}"`, '2: u:"x"', '3: u:"y"']],
      // A lone CR ends a record; the carried record and a chunk's first line hold two records here.
      [
        'xxxxxxxxxxxxxxxx\r"\r\n',
        ['1: u:"xxxxxxxxxxxxxxxx"', '2: q:"\\r\\n" error 0 unterminated quoted field'],
      ],
      // After a quoted field too (a FOCUS row ends in its quoted Tags): old Mac line ends.
      [`a,"b"\r"c",d\r"e"\r`, ['1: u:"a" q:"b"', '2: q:"c" u:"d"', '3: q:"e"']],
      [`"unterminated,\nstill`, ['1: q:"unterminated,\\nstill" error 0 unterminated quoted field']],
      [`${"q".repeat(63)}"\n`, [`1: u:"${"q".repeat(63)}" error 0 a quote inside an unquoted field`]],
    ];
    for (const [text, expected] of cases) {
      for (const simd of [false, true]) {
        for (const sizes of [[1 << 20], [1], [63, 64, 65], [7]]) {
          assert.deepEqual(
            scanAll(Buffer.from(text), sizes, simd),
            expected,
            `${JSON.stringify(text)} simd ${simd} chunks ${sizes}`,
          );
        }
      }
    }
  });

  test("more fields than allowed is an error either way", () => {
    const text = `a\n${Array.from({ length: 11 }, (_, i) => i).join(",")}\n`;
    for (const simd of [false, true]) {
      const out: string[] = [];
      const scanner = new CsvScanner(() => out.push("record"), { simd, maxFields: 10 });
      assert.throws(() => scanner.push(Buffer.from(text)), /more than 10 fields in one record/);
      assert.deepEqual(out, ["record"]);
      const ten = new CsvScanner(() => out.push("ten"), { simd, maxFields: 10 });
      ten.push(Buffer.from("0,1,2,3,4,5,6,7,8,9\n"));
      assert.deepEqual(out, ["record", "ten"]);
    }
  });
});
