import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
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
    const r = await cli(args, { cwd: dir, env: { COSTGUARD_CONFIG: "" } });
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  }
});
