import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, test } from "node:test";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { parse } from "csv-parse/sync";
import { type ParquetType, parquetMetadata } from "hyparquet";
import { schemaFromColumnData } from "hyparquet-writer";
import type { ChargeRecord, IngestOptions } from "../../src/budget/charge.js";
import { CsvScanner } from "../../src/budget/csv-scanner.js";
import { toText } from "../../src/budget/decimal.js";
import { DecimalSums } from "../../src/budget/decimal-sums.js";
import { readFocusCsv } from "../../src/budget/focus-csv.js";
import { readFocusFile } from "../../src/budget/read-focus.js";
import { InputError } from "../../src/errors.js";
import { cli } from "../helpers/cli.js";
import {
  budgetPolicy,
  type TestCharge,
  tempDir,
  writeFocusCsv,
  writeFocusParquet,
  writeHourlyParquet,
  writeParquetColumns,
} from "./focus-files.js";

const SAMPLE = "examples/billing/focus-1.0-sample.csv";

/**
 * The columns budgets need, as text and a DOUBLE cost, and Tags as a Parquet MAP of text to text
 * (the layout Spark and pyarrow write for a map column).
 */
function mapTagsSchema() {
  const text = { type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" } as const;
  return [
    { name: "root", num_children: 5 },
    ...["ChargePeriodStart", "ChargePeriodEnd", "BillingCurrency"].map((name) => ({ ...text, name })),
    { name: "EffectiveCost", type: "DOUBLE", repetition_type: "OPTIONAL" } as const,
    { name: "Tags", repetition_type: "OPTIONAL", converted_type: "MAP", num_children: 1 } as const,
    { name: "key_value", repetition_type: "REPEATED", num_children: 2 } as const,
    { ...text, name: "key", repetition_type: "REQUIRED" } as const,
    { ...text, name: "value" },
  ];
}

/** Reads a file and sums the first cost column per group the key function picks. */
async function sumBy(
  file: string,
  key: (c: ChargeRecord) => string | null,
  options: Partial<IngestOptions> = {},
) {
  const sums = new Map<string, DecimalSums>();
  const lines: number[] = [];
  const report = await readFocusFile(
    file,
    (c) => {
      lines.push(c.line);
      const k = key(c);
      if (k === null) return;
      let s = sums.get(k);
      if (!s) {
        s = new DecimalSums(1);
        sums.set(k, s);
      }
      s.add(0, c.costs[0]!);
    },
    { costColumns: ["EffectiveCost"], ...options },
  );
  const totals = Object.fromEntries([...sums].map(([k, s]) => [k, toText(s.total())]));
  return { report, totals, lines };
}

/** Independent reference: csv-parse and BigInt sums at 11 fraction digits (the sample's precision). */
function referenceSpendByTag(file: string, tag: string): Record<string, string> {
  const rows = parse(readFileSync(file), { columns: true }) as Record<string, string>[];
  const sums = new Map<string, bigint>();
  for (const r of rows) {
    const tags = r.Tags === "NULL" || r.Tags === "" ? {} : (JSON.parse(r.Tags!) as Record<string, string>);
    const value = tags[tag];
    if (value === undefined) continue;
    const [i, f = ""] = r.EffectiveCost!.split(".");
    const units = BigInt(i! + f.padEnd(11, "0").slice(0, 11));
    sums.set(value, (sums.get(value) ?? 0n) + units);
  }
  const text = (u: bigint) => {
    const s = u.toString().padStart(12, "0");
    return `${s.slice(0, -11)}.${s.slice(-11)}`.replace(/\.?0+$/, "") || "0";
  };
  return Object.fromEntries([...sums].map(([k, u]) => [k, text(u)]));
}

describe("FOCUS ingest", () => {
  test("the FinOps sample: spend by tag equals an independent csv-parse + BigInt computation", async () => {
    for (const tag of ["environment", "application", "business_unit"]) {
      const { report, totals } = await sumBy(SAMPLE, (c) => c.dimensions().tags[tag] ?? null);
      assert.equal(report.rows, 1000);
      assert.equal(report.malformed, 0);
      assert.equal(report.focusVersion, "1.0");
      const expected = referenceSpendByTag(SAMPLE, tag);
      assert.ok(Object.keys(expected).length > 1, `the sample has several values of ${tag}`);
      assert.deepEqual(totals, expected);
    }
  });

  test("reads dimensions, NULLs and the non-FOCUS Id column of the sample", async () => {
    const seen: { provider: string | null; region: string | null; tags: number }[] = [];
    await readFocusFile(
      SAMPLE,
      (c) => {
        const d = c.dimensions();
        if (seen.length < 3)
          seen.push({ provider: d.provider, region: d.regionId, tags: Object.keys(d.tags).length });
      },
      { costColumns: ["EffectiveCost", "BilledCost"] },
    );
    assert.deepEqual(seen[0], { provider: "AWS", region: "us-west-2", tags: 0 }); // Tags NULL
    assert.deepEqual(seen[1], { provider: "AWS", region: "us-west-2", tags: 3 });
  });

  const charges: TestCharge[] = [
    { start: "2024-09-01 00:00:00", end: "2024-09-01 01:00:00", cost: "1.25", tags: { team: "a" } },
    {
      start: "2024-09-01T01:00:00Z",
      end: "2024-09-01T02:00:00Z",
      cost: "0.000000000001",
      tags: { team: "a" },
    },
    { start: "2024-09-02T00:00:00.000Z", end: null, cost: "-0.5", tags: { team: "b", n: "x" } },
    { start: "2024-09-03 00:00:00", end: "2024-09-04 00:00:00", cost: "1234567.123456789012345", tags: null },
    {
      start: "2024-09-03 05:00:00",
      end: "2024-09-03 06:00:00",
      cost: "2",
      tags: '{"team": "a", "count": 3}',
    },
  ];
  const expected = { a: "3.250000000001", b: "-0.5", none: "1234567.123456789012345" };
  const byTeam = (c: ChargeRecord) => c.dimensions().tags.team ?? "none";

  for (const version of ["1.0", "1.1", "1.2"] as const) {
    test(`FOCUS ${version} CSV with x_ columns: version detected, custom columns ignored, sums exact`, async () => {
      const dir = tempDir();
      const file = writeFocusCsv(dir, `v${version}.csv`, charges, version, ["x_Discounts", "x_Operation"]);
      const { report, totals } = await sumBy(file, byTeam);
      assert.equal(report.focusVersion, version);
      assert.deepEqual(report.ignoredColumns, ["x_Discounts", "x_Operation"]);
      assert.equal(report.malformed, 0, JSON.stringify(report.problems));
      assert.deepEqual(totals, expected);
    });
  }

  test("a pipe or standard input is refused as bad input, not a crash: billing is read at offsets", {
    // Opening a pipe for reading waits for a writer: before the refusal this hung.
    timeout: 10_000,
  }, async () => {
    const dir = tempDir();
    const fifo = join(dir, "billing.fifo");
    execFileSync("mkfifo", [fifo]);
    const sink = () => {};
    await assert.rejects(
      readFocusFile(fifo, sink, { costColumns: ["EffectiveCost"] }),
      (err: Error) =>
        err instanceof InputError && /is not a regular file \(a pipe or device\)/.test(err.message),
    );
    await assert.rejects(
      readFocusFile("-", sink, { costColumns: ["EffectiveCost"] }),
      (err: Error) => err instanceof InputError && /not standard input/.test(err.message),
    );
  });

  test("gzipped CSV reads the same as plain CSV", async () => {
    const dir = tempDir();
    const file = writeFocusCsv(dir, "billing.csv.gz", charges, "1.1");
    const { report, totals } = await sumBy(file, byTeam);
    assert.equal(report.format, "csv.gz");
    assert.deepEqual(totals, expected);
  });

  test("Parquet (written by hyparquet-writer, several row groups) reads the same", async () => {
    const dir = tempDir();
    const file = writeFocusParquet(dir, "billing.parquet", charges, "1.2", 2);
    const { report, totals, lines } = await sumBy(file, byTeam);
    assert.equal(report.format, "parquet");
    assert.equal(report.focusVersion, "1.2");
    assert.deepEqual(report.ignoredColumns, ["x_Custom"]);
    assert.deepEqual(lines, [1, 2, 3, 4, 5]);
    // DOUBLE costs are taken at their shortest decimal form: 1234567.123456789012345 became a double.
    assert.deepEqual({ ...totals, none: undefined }, { ...expected, none: undefined });
    assert.equal(totals.none, String(Number("1234567.123456789012345")));
  });

  test("malformed rows are reported with line and column, counted, and never summed", async () => {
    const dir = tempDir();
    const rows: TestCharge[] = [
      { start: "2024-09-01 00:00:00", end: "2024-09-01 01:00:00", cost: "1", description: "two\nlines" },
      { start: "2024-09-31 00:00:00", cost: "1" },
      { start: "2024-09-01 00:00:00", cost: "1,5" },
      { start: "2024-09-01 00:00:00", cost: "2", tags: "{not json" },
      { start: "2024-09-01 00:00:00", cost: "3", currency: "usd" },
      { start: "2024-09-01 02:00:00", end: "2024-09-01 01:00:00", cost: "4" },
      { start: "2024-09-01 00:00:00", cost: "5", tags: { ok: "yes" } },
    ];
    let text = (await import("./focus-files.js")).focusCsv(rows);
    text = text.replace('"1,5"', "1,5"); // an extra field
    text += "NULL,1\n"; // a short row
    const file = `${dir}/bad.csv`;
    (await import("node:fs")).writeFileSync(file, text);
    const { report, totals } = await sumBy(file, () => "all");
    assert.equal(report.rows, 8);
    assert.equal(report.malformed, 6);
    assert.equal(report.charges, 2);
    assert.equal(totals.all, "6");
    const got = report.problems.map((p) => [p.line, p.column]);
    assert.deepEqual(got, [
      [4, "ChargePeriodStart"], // line 2 holds a two-line description, so the third row is line 4
      [5, "#44"], // FOCUS 1.0 has 43 columns,
      [6, "Tags"],
      [7, "BillingCurrency"],
      [8, "ChargePeriodEnd"],
      [10, "BillingAccountId"],
    ]);
    await assert.rejects(
      readFocusFile(file, () => {}, { costColumns: ["EffectiveCost"], strict: true }),
      (err: unknown) =>
        err instanceof InputError &&
        /bad\.csv:4: column ChargePeriodStart: not a timestamp/.test(err.message),
    );
  });

  test("Tags holding a key twice are a malformed row: a selector would see only the last value", async () => {
    const dir = tempDir();
    const file = writeFocusCsv(dir, "dup-tags.csv", [
      { start: "2024-09-01 00:00:00", cost: "10", tags: '{"team":"a","team":"b"}' },
      { start: "2024-09-01 00:00:00", cost: "5", tags: { team: "a" } },
    ]);
    const { report, totals } = await sumBy(file, () => "all");
    assert.equal(report.malformed, 1);
    assert.equal(totals.all, "5");
    assert.equal(report.problems[0]!.column, "Tags");
    assert.match(report.problems[0]!.message, /^key `team` is written twice in one object/);
  });

  test("skipped columns with commas, line breaks and doubled quotes, CRLF line ends, in any chunk size", async () => {
    const { focusCsv } = await import("./focus-files.js");
    const rows: TestCharge[] = [
      { start: "2024-09-01 00:00:00", cost: "1.25", description: 'a, "quoted", b', tags: { team: "x,y" } },
      { start: "2024-09-01 01:00:00", cost: "2.5", description: 'two\nlines, and a "" pair' },
      { start: "2024-09-01 02:00:00", cost: "x", description: `${"long ".repeat(30)}"end"` },
      { start: "2024-09-01 03:00:00", cost: "4", description: "", tags: { team: 'say "hi"' } },
    ];
    const text = focusCsv(rows).replaceAll("\n", "\r\n");
    const file = `${tempDir()}/crlf.csv`;
    (await import("node:fs")).writeFileSync(file, text);
    const expected = { x: "1.25", none: "2.5", quote: "4" };
    const key = (c: ChargeRecord) => {
      const team = c.dimensions().tags.team;
      return team === "x,y" ? "x" : team === 'say "hi"' ? "quote" : "none";
    };
    const whole = await sumBy(file, key);
    assert.deepEqual(whole.totals, expected);
    assert.deepEqual(whole.lines, [2, 3, 6]); // the second row spans lines 3-4, the bad one is line 5
    assert.deepEqual(
      whole.report.problems.map((p) => [p.line, p.column]),
      [[5, "EffectiveCost"]],
    );
    // The same bytes arriving in small chunks (a gzip stream, say) read the same.
    for (const size of [1, 7, 64, 333]) {
      const chunks = (async function* () {
        const bytes = Buffer.from(text);
        for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
      })();
      const lines: number[] = [];
      const report = await readFocusCsv(chunks, "crlf.csv", "csv", (c) => lines.push(c.line), {
        costColumns: ["EffectiveCost"],
      });
      assert.deepEqual([lines, report.malformed], [[2, 3, 6], 1], `chunks of ${size}`);
    }
  });

  test("a null cost and an unterminated quote are malformed rows too", async () => {
    const dir = tempDir();
    const { focusCsv } = await import("./focus-files.js");
    const text = `${focusCsv([{ start: "2024-09-01 00:00:00", cost: "1" }]).replace('"1"', "NULL")}"2024`;
    const file = `${dir}/nulls.csv`;
    (await import("node:fs")).writeFileSync(file, text);
    const { report } = await sumBy(file, () => "all", { costColumns: ["EffectiveCost", "BilledCost"] });
    assert.deepEqual(
      report.problems.map((p) => [p.line, p.column, p.message]),
      [
        [2, "BilledCost", "must not be null"],
        [3, "AvailabilityZone", "unterminated quoted field"],
      ],
    );
  });

  test("a cost of more than 21 digits before its point is out of range, not summed: a percentage of it was -Infinity%", async () => {
    const { focusCsv } = await import("./focus-files.js");
    const rows: TestCharge[] = [
      { start: "2024-09-01 00:00:00", cost: "-1e999" },
      { start: "2024-09-01 00:00:00", cost: "1000000000000000000000" },
      // The largest allowed, and a long fraction, are summed exactly.
      { start: "2024-09-01 00:00:00", cost: "999999999999999999999" },
      { start: "2024-09-01 00:00:00", cost: "0.000000000000000000000000000001" },
    ];
    const file = `${tempDir()}/huge.csv`;
    (await import("node:fs")).writeFileSync(file, focusCsv(rows));
    const { report, totals } = await sumBy(file, () => "all");
    assert.deepEqual(
      report.problems.map((p) => [p.line, p.message]),
      [
        [2, "out of range: more than 21 digits before the decimal point"],
        [3, "out of range: more than 21 digits before the decimal point"],
      ],
    );
    assert.equal(totals.all, "999999999999999999999.000000000000000000000000000001");
  });

  test("a file that is not FOCUS is bad input naming the missing columns", async () => {
    const dir = tempDir();
    const file = `${dir}/other.csv`;
    (await import("node:fs")).writeFileSync(file, "a,b\n1,2\n");
    await assert.rejects(
      readFocusFile(file, () => {}, { costColumns: ["EffectiveCost"] }),
      /missing columns ChargePeriodStart, ChargePeriodEnd, BillingCurrency, EffectiveCost/,
    );
  });

  test("a header that is not FOCUS's says what it seems to be: UTF-16, another separator, names spelt otherwise", async () => {
    const dir = tempDir();
    const { writeFileSync } = await import("node:fs");
    const text = readFileSync(SAMPLE, "utf8");
    const read = (name: string, content: Buffer | string) => {
      writeFileSync(`${dir}/${name}`, content);
      return readFocusFile(`${dir}/${name}`, () => {}, { costColumns: ["EffectiveCost"] });
    };
    const utf16 = /it is UTF-16 or UTF-32 text .*convert it \(iconv -f UTF-16 -t UTF-8/;
    // With the byte-order mark (Excel's "Unicode Text", PowerShell 5's `>`), without it, and gzipped.
    await assert.rejects(read("bom.csv", Buffer.from(`\uFEFF${text}`, "utf16le")), utf16);
    await assert.rejects(read("le.csv", Buffer.from(text, "utf16le")), utf16);
    await assert.rejects(read("bom.csv.gz", gzipSync(Buffer.from(`\uFEFF${text}`, "utf16le"))), utf16);
    const lines = text.split("\n");
    const fields = (line: string) => (parse(line) as string[][])[0] ?? [];
    const resaved = (sep: string) =>
      lines
        .filter((l) => l !== "")
        .map((l) => fields(l).join(sep))
        .join("\n");
    await assert.rejects(
      read("semi.csv", resaved(";")),
      /its header is one column holding ";" \("AvailabilityZone;BilledCost;/,
    );
    await assert.rejects(read("tabs.csv", resaved("\t")), /its header is one column holding tabs/);
    const renamed = [
      lines[0]!
        .replace('"ChargePeriodStart"', '"charge_period_start"')
        .replace('"EffectiveCost"', '"EFFECTIVECOST"'),
      ...lines.slice(1),
    ].join("\n");
    await assert.rejects(
      read("snake.csv", renamed),
      /missing columns ChargePeriodStart, EffectiveCost: found charge_period_start for ChargePeriodStart, EFFECTIVECOST for EffectiveCost; FOCUS column names are case-sensitive/,
    );
    // A header that is none of these gets no guess.
    await assert.rejects(read("other.csv", "a;b,c\n1,2\n"), (err: Error) => {
      assert.match(err.message, /other\.csv is not a FOCUS export: missing columns [A-Za-z, ]+$/);
      return true;
    });
  });

  test("a file named .parquet or .gz whose bytes are not that format says so", async () => {
    const dir = tempDir();
    const { writeFileSync } = await import("node:fs");
    const head = "ChargePeriodStart,ChargePeriodEnd,BillingCurrency,EffectiveCost\n";
    writeFileSync(`${dir}/export.parquet`, head);
    await assert.rejects(
      readFocusFile(`${dir}/export.parquet`, () => {}, { costColumns: ["EffectiveCost"] }),
      /export\.parquet: not a Parquet file \(it does not begin with PAR1\)/,
    );
    writeFileSync(`${dir}/export.csv.gz`, head);
    await assert.rejects(
      readFocusFile(`${dir}/export.csv.gz`, () => {}, { costColumns: ["EffectiveCost"] }),
      /export\.csv\.gz: not a gzip file/,
    );
    writeFileSync(`${dir}/gz.parquet`, gzipSync(head));
    await assert.rejects(
      readFocusFile(`${dir}/gz.parquet`, () => {}, { costColumns: ["EffectiveCost"] }),
      /not a Parquet file \(it does not begin with PAR1; it is gzip\)/,
    );
  });

  test("a column ingest reads, named twice in the header, is bad input; one it does not read is not", async () => {
    const dir = tempDir();
    const { writeFileSync } = await import("node:fs");
    const head = "ChargePeriodStart,ChargePeriodEnd,BillingCurrency,EffectiveCost";
    const row = "2026-01-01T00:00:00Z,2026-01-01T01:00:00Z,USD,1.5";
    writeFileSync(`${dir}/twice.csv`, `${head},EffectiveCost\n${row},9\n`);
    await assert.rejects(
      readFocusFile(`${dir}/twice.csv`, () => {}, { costColumns: ["EffectiveCost"] }),
      /twice\.csv: the header names the column EffectiveCost twice/,
    );
    writeFileSync(`${dir}/other-twice.csv`, `${head},x_Note,x_Note\n${row},a,b\n`);
    const report = await readFocusFile(`${dir}/other-twice.csv`, () => {}, {
      costColumns: ["EffectiveCost"],
    });
    assert.equal(report.rows, 1);
  });
});

describe("FOCUS Parquet", () => {
  /** A copy of `file` with the bytes `damage` changes, as `name`. */
  const damaged = (file: string, name: string, damage: (bytes: Buffer) => void) => {
    const bytes = readFileSync(file);
    damage(bytes);
    const out = join(tempDir(), name);
    writeFileSync(out, bytes);
    return out;
  };
  /** Where a column's chunk of a row group lies in the file: [start, end). */
  const chunkOf = (file: string, group: number, column: string): [number, number] => {
    const bytes = readFileSync(file);
    const metadata = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    const chunk = metadata.row_groups[group]!.columns.find((c) => c.meta_data!.path_in_schema[0] === column)!;
    const start = Number(chunk.meta_data!.dictionary_page_offset ?? chunk.meta_data!.data_page_offset);
    return [start, start + Number(chunk.meta_data!.total_compressed_size)];
  };
  const read = (file: string, options: Partial<IngestOptions> = {}) =>
    readFocusFile(file, () => {}, { costColumns: ["EffectiveCost"], ...options });

  test("pages compressed with GZIP, Brotli, ZSTD, LZ4 or LZ4_RAW are read as Snappy ones are", async () => {
    const dir = tempDir();
    const team = (c: ChargeRecord) => c.dimensions().tags.team ?? null;
    const snappy = await sumBy(writeHourlyParquet(dir, "snappy.parquet", 3000, 1000), team);
    assert.equal(snappy.report.charges, 3000);
    for (const [codec, compress] of [
      ["GZIP", gzipSync],
      ["BROTLI", brotliCompressSync],
    ] as const) {
      // It said: is not a readable Parquet file (row group 1): parquet unsupported compression codec: GZIP
      const file = writeHourlyParquet(dir, `${codec}.parquet`, 3000, 1000, {
        codec,
        compressors: { [codec]: (bytes: Uint8Array) => new Uint8Array(compress(bytes)) },
      });
      const read = await sumBy(file, team);
      assert.deepEqual([read.totals, read.report.charges], [snappy.totals, 3000], codec);
    }
    // Written with the zstd and lz4 tools (test/fixtures/parquet/make-codecs.ts): a column of each.
    const codecs = await sumBy("test/fixtures/parquet/codecs.parquet", team);
    assert.equal(codecs.report.malformed, 0, JSON.stringify(codecs.report.problems));
    assert.deepEqual(codecs.totals, { t0: "4", t1: "4", t2: "4" });
  });
  test("a column ingest reads, named twice in the schema, is bad input as in CSV; one it does not read is not", async () => {
    const dir = tempDir();
    const columns = (extra: { name: string; data: string[] }[]) => [
      { name: "ChargePeriodStart", data: ["2024-09-01T00:00:00Z"] },
      { name: "ChargePeriodEnd", data: ["2024-09-01T01:00:00Z"] },
      { name: "BillingCurrency", data: ["USD"] },
      { name: "EffectiveCost", data: ["1"] },
      { name: "Tags", data: ['{"team":"a"}'] },
      ...extra,
    ];
    // It was read silently, from the first copy (1), where the CSV reader refuses the same columns.
    const twice = writeParquetColumns(dir, "twice.parquet", {
      columnData: columns([
        { name: "EffectiveCost", data: ["100"] },
        { name: "Tags", data: ['{"team":"b"}'] },
      ]),
    });
    await assert.rejects(read(twice), (err: Error) => {
      assert.ok(err instanceof InputError, err.stack);
      assert.equal(err.message, `${twice}: its schema names the columns EffectiveCost, Tags twice`);
      return true;
    });
    // Names are compared as spelt, as in CSV: effectivecost is another column (and not read).
    for (const [name, extra] of [
      [
        "other-twice.parquet",
        [
          { name: "x_Note", data: ["a"] },
          { name: "x_Note", data: ["b"] },
        ],
      ],
      ["cased.parquet", [{ name: "effectivecost", data: ["100"] }]],
    ] as [string, { name: string; data: string[] }[]][]) {
      const file = writeParquetColumns(dir, name, { columnData: columns(extra) });
      assert.deepEqual((await sumBy(file, () => "all")).totals, { all: "1" }, name);
    }
  });
  test("Tags holding a key twice are a malformed row as in CSV, as a MAP or as JSON text", async () => {
    const dir = tempDir();
    const columns = (tags: unknown[]) => [
      { name: "ChargePeriodStart", data: tags.map(() => "2024-09-01T00:00:00Z") },
      { name: "ChargePeriodEnd", data: tags.map(() => null) },
      { name: "BillingCurrency", data: tags.map(() => "USD") },
      { name: "EffectiveCost", data: [10, 5, 1, 2] },
      { name: "Tags", data: tags },
    ];
    // MAP<STRING, STRING>, as pyarrow, Spark and parquet-mr write it. hyparquet made an object of the
    // first row's entries, {"team":"b"}, and the charge counted for team b.
    const map = writeParquetColumns(dir, "map.parquet", {
      columnData: columns([
        [
          ["team", "a"],
          ["team", "b"],
        ],
        { team: "a" },
        { env: "x", team: "b" },
        null,
      ]),
      schema: mapTagsSchema(),
    });
    // The same as JSON text: it said "not a JSON object".
    const json = writeParquetColumns(dir, "json.parquet", {
      columnData: columns(['{"team":"a","team":"b"}', '{"team":"a"}', '{"env":"x","team":"b"}', null]),
    });
    const csv = writeFocusCsv(dir, "tags.csv", [
      { start: "2024-09-01 00:00:00", cost: "10", tags: '{"team":"a","team":"b"}' },
      { start: "2024-09-01 00:00:00", cost: "5", tags: { team: "a" } },
      { start: "2024-09-01 00:00:00", cost: "1", tags: { env: "x", team: "b" } },
      { start: "2024-09-01 00:00:00", cost: "2", tags: null },
    ]);
    const team = (c: ChargeRecord) => c.dimensions().tags.team ?? "none";
    const expected = await sumBy(csv, team);
    assert.deepEqual(expected.totals, { a: "5", b: "1", none: "2" });
    for (const file of [map, json]) {
      const { report, totals } = await sumBy(file, team);
      assert.deepEqual(totals, expected.totals, file);
      assert.deepEqual(
        report.problems,
        expected.report.problems.map((p) => ({ ...p, line: p.line - 1 })),
        file,
      );
    }
    assert.match(expected.report.problems[0]!.message, /^key `team` is written twice in one object/);
  });
  test("a row group is decoded a page at a time as its rows are read, not whole first", async () => {
    const dir = tempDir();
    // One row group of 30,000 rows in pages of a few hundred; its last ChargePeriodStart page's GZIP
    // stream damaged (its magic number), so that page cannot be decoded.
    const good = writeHourlyParquet(dir, "one-group.parquet", 30_000, 30_000, {
      pageSize: 4096,
      codec: "GZIP",
      compressors: { GZIP: (bytes: Uint8Array) => new Uint8Array(gzipSync(bytes)) },
    });
    const [start, end] = chunkOf(good, 0, "ChargePeriodStart");
    const file = damaged(good, "last-page.parquet", (b) => {
      const at = b.subarray(start, end).lastIndexOf(Buffer.from([0x1f, 0x8b, 0x08]));
      assert.ok(at > 0);
      b[start + at + 1] = 0;
    });
    assert.equal((await read(good)).charges, 30_000);
    // hyparquet's parquetRead decoded the group's columns whole, and made an object of every row,
    // before the first row was read (483 MB for a million rows): here no row had been read.
    let rows = 0;
    await assert.rejects(
      readFocusFile(file, () => rows++, { costColumns: ["EffectiveCost"] }),
      (err: Error) => {
        assert.ok(err instanceof InputError, err.stack);
        assert.match(err.message, /last-page\.parquet is not a readable Parquet file \(row group 1\): /);
        return true;
      },
    );
    assert.ok(rows >= 8192 && rows < 30_000, `${rows} rows read before the damaged page`);
    // A MAP column (two of the file's columns, keys and values, paged apart) is assembled batch by batch.
    const n = 20_000;
    const tags = Array.from({ length: n }, (_, i): Record<string, string> | null =>
      i % 5 === 0 ? null : i % 5 === 1 ? {} : { team: `t${i % 3}`, ...(i % 2 ? { env: "dev" } : {}) },
    );
    const map = writeParquetColumns(dir, "map.parquet", {
      columnData: [
        { name: "ChargePeriodStart", data: tags.map(() => "2024-09-01T00:00:00Z") },
        { name: "ChargePeriodEnd", data: tags.map(() => null) },
        { name: "BillingCurrency", data: tags.map(() => "USD") },
        { name: "EffectiveCost", data: tags.map((_, i) => i % 10) },
        { name: "Tags", data: tags },
      ],
      schema: mapTagsSchema(),
      rowGroupSize: n,
      pageSize: 1024,
    });
    const expected = new Map<string, number>();
    tags.forEach((t, i) => {
      const key = `${t?.team ?? "-"}/${t?.env ?? "-"}`;
      expected.set(key, (expected.get(key) ?? 0) + (i % 10));
    });
    const { totals, report } = await sumBy(map, (c) => {
      const t = c.dimensions().tags;
      return `${t.team ?? "-"}/${t.env ?? "-"}`;
    });
    assert.equal(report.charges, n);
    assert.deepEqual(totals, Object.fromEntries([...expected].map(([k, v]) => [k, String(v)])));
  });
  test("a bad cost or currency is said as the CSV reader says it, with the value it holds", async () => {
    const dir = tempDir();
    const rows = (costs: unknown[], type: "DOUBLE" | "STRING", currencies = costs.map(() => "USD")) => [
      { name: "ChargePeriodStart", data: costs.map(() => "2024-09-01T00:00:00Z") },
      { name: "ChargePeriodEnd", data: costs.map(() => null) },
      { name: "BillingCurrency", data: currencies },
      { name: "EffectiveCost", data: costs, type },
    ];
    const said = (r: Awaited<ReturnType<typeof sumBy>>, header = 0) =>
      r.report.problems.map((p) => [p.line - header, p.column, p.message, p.value]);
    // A DOUBLE's NaN and Infinity were shown as JSON shows them: (value "null").
    const doubles = writeParquetColumns(dir, "doubles.parquet", {
      columnData: rows([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1], "DOUBLE"),
    });
    assert.deepEqual(said(await sumBy(doubles, () => "all")), [
      [1, "EffectiveCost", "not a decimal number", "NaN"],
      [2, "EffectiveCost", "not a decimal number", "Infinity"],
      [3, "EffectiveCost", "not a decimal number", "-Infinity"],
    ]);
    // NULL or nothing is null, for a cost and for a currency, as in CSV: they said "not a decimal
    // number" and "not an ISO 4217 currency code".
    const costs = ["NULL", "", "1", "2", "3"];
    const currencies = ["USD", "USD", "", "NULL", "usd"];
    const text = writeParquetColumns(dir, "text.parquet", { columnData: rows(costs, "STRING", currencies) });
    const csv = writeFocusCsv(
      dir,
      "text.csv",
      costs.map((cost, i) => ({ start: "2024-09-01 00:00:00", cost, currency: currencies[i]! })),
    );
    const expected = said(await sumBy(csv, () => "all"), 1);
    assert.deepEqual(
      expected.map((p) => p.slice(0, 3)),
      [
        [1, "EffectiveCost", "must not be null"],
        [2, "EffectiveCost", "must not be null"],
        [3, "BillingCurrency", "must not be null"],
        [4, "BillingCurrency", "must not be null"],
        [5, "BillingCurrency", "not an ISO 4217 currency code"],
      ],
    );
    assert.deepEqual(said(await sumBy(text, () => "all")), expected);
  });
  test("text annotated ENUM, STRING or JSON is read as text, beside a BYTE_ARRAY DECIMAL cost too", async () => {
    const dir = tempDir();
    const text = { type: "BYTE_ARRAY", repetition_type: "OPTIONAL" } as const;
    const write = (name: string, cost: "DOUBLE" | "BYTE_ARRAY") => {
      const file = writeParquetColumns(dir, name, {
        columnData: [
          { name: "ChargePeriodStart", data: ["2024-09-01T00:00:00Z", "2024-09-01T01:00:00Z"] },
          { name: "ChargePeriodEnd", data: [null, null] },
          { name: "BillingCurrency", data: ["USD", "USD"] },
          { name: "EffectiveCost", data: cost === "DOUBLE" ? [1.5, 2] : [150n, 200n] },
          { name: "ProviderName", data: ["AWS", "AWS"] },
          { name: "RegionId", data: ["us-east-1", "us-east-1"] },
          { name: "Tags", data: ['{"team":"a"}', '{"team":"a","team":"b"}'] },
        ],
        schema: [
          { name: "root", num_children: 7 },
          ...["ChargePeriodStart", "ChargePeriodEnd", "BillingCurrency"].map((name) => ({
            ...text,
            name,
            converted_type: "UTF8" as const,
          })),
          cost === "DOUBLE"
            ? { name: "EffectiveCost", type: "DOUBLE", repetition_type: "OPTIONAL" }
            : { ...text, name: "EffectiveCost", converted_type: "DECIMAL", scale: 2, precision: 20 },
          // An Avro enum, as parquet-mr writes it.
          { ...text, name: "ProviderName", converted_type: "ENUM", logical_type: { type: "ENUM" } },
          { ...text, name: "RegionId", logical_type: { type: "STRING" } },
          { ...text, name: "Tags", converted_type: "UTF8", logical_type: { type: "JSON" } },
        ],
      });
      // Tags' converted type made JSON (19, zigzag 0x26) where the writer wrote UTF8 (0), past its name.
      const bytes = readFileSync(file);
      const at = bytes.lastIndexOf(Buffer.from([0x18, 4, ...Buffer.from("Tags"), 0x25, 0x00]));
      assert.ok(at > 0, "Tags' converted type is where it was");
      bytes[at + 7] = 0x26;
      writeFileSync(file, bytes);
      const schema = parquetMetadata(
        bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
      ).schema;
      assert.equal(schema.find((e) => e.name === "Tags")!.converted_type, "JSON");
      return file;
    };
    for (const file of [write("double.parquet", "DOUBLE"), write("decimal.parquet", "BYTE_ARRAY")]) {
      const { totals, report } = await sumBy(
        file,
        (c) => `${c.dimensions().provider}/${c.dimensions().regionId}`,
      );
      // Beside a BYTE_ARRAY DECIMAL the ENUM came as its bytes, ProviderName "65,87,83"; JSON was parsed,
      // the repeated key kept once, and the charge counted for team b.
      assert.deepEqual(totals, { "AWS/us-east-1": "1.5" }, file);
      assert.deepEqual(
        report.problems.map((p) => [p.line, p.column, p.message.replace(/ \(.*/, "")]),
        [[2, "Tags", "key `team` is written twice in one object"]],
        file,
      );
    }
  });
  test("Tags are parsed once per distinct text, as in CSV, not twice a row", async () => {
    const dir = tempDir();
    // 3,000 rows whose Tags are 7 texts, read by a sink that matches on them.
    const file = writeHourlyParquet(dir, "tags.parquet", 3000, 1000);
    const parse = JSON.parse;
    let parses = 0;
    JSON.parse = (...args: Parameters<typeof parse>) => {
      parses++;
      return parse(...args);
    };
    try {
      const { totals } = await sumBy(file, (c) => c.dimensions().tags.team ?? null);
      assert.equal(Object.keys(totals).length, 7);
    } finally {
      JSON.parse = parse;
    }
    assert.equal(parses, 7);
  });
  test("a file damaged inside a row group is bad input naming the row group, not an internal error", async () => {
    const dir = tempDir();
    const good = writeHourlyParquet(dir, "good.parquet", 3000, 1000);
    assert.equal((await read(good)).charges, 3000);
    const [start, end] = chunkOf(good, 1, "EffectiveCost");
    const second = damaged(good, "second.parquet", (b) => b.fill(0xff, start, end));
    await assert.rejects(read(second), (err: Error) => {
      assert.ok(err instanceof InputError, err.stack);
      assert.match(err.message, /second\.parquet is not a readable Parquet file \(row group 2\): [^\n]+$/);
      return true;
    });
    // The tester's damage: two bytes flipped in the first row group's pages.
    for (const offset of [200, 300, 900]) {
      const file = damaged(good, `flipped-${offset}.parquet`, (b) => {
        b[offset]! ^= 0x55;
        b[offset + 1]! ^= 0x33;
      });
      await assert.rejects(read(file), (err: Error) => {
        assert.ok(err instanceof InputError, err.stack);
        assert.match(err.message, /is not a readable Parquet file \(row group 1\): /);
        return true;
      });
    }
    // Every command that reads billing says so and exits 2: budgets, and a gate's --billing.
    budgetPolicy(
      dir,
      "spend",
      "    - name: all\n      selector: {tags: {team: t1}}\n      budget: {monthly: 1000}\n",
    );
    const policy = join(dir, "budgets.yaml");
    for (const args of [
      ["budgets", "-p", policy, "-b", second],
      ["evaluate", "-p", policy, "--billing", second, "--at", "2024-09-02T00:00:00Z", "-"],
    ]) {
      const run = await cli(args, { cwd: dir, input: "{}", now: "2024-09-02T00:00:00Z" });
      assert.equal(run.code, 2, `${args[0]}: ${run.stderr}`);
      assert.match(
        run.stderr,
        /^costguard: \S+second\.parquet is not a readable Parquet file \(row group 2\): [^\n]+\n$/,
      );
    }
    // Only decoding is bad input of the file: a row's own error under --strict is said as the row's.
    const strict = writeFocusParquet(dir, "strict.parquet", [
      { start: "2024-09-01 00:00:00", cost: "1" },
      { start: "2024-09-01 01:00:00", cost: "1", currency: "usd" },
    ]);
    await assert.rejects(read(strict, { strict: true }), (err: Error) => {
      assert.ok(err instanceof InputError);
      assert.match(
        err.message,
        /strict\.parquet: row 2: column BillingCurrency: not an ISO 4217 currency code/,
      );
      return true;
    });
  });
  test("a page header missing a size is bad input said in bounded time, not a read that spins for ever", async () => {
    const dir = tempDir();
    const good = writeHourlyParquet(dir, "good.parquet", 3000, 1000);
    // The first data page's header (v2) of row group 1's ChargePeriodStart ends with its levels' lengths:
    // definition 3 bytes (zigzag 6), repetition 0, then the header's end.
    const [start] = chunkOf(good, 0, "ChargePeriodStart");
    const at = readFileSync(good)
      .subarray(start, start + 64)
      .indexOf(Buffer.from([0x15, 0x06, 0x15, 0x00, 0x00]));
    assert.ok(at > 0, "the page header's levels' lengths are where they were");
    // The tester's two flipped bytes: the definition levels' length becomes -42 and the repetition
    // levels' length is gone (its field becomes is_compressed). hyparquet read that page's levels from
    // an undefined position, byte 0 over and over, at 100% CPU for ever.
    const file = damaged(good, "no-repetition-length.parquet", (b) => {
      b[start + at + 1]! ^= 0x55;
      b[start + at + 2]! ^= 0x33;
    });
    // In a child process with a deadline: a read that never ends would stop this test's process too.
    const child = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "-e",
        `import(${JSON.stringify(resolve("src/budget/read-focus.ts"))}).then(async ({ readFocusFile }) => {
          try { await readFocusFile(${JSON.stringify(file)}, () => {}, { costColumns: ["EffectiveCost"] }); console.log("read"); }
          catch (e) { console.log(e.constructor.name + ": " + e.message); }
        })`,
      ],
      { encoding: "utf8", timeout: 20_000 },
    );
    assert.equal(child.signal, null, "the read did not end");
    assert.equal(
      child.stdout,
      `InputError: ${file} is not a readable Parquet file (row group 1): column ChargePeriodStart: the page header at byte ${start} has no repetition_levels_byte_length\n`,
    );
    budgetPolicy(
      dir,
      "spend",
      "    - name: all\n      selector: {tags: {team: t1}}\n      budget: {monthly: 1000}\n",
    );
    const run = await cli(["budgets", "-p", join(dir, "budgets.yaml"), "-b", file], { cwd: dir });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /^costguard: \S+ is not a readable Parquet file \(row group 1\): column /);
  });
  test("a column whose pages hold fewer values than its row group has rows is bad input, not a null charge", async () => {
    const dir = tempDir();
    const good = writeHourlyParquet(dir, "good.parquet", 3000, 1000);
    // Row group 1's ChargePeriodStart page says 999 values and 999 rows (zigzag ce 0f) where it said 1000
    // (d0 0f): hyparquet read 999 and left row 1000 without a start, said as a malformed row (null).
    const [start] = chunkOf(good, 0, "ChargePeriodStart");
    const file = damaged(good, "short.parquet", (b) => {
      // The first two: the page's own levels follow its header, and begin with the same run of 1000.
      const header = b.subarray(start, start + 32);
      let changed = 0;
      for (let i = 0; i + 1 < header.length && changed < 2; i++) {
        if (header[i] === 0xd0 && header[i + 1] === 0x0f) {
          header[i] = 0xce;
          changed++;
        }
      }
      assert.equal(changed, 2, "num_values and num_rows are where they were");
    });
    await assert.rejects(read(file), (err: Error) => {
      assert.ok(err instanceof InputError, err.stack);
      assert.equal(
        err.message,
        `${file} is not a readable Parquet file (row group 1): column ChargePeriodStart: its pages hold 999 values for its row group's 1000 rows`,
      );
      return true;
    });
  });
  test("a footer whose column has no name, or whose row counts disagree, is bad input, not an internal error or lost rows", async () => {
    const dir = tempDir();
    const good = writeHourlyParquet(dir, "good.parquet", 3000, 1000);
    const bytes = readFileSync(good);
    const footer = bytes.length - 8 - bytes.readUInt32LE(bytes.length - 8);
    // The schema's first column: its name's field header (18: field 4, binary) and length, then the name.
    const name = bytes.indexOf("ChargePeriodStart", footer);
    assert.deepEqual([...bytes.subarray(name - 2, name)], [0x18, 17]);
    // One bit more makes the name field 12: the column has no name, and the missing-columns message
    // took every name for a string (TypeError, exit 3 with its stack).
    const nameless = damaged(good, "nameless.parquet", (b) => {
      b[name - 2]! ^= 0x80;
    });
    // The file's row count (field 3, i64: 16, then zigzag 3000 as a varint: f0 2e), after its schema, said 3,001:
    // row groups said to hold other rows than the file had theirs skipped or misplaced in silence.
    const count = bytes.indexOf(Buffer.from([0x16, 0xf0, 0x2e]), name);
    assert.ok(count > name, "the file's row count is where it was");
    const miscounted = damaged(good, "miscounted.parquet", (b) => {
      b[count + 1] = 0xf2;
    });
    for (const [file, why] of [
      [nameless, "column 1 of its schema has no name"],
      [miscounted, "its row groups hold 3000 rows, and its footer says 3001"],
    ] as const) {
      await assert.rejects(read(file), (err: Error) => {
        assert.ok(err instanceof InputError, err.stack);
        assert.equal(err.message, `${file} is not a readable Parquet file: ${why}`);
        return true;
      });
    }
  });
  test("a ChargePeriodEnd before its start, or not a timestamp, is a malformed row as in CSV", async () => {
    const dir = tempDir();
    const rows: TestCharge[] = [
      { start: "2024-09-01 00:00:00", end: "2024-09-01 01:00:00", cost: "1" },
      { start: "2024-09-01 02:00:00", end: "2024-09-01 01:00:00", cost: "2" },
      { start: "2024-09-01 03:00:00", end: "yesterday", cost: "4" },
      { start: "2024-09-01 04:00:00", end: null, cost: "8" },
    ];
    const csv = await sumBy(writeFocusCsv(dir, "ends.csv", rows), () => "all");
    // The same rows with timestamps as text, and (the text one aside) as TIMESTAMP.
    const text = writeParquetColumns(dir, "ends.parquet", {
      columnData: [
        { name: "ChargePeriodStart", data: rows.map((r) => r.start), type: "STRING" },
        { name: "ChargePeriodEnd", data: rows.map((r) => r.end ?? null), type: "STRING" },
        { name: "BillingCurrency", data: rows.map(() => "USD"), type: "STRING" },
        { name: "EffectiveCost", data: rows.map((r) => Number(r.cost)), type: "DOUBLE" },
      ],
    });
    const parquet = await sumBy(text, () => "all");
    const said = (r: typeof csv, headerLines: number) =>
      r.report.problems.map((p) => [p.line - headerLines, p.column, p.message]);
    assert.deepEqual(said(csv, 1), [
      [2, "ChargePeriodEnd", "ChargePeriodEnd is before ChargePeriodStart"],
      [3, "ChargePeriodEnd", "not a timestamp (YYYY-MM-DD HH:MM:SS or YYYY-MM-DDTHH:MM:SSZ, UTC)"],
    ]);
    assert.deepEqual(said(parquet, 0), said(csv, 1));
    assert.deepEqual([parquet.totals, parquet.report.charges], [csv.totals, csv.report.charges]);
    assert.deepEqual(csv.totals, { all: "9" });
    const typed = writeFocusParquet(dir, "typed.parquet", [rows[0]!, rows[1]!, rows[3]!]);
    assert.deepEqual((await sumBy(typed, () => "all")).totals, { all: "9" });
    await assert.rejects(read(typed, { strict: true }), (err: Error) => {
      assert.ok(err instanceof InputError);
      assert.match(
        err.message,
        /typed\.parquet: row 2: column ChargePeriodEnd: ChargePeriodEnd is before ChargePeriodStart .*--strict/,
      );
      return true;
    });
  });
  test("DECIMAL costs are summed exactly from their unscaled integers; FLOAT costs at their shortest decimal", async () => {
    const dir = tempDir();
    const decimal = (name: string, type: ParquetType, precision: number, scale: number, width?: number) => ({
      name,
      type,
      ...(width === undefined ? {} : { type_length: width }),
      repetition_type: "OPTIONAL" as const,
      converted_type: "DECIMAL" as const,
      scale,
      precision,
    });
    const text = (values: string[]) => values.map((v) => new TextEncoder().encode(v));
    const columnData = [
      {
        name: "ChargePeriodStart",
        data: ["2024-09-01T00:00:00Z", "2024-09-01T01:00:00Z", "2024-09-01T02:00:00Z"],
      },
      { name: "ChargePeriodEnd", data: [null, null, null] },
      { name: "BillingCurrency", data: ["USD", "USD", "USD"] },
      // INT64 DECIMAL(18,4): hyparquet's double of 1234567890123456789 / 10^4 is 123456789012345.68.
      { name: "EffectiveCost", data: [1234567890123456789n, -1n, 5n] },
      // FIXED_LEN_BYTE_ARRAY DECIMAL(38,10), past any double's digits.
      { name: "BilledCost", data: [12345678901234567890123456789n, -25n, -99999999999999999999999999999n] },
      // FLOAT: 0.1f + 33.33f summed as 33.43000183254480612 where each was taken at its full binary value.
      { name: "ListCost", data: Float32Array.from([0.1, 33.33, -1.5]) },
      // INT32 DECIMAL(9,2), and BYTE_ARRAY DECIMAL(30,12) beside text that says it is not (no annotation).
      { name: "x_Int32", data: [123456789n, -5n, 0n] },
      { name: "x_Bytes", data: [1234567890123456789012345678n, -1n, 10n ** 18n] },
      { name: "Tags", data: text(['{"team":"a"}', '{"team":"a"}', '{"team":"b"}']) },
    ];
    const file = writeParquetColumns(dir, "decimal.parquet", {
      columnData,
      schema: schemaFromColumnData({
        columnData: columnData.map(({ name, data }) => ({ name, data })),
        schemaOverrides: {
          ChargePeriodStart: {
            name: "ChargePeriodStart",
            type: "BYTE_ARRAY",
            converted_type: "UTF8",
            repetition_type: "OPTIONAL",
          },
          ChargePeriodEnd: {
            name: "ChargePeriodEnd",
            type: "BYTE_ARRAY",
            converted_type: "UTF8",
            repetition_type: "OPTIONAL",
          },
          BillingCurrency: {
            name: "BillingCurrency",
            type: "BYTE_ARRAY",
            converted_type: "UTF8",
            repetition_type: "OPTIONAL",
          },
          EffectiveCost: decimal("EffectiveCost", "INT64", 18, 4),
          BilledCost: decimal("BilledCost", "FIXED_LEN_BYTE_ARRAY", 38, 10, 16),
          ListCost: { name: "ListCost", type: "FLOAT", repetition_type: "OPTIONAL" },
          x_Int32: decimal("x_Int32", "INT32", 9, 2),
          x_Bytes: decimal("x_Bytes", "BYTE_ARRAY", 30, 12),
          Tags: { name: "Tags", type: "BYTE_ARRAY", repetition_type: "OPTIONAL" },
        },
      }),
    });
    const costColumns = ["EffectiveCost", "BilledCost", "ListCost", "x_Int32", "x_Bytes"];
    const sums = new DecimalSums(costColumns.length);
    const each: string[][] = [];
    const teams: (string | undefined)[] = [];
    const report = await readFocusFile(
      file,
      (c) => {
        each.push(c.costs.map((v) => toText(v.toDecimal())));
        for (let i = 0; i < costColumns.length; i++) sums.add(i, c.costs[i]!);
        teams.push(c.dimensions().tags.team);
      },
      { costColumns: costColumns as IngestOptions["costColumns"] },
    );
    assert.equal(report.malformed, 0, JSON.stringify(report.problems));
    assert.deepEqual(each, [
      [
        "123456789012345.6789",
        "1234567890123456789.0123456789",
        "0.1",
        "1234567.89",
        "1234567890123456.789012345678",
      ],
      ["-0.0001", "-0.0000000025", "33.33", "-0.05", "-0.000000000001"],
      ["0.0005", "-9999999999999999999.9999999999", "-1.5", "0", "1000000"],
    ]);
    assert.deepEqual(
      costColumns.map((_, i) => toText(sums.total(i, i + 1))),
      [
        "123456789012345.6793",
        "-8765432109876543210.9876543235",
        "31.93",
        "1234567.84",
        "1234567891123456.789012345677",
      ],
    );
    assert.deepEqual(teams, ["a", "a", "b"]); // the text beside a BYTE_ARRAY DECIMAL is still text
    // A DECIMAL past 21 digits before its point is out of range as in CSV, and shown as the amount.
    const huge = [10n ** 22n];
    const hugeFile = writeParquetColumns(dir, "huge.parquet", {
      columnData: [
        { name: "ChargePeriodStart", data: ["2024-09-01T00:00:00Z"] },
        { name: "ChargePeriodEnd", data: [null] },
        { name: "BillingCurrency", data: ["USD"] },
        { name: "EffectiveCost", data: huge },
      ],
      schema: [
        { name: "root", num_children: 4 },
        {
          name: "ChargePeriodStart",
          type: "BYTE_ARRAY",
          converted_type: "UTF8",
          repetition_type: "OPTIONAL",
        },
        { name: "ChargePeriodEnd", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
        { name: "BillingCurrency", type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "OPTIONAL" },
        decimal("EffectiveCost", "FIXED_LEN_BYTE_ARRAY", 38, 1, 16),
      ],
    });
    assert.deepEqual((await sumBy(hugeFile, () => "all")).report.problems, [
      {
        line: 1,
        column: "EffectiveCost",
        message: "out of range: more than 21 digits before the decimal point",
        value: "1000000000000000000000.0",
      },
    ]);
  });
});

describe("CSV scanner", () => {
  test("any chunking gives the same records, fields and line numbers", () => {
    const text = 'a,"b ""q""",c\r\n1,"multi\nline",3\n\n"x",,"z"\nlast,row,here';
    const collect = (chunkSize: number) => {
      const out: string[] = [];
      const scanner = new CsvScanner((r) => {
        const fields: string[] = [];
        for (let i = 0; i < r.count; i++) fields.push(r.text(i));
        out.push(`${r.line}:${fields.join("|")}`);
      });
      const bytes = Buffer.from(text);
      for (let i = 0; i < bytes.length; i += chunkSize) scanner.push(bytes.subarray(i, i + chunkSize));
      scanner.end();
      return out;
    };
    const whole = collect(1 << 20);
    assert.deepEqual(whole, ['1:a|b "q"|c', "2:1|multi\nline|3", "5:x||z", "6:last|row|here"]);
    for (const size of [1, 2, 3, 5, 7, 11]) assert.deepEqual(collect(size), whole, `chunks of ${size}`);
  });
});
