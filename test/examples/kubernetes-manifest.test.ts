import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { parseAllDocuments } from "yaml";
import { WORKLOAD_KINDS } from "../../src/gates/kubernetes/workload.js";
import { compilePolicySet, readPolicies } from "../../src/index.js";
import { resolveServeConfig } from "../../src/server/config.js";
import { cli } from "../helpers/cli.js";

type Doc = { kind: string; metadata: { name: string }; [k: string]: unknown };
const docs = parseAllDocuments(readFileSync("examples/kubernetes/costguard-webhook.yaml", "utf8")).map(
  (d) => {
    assert.deepEqual(d.errors, []);
    return d.toJS() as Doc;
  },
);
const find = (kind: string) => {
  const doc = docs.find((d) => d.kind === kind);
  assert.ok(doc, kind);
  return doc;
};

test("the example webhook sends every workload kind as admission.k8s.io/v1 to /v1/admission", () => {
  const config = find("ValidatingWebhookConfiguration") as unknown as {
    webhooks: {
      admissionReviewVersions: string[];
      sideEffects: string;
      failurePolicy: string;
      timeoutSeconds: number;
      clientConfig: { service: { path: string; name: string; namespace: string } };
      rules: { apiGroups: string[]; resources: string[]; operations: string[] }[];
      namespaceSelector: { matchExpressions: { values: string[] }[] };
    }[];
  };
  const hook = config.webhooks[0]!;
  assert.deepEqual(hook.admissionReviewVersions, ["v1"]);
  assert.equal(hook.sideEffects, "None");
  assert.ok(["Fail", "Ignore"].includes(hook.failurePolicy));
  assert.ok(hook.timeoutSeconds <= 10);
  assert.equal(hook.clientConfig.service.path, "/v1/admission");
  const covered = new Set(
    hook.rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.map((res) => `${g}/${res}`))),
  );
  for (const [kind, { group }] of Object.entries(WORKLOAD_KINDS))
    assert.ok(covered.has(`${group}/${kind.toLowerCase()}s`), kind);
  for (const r of hook.rules)
    assert.deepEqual(
      r.operations,
      r.resources.some((res) => res.endsWith("/scale")) ? ["UPDATE"] : ["CREATE", "UPDATE"],
    );
  // Replica changes through the scale subresource, with read access to what is scaled.
  const scaled = ["deployments", "statefulsets", "replicasets"];
  for (const res of scaled) assert.ok(covered.has(`apps/${res}/scale`), `${res}/scale`);
  const role = find("ClusterRole") as unknown as {
    metadata: { name: string };
    rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  };
  const binding = find("ClusterRoleBinding") as unknown as {
    roleRef: { name: string };
    subjects: { kind: string; name: string; namespace: string }[];
  };
  assert.equal(binding.roleRef.name, role.metadata.name);
  assert.deepEqual(binding.subjects, [{ kind: "ServiceAccount", name: "costguard", namespace: "costguard" }]);
  const readable = new Set(
    role.rules
      .filter((r) => r.verbs.includes("get"))
      .flatMap((r) => r.apiGroups.flatMap((g) => r.resources.map((x) => `${g}/${x}`))),
  );
  for (const res of scaled) assert.ok(readable.has(`apps/${res}`), `get ${res}`);
  assert.ok(hook.namespaceSelector.matchExpressions[0]!.values.includes(hook.clientConfig.service.namespace));
});

test("the example policies are valid and the server arguments resolve", () => {
  const configMap = find("ConfigMap") as unknown as { data: Record<string, string> };
  const dir = mkdtempSync(join(tmpdir(), "costguard-k8s-"));
  try {
    for (const [name, text] of Object.entries(configMap.data)) writeFileSync(join(dir, name), text);
    const result = readPolicies([dir]);
    assert.deepEqual(result.problems, []);
    assert.equal(compilePolicySet(result.policies).rules.length, 5);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const deployment = find("Deployment") as unknown as {
    spec: { template: { spec: { containers: { args: string[] }[] } } };
  };
  const args = deployment.spec.template.spec.containers[0]!.args;
  const flag = (name: string) => args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
  const config = resolveServeConfig(
    {},
    {
      policies: [flag("policies")!],
      host: flag("host"),
      port: flag("port"),
      tlsCert: flag("tls-cert"),
      tlsKey: flag("tls-key"),
      decisionLog: flag("decision-log"),
      requestTimeout: flag("request-timeout"),
    },
  );
  assert.equal(config.port, 8443);
  assert.equal(config.requestTimeoutMs, 4000);
});

test("the example manifest is not named as costguard's configuration: costguard runs in its folder", async () => {
  // Named costguard.yaml, it was read as the configuration: "Source contains multiple documents".
  const r = await cli(
    ["evaluate", "--policies", resolve("examples/policies"), resolve("examples/requests/compliant.json")],
    { cwd: resolve("examples/kubernetes"), env: {} },
  );
  // A decision, whichever it is (the request lacks tags examples/policies require): not exit 2.
  assert.equal(r.stderr, "");
  assert.ok(["allow", "deny"].includes(JSON.parse(r.stdout).decision), r.stdout);
});
