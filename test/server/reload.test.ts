import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { compilePolicySet, type Decision, loadPolicies } from "../../src/index.js";
import { eventually, policiesWithLimit, startTestServer } from "../support/server.js";

interface Ready {
  policy: { revision: string; files: string[] };
  last_reload: { result: string; trigger: string; revision: string; error?: string; problems?: string[] };
}

const ready = async (url: string) => (await (await fetch(`${url}/readyz`)).json()) as Ready;

test("policies reload on file change under load without losing a request", async () => {
  const server = await startTestServer();
  let stop = false;
  try {
    const request = { type: "compute/instance", tags: { team: "data" }, specs: { vcpus: 12, memory_gb: 8 } };
    const answers: { status: number; body: Decision }[] = [];
    const failures: unknown[] = [];
    // Bounded in count as well as by `stop`, so a failure can't leave it running.
    const worker = async () => {
      for (let n = 0; n < 2000 && !stop; n++) {
        try {
          const res = await server.post("/v1/evaluate", [request, request]);
          answers.push({ status: res.status, body: ((await res.json()) as Decision[])[0]! });
        } catch (err) {
          failures.push(err);
        }
      }
    };
    const workers = Array.from({ length: 16 }, worker);

    // Alternate limits of 16 (allow 12 vCPUs) and 8 (deny), by atomic rename and by rewriting in place.
    for (let i = 0; i < 12; i++) {
      const text = policiesWithLimit(i % 2 === 0 ? 8 : 16);
      if (i % 3 === 0) {
        const tmp = join(server.dir, ".next.yaml.tmp");
        writeFileSync(tmp, text);
        renameSync(tmp, server.policyFile);
      } else {
        writeFileSync(server.policyFile, text);
      }
      await new Promise((r) => setTimeout(r, 120));
    }
    // The last write set the limit to 16: the served revision settles on it.
    const finalRevision = compilePolicySet(loadPolicies([server.dir]).policies).revision;
    await eventually(
      async () => (await ready(server.url)).policy.revision === finalRevision,
      "the last revision",
    );
    stop = true;
    await Promise.all(workers);

    assert.deepEqual(failures, []);
    assert.ok(answers.length > 20, `only ${answers.length} answers`);
    for (const { status, body } of answers) {
      assert.equal(status, 200);
      assert.ok(body.decision === "allow" || body.decision === "deny", JSON.stringify(body));
      if (body.decision === "deny") {
        assert.deepEqual(
          body.violations.map((v) => [v.rule, v.limit]),
          [["max-size", 8]],
        );
      } else assert.deepEqual(body.violations, []);
    }
    const after = (await (await server.post("/v1/evaluate", request)).json()) as Decision;
    assert.equal(after.decision, "allow");
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const reloads = metrics.match(/^costguard_policy_reloads_total\{result="loaded"\} (\d+)/m);
    assert.ok(Number(reloads?.[1]) >= 2, metrics);
  } finally {
    stop = true;
    await server.close();
  }
});

test("an edit that fails validation keeps the last good set serving and is reported", async () => {
  const server = await startTestServer();
  try {
    const before = await ready(server.url);
    writeFileSync(server.policyFile, policiesWithLimit(16).replace("maxVCPUs: 16", "maxVCPU: 16"));
    await eventually(
      async () => (await ready(server.url)).last_reload.result === "failed",
      "a failed reload",
    );

    const status = await ready(server.url);
    assert.equal(status.policy.revision, before.policy.revision, "the old set keeps serving");
    assert.equal(status.last_reload.trigger, "file change");
    assert.match(status.last_reload.error ?? "", /policies\.yaml:\d+:\d+: .*maxVCPU/);
    assert.match(status.last_reload.error ?? "", /maxVCPUs/, "with a suggestion");

    const decision = (await (
      await server.post("/v1/evaluate", {
        type: "compute/instance",
        tags: { team: "a" },
        specs: { vcpus: 20 },
      })
    ).json()) as Decision;
    assert.equal(decision.decision, "deny", "still decided by the last good set");

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /^costguard_policy_reloads_total\{result="failed"\} [1-9]/m);
    assert.match(metrics, /^costguard_policy_last_reload_success 0$/m);
    const logged = server.logRecords().find((r) => String(r.msg).startsWith("policy reload failed"));
    assert.ok(logged, server.logs.join("\n"));
    assert.equal(logged.level, 50);
    assert.ok(Array.isArray(logged.problems));

    writeFileSync(server.policyFile, policiesWithLimit(32));
    await eventually(async () => (await ready(server.url)).last_reload.result === "loaded", "the fixed set");
    const fixed = await ready(server.url);
    assert.notEqual(fixed.policy.revision, before.policy.revision);
    assert.equal(fixed.last_reload.error, undefined);
  } finally {
    await server.close();
  }
});

