import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { admissionReview, container, podSpec, workload } from "../support/kubernetes.js";
import { startTestServer, type TestServer } from "../support/server.js";

interface ReviewAnswer {
  apiVersion: string;
  kind: string;
  response: {
    uid: string;
    allowed: boolean;
    status?: { code: number; message: string };
    warnings?: string[];
    auditAnnotations?: Record<string, string>;
  };
}

const KINDS = ["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"];
const small = podSpec([container("app", { requests: { cpu: "500m", memory: "512Mi" } })]);
const tagged = { team: "shop" };

describe("POST /v1/admission", () => {
  let server: TestServer;
  const review = async (body: unknown) => {
    const res = await server.post("/v1/admission", body);
    return { status: res.status, body: (await res.json()) as ReviewAnswer };
  };
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  test("every workload kind is evaluated: requests × replicas against compute/* limits", async () => {
    for (const kind of KINDS) {
      // 4 CPUs a pod: 5 pods (20 CPUs) break maxVCPUs 16 — except a DaemonSet (per node) and a Pod (one).
      const pod = podSpec([container("app", { requests: { cpu: "4", memory: "1Gi" } })]);
      const { status, body } = await review(
        admissionReview(workload(kind, pod, { replicas: 5, labels: tagged }), { uid: `uid-${kind}` }),
      );
      assert.equal(status, 200, kind);
      assert.equal(body.apiVersion, "admission.k8s.io/v1");
      assert.equal(body.kind, "AdmissionReview");
      assert.equal(body.response.uid, `uid-${kind}`);
      const single = kind === "Pod" || kind === "DaemonSet";
      assert.equal(body.response.allowed, single, kind);
      if (!single) {
        assert.equal(body.response.status?.code, 403, kind);
        assert.equal(
          body.response.status?.message,
          `costguard denied ${kind} shop/web: workload-limits/max-size: Requested 20 vCPUs exceeds limit of 16`,
        );
      }
      assert.equal(body.response.auditAnnotations?.decision, single ? "allow" : "deny");
    }
  });

  test("warn-level violations allow with warnings of at most 120 characters", async () => {
    const pod = podSpec([container("app", { requests: { cpu: "6", memory: "1Gi" } })]);
    const { body } = await review(
      admissionReview(workload("Deployment", pod, { replicas: 1, labels: tagged })),
    );
    assert.equal(body.response.allowed, true);
    assert.equal(body.response.status, undefined);
    assert.deepEqual(body.response.warnings, [
      "costguard workload-limits/big-pods: specs.pod_vcpus is 6, must be at most 4",
    ]);
    assert.ok(body.response.warnings!.every((w) => w.length <= 120));
  });

  test("labels are tags: the guide-style tag rule on compute/* catches an unlabelled workload", async () => {
    const { body } = await review(admissionReview(workload("Deployment", small, { replicas: 1 })));
    assert.equal(body.response.allowed, false);
    assert.match(
      body.response.status!.message,
      /mandatory-tags\/team-required: Required tag 'team' is missing/,
    );
    const ok = await review(admissionReview(workload("Deployment", small, { replicas: 1, labels: tagged })));
    assert.equal(ok.body.response.allowed, true);
  });

  test("DELETE and non-workload kinds are allowed without evaluation", async () => {
    const del = await review(
      admissionReview(workload("Deployment", podSpec([container("a", { requests: { cpu: "99" } })])), {
        operation: "DELETE",
        uid: "del-1",
      }),
    );
    assert.deepEqual(del.body.response, { uid: "del-1", allowed: true });
    const svc = await review(
      admissionReview(
        { kind: "Service", metadata: { name: "web", namespace: "shop" }, spec: {} },
        { uid: "svc-1" },
      ),
    );
    assert.deepEqual(svc.body.response, { uid: "svc-1", allowed: true });
    const crd = await review(
      admissionReview(workload("Deployment", small), { uid: "crd-1", group: "example.com" }),
    );
    assert.deepEqual(crd.body.response, { uid: "crd-1", allowed: true });
  });

  test("wrong AdmissionReview apiVersion or kind is a clear 400", async () => {
    const r = admissionReview(workload("Pod", small));
    const beta = await review({ ...r, apiVersion: "admission.k8s.io/v1beta1" });
    assert.equal(beta.status, 400);
    const err = beta.body as unknown as { error: { name: string; message: string } };
    assert.equal(err.error.name, "InputError");
    assert.match(err.error.message, /unsupported AdmissionReview apiVersion "admission.k8s.io\/v1beta1"/);
    assert.match(err.error.message, /admissionReviewVersions/);
    const notReview = await review({
      apiVersion: "admission.k8s.io/v1",
      kind: "ConversionReview",
      request: {},
    });
    assert.equal(notReview.status, 400);
    const noRequest = await review({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" });
    assert.equal(noRequest.status, 400);
    const malformed = await server.post("/v1/admission", "{not json");
    assert.equal(malformed.status, 400);
  });

  test("an unreadable workload is denied with code 400 naming the field", async () => {
    const bad = workload("Deployment", podSpec([container("app", { requests: { cpu: "two" } })]), {
      labels: tagged,
    });
    const { status, body } = await review(admissionReview(bad, { uid: "bad-1" }));
    assert.equal(status, 200);
    assert.equal(body.response.uid, "bad-1");
    assert.equal(body.response.allowed, false);
    assert.equal(body.response.status?.code, 400);
    assert.match(
      body.response.status!.message,
      /spec\.template\.spec\.containers\[0\]\.resources\.requests\.cpu/,
    );
  });
});

describe("the decision log", () => {
  test("has one line per decision with id, time, gate, input, decision, violations and revision", async () => {
    const logDir = mkdtempSync(join(tmpdir(), "costguard-log-"));
    // A missing folder for the log is created.
    const logFile = join(logDir, "decisions", "log.jsonl");
    const logged = await startTestServer({ decisionLog: logFile }, {});
    try {
      await logged.post("/v1/evaluate", [
        { type: "compute/instance", specs: { vcpus: 64 } },
        { type: "storage/volume" },
      ]);
      await logged.post(
        "/v1/admission",
        admissionReview(workload("StatefulSet", small, { replicas: 2, labels: tagged }), { uid: "sts-1" }),
      );
      await logged.post("/v1/admission", admissionReview(workload("Pod", small), { operation: "DELETE" }));
      const ready = (await (await fetch(`${logged.url}/readyz`)).json()) as { policy: { revision: string } };
      const revision = ready.policy.revision;
      await logged.running.close();
      const lines = readFileSync(logFile, "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(lines.length, 3, "two evaluations and one admission; the DELETE is not a decision");
      for (const line of lines) {
        assert.match(String(line.id), /^[0-9a-f-]{36}$/);
        assert.ok(!Number.isNaN(Date.parse(String(line.time))));
        assert.equal(line.policy_revision, revision);
        assert.ok(Array.isArray(line.violations));
      }
      assert.deepEqual(
        lines.map((l) => [l.gate, l.decision]),
        [
          ["evaluate", "deny"],
          ["evaluate", "allow"],
          ["admission", "allow"],
        ],
      );
      assert.deepEqual(lines[0]!.input, { type: "compute/instance", specs: { vcpus: 64 } });
      const admission = lines[2]!;
      assert.equal((admission.admission as { uid: string }).uid, "sts-1");
      assert.equal((admission.input as { type: string }).type, "compute/k8s-statefulset");
      assert.equal((admission.input as { specs: { vcpus: number } }).specs.vcpus, 1);
    } finally {
      await logged.close();
      rmSync(logDir, { recursive: true, force: true });
    }
  });
});
