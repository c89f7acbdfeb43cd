import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
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

  test("an UPDATE of an object being deleted is allowed without evaluation (finalizers can go)", async () => {
    // Unlabelled and over the limit: denied before, so the object hung in Terminating.
    const big = workload("Deployment", podSpec([container("a", { requests: { cpu: "99" } })]));
    const metadata = big.metadata as Record<string, unknown>;
    metadata.deletionTimestamp = "2026-01-01T00:00:00Z";
    metadata.finalizers = [];
    const { body } = await review(admissionReview(big, { operation: "UPDATE", uid: "term-1" }));
    assert.deepEqual(body.response, { uid: "term-1", allowed: true });
  });

  test("an UPDATE lowering replicas is admitted, as the same change through deployments/scale is", async () => {
    // 100 × 1 CPU, over maxVCPUs 16 (a limit set after it was admitted), edited down to 80.
    const pod = podSpec([container("app", { requests: { cpu: "1", memory: "256Mi" } })]);
    const before = workload("Deployment", pod, { replicas: 100, labels: tagged });
    const after = workload("Deployment", pod, { replicas: 80, labels: tagged });
    const r = admissionReview(after, { operation: "UPDATE", uid: "down-edit" });
    const { body } = await review({ ...r, request: { ...r.request, oldObject: before } });
    // Before: denied, "Requested 80 vCPUs exceeds limit of 16".
    assert.deepEqual(body.response, { uid: "down-edit", allowed: true });
    // Raising it again is evaluated (and denied) as before.
    const up = admissionReview(before, { operation: "UPDATE", uid: "up-edit" });
    const denied = await review({ ...up, request: { ...up.request, oldObject: after } });
    assert.equal(denied.body.response.allowed, false);
    assert.match(denied.body.response.status!.message, /Requested 100 vCPUs exceeds limit of 16/);
  });

  test("status and ephemeralcontainers (kubectl debug) updates are allowed without evaluation", async () => {
    // Unlabelled: a full UPDATE of either is denied for its missing team tag.
    for (const [kind, subResource] of [
      ["Deployment", "status"],
      ["Pod", "ephemeralcontainers"],
    ] as const) {
      const r = admissionReview(workload(kind, small), { operation: "UPDATE", uid: `sub-${subResource}` });
      const { body } = await review({ ...r, request: { ...r.request, subResource } });
      assert.deepEqual(body.response, { uid: `sub-${subResource}`, allowed: true }, subResource);
    }
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
    // An operation the API server never sends: not a review (it was allowed without evaluation).
    const lower = admissionReview(workload("Pod", podSpec([container("a", { requests: { cpu: "99" } })])));
    const create = await review({ ...lower, request: { ...lower.request, operation: "create" } });
    assert.equal(create.status, 400);
    assert.match(
      (create.body as unknown as { error: { message: string } }).error.message,
      /request\.operation must be one of CREATE, UPDATE, DELETE, CONNECT, got "create"/,
    );
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

describe("POST /v1/admission: a list nested thousands deep where text or a number belongs", () => {
  // Said in a message as JSON (or joined as text): past a few thousand levels that ran out of stack,
  // and the review was answered 500, which failurePolicy: Fail turns into a rejected workload anyway.
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());
  /** `body` as JSON, the string "DEEP" in it replaced by lists `levels` deep. */
  const post = async (body: object, levels: number) => {
    const text = JSON.stringify(body).replace('"DEEP"', `${"[".repeat(levels)}${"]".repeat(levels)}`);
    const res = await server.post("/v1/admission", text);
    return { status: res.status, body: (await res.json()) as ReviewAnswer & { error?: { message: string } } };
  };
  const deployment = (spec = small, replicas: unknown = 2) => {
    const w = workload("Deployment", spec, { labels: tagged });
    (w.spec as { replicas: unknown }).replicas = replicas;
    return admissionReview(w);
  };
  const job = workload("Job", small, { labels: tagged });
  (job.spec as { parallelism: unknown }).parallelism = "DEEP";
  const fields: [string, (r: ReturnType<typeof deployment>) => void][] = [
    ["request.name", (r) => Object.assign(r.request, { name: "DEEP" })],
    ["request.namespace", (r) => Object.assign(r.request, { namespace: "DEEP" })],
    ["request.subResource", (r) => Object.assign(r.request, { subResource: "DEEP" })],
    ["request.resource", (r) => Object.assign(r.request.resource, { group: "DEEP" })],
    ["request.userInfo", (r) => Object.assign(r.request, { userInfo: "DEEP" })],
  ];

  for (const levels of [3000, 100_000]) {
    const shown = levels === 3000 ? `${"[".repeat(59)}…` : "a list";
    test(`${levels} levels in the review's own fields are a 400 saying which`, async () => {
      const kind = await post({ ...deployment(), kind: "DEEP" }, levels);
      assert.equal(kind.status, 400);
      assert.equal(kind.body.error?.message, `expected kind AdmissionReview, got ${shown}`);
      const version = await post({ ...deployment(), apiVersion: "DEEP" }, levels);
      assert.equal(version.status, 400);
      assert.ok(version.body.error!.message.startsWith(`unsupported AdmissionReview apiVersion ${shown}:`));
      const operation = deployment();
      operation.request.operation = "DEEP";
      const op = await post(operation, levels);
      assert.equal(op.status, 400);
      assert.ok(op.body.error!.message.endsWith(`got ${shown}`), op.body.error!.message);
      for (const [field, set] of fields) {
        const r = deployment();
        set(r);
        const answer = await post(r, levels);
        assert.equal(answer.status, 400, field);
        assert.match(
          answer.body.error!.message,
          new RegExp(`not valid: ${field.replace(".", "\\.")} must be`),
        );
      }
    });

    test(`${levels} levels in the object under review deny it as unreadable, naming the field`, async () => {
      for (const [review, field] of [
        [deployment(podSpec([container("app", { requests: { cpu: "DEEP" } })])), "requests.cpu"],
        [deployment(podSpec([container("app", { requests: { memory: "DEEP" } })])), "requests.memory"],
        [deployment(small, "DEEP"), "spec.replicas"],
        [admissionReview(job), "spec.parallelism"],
      ] as const) {
        const { status, body } = await post(review, levels);
        assert.equal(status, 200, field);
        assert.equal(body.response.allowed, false);
        assert.equal(body.response.status?.code, 400);
        assert.ok(body.response.status!.message.includes(field), body.response.status!.message);
      }
      // An owner reference of no kind costguard knows: the pod is its own, evaluated (and denied).
      const pod = workload("Pod", podSpec([container("a", { requests: { cpu: "99" } })]), { labels: tagged });
      (pod.metadata as Record<string, unknown>).ownerReferences = [
        { apiVersion: "apps/v1", kind: "DEEP", name: "web-1", controller: true },
      ];
      const owned = await post(admissionReview(pod), levels);
      assert.equal(owned.status, 200);
      assert.equal(owned.body.response.status?.code, 403);
      assert.ok(!server.logs.some((l) => l.includes("unexpected error")));
    });
  }
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

describe("the decision log of an object that can't be read", () => {
  test("has a deny line with the reason (input null), as any deny has a line", async () => {
    const logDir = mkdtempSync(join(tmpdir(), "costguard-log-"));
    const logFile = join(logDir, "log.jsonl");
    const logged = await startTestServer({ decisionLog: logFile }, {});
    try {
      const pod = workload("Pod", podSpec([container("app", { requests: { cpu: "abc" } })]), {
        labels: tagged,
      });
      const res = await logged.post("/v1/admission", admissionReview(pod, { uid: "abc-1" }));
      assert.equal(((await res.json()) as ReviewAnswer).response.status?.code, 400);
      await logged.running.close();
      const lines = readFileSync(logFile, "utf8").trim().split("\n");
      assert.equal(lines.length, 1, "before, no line at all");
      const line = JSON.parse(lines[0]!) as Record<string, unknown>;
      assert.equal(line.gate, "admission");
      assert.equal(line.decision, "deny");
      assert.equal(line.input, null);
      assert.deepEqual(line.violations, []);
      assert.match(String(line.unreadable), /^spec\.containers\[0\]\.resources\.requests\.cpu: /);
      assert.deepEqual(
        { ...(line.admission as object) },
        {
          uid: "abc-1",
          kind: "Pod",
          operation: "CREATE",
          namespace: "shop",
          name: "web",
          user: "admin",
          dry_run: false,
        },
      );
      assert.match(String(line.id), /^[0-9a-f-]{36}$/);
      assert.equal(typeof line.policy_revision, "string");
    } finally {
      await logged.close();
      rmSync(logDir, { recursive: true, force: true });
    }
  });
});

describe("an object with only a generateName", () => {
  test("is web-* in a deny, in the unreadable answer and in the decision log's admission.name", async () => {
    const logDir = mkdtempSync(join(tmpdir(), "costguard-log-"));
    const logFile = join(logDir, "log.jsonl");
    const logged = await startTestServer({ decisionLog: logFile }, {});
    try {
      const generated = (cpu: string) => {
        const object = workload("Pod", podSpec([container("app", { requests: { cpu } })]));
        object.metadata = { generateName: "web-", namespace: "shop" };
        const r = admissionReview(object, { uid: `gen-${cpu}` });
        return { ...r, request: { ...r.request, name: "" } };
      };
      const denied = (await (await logged.post("/v1/admission", generated("2"))).json()) as ReviewAnswer;
      assert.match(denied.response.status!.message, /^costguard denied Pod shop\/web-\*: /);
      const unreadable = (await (
        await logged.post("/v1/admission", generated("abc"))
      ).json()) as ReviewAnswer;
      assert.match(unreadable.response.status!.message, /^costguard cannot read Pod shop\/web-\*: /);
      await logged.running.close();
      const line = JSON.parse(readFileSync(logFile, "utf8").trim().split("\n")[0]!) as {
        admission: { name: string };
        input: { name: string };
      };
      assert.equal(line.admission.name, "web-*");
      assert.equal(line.input.name, "web-", "the request the engine saw keeps the field as it is");
    } finally {
      await logged.close();
      rmSync(logDir, { recursive: true, force: true });
    }
  });
});

/** A Scale review as the API server posts it for `kubectl scale deployment web --replicas=N`. */
function scaleReview(
  replicas: unknown,
  opts: {
    name?: string;
    uid?: string;
    operation?: string;
    resource?: { group: string; version: string; resource: string };
  } = {},
) {
  const resource = opts.resource ?? { group: "apps", version: "v1", resource: "deployments" };
  const scale = {
    apiVersion: "autoscaling/v1",
    kind: "Scale",
    metadata: { name: opts.name ?? "web", namespace: "shop" },
    spec: { replicas },
  };
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: opts.uid ?? "scale-1",
      kind: { group: "autoscaling", version: "v1", kind: "Scale" },
      resource,
      subResource: "scale",
      requestKind: { group: "autoscaling", version: "v1", kind: "Scale" },
      requestResource: resource,
      requestSubResource: "scale",
      name: opts.name ?? "web",
      namespace: "shop",
      operation: opts.operation ?? "UPDATE",
      userInfo: { username: "admin" },
      object: scale,
      oldObject: { ...scale, spec: { replicas: 2 } },
      dryRun: false,
    },
  };
}

describe("POST /v1/admission: the scale subresource (kubectl scale, autoscalers)", () => {
  // A real HTTP server in the Kubernetes API's shapes, holding one Deployment: 4-CPU pods, 2 replicas.
  const deployment = workload(
    "Deployment",
    podSpec([container("app", { requests: { cpu: "4", memory: "1Gi" } })]),
    { replicas: 2, labels: tagged },
  );
  // Over the limit already (6 × 4 = 24 CPUs), as a workload admitted before the policy can be.
  const overLimit = workload(
    "Deployment",
    podSpec([container("app", { requests: { cpu: "4", memory: "1Gi" } })]),
    {
      name: "big",
      replicas: 6,
      labels: tagged,
    },
  );
  const calls: { path: string; auth: string | undefined }[] = [];
  const api = createServer((req, res) => {
    calls.push({ path: req.url ?? "", auth: req.headers.authorization });
    const status = (code: number, message: string) => {
      res.writeHead(code, { "content-type": "application/json" });
      res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", message, code }));
    };
    if (req.headers.authorization !== "Bearer t0ken") return status(401, "Unauthorized");
    const body = JSON.stringify(deployment);
    if (req.url === "/apis/apps/v1/namespaces/shop/deployments/abort") {
      // Headers and part of the body, then the connection drops.
      res.writeHead(200, { "content-type": "application/json", "content-length": String(body.length) });
      res.write(body.slice(0, 13));
      setTimeout(() => res.socket?.destroy(), 100);
      return;
    }
    if (req.url === "/apis/apps/v1/namespaces/shop/deployments/drip") {
      // The whole body, one byte a second: never idle long enough for a socket timeout.
      res.writeHead(200, { "content-type": "application/json", "content-length": String(body.length) });
      let sent = 0;
      const drip = setInterval(() => res.write(body[sent++]!), 1000);
      res.on("close", () => clearInterval(drip));
      return;
    }
    const found = {
      "/apis/apps/v1/namespaces/shop/deployments/web": deployment,
      "/apis/apps/v1/namespaces/shop/deployments/big": overLimit,
    }[req.url ?? ""];
    if (!found) return status(404, `deployments.apps "${req.url?.split("/").pop()}" not found`);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(found));
  });
  let server: TestServer;
  let unconnected: TestServer;
  const tokenDir = mkdtempSync(join(tmpdir(), "costguard-kube-"));
  const tokenFile = join(tokenDir, "token");
  const review = async (s: TestServer, body: unknown) => {
    const res = await s.post("/v1/admission", body);
    return { status: res.status, body: (await res.json()) as ReviewAnswer & { error?: { message: string } } };
  };
  before(async () => {
    writeFileSync(tokenFile, "t0ken\n");
    await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
    const port = (api.address() as AddressInfo).port;
    server = await startTestServer({ kubeApi: `http://127.0.0.1:${port}`, kubeTokenFile: tokenFile });
    unconnected = await startTestServer();
  });
  after(async () => {
    await server.close();
    await unconnected.close();
    api.closeAllConnections();
    api.close();
    rmSync(tokenDir, { recursive: true, force: true });
  });

  test("scaling up is reviewed with the workload's template read from the API", async () => {
    // 3 × 4 CPUs = 12: within maxVCPUs 16.
    const up = await review(server, scaleReview(3));
    assert.equal(up.status, 200);
    assert.equal(up.body.response.allowed, true, JSON.stringify(up.body));
    assert.equal(up.body.response.auditAnnotations?.decision, "allow");
    // 5 × 4 = 20: denied, as the same change made by editing the Deployment would be.
    const tooMany = await review(server, scaleReview(5, { uid: "scale-2" }));
    assert.equal(tooMany.body.response.uid, "scale-2");
    assert.equal(tooMany.body.response.allowed, false);
    assert.equal(tooMany.body.response.status?.code, 403);
    assert.equal(
      tooMany.body.response.status?.message,
      "costguard denied Deployment shop/web: workload-limits/max-size: Requested 20 vCPUs exceeds limit of 16",
    );
    assert.deepEqual(calls.at(-1), {
      path: "/apis/apps/v1/namespaces/shop/deployments/web",
      auth: "Bearer t0ken",
    });
  });

  test("a scale-down is never held back, even of a workload over the limit", async () => {
    // 5 × 4 = 20 CPUs is over maxVCPUs 16, but fewer than the 24 running: allowed, not evaluated.
    const down = await review(server, scaleReview(5, { name: "big", uid: "down-1" }));
    assert.deepEqual(down.body.response, { uid: "down-1", allowed: true });
    const up = await review(server, scaleReview(7, { name: "big", uid: "up-1" }));
    assert.equal(up.body.response.allowed, false, "scaling it further up is denied");
  });

  test("the token file is read again for each call (projected tokens rotate)", async () => {
    writeFileSync(tokenFile, "rotated\n");
    try {
      const res = await review(server, scaleReview(3));
      // The fake API knows only the old token: the call fails, which shows the new one was sent.
      assert.equal(res.status, 503);
      assert.equal(calls.at(-1)!.auth, "Bearer rotated");
    } finally {
      writeFileSync(tokenFile, "t0ken\n");
    }
  });

  test("when the API can't give the workload, the call fails (503) so failurePolicy decides", async () => {
    const missing = await review(server, scaleReview(3, { name: "gone" }));
    assert.equal(missing.status, 503);
    assert.match(missing.body.error!.message, /deployments shop\/gone.*answered 404.*not found/);
    assert.ok(
      server.logRecords().some((l) => l.msg === "scale review: reading the workload failed"),
      "logged as a warning",
    );
  });

  test("an answer that breaks off or drips past the 2 s deadline is a 503, in seconds, not never", async () => {
    for (const name of ["abort", "drip"]) {
      // Before, neither was answered in 10 s (the broken-off one never; the drip after ~5 min).
      const res = await fetch(`${server.url}/v1/admission`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(scaleReview(3, { name, uid: `broken-${name}` })),
        signal: AbortSignal.timeout(10_000),
      });
      assert.equal(res.status, 503, name);
      const body = (await res.json()) as { error: { message: string } };
      assert.match(
        body.error.message,
        name === "abort"
          ? /deployments shop\/abort.*broke off its answer/
          : /deployments shop\/drip.*did not answer .* within 2000 ms/,
      );
    }
  });

  test("a Scale without a whole replica count is unreadable and denied; a non-UPDATE is not reviewed", async () => {
    const bad = await review(server, scaleReview("many"));
    assert.equal(bad.status, 200);
    assert.equal(bad.body.response.allowed, false);
    assert.equal(bad.body.response.status?.code, 400);
    assert.match(bad.body.response.status!.message, /spec\.replicas of the Scale must be a whole number/);
    const other = await review(server, scaleReview(50, { operation: "CONNECT", uid: "c-1" }));
    assert.deepEqual(other.body.response, { uid: "c-1", allowed: true });
  });

  test("a Scale whose replicas are a list nested thousands deep is unreadable and denied, not a 500", async () => {
    for (const levels of [3000, 100_000]) {
      const text = JSON.stringify(scaleReview("DEEP")).replace(
        '"DEEP"',
        `${"[".repeat(levels)}${"]".repeat(levels)}`,
      );
      const res = await server.post("/v1/admission", text);
      assert.equal(res.status, 200);
      const body = (await res.json()) as ReviewAnswer;
      assert.equal(body.response.allowed, false);
      assert.equal(body.response.status?.code, 400);
      assert.match(body.response.status!.message, /spec\.replicas of the Scale must be a whole number/);
    }
  });

  test("a scale of a kind costguard does not evaluate is admitted quietly, without asking the API", async () => {
    const others = [
      { group: "example.com", version: "v1", resource: "widgets" },
      { group: "", version: "v1", resource: "replicationcontrollers" },
      // A custom resource under a workload's plural name is not that workload.
      { group: "example.com", version: "v1", resource: "deployments" },
    ];
    for (const [i, resource] of others.entries()) {
      const before = calls.length;
      // Before, the API was asked for the object (503 where it answers 403 or 404)...
      const connected = await review(server, scaleReview(50, { uid: `w-${i}`, resource }));
      assert.equal(connected.status, 200, resource.resource);
      assert.deepEqual(connected.body.response, { uid: `w-${i}`, allowed: true });
      assert.equal(calls.length, before, "the Kubernetes API is not called");
      // ...and without API access it was admitted with a warning that it was not evaluated.
      const off = await review(unconnected, scaleReview(50, { uid: `wo-${i}`, resource }));
      assert.deepEqual(off.body.response, { uid: `wo-${i}`, allowed: true });
    }
  });

  test("scale reviews are counted under the kind they scale in costguard_admission_reviews_total", async () => {
    const counted = await startTestServer();
    try {
      await review(counted, scaleReview(1)); // a scale-down: skipped
      await review(counted, scaleReview(50)); // no API access: skipped, with a warning
      await review(counted, scaleReview("many")); // unreadable
      await review(
        counted,
        scaleReview(50, { resource: { group: "example.com", version: "v1", resource: "widgets" } }),
      );
      const text = await (await fetch(`${counted.url}/metrics`)).text();
      const value = (series: string) => {
        const line = text.split("\n").find((l) => l.startsWith(`${series} `));
        return line === undefined ? undefined : Number(line.slice(series.length + 1));
      };
      // Before, all four were kind="other".
      assert.equal(value('costguard_admission_reviews_total{kind="Deployment",outcome="skipped"}'), 2);
      assert.equal(value('costguard_admission_reviews_total{kind="Deployment",outcome="unreadable"}'), 1);
      assert.equal(value('costguard_admission_reviews_total{kind="other",outcome="skipped"}'), 1);
    } finally {
      await counted.close();
    }
  });

  test("without API access a scale is allowed with a warning saying it was not evaluated", async () => {
    const res = await review(unconnected, scaleReview(50, { uid: "s-9" }));
    assert.equal(res.status, 200);
    assert.equal(res.body.response.allowed, true);
    assert.deepEqual(res.body.response.warnings, [
      "costguard: scaling deployments shop/web to 50 not evaluated (no Kubernetes API access: --kube-api)",
    ]);
    // A scale-down the review's own old Scale shows (2 → 1, or unchanged) needs no API: allowed, no warning.
    for (const [replicas, uid] of [
      [1, "s-10"],
      [2, "s-11"],
    ] as const) {
      const down = await review(unconnected, scaleReview(replicas, { uid }));
      assert.deepEqual(down.body.response, { uid, allowed: true });
    }
  });
});
