import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, test } from "node:test";
import { cli } from "../helpers/cli.js";

const EXAMPLES = resolve("examples");
const POLICIES = join(EXAMPLES, "policies");
const ESTATE = `file:${join(EXAMPLES, "scan", "estate.jsonl")}`;
const BILLING = join(EXAMPLES, "billing", "focus-1.0-sample.csv");
const REQUEST = join(EXAMPLES, "requests", "non-compliant.json");
/** The example budgets over the FOCUS sample, as of its last hour. */
const BUDGETS = ["budgets", "-p", join(EXAMPLES, "budgets"), "-b", BILLING, "--at", "2024-09-30T23:00:00Z"];
const dir = mkdtempSync(join(tmpdir(), "costguard-unused-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the CLI and expects a usage error (exit 2) whose message is `message`, with nothing on stdout. */
async function refused(args: string[], message: RegExp): Promise<void> {
  const run = await cli(args, { cwd: dir });
  assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
  assert.match(run.stderr, message);
  assert.equal(run.stdout, "");
}

describe("an option given where it would change nothing is a usage error, not ignored", () => {
  test("scan --no-store with --database, --lock-timeout or --allow-empty", async () => {
    const scan = ["scan", "-p", POLICIES, "-i", ESTATE, "--at", "2026-06-01T00:00:00Z"];
    const database = join(dir, "never.db");
    await refused(
      [...scan, "--no-store", "--no-exceptions", "--database", database],
      /^costguard: --database does nothing with --no-store --no-exceptions: a file or aws scan then neither reads nor writes a store\n$/,
    );
    // Without --no-exceptions it names where approved exceptions are read from: one that is not there
    // is said, not made.
    await refused(
      [...scan, "--no-store", "--database", database],
      /^costguard: no store at .*never\.db: approved exceptions are read from an existing store \(--no-exceptions: decide without them\)\n$/,
    );
    assert.equal(existsSync(database), false);
    await refused(
      [...scan, "--no-exceptions"],
      /^costguard: --no-exceptions needs --no-store: a stored scan always applies approved exceptions/,
    );
    await refused(
      [...scan, "--no-store", "--lock-timeout", "5m"],
      /--lock-timeout does nothing with --no-store/,
    );
    await refused([...scan, "--no-store", "--allow-empty"], /--allow-empty does nothing with --no-store/);

    // Where they apply they are taken: the sandbox is read from --database even when nothing is stored.
    const sandbox = await cli(
      ["scan", "-p", POLICIES, "-i", "sandbox", "--no-store", "--database", database, "--format", "json"],
      { cwd: dir },
    );
    assert.equal(sandbox.code, 0, sandbox.stderr);
    assert.equal(JSON.parse(sandbox.stdout).scan.summary.resources_scanned, 200);
    const stored = await cli([...scan, "--database", database, "--lock-timeout", "5m", "--allow-empty"], {
      cwd: dir,
    });
    assert.equal(stored.code, 0, stored.stderr);
  });

  test("remediate: --lock-timeout and --allow-empty with --no-store, --limit with --format json", async () => {
    const database = join(dir, "cycle.db");
    const cycle = ["remediate", "-p", POLICIES, "-i", ESTATE, "--at", "2026-06-01T00:00:00Z"];
    await refused(
      [...cycle, "--database", database, "--no-store", "--lock-timeout", "10m"],
      /^costguard: --lock-timeout does nothing with --no-store: only stored scans of an inventory, and runs that act on it \(--execute\), wait for each other\n$/,
    );
    await refused(
      [...cycle, "--database", database, "--no-store", "--allow-empty"],
      /^costguard: --allow-empty does nothing with --no-store: a scan not stored resolves no findings\n$/,
    );
    // `run` always stores its scan (it has no --no-store): its --lock-timeout always applies.
    const remediate = ["remediate", "-p", POLICIES, "-i", ESTATE, "--no-store", "--database", database];
    await refused(
      [...remediate, "--format", "json", "--limit", "5"],
      /^costguard: --limit does nothing with --format json: it lists every task\n$/,
    );
    assert.equal(existsSync(database), false);

    // Where they apply they are taken: the table's --limit, and --lock-timeout for a run that acts
    // (it waits for another run acting on the inventory), stored or not.
    const table = await cli([...remediate, "--limit", "5"], { cwd: dir });
    assert.equal(table.code, 0, table.stderr);
    const json = await cli([...remediate, "--format", "json"], { cwd: dir });
    assert.equal(json.code, 0, json.stderr);
    const acting = await cli(
      [
        "remediate",
        "-p",
        POLICIES,
        "-i",
        "sandbox",
        "--database",
        database,
        "--no-store",
        "--execute",
        "--lock-timeout",
        "10m",
      ],
      { cwd: dir },
    );
    assert.equal(acting.code, 0, acting.stderr);
  });

  test("budgets: --outbox and --database need --notify, --config too when --policies is given", async () => {
    const budgets = BUDGETS;
    const outbox = join(dir, "outbox.db");
    await refused(
      [...budgets, "--outbox", outbox],
      /^costguard: --outbox does nothing without --notify: it says where alerts go\n$/,
    );
    await refused(
      [...budgets, "--config", join(dir, "costguard.yaml")],
      /^costguard: --config does nothing with --policies and without --notify\n$/,
    );
    await refused([...budgets, "--database", join(dir, "x.db")], /--database does nothing without --notify/);
    assert.equal(existsSync(outbox), false);
    const plain = await cli(budgets, { cwd: dir });
    assert.equal(plain.code, 0, plain.stderr);
  });

  test("gates: --strict and --cost-column need --billing, --max-billing-lag billing data", async () => {
    const evaluate = ["evaluate", "-p", join(EXAMPLES, "guide-main"), REQUEST];
    await refused([...evaluate, "--strict"], /^costguard: --strict needs --billing\n$/);
    await refused(
      [...evaluate, "--cost-column", "BilledCost"],
      /^costguard: --cost-column needs --billing\n$/,
    );
    await refused(
      [...evaluate, "--max-billing-lag", "5"],
      /--max-billing-lag needs --billing or --budget-state/,
    );
    const plan = [
      "plan",
      resolve("test/fixtures/terraform/infracost-example-plan.json"),
      "-p",
      join(EXAMPLES, "guide-main"),
    ];
    await refused([...plan, "--strict"], /--strict needs --billing/);
    const serve = ["serve", "-p", join(EXAMPLES, "guide-main"), "--port", "0"];
    await refused([...serve, "--strict"], /--strict needs --billing/);
    await refused(
      [...serve, "--budget-refresh", "5m"],
      /^costguard: --budget-refresh needs --billing or --budget-state\n$/,
    );
    await refused(
      [...serve, "--exceptions-refresh", "10s", "--no-exceptions"],
      /^costguard: --exceptions-refresh does nothing with --no-exceptions\n$/,
    );
    await refused([...serve, "--kube-ca-file", "ca.crt"], /--kube-ca-file needs a Kubernetes API to call/);

    // A saved state was counted when it was saved: --strict means nothing beside it; the lag does.
    const state = join(dir, "state.json");
    const saved = await cli([...BUDGETS, "--save-state", state], { cwd: dir });
    assert.equal(saved.code, 0, saved.stderr);
    await refused(
      [...evaluate, "--budget-state", state, "--strict"],
      /--strict needs --billing: a --budget-state was counted when it was saved/,
    );
    const lagged = await cli(
      [...evaluate, "--budget-state", state, "--max-billing-lag", "24", "--at", "2024-09-30T23:00:00Z"],
      { cwd: dir },
    );
    assert.equal(lagged.code, 1, lagged.stderr); // the request is denied, as without the flag
    const billed = await cli([...evaluate, "--billing", BILLING, "--strict", "--cost-column", "BilledCost"], {
      cwd: dir,
    });
    assert.ok(billed.code === 0 || billed.code === 1, billed.stderr);
  });
});

describe("an empty path where a store, outbox or configuration is named is refused, not the default", () => {
  test('--database, --config and --outbox given empty (`--database "$DB"` with DB unset)', async () => {
    const cwd = mkdtempSync(join(dir, "empty-"));
    const cases: [string[], string][] = [
      [["scan", "-p", POLICIES, "-i", "sandbox", "--database", ""], "--database needs a value"],
      [["findings", "list", "--database", " "], "--database needs a value"],
      [["findings", "list", "--config", ""], "--config needs a value"],
      [["notify", "list", "--config", ""], "--config needs a value"],
      [["notify", "list", "--outbox", ""], "--outbox needs a value"],
      [["exceptions", "list", "--database", ""], "--database needs a value"],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args, { cwd });
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.ok(run.stderr.startsWith(`costguard: ${message}`), run.stderr);
    }
    // Nothing was made in the default place instead.
    assert.equal(existsSync(join(cwd, ".costguard")), false);
    // An empty environment variable is unset, as shells have it: the default store.
    const env = await cli(["scan", "-p", POLICIES, "-i", "sandbox", "--format", "json"], {
      cwd,
      env: { COSTGUARD_DATABASE_URL: "" },
    });
    assert.equal(env.code, 0, env.stderr);
    assert.equal(existsSync(join(cwd, ".costguard", "costguard.db")), true);
  });
});

describe("any option given empty is refused before the command runs, not read as its default", () => {
  test('--region "", -p "", --format "", --tag "" (`--region "$REGION"` with REGION unset)', async () => {
    const cwd = mkdtempSync(join(dir, "empty-option-"));
    const cases: [string[], string][] = [
      // Dropped, the empty region would have meant $AWS_REGION or us-east-1: another estate.
      [["scan", "-p", POLICIES, "-i", "aws", "--region", ""], "--region needs a value"],
      [
        ["scan", "-p", POLICIES, "-i", "aws", "--region", "us-east-1", "--region", " , "],
        "--region needs a value",
      ],
      [["scan", "-p", "", "-i", "sandbox"], "--policies needs a value"],
      [["evaluate", "-p", POLICIES, "--format", ""], "--format needs a value"],
      [["sandbox", "act", "tag", "i-1", "--tag", ""], "--tag needs a value"],
      [
        ["exceptions", "request", "--resource", "i-1", "--policy", "p", "--justification", ""],
        "--justification needs a value",
      ],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args, { cwd, env: { AWS_ACCESS_KEY_ID: "x", AWS_SECRET_ACCESS_KEY: "y" } });
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.equal(run.stderr, `costguard: ${message}\n`, args.join(" "));
    }
    assert.equal(existsSync(join(cwd, ".costguard")), false);
    // Empty parts of a comma-separated list are skipped; the rest is read.
    const listed = await cli(
      ["scan", "-p", `,${POLICIES},`, "-i", "sandbox", "--no-store", "--format", "json"],
      {
        cwd,
      },
    );
    assert.notEqual(listed.code, 2, listed.stderr);
    // Spaces after the commas, as people write lists: each entry without them.
    const spaced = await cli(
      [
        "evaluate",
        "-p",
        "examples/policies/tagging-policy.yaml, examples/policies/resource-limits-policy.yaml",
      ],
      { cwd: process.cwd(), input: '{"type":"compute/instance","specs":{"vcpus":64},"tags":{}}' },
    );
    assert.equal(spaced.code, 1, spaced.stderr);
    assert.match(spaced.stdout, /"policy": "resource-limits"/);
    assert.match(spaced.stdout, /"policy": "mandatory-tags"/);
  });

  test("an AWS region in capitals or from an empty or wrong environment variable says which and how to write it", async () => {
    const cwd = mkdtempSync(join(dir, "region-"));
    const scan = ["scan", "-p", POLICIES, "-i", "aws", "--no-store"];
    const cases: [string[], Record<string, string>, string][] = [
      [
        ["--region", "US-EAST-1"],
        {},
        "--region US-EAST-1 is not an AWS region name (region names are lower case: us-east-1)",
      ],
      [
        [],
        { AWS_REGION: "us_east_1" },
        "AWS_REGION=us_east_1 is not an AWS region name (like us-east-1 or eu-west-2)",
      ],
      [
        [],
        { AWS_REGION: "", AWS_DEFAULT_REGION: "EU-WEST-1" },
        "AWS_DEFAULT_REGION=EU-WEST-1 is not an AWS region name (region names are lower case: eu-west-1)",
      ],
    ];
    for (const [args, env, message] of cases) {
      const run = await cli([...scan, ...args], {
        cwd,
        env: { AWS_ACCESS_KEY_ID: "x", AWS_SECRET_ACCESS_KEY: "y", ...env },
      });
      assert.equal(run.code, 2, run.stderr);
      assert.equal(run.stderr, `costguard: ${message}\n`);
    }
  });
});

test("--inventory given twice with two sources is refused by scan, remediate and run; the same one twice is read once", async () => {
  const other = `file:${join(EXAMPLES, "scan", "estate.jsonl")}`;
  for (const command of ["scan", "remediate", "run"]) {
    await refused(
      [command, "-p", POLICIES, "-i", "sandbox", "--inventory", other, "--no-store"],
      /^costguard: --inventory names the one inventory a run scans, given twice \(sandbox and file:\S+estate\.jsonl\): its findings are kept under its name/,
    );
  }
  const twice = await cli(
    ["scan", "-p", POLICIES, "-i", ESTATE, "-i", ESTATE, "--no-store", "--format", "csv"],
    {
      cwd: dir,
    },
  );
  assert.equal(twice.code, 0, twice.stderr);
  assert.match(twice.stdout, /^fingerprint,/);
});
