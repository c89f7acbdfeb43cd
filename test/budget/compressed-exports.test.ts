import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { test } from "node:test";
import { gzipSync } from "node:zlib";
import { readFocusFile } from "../../src/budget/read-focus.js";
import { tempDir } from "./focus-files.js";

const read = (file: string) => readFocusFile(file, () => {}, { costColumns: ["EffectiveCost"] });

test("an export in a compression costguard does not read says which, not that it is UTF-16 text", async () => {
  const dir = tempDir();
  for (const [name, bytes, said] of [
    [
      "export.csv.bz2",
      Buffer.from("BZh91AY&SY\u0001\u0002", "latin1"),
      /compressed with bzip2: .*decompress it \(bunzip2 -k\)/,
    ],
    [
      "export.csv.zst",
      Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x24, 0x00]),
      /compressed with zstd: .*\(zstd -d\)/,
    ],
    [
      "export.csv.xz",
      Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00, 0x00]),
      /compressed with xz: .*\(xz -dk\)/,
    ],
    ["export.zip", Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00]), /compressed with zip: .*unzip it/],
  ] as const) {
    writeFileSync(`${dir}/${name}`, bytes);
    await assert.rejects(read(`${dir}/${name}`), (err: Error) => {
      assert.equal(err.name, "InputError");
      assert.match(err.message, said);
      assert.match(err.message, /costguard reads FOCUS CSV, gzipped CSV or Parquet/);
      return true;
    });
  }
  // Parquet in gzip: the gzip is read, and what it holds is said.
  writeFileSync(`${dir}/export.parquet.gz`, gzipSync(Buffer.from("PAR1\u0015\u0004\u0015\u0010", "latin1")));
  await assert.rejects(
    read(`${dir}/export.parquet.gz`),
    /it is a Parquet file compressed with gzip; decompress it \(gunzip -k\)/,
  );
});
