import assert from "node:assert/strict";
import {
  chmodSync,
  linkSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
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

test("a link, a file with other names, and a file's permissions are kept: written through, not replaced", () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-whole-"));
  try {
    // A symbolic link (as /dev/stdout is): the file it points to gets the text, the link stays a link.
    const real = join(dir, "real.md");
    writeFileSync(real, "old\n");
    symlinkSync(real, join(dir, "link.md"));
    writeFileWhole(join(dir, "link.md"), "through the link\n");
    assert.ok(lstatSync(join(dir, "link.md")).isSymbolicLink());
    assert.equal(readFileSync(real, "utf8"), "through the link\n");
    // A hard link: both names see the new text.
    linkSync(real, join(dir, "other-name.md"));
    writeFileWhole(real, "both names\n");
    assert.equal(readFileSync(join(dir, "other-name.md"), "utf8"), "both names\n");
    // A file replaced keeps its permissions.
    const secret = join(dir, "state.json");
    writeFileSync(secret, "{}\n", { mode: 0o600 });
    chmodSync(secret, 0o600);
    writeFileWhole(secret, '{"a":1}\n');
    assert.equal(statSync(secret).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir).sort(), ["link.md", "other-name.md", "real.md", "state.json"]);
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
