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
import { admissionReview, container, podSpec, workload } from "../support/kubernetes.js";
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

    // A Kubernetes workload is NAMESPACE/NAME: an exception for shop/web covers its admission review.
    const deployment = workload("Deployment", podSpec([container("app")]), {
      name: "web",
      namespace: "shop",
    });
    const admit = async (object: Record<string, unknown>) =>
      (
        (await (await server.post("/v1/admission", admissionReview(object))).json()) as {
          response: { allowed: boolean };
        }
      ).response.allowed;
    assert.equal(await admit(deployment), false, "denied before the exception");
    const forWorkload = await run(
      "exceptions",
      "request",
      "--resource",
      "shop/web",
      "--policy",
      "mandatory-tags",
      "--justification",
      "labels come with the chart",
      "--duration",
      "30d",
      "--as",
      "alice",
    );
    assert.equal(forWorkload.code, 0, forWorkload.stderr);
    assert.equal((await run("exceptions", "approve", forWorkload.stdout.trim(), "--as", "frank")).code, 0);
    await live.refresh();
    assert.equal(await admit(deployment), true, "the workload's exception is honoured");
    assert.equal(
      await admit(workload("Deployment", podSpec([container("app")]), { name: "web", namespace: "other" })),
      false,
      "the same name in another namespace is not covered",
    );

    assert.equal((await run("exceptions", "revoke", id, "--as", "alice", "--reason", "tagged now")).code, 0);
    await live.refresh();
    const revoked = (await (await server.post("/v1/evaluate", request)).json()) as Decision;
    assert.equal(revoked.decision, "deny", "the revocation is seen without reloading the policies");
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