test("a policy file caught empty mid-write is a failed reload: its policies keep serving until the write ends", async () => {
  const server = await startTestServer();
  const extra = join(server.dir, "extra.yaml");
  const text = `apiVersion: costguard.dev/v1
kind: CostPolicy
metadata:
  name: small-only
spec:
  type: ResourceLimit
  rules:
    - name: small
      resource: compute/*
      constraint:
        maxVCPUs: 8
`;
  const request = { type: "compute/instance", tags: { team: "a" }, specs: { vcpus: 10 } };
  const decide = async () =>
    ((await (await server.post("/v1/evaluate", request)).json()) as Decision).decision;
  try {
    writeFileSync(extra, text);
    await eventually(
      async () => (await ready(server.url)).policy.files.some((f) => f.endsWith("extra.yaml")),
      "extra.yaml to load",
    );
    const serving = (await ready(server.url)).policy.revision;
    assert.equal(await decide(), "deny");

    // What a reader sees between a save's truncation and its write: nothing, or the comments on top.
    for (const caught of ["", "\n  \n", "# small instances only\n"]) {
      writeFileSync(extra, caught);
      await eventually(
        async () => (await ready(server.url)).last_reload.result === "failed",
        `a failed reload for ${JSON.stringify(caught)}`,
      );
      const status = await ready(server.url);
      assert.equal(status.policy.revision, serving, "the serving set stays");
      assert.match(status.last_reload.error ?? "", /extra\.yaml: holds no policy now/);
      assert.equal(await decide(), "deny", "still decided with the file's policy");
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      assert.match(metrics, /^costguard_policy_last_reload_success 0$/m);
      // The write ends: the set loads again.
      writeFileSync(extra, text);
      await eventually(
        async () => (await ready(server.url)).last_reload.result !== "failed",
        "the finished write to reload",
      );
      assert.equal((await ready(server.url)).policy.revision, serving);
    }

    // Deleting the file removes its policies.
    rmSync(extra);
    await eventually(async () => (await ready(server.url)).policy.revision !== serving, "the file's removal");
    assert.equal((await ready(server.url)).last_reload.result, "loaded");
    assert.equal(await decide(), "allow");
  } finally {
    await server.close();
  }
});

test("reload() swaps the set for the next request; a policy set that can't load is not swapped in", async () => {
  const seen: string[] = [];
  const server = await startTestServer(
    { watch: "false" },
    { onReload: (o) => seen.push(`${o.trigger}:${o.result}`) },
  );
  try {
    writeFileSync(server.policyFile, policiesWithLimit(4));
    const request = { type: "compute/instance", tags: { team: "a" }, specs: { vcpus: 6 } };
    assert.equal(((await (await server.post("/v1/evaluate", request)).json()) as Decision).decision, "allow");
    assert.equal(server.running.reload("SIGHUP").result, "loaded");
    assert.equal(((await (await server.post("/v1/evaluate", request)).json()) as Decision).decision, "deny");
    writeFileSync(server.policyFile, "apiVersion: [");
    const outcome = server.running.reload("SIGHUP");
    assert.equal(outcome.result, "failed");
    assert.equal(outcome.revision, outcome.previousRevision);
    assert.equal(((await (await server.post("/v1/evaluate", request)).json()) as Decision).decision, "deny");
    assert.deepEqual(seen, ["SIGHUP:loaded", "SIGHUP:failed"]);
  } finally {
    await server.close();
  }
});

