import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { cli } from "../helpers/cli.js";

const ESC = "\u001b";

test("tag values and names with escape sequences reach the terminal as text, in tables and summaries", async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-terminal-"));
  const estate = join(dir, "estate.jsonl");
  const resource = {
    id: "i-1",
    type: "compute/instance",
    name: "web\u001b[8m",
    state: "running",
    specs: { vcpus: 2 },
    tags: { team: "t\u001b]0;pwned\u0007" },
  };
  writeFileSync(estate, `${JSON.stringify(resource)}\n`);
  const policies = resolve("examples/policies");
  const scan = await cli(["scan", "-p", policies, "-i", `file:${estate}`, "--database", "s.db"], {
    cwd: dir,
  });
  assert.equal(scan.code, 0, scan.stderr);
  assert.ok(!scan.stdout.includes(ESC), scan.stdout);
  assert.match(scan.stdout, /By team: t\\x1b\]0;pwned\\x07 1/);
  const list = await cli(["findings", "list", "--database", "s.db"], { cwd: dir });
  assert.ok(!list.stdout.includes(ESC), list.stdout);
  const fingerprint = list.stdout.split("\n")[1]!.slice(0, 16);
  const show = await cli(["findings", "show", fingerprint, "--database", "s.db"], { cwd: dir });
  assert.equal(show.code, 0, show.stderr);
  assert.ok(!show.stdout.includes(ESC), show.stdout);
  assert.match(show.stdout, /resource {6}i-1 \(web\\x1b\[8m\)/);
  // JSON keeps the value exactly.
  const json = await cli(["findings", "list", "--database", "s.db", "--format", "json"], { cwd: dir });
  assert.equal(JSON.parse(json.stdout).findings[0].team, "t\u001b]0;pwned\u0007");
});

test("a team name as long as a tag may be (here 5,000 characters) is cut short in tables and summaries, kept in JSON", async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-terminal-"));
  const estate = join(dir, "estate.jsonl");
  const team = "t".repeat(5000);
  const resource = {
    id: "i-1",
    type: "compute/instance",
    state: "running",
    specs: { vcpus: 2 },
    tags: { team },
  };
  writeFileSync(estate, `${JSON.stringify(resource)}\n`);
  const policies = resolve("examples/policies");
  const scan = await cli(["scan", "-p", policies, "-i", `file:${estate}`, "--database", "s.db"], {
    cwd: dir,
  });
  assert.equal(scan.code, 0, scan.stderr);
  assert.match(scan.stdout, /By team: t{31}… 1/);
  const list = await cli(["findings", "list", "--database", "s.db"], { cwd: dir });
  assert.ok(Math.max(...list.stdout.split("\n").map((l) => l.length)) < 400, list.stdout);
  const json = await cli(["findings", "list", "--database", "s.db", "--format", "json"], { cwd: dir });
  assert.equal(JSON.parse(json.stdout).findings[0].team, team);
});
