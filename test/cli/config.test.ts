import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { cli } from "../helpers/cli.js";

test("costguard.yaml: a misspelt top-level key is an error naming the key and the one meant", async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-config-"));
  const estate = `file:${resolve("examples/scan/estate.jsonl")}`;
  // `polices:` was ignored: the run then said --policies was required, never why.
  writeFileSync(join(dir, "costguard.yaml"), `polices: [${resolve("examples/policies")}]\n`);
  const typo = await cli(["run", "--inventory", estate], { cwd: dir });
  assert.equal(typo.code, 2);
  assert.match(
    typo.stderr,
    /costguard\.yaml: unknown key `polices` \(did you mean `policies`\?\); the keys are policies, database/,
  );
  writeFileSync(join(dir, "costguard.yaml"), "remediaton: {maxAttempts: 1}\n");
  const other = await cli(["exceptions", "list"], { cwd: dir });
  assert.equal(other.code, 2);
  assert.match(other.stderr, /unknown key `remediaton` \(did you mean `remediation`\?\)/);
  // Every documented section is taken.
  writeFileSync(
    join(dir, "costguard.yaml"),
    `policies: [${resolve("examples/policies")}]\ndatabase: ./state.db\nexceptions: {}\nremediation: {}\npeople: {}\nnotify: {digest: 10}\n`,
  );
  const ok = await cli(["run", "--inventory", estate], { cwd: dir });
  assert.equal(ok.code, 0, ok.stderr);
});

test("costguard.yaml: an empty database or policy path is an error, not the configuration's own folder", async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-config-"));
  for (const [text, message] of [
    ['database: ""\n', /costguard\.yaml: database is empty: give a SQLite path or a postgres:\/\/ URL/],
    ['policies: ""\n', /costguard\.yaml: policies holds an empty path/],
    [`policies: [${resolve("examples/policies")}, " "]\n`, /costguard\.yaml: policies holds an empty path/],
  ] as const) {
    writeFileSync(join(dir, "costguard.yaml"), text);
    const r = await cli(["scans", "list"], { cwd: dir });
    assert.equal(r.code, 2, text);
    assert.match(r.stderr, message, text);
  }
  assert.equal(existsSync(join(dir, ".costguard")), false);
});

test("costguard.yaml's database is the store of every command: scan, sandbox, findings, evaluate's exceptions, the outbox", async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-config-db-"));
  const policies = resolve("examples/policies");
  writeFileSync(
    join(dir, "costguard.yaml"),
    `database: ./mine.db\nexceptions:\n  approvers:\n    managers: {alice: carol}\n`,
  );
  const run = (args: string[], input?: string) =>
    cli(args, { cwd: dir, env: {}, ...(input === undefined ? {} : { input }) });
  // scan and sandbox used ./.costguard/costguard.db whatever the configuration said, so `findings list`
  // (which read the configured store) found nothing, and gates missed the exceptions approved there.
  const init = await run(["sandbox", "init", "--resources", "20", "--seed", "cfg", "--no-billing"]);
  assert.equal(init.code, 0, init.stderr);
  const scan = await run(["scan", "-p", policies, "-i", "sandbox"]);
  assert.equal(scan.code, 0, scan.stderr);
  assert.match(scan.stdout, new RegExp(`stored in ${join(dir, "mine.db").replace(/[.]/g, "\\.")}\\)`));
  const listed = await run(["findings", "list", "--format", "json"]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.ok(JSON.parse(listed.stdout).count > 0);
  const id = (
    await run([
      "exceptions",
      "request",
      "--resource",
      "i-cfg",
      "--policy",
      "mandatory-tags",
      "--justification",
      "tags come later",
      "--as",
      "alice",
      "-p",
      policies,
    ])
  ).stdout.trim();
  assert.equal((await run(["exceptions", "approve", id, "--as", "carol"])).code, 0);
  const request = JSON.stringify({ id: "i-cfg", type: "compute/instance", specs: { vcpus: 2 } });
  const decided = await run(["evaluate", "-p", policies], request);
  assert.equal(decided.code, 0, decided.stderr);
  assert.ok(
    JSON.parse(decided.stdout).excepted.every((v: { exception_id: string }) => v.exception_id === id),
  );
  const outbox = await run(["notify", "list", "--outbox", "store", "--format", "json"]);
  assert.equal(outbox.code, 0, outbox.stderr);
  assert.equal(
    existsSync(join(dir, ".costguard", "costguard.db")),
    false,
    "nothing made in the default place",
  );
});