test("a Kubernetes ConfigMap update (an atomic ..data symlink swap) is picked up", async () => {
  const server = await startTestServer();
  try {
    // Lay the folder out as the kubelet does: files are links through ..data to a timestamped folder.
    const dir = join(server.dir, "configmap");
    mkdirSync(join(dir, "..2026_11_29_01_00_00.1"), { recursive: true });
    writeFileSync(join(dir, "..2026_11_29_01_00_00.1", "policies.yaml"), policiesWithLimit(16));
    symlinkSync("..2026_11_29_01_00_00.1", join(dir, "..data"));
    symlinkSync(join("..data", "policies.yaml"), join(dir, "policies.yaml"));
    rmSync(server.policyFile);
    await eventually(
      async () =>
        (await ready(server.url)).last_reload.result !== "failed" &&
        (await ready(server.url)).policy.files.some((f) => f.includes("configmap")),
      "the ConfigMap layout to load",
    );
    const before = (await ready(server.url)).policy.revision;

    mkdirSync(join(dir, "..2026_11_29_01_05_00.2"));
    writeFileSync(join(dir, "..2026_11_29_01_05_00.2", "policies.yaml"), policiesWithLimit(4));
    symlinkSync("..2026_11_29_01_05_00.2", join(dir, "..data_tmp"));
    renameSync(join(dir, "..data_tmp"), join(dir, "..data"));

    await eventually(
      async () => (await ready(server.url)).policy.revision !== before,
      "the swapped ConfigMap",
    );
    const decision = (await (
      await server.post("/v1/evaluate", {
        type: "compute/instance",
        tags: { team: "a" },
        specs: { vcpus: 6 },
      })
    ).json()) as Decision;
    assert.equal(decision.decision, "deny");
    assert.equal(decision.violations[0]!.limit, 4);
  } finally {
    await server.close();
  }
});

test("a policy in a linked folder is loaded, and an edit to it is picked up", async () => {
  const server = await startTestServer();
  const real = mkdtempSync(join(tmpdir(), "costguard-linked-"));
  try {
    writeFileSync(join(real, "policies.yaml"), policiesWithLimit(16));
    symlinkSync(real, join(server.dir, "linked"));
    rmSync(server.policyFile);
    await eventually(
      async () => (await ready(server.url)).policy.files.some((f) => f.includes("linked")),
      "the linked folder to load",
    );
    const before = (await ready(server.url)).policy.revision;
    // Written where the link leads: the served folder itself does not change.
    writeFileSync(join(real, "policies.yaml"), policiesWithLimit(4));
    await eventually(
      async () => (await ready(server.url)).policy.revision !== before,
      "the edit in the linked folder",
    );
  } finally {
    await server.close();
    rmSync(real, { recursive: true, force: true });
  }
});

/** Every policy reload the server has made, whatever its result. */
const reloadCount = async (url: string) => {
  const metrics = await (await fetch(`${url}/metrics`)).text();
  let n = 0;
  for (const m of metrics.matchAll(/^costguard_policy_reloads_total\{[^}]*\} (\d+)/gm)) n += Number(m[1]);
  return n;
};

for (const given of ["folder", "file"] as const) {
  test(`a log written beside watched policies (a ${given} given) is not a policy change`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-serve-logs-"));
    writeFileSync(join(dir, "policies.yaml"), policiesWithLimit(16));
    const server = await startTestServer(
      given === "file" ? { policies: [join(dir, "policies.yaml")] } : { policies: [dir] },
    );
    try {
      const before = await reloadCount(server.url);
      // A decision log and a server log in the policies' folder, written to as a server writes them.
      for (let i = 0; i < 8; i++) {
        writeFileSync(join(dir, "decisions.jsonl"), `{"n":${i}}\n`, { flag: "a" });
        writeFileSync(join(dir, "serve.log"), `line ${i}\n`, { flag: "a" });
        await new Promise((r) => setTimeout(r, 60));
      }
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(await reloadCount(server.url), before, "no reload for files that are not policies");
      // A change to the policies still is one.
      writeFileSync(join(dir, "policies.yaml"), policiesWithLimit(4));
      await eventually(async () => (await reloadCount(server.url)) > before, "the edited policies to reload");
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
