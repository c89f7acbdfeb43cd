import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { cli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "costguard-sandbox-init-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const init = (cwd: string, ...args: string[]) =>
  cli(["sandbox", "init", "--resources", "20", "--at", "2026-06-01", ...args], { cwd });

test("sandbox init --billing-days 0 is refused: a billing file of no days is --no-billing", async () => {
  const cwd = join(dir, "days");
  mkdirSync(cwd);
  assert.equal((await init(cwd, "--seed", "kept", "--no-billing")).code, 0);
  const zero = await init(cwd, "--seed", "zero", "--billing-days", "0");
  assert.equal(zero.code, 2);
  assert.equal(
    zero.stderr,
    "costguard: --billing-days must be at least 1, got 0; for no billing file, --no-billing\n",
  );
  assert.ok(!existsSync(join(cwd, ".costguard", "sandbox-focus-billing.csv")));
  assert.match((await cli(["sandbox", "show"], { cwd })).stdout, /^20 resources \(seed kept,/m);
  const one = await init(cwd, "--seed", "one", "--billing-days", "1");
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /^billing: [1-9][\d,]* FOCUS rows in /m);
});

test("sandbox init --billing in a folder that does not exist is refused, the folder not made", async () => {
  const cwd = join(dir, "folder");
  mkdirSync(cwd);
  const missing = join(cwd, "no", "such");
  const run = await init(cwd, "--billing", join(missing, "x.csv"));
  assert.equal(run.code, 2);
  assert.equal(
    run.stderr,
    `costguard: cannot write the billing file ${join(missing, "x.csv")}: its folder ${missing} does not exist; create it first, or give a path in a folder that does\n`,
  );
  assert.ok(!existsSync(join(cwd, "no")));
  // Relative to where it is run, as the user typed it.
  const relative = await init(cwd, "--billing", "no/x.csv");
  assert.equal(relative.code, 2);
  assert.match(
    relative.stderr,
    /^costguard: cannot write the billing file no\/x\.csv: its folder \S+\/no does not exist/,
  );
  // The store was never made: nothing was done.
  assert.ok(!existsSync(join(cwd, ".costguard")));
  // In a folder that is there: written.
  mkdirSync(missing, { recursive: true });
  const there = await init(cwd, "--billing", join(missing, "x.csv"));
  assert.equal(there.code, 0, there.stderr);
  assert.ok(readFileSync(join(missing, "x.csv"), "utf8").split("\n").length > 2);
});

test("sandbox init's default billing file goes in the store's folder, made with the store", async () => {
  const cwd = join(dir, "default");
  mkdirSync(cwd);
  const run = await cli(
    [
      "sandbox",
      "init",
      "--resources",
      "20",
      "--at",
      "2026-06-01",
      "--database",
      join(cwd, "new", "store.db"),
    ],
    { cwd },
  );
  assert.equal(run.code, 0, run.stderr);
  assert.ok(existsSync(join(cwd, "new", "sandbox-focus-billing.csv")));
});