test("the configuration file: the error names what named it; COSTGUARD_CONFIG set empty is unset, for every command", async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-config-"));
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [
      ["scans", "list"],
      { COSTGUARD_CONFIG: "nope.yaml" },
      /^costguard: COSTGUARD_CONFIG=nope\.yaml: no such configuration file\n$/,
    ],
    [
      ["notify", "list"],
      { COSTGUARD_CONFIG: "nope.yaml" },
      /^costguard: COSTGUARD_CONFIG=nope\.yaml: no such configuration file\n$/,
    ],
    [
      ["scans", "list", "--config", dir],
      {},
      /^costguard: --config \S+ is a folder: name its costguard\.yaml file\n$/,
    ],
    [
      ["notify", "list", "--config", dir],
      {},
      /^costguard: --config \S+ is a folder: name its costguard\.yaml file\n$/,
    ],
  ];
  for (const [args, env, message] of cases) {
    const r = await cli(args, { cwd: dir, env });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(" "));
  }
  // An exported but empty variable (`COSTGUARD_CONFIG=$UNSET`): as if unset, ./costguard.yaml or none.
  for (const args of [
    ["notify", "list"],
    ["exceptions", "list"],
  ]) {
    // Nothing is stored in the folder: past the configuration, they say so of the store or outbox.
    const r = await cli(args, { cwd: dir, env: { COSTGUARD_CONFIG: "" } });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /^costguard: no (store|notification outbox) at /, args.join(" "));
  }
});

test("costguard.yaml's policies serve every command that reads policies, not remediate and run alone", async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-config-policies-"));
  writeFileSync(join(dir, "costguard.yaml"), `policies: [${resolve("examples/policies")}]\n`);
  writeFileSync(join(dir, "budgets.yaml"), `policies: ${resolve("examples/budgets")}\n`);
  const run = (args: string[], input?: string) =>
    cli(args, { cwd: dir, env: {}, ...(input === undefined ? {} : { input }) });
  // scan, evaluate, plan and budgets said "--policies PATH is required" where run took them from here.
  const scan = await run([
    "scan",
    "-i",
    `file:${resolve("examples/scan/estate.jsonl")}`,
    "--no-store",
    "--format",
    "json",
  ]);
  assert.equal(scan.code, 0, scan.stderr);
  const byPolicy = JSON.parse(scan.stdout).scan.summary.by_policy as Record<string, number>;
  assert.ok(byPolicy["mandatory-tags"]! > 0 && byPolicy["resource-limits"]! > 0, scan.stdout);
  const request = JSON.stringify({ type: "compute/instance", specs: { vcpus: 64 } });
  const decided = await run(["evaluate"], request);
  assert.equal(decided.code, 1, decided.stderr);
  assert.ok(
    JSON.parse(decided.stdout).violations.some((v: { rule: string }) => v.rule === "max-instance-size"),
  );
  const plan = await run(["plan", resolve("test/fixtures/terraform/aws-all-types.json"), "--format", "json"]);
  assert.equal(plan.code, 1, plan.stderr);
  assert.match(plan.stdout, /"max-instance-size"/);
  // --config names another configuration: budgets reads its policies (without --notify too).
  const billing = ["-b", resolve("examples/billing/focus-1.0-sample.csv"), "--at", "2024-09-30T23:00:00Z"];
  const budgets = await run(["budgets", "--config", "budgets.yaml", ...billing, "--format", "json"]);
  assert.equal(budgets.code, 0, budgets.stderr);
  assert.match(budgets.stdout, /sample-budgets/);
  // Given --policies, the flag wins and a --config that then serves nothing is said.
  const both = await run([
    "budgets",
    "-p",
    resolve("examples/budgets"),
    "--config",
    "budgets.yaml",
    ...billing,
  ]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--config does nothing with --policies and without --notify/);
  // A configuration naming none, and none at all: each said as it is.
  writeFileSync(join(dir, "costguard.yaml"), "database: ./mine.db\n");
  const none = await run(["evaluate"], request);
  assert.equal(none.code, 2);
  assert.equal(
    none.stderr,
    `costguard: --policies PATH is required: ${join(dir, "costguard.yaml")} names no policies (policies: a file or folder)\n`,
  );
  const empty = mkdtempSync(join(tmpdir(), "costguard-config-none-"));
  const bare = await cli(["scan", "-i", "sandbox", "--no-store"], { cwd: empty, env: {} });
  assert.equal(bare.code, 2);
  assert.match(
    bare.stderr,
    /--policies PATH is required \(a policy file or folder\), or policies: in costguard\.yaml/,
  );
  assert.equal(existsSync(join(empty, ".costguard")), false, "nothing made before the policies are known");
  const nothing = await cli(["validate"], { cwd: empty, env: {} });
  assert.equal(nothing.code, 2);
  assert.equal(
    nothing.stderr,
    "costguard: PATH is required (a policy file or folder), or policies: in costguard.yaml\n",
  );
});

