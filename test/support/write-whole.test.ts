import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { writeFileWhole } from "../../src/files.js";
import { costguard } from "../helpers/cli.js";

test("writeFileWhole replaces a file through one beside it and leaves nothing else behind", () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-whole-"));
  try {
    const file = join(dir, "report.md");
    writeFileWhole(file, "first\n");
    writeFileWhole(file, "second\n");
    assert.equal(readFileSync(file, "utf8"), "second\n");
    assert.deepEqual(readdirSync(dir), ["report.md"]);
    // A folder where the file should go: refused, and nothing is left beside it.
    assert.throws(() => writeFileWhole(dir, "x"), { code: "EISDIR" });
    assert.deepEqual(readdirSync(dir), ["report.md"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a device is written in place, not replaced: a full one fails with ENOSPC", () => {
  assert.throws(() => writeFileWhole("/dev/full", "x"), { code: "ENOSPC" });
  writeFileWhole("/dev/null", "x");
});

test("plan --output and budgets --save-state: a full disk exits 3 naming the file, a bad path 2", () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-whole-"));
  try {
    const plan = [
      "plan",
      "test/fixtures/terraform/aws-all-types.json",
      "-p",
      "test/fixtures/terraform/policies.yaml",
    ];
    const full = costguard([...plan, "--output", "/dev/full"]);
    assert.equal(full.status, 3, full.stderr);
    assert.equal(full.stderr, "costguard: /dev/full: no space left on device\n");
    const nowhere = costguard([...plan, "--output", join(dir, "no", "r.md")]);
    assert.equal(nowhere.status, 2);
    assert.match(nowhere.stderr, /^costguard: cannot write --output \S+r\.md: no such file or directory\n$/);
    const folder = costguard([...plan, "--output", dir]);
    assert.match(folder.stderr, /^costguard: cannot write --output \S+: it is a folder\n$/);
    const billing = join(dir, "billing.csv");
    writeFileSync(billing, readFileSync("examples/billing/focus-1.0-sample.csv"));
    const budgets = ["budgets", "-p", "examples/policies", "-b", billing];
    const state = costguard([...budgets, "--save-state", "/dev/full"]);
    assert.equal(state.status, 3, state.stderr);
    assert.match(state.stderr, /costguard: \/dev\/full: no space left on device\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
