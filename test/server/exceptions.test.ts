import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { liveExceptions } from "../../src/cli/serve-exceptions.js";
import { createDecider } from "../../src/decide/decider.js";
import type { Decision } from "../../src/index.js";
import { cli } from "../helpers/cli.js";
import { startTestServer } from "../support/server.js";

test("the server honours approved exceptions and picks up a revocation on refresh", async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-serve-exc-"));
  const db = join(dir, "state.db");
  const config = join(dir, "costguard.yaml");
  writeFileSync(
    config,
    `policies: [${resolve("examples/policies")}]
database: ${db}
exceptions:
  approvers:
    managers: {alice: carol}
    teams: {security: [frank], finops: [erin]}
`,
  );
  const env = { COSTGUARD_NOTIFY_OUTBOX: join(dir, "notify.db") };
  const run = (...args: string[]) => cli([...args, "--config", config], { cwd: dir, env });
  const requested = await run(
    "exceptions",
    "request",
    "--resource",
    "i-0abc",
    "--policy",
    "mandatory-tags",
    "--rule",
    "cost-center-required",
    "--justification",
    "owner and project tags come with the migration",
    "--duration",
    "30d",
    "--as",
    "alice",
  );
  assert.equal(requested.code, 0, requested.stderr);
  const id = requested.stdout.trim();
  assert.equal((await run("exceptions", "approve", id, "--as", "carol")).code, 0);

  const ctx = { stdout: new PassThrough(), stderr: new PassThrough(), readStdin: () => "", cwd: dir, env };
  const live = liveExceptions({ database: db }, ctx, () => new Date());
  await live.refresh();
  const server = await startTestServer(
    {},
    {
      policies: readFileSync("examples/policies/tagging-policy.yaml", "utf8"),
      deciderFactory: ({ policySet }) => createDecider({ policySet, annotators: [live.annotator] }),
    },
  );
  try {
    const request = {
      id: "i-0abc",
      type: "compute/instance",
      tags: { "cost-center": "CC-123456", environment: "staging" },
    };
    const excepted = (await (await server.post("/v1/evaluate", request)).json()) as Decision & {
      excepted: { exception_id: string }[];
    };
    assert.equal(excepted.decision, "allow");
    assert.ok(excepted.excepted.length >= 1);
    assert.ok(excepted.excepted.every((v) => v.exception_id === id));
    const other = (await (
      await server.post("/v1/evaluate", { ...request, id: "i-other" })
    ).json()) as Decision;
    assert.equal(other.decision, "deny", "another resource is not covered");

    assert.equal((await run("exceptions", "revoke", id, "--as", "alice", "--reason", "tagged now")).code, 0);
    await live.refresh();
    const revoked = (await (await server.post("/v1/evaluate", request)).json()) as Decision;
    assert.equal(revoked.decision, "deny", "the revocation is seen without reloading the policies");
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
