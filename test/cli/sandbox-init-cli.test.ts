import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
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