test("costguard.yaml is checked whole by every command that reads it, notify deliver and send too", async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-config-notify-"));
  // No outbox there yet: deliver exited 0 ("nothing to deliver") and send queued its message, the
  // file unread but for its notify: section, while notify list refused it.
  for (const [text, message] of [
    ["- notify: {digest: 10}\n", /costguard\.yaml: the configuration must be a mapping/],
    ["polices: [x]\nnotify: {digest: 10}\n", /unknown key `polices` \(did you mean `policies`\?\)/],
    ["remediation: {grace: {medium: 7}}\n", /remediation\.grace\.medium is the bare number 7/],
  ] as const) {
    writeFileSync(join(dir, "costguard.yaml"), text);
    for (const args of [
      ["notify", "deliver"],
      ["notify", "send", "webhook:bot"],
      ["notify", "list"],
    ]) {
      const r = await cli(args, { cwd: dir, env: { COSTGUARD_WEBHOOK_BOT: "http://127.0.0.1:9/hook" } });
      assert.equal(r.code, 2, `${args.join(" ")} with ${text}: ${r.stderr}`);
      assert.match(r.stderr, message, `${args.join(" ")} with ${text}`);
    }
  }
  assert.equal(existsSync(join(dir, ".costguard")), false, "no outbox made");
});

test("policies: . reads the folder's policies, not costguard.yaml itself; so does --policies . beside it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-config-dot-"));
  cpSync(resolve("examples/policies/resource-limits-policy.yaml"), join(dir, "limits.yaml"));
  const request = JSON.stringify({ type: "compute/instance", specs: { vcpus: 64 } });
  for (const policies of [".", "./", `${dir}/`]) {
    writeFileSync(join(dir, "costguard.yaml"), `policies: ${JSON.stringify(policies)}\n`);
    // It was read as a policy: "costguard.yaml:1:1: missing required key `apiVersion`", exit 2.
    const valid = await cli(["validate"], { cwd: dir, env: {} });
    assert.equal(valid.code, 0, `${policies}: ${valid.stderr}`);
    assert.match(valid.stdout, /in 1 file: valid/);
    const decided = await cli(["evaluate"], { cwd: dir, env: {}, input: request });
    assert.equal(decided.code, 1, decided.stderr);
    assert.match(decided.stdout, /"max-instance-size"/);
  }
  for (const args of [
    ["validate", dir],
    ["evaluate", "-p", dir],
  ]) {
    const r = await cli(args, { cwd: dir, env: {}, input: request });
    assert.notEqual(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
  }
  // A folder holding nothing else has no policies, said as such.
  rmSync(join(dir, "limits.yaml"));
  const none = await cli(["validate"], { cwd: dir, env: {} });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no policy files \(\.yaml, \.yml, \.json\) under /);
  // Named as a file itself, it is read as any file named is.
  const named = await cli(["validate", join(dir, "costguard.yaml")], { cwd: dir, env: {} });
  assert.equal(named.code, 2);
  assert.match(named.stderr, /costguard\.yaml:1:1: missing required key `apiVersion`/);
});
