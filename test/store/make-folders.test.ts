import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
import { makeFolders } from "../../src/files.js";

const dir = mkdtempSync(join(tmpdir(), "costguard-folders-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("makeFolders creates every missing folder and leaves existing ones alone", () => {
  const deep = join(dir, "a", "b", "c");
  makeFolders(deep);
  assert.ok(statSync(deep).isDirectory());
  makeFolders(deep);
  makeFolders(dir);
  assert.ok(statSync(deep).isDirectory());
});

test("makeFolders fails with the folder's own error where none can be made (and returns)", () => {
  const file = join(dir, "a-file");
  writeFileSync(file, "");
  assert.throws(() => makeFolders(join(file, "x", "y")), { code: "ENOTDIR" });
  assert.ok(!existsSync(join(file, "x")));
  if (existsSync("/proc/self")) {
    // Node 20's recursive mkdirSync spins for ever here: tried in a child process with a deadline.
    const child = spawnSync(
      process.execPath,
      [
        "--import",
        "tsx",
        "-e",
        `import("${resolve("src/files.ts")}").then(({ makeFolders }) => { try { makeFolders("/proc/costguard-nope/x"); } catch (e) { console.log(e.code); } })`,
      ],
      { encoding: "utf8", timeout: 20_000 },
    );
    assert.equal(child.signal, null, "makeFolders did not return");
    assert.equal(child.stdout.trim(), "ENOENT");
  }
});
