import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readText } from "../../src/files.js";

test("readText: UTF-8 with or without a byte-order mark, UTF-16 with one, the mark left out", () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-text-"));
  const text = '{"type": "compute/instance", "name": "ünïcode €"}\n';
  const le = Buffer.from(text, "utf16le");
  const be = Buffer.from(le).swap16();
  const files: [string, Buffer][] = [
    ["utf8.json", Buffer.from(text)],
    ["utf8-bom.json", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])],
    // What Windows PowerShell 5 writes for `terraform show -json plan > plan.json`.
    ["utf16le.json", Buffer.concat([Buffer.from([0xff, 0xfe]), le])],
    ["utf16be.json", Buffer.concat([Buffer.from([0xfe, 0xff]), be])],
  ];
  for (const [name, bytes] of files) {
    writeFileSync(join(dir, name), bytes);
    assert.equal(readText(join(dir, name)), text, name);
  }
});
