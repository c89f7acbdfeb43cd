import assert from "node:assert/strict";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, test } from "node:test";
import { cli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "costguard-overwrite-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI in `dir` and expects exit 2 with `message`, and `file` as it was. */
async function refused(args: string[], message: RegExp, file: string): Promise<void> {
  const before = readFileSync(file);
  const run = await cli(args, { cwd: dir });
  assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
  assert.match(run.stderr, message);
  assert.deepEqual(readFileSync(file), before, `${file} is as it was`);
}

describe("an output is never written over a file the command reads", () => {
  // A timeout: a serve that is not refused listens until stopped.
  test("plan -o: not over the plan (by any spelling or link) nor a policy file", {
    timeout: 60_000,
  }, async () => {
    const plan = join(dir, "plan.json");
    copyFileSync(resolve("test/fixtures/terraform/infracost-example-plan.json"), plan);
    const policies = join(dir, "policies.yaml");
    copyFileSync(resolve("examples/guide-main/policies.yaml"), policies);
    symlinkSync(plan, join(dir, "link.json"));
    const base = ["plan", plan, "-p", policies];
    // It replaced the plan with its report (exit 1: the example plan has a denial).
    await refused(
      [...base, "-o", plan],
      /^costguard: --output \S+plan\.json is the plan read: writing there would replace it\n$/,
      plan,
    );
    await refused(
      [...base, "-o", join(dir, ".", "..", dir.split("/").pop()!, "plan.json")],
      /is the plan read/,
      plan,
    );
    await refused([...base, "-o", join(dir, "link.json")], /is the plan read/, plan);
    await refused([...base, "-o", policies], /is a policy file read/, policies);
    // serve appends its decision log: into a policy file it would break what it serves.
    await refused(
      ["serve", "-p", policies, "--port", "0", "--decision-log", policies],
      /^costguard: --decision-log \S+policies\.yaml is a policy file read: appending decisions there would break it\n$/,
      policies,
    );
    const report = await cli([...base, "-o", join(dir, "report.md"), "--format", "markdown"], { cwd: dir });
    assert.ok(report.code === 0 || report.code === 1, report.stderr);
    assert.match(readFileSync(join(dir, "report.md"), "utf8"), /^#/);
  });

  test("budgets --save-state: not over the billing export; sandbox init --billing: not over the store", async () => {
    const billing = join(dir, "focus.csv");
    copyFileSync(resolve("examples/billing/focus-1.0-sample.csv"), billing);
    await refused(
      ["budgets", "-p", resolve("examples/budgets"), "-b", billing, "--save-state", billing],
      /^costguard: --save-state \S+focus\.csv is the billing export read: writing there would replace it\n$/,
      billing,
    );
    const db = join(dir, "store.db");
    const init = await cli(["sandbox", "init", "--database", db, "--no-billing"], { cwd: dir });
    assert.equal(init.code, 0, init.stderr);
    await refused(
      ["sandbox", "init", "--database", db, "--billing", db],
      /^costguard: --billing \S+store\.db is the store's database file: writing there would replace it\n$/,
      db,
    );
  });
});
