import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { readText } from "../../src/files.js";
import { loadPolicies } from "../../src/policy/load.js";
import { cli } from "../helpers/cli.js";

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

test("a policy file saved as UTF-16 (Notepad's 'Unicode') loads like its UTF-8 original", () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-text-"));
  const original = readFileSync("examples/policies/tagging-policy.yaml", "utf8");
  const file = join(dir, "tagging.yaml");
  writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(original, "utf16le")]));
  const { policies } = loadPolicies([file]);
  assert.deepEqual(
    policies.map((p) => p.document),
    loadPolicies(["examples/policies/tagging-policy.yaml"]).policies.map((p) => p.document),
  );
});

test("bytes that are not UTF-8 are refused naming the line, not read as U+FFFD and compared as such", async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-text-"));
  const file = join(dir, "latin1.yaml");
  // `café` saved as Latin-1 (an old editor's default): é is the lone byte e9.
  writeFileSync(
    file,
    Buffer.concat([
      Buffer.from(
        "apiVersion: costguard.dev/v1\nkind: CostPolicy\nmetadata: {name: t}\nspec:\n  type: TagRequirement\n  rules:\n    - name: a\n      requiredTags:\n        - {key: a, allowedValues: [caf",
      ),
      Buffer.from([0xe9]),
      Buffer.from("]}\n"),
    ]),
  );
  assert.throws(
    () => readText(file),
    (err: Error) => err.name === "InputError" && err.message.startsWith(`${file}:9: not UTF-8 text`),
  );
  const r = await cli(["validate", file], { cwd: dir });
  assert.equal(r.code, 2);
  assert.match(
    r.stdout + r.stderr,
    /latin1\.yaml:9:1: not UTF-8 text \(nor UTF-16 with a byte-order mark\): convert it/,
  );
});

test("a folder where a file is expected is named, not a bare EISDIR", async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-text-"));
  assert.throws(
    () => readText(dir),
    (err: Error) => err.name === "InputError" && err.message === `${dir} is a folder, not a file`,
  );
  for (const args of [
    ["plan", "-p", "examples/guide-main", dir],
    ["evaluate", "-p", "examples/guide-main", dir],
    ["budgets", "-p", "examples/budgets", "-b", dir],
    ["evaluate", "-p", "examples/guide-main", "--budget-state", dir, "examples/requests/compliant.json"],
  ]) {
    const r = await cli(args, { cwd: process.cwd() });
    assert.equal(r.code, 2, args.join(" "));
    assert.match(
      r.stderr,
      new RegExp(`${dir.replaceAll(/[.*+?^${}()|[\]\\]/g, "\\$&")} is a folder`),
      args.join(" "),
    );
  }
});
