import assert from "node:assert/strict";
import { test } from "node:test";
import {
  decisionResponse,
  MAX_WARNING_LENGTH,
  planAdmission,
  readAdmissionReview,
  subjectOf,
} from "../../../src/gates/kubernetes/admission.js";
import type { Decision, Violation } from "../../../src/index.js";
import { InputError } from "../../../src/index.js";
import { admissionReview, container, podSpec, workload } from "../../support/kubernetes.js";

const OPTIONS = { daemonSetNodes: 1, evaluateOwned: false };
const pod = podSpec([container("app", { requests: { cpu: "2", memory: "4Gi" } })]);

test("reads an admission.k8s.io/v1 AdmissionReview and rejects other versions and kinds clearly", () => {
  const review = admissionReview(workload("Deployment", pod));
  assert.equal(readAdmissionReview(review).uid, review.request.uid);
  assert.throws(
    () => readAdmissionReview({ ...review, apiVersion: "admission.k8s.io/v1beta1" }),
    (e: unknown) =>
      e instanceof InputError &&
      /admission.k8s.io\/v1beta1/.test(e.message) &&
      /admissionReviewVersions/.test(e.message),
  );
  assert.throws(
    () => readAdmissionReview({ ...review, kind: "Pod" }),
    /expected kind AdmissionReview, got "Pod"/,
  );
  // A manifest posted as it is, and a costguard request sent to the wrong route, say what they are.
  assert.throws(
    () => readAdmissionReview({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" } }),
    {
      message:
        'expected kind AdmissionReview, got "Deployment": this is the object itself; the API server sends it wrapped, as an AdmissionReview\'s request.object (to try a manifest by hand, wrap it so: docs/kubernetes.md)',
    },
  );
  assert.throws(() => readAdmissionReview({ type: "compute/instance", specs: { vcpus: 4 } }), {
    message: "expected kind AdmissionReview, got null: this is a costguard request; POST it to /v1/evaluate",
  });
  assert.throws(() => readAdmissionReview({ ...review, request: undefined }), /has no request/);
  assert.throws(
    () => readAdmissionReview({ ...review, request: { ...review.request, uid: "" } }),
    /request.uid/,
  );
  assert.throws(() => readAdmissionReview([review]), /expected an AdmissionReview object/);
  // An operation no API server sends is no review (it was allowed without evaluation).
  for (const operation of ["create", "PATCH", "", 7])
    assert.throws(() => readAdmissionReview({ ...review, request: { ...review.request, operation } }), {
      message: `the AdmissionReview request is not valid: request.operation must be one of CREATE, UPDATE, DELETE, CONNECT, got ${JSON.stringify(operation)}`,
    });
  for (const operation of ["CREATE", "UPDATE", "DELETE", "CONNECT"])
    assert.equal(
      readAdmissionReview({ ...review, request: { ...review.request, operation } }).operation,
      operation,
    );
});

test("DELETE, CONNECT, non-workload kinds and controller-owned objects are not evaluated", () => {
  const read = (r: unknown) => planAdmission(readAdmissionReview(r), OPTIONS);
  assert.deepEqual(read(admissionReview(workload("Deployment", pod), { operation: "DELETE" })), {
    evaluate: false,
    reason: "DELETE is not evaluated",
  });
  assert.equal(read(admissionReview(workload("Pod", pod), { operation: "CONNECT" })).evaluate, false);
  const service = read(admissionReview({ kind: "Service", metadata: { name: "web" }, spec: {} }));
  assert.deepEqual(service, { evaluate: false, reason: "Service is not a workload kind" });

  const owned = workload("Pod", pod) as { metadata: Record<string, unknown> };
  owned.metadata.ownerReferences = [
    { apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-7d4b9", controller: true, uid: "u" },
  ];
  assert.equal(read(admissionReview(owned)).evaluate, false);
  // A custom resource that shares the kind's name is no controller the gate reviews: its pod is.
  const custom = workload("Pod", pod) as { metadata: Record<string, unknown> };
  custom.metadata.ownerReferences = [
    { apiVersion: "example.com/v1", kind: "Deployment", name: "web", controller: true, uid: "u" },
  ];
  assert.equal(read(admissionReview(custom)).evaluate, true);
  assert.equal(
    planAdmission(readAdmissionReview(admissionReview(owned)), { ...OPTIONS, evaluateOwned: true }).evaluate,
    true,
  );

  const update = read(
    admissionReview(workload("StatefulSet", pod, { replicas: 2 }), { operation: "UPDATE" }),
  );
  assert.ok(update.evaluate);
  assert.equal(update.request.type, "compute/k8s-statefulset");
  assert.equal(update.request.specs?.vcpus, 4);
  assert.equal(update.request.specs?.memory_gb, 8);
});

test("an UPDATE of an object being deleted (deletionTimestamp set) is not evaluated; a CREATE is", () => {
  const read = (r: unknown) => planAdmission(readAdmissionReview(r), OPTIONS);
  // Over any limit, and unlabelled: the garbage collector removing its foregroundDeletion finalizer.
  const big = podSpec([container("app", { requests: { cpu: "999" } })]);
  const terminating = workload("Deployment", big, { replicas: 100 }) as { metadata: Record<string, unknown> };
  terminating.metadata.deletionTimestamp = "2026-01-01T00:00:00Z";
  terminating.metadata.finalizers = [];
  assert.deepEqual(read(admissionReview(terminating, { operation: "UPDATE" })), {
    evaluate: false,
    reason: "being deleted (metadata.deletionTimestamp is set)",
  });
  // A CREATE's deletionTimestamp is dropped by the API server: the object is evaluated as usual.
  assert.equal(read(admissionReview(terminating)).evaluate, true);
});

test("an UPDATE that asks for no more than the object before it is not evaluated", () => {
  const read = (object: unknown, oldObject: unknown) => {
    const r = admissionReview(object as Record<string, unknown>, { operation: "UPDATE" });
    return planAdmission(readAdmissionReview({ ...r, request: { ...r.request, oldObject } }), OPTIONS);
  };
  const cpu = (c: string, memory = "1Gi") => podSpec([container("app", { requests: { cpu: c, memory } })]);
  const deployment = (c: string, replicas: number, labels: Record<string, string> = { team: "shop" }) =>
    workload("Deployment", cpu(c), { replicas, labels });
  const before = deployment("4", 100);
  const skipped = { evaluate: false, reason: "asks for no more than before (no spec larger, the same tags)" };
  // Fewer replicas, smaller pods, or both; or nothing that costs changed (an image, an annotation).
  assert.deepEqual(read(deployment("4", 80), before), skipped);
  assert.deepEqual(read(deployment("2", 100), before), skipped);
  assert.deepEqual(read(deployment("3500m", 0), before), skipped);
  assert.deepEqual(read(before, before), skipped);
  // More of anything, a tag changed, or a request removed (no longer known) is evaluated.
  assert.equal(read(deployment("4", 101), before).evaluate, true);
  assert.equal(read(deployment("5", 80), before).evaluate, true);
  assert.equal(
    read(workload("Deployment", cpu("4", "2Gi"), { replicas: 80, labels: { team: "shop" } }), before)
      .evaluate,
    true,
  );
  assert.equal(read(deployment("4", 80, { team: "web" }), before).evaluate, true);
  assert.equal(read(deployment("4", 80, {}), before).evaluate, true);
  assert.equal(
    read(workload("Deployment", podSpec([container("app")]), { replicas: 1 }), before).evaluate,
    true,
  );
  // An old object that can't be read, or none, compares with nothing.
  assert.equal(read(deployment("4", 80), { ...before, spec: {} }).evaluate, true);
  assert.equal(read(deployment("4", 80), null).evaluate, true);
  // A CREATE carries no old object to compare with.
  assert.equal(
    planAdmission(readAdmissionReview(admissionReview(deployment("4", 80))), OPTIONS).evaluate,
    true,
  );
});

test("subresources other than scale and a Pod's resize are not evaluated", () => {
  const plan = (object: Record<string, unknown>, subResource: string) => {
    const r = admissionReview(object, { operation: "UPDATE" });
    return planAdmission(readAdmissionReview({ ...r, request: { ...r.request, subResource } }), OPTIONS);
  };
  // Unlabelled, 3 × 2 CPUs: what the policies would look at, if these were evaluated.
  assert.deepEqual(plan(workload("Deployment", pod), "status"), {
    evaluate: false,
    reason: "the status subresource is not evaluated",
  });
  assert.equal(plan(workload("Pod", pod), "ephemeralcontainers").evaluate, false);
  assert.equal(plan(workload("Pod", pod), "status").evaluate, false);
  // In-place resizing changes the Pod's requests: evaluated as an UPDATE of the Pod.
  const resize = plan(workload("Pod", pod), "resize");
  assert.ok(resize.evaluate);
  assert.equal(resize.request.specs?.vcpus, 2);
});

test("a mirror pod (owned by its Node: a static pod) is not evaluated, like a controller's pods", () => {
  const mirror = workload("Pod", pod, { name: "etcd-node-1" }) as { metadata: Record<string, unknown> };
  mirror.metadata.annotations = { "kubernetes.io/config.mirror": "abc" };
  mirror.metadata.ownerReferences = [
    { apiVersion: "v1", kind: "Node", name: "node-1", controller: true, uid: "n" },
  ];
  const review = readAdmissionReview(admissionReview(mirror));
  assert.deepEqual(planAdmission(review, OPTIONS), {
    evaluate: false,
    reason: "the mirror pod of a static pod on Node node-1, which its kubelet runs",
  });
  assert.equal(planAdmission(review, { ...OPTIONS, evaluateOwned: true }).evaluate, true);
  // A Node of another API group is no Node.
  mirror.metadata.ownerReferences = [
    { apiVersion: "example.com/v1", kind: "Node", name: "node-1", controller: true, uid: "n" },
  ];
  assert.equal(planAdmission(readAdmissionReview(admissionReview(mirror)), OPTIONS).evaluate, true);
});

const violation = (enforcement: Violation["enforcement"], rule: string, message: string): Violation => ({
  policy: "limits",
  rule,
  severity: "high",
  enforcement,
  message,
  resource_type: "compute/k8s-deployment",
  field: "specs.vcpus",
  actual: 1,
  limit: 0,
});

test("deny is allowed:false with 403 naming policy and rule; warnings are at most 120 characters", () => {
  const decision: Decision = {
    decision: "deny",
    violations: [
      violation("deny", "max-vcpus", "Requested 32 vCPUs exceeds limit of 16"),
      violation("warn", "owner", `Tag 'owner' value '${"x".repeat(200)}' does not match required pattern`),
      violation("audit", "dry-run", "only logged"),
    ],
    unverified: [],
    not_evaluated: [],
  };
  const r = decisionResponse("uid-1", "Deployment shop/web", decision, "abc123");
  assert.equal(r.uid, "uid-1");
  assert.equal(r.allowed, false);
  assert.equal(r.status?.code, 403);
  assert.equal(
    r.status?.message,
    "costguard denied Deployment shop/web: limits/max-vcpus: Requested 32 vCPUs exceeds limit of 16",
  );
  assert.equal(r.warnings?.length, 1);
  assert.ok(r.warnings![0]!.length <= MAX_WARNING_LENGTH);
  assert.ok(r.warnings![0]!.startsWith("costguard limits/owner: Tag 'owner'"));
  assert.deepEqual(r.auditAnnotations, { decision: "deny", "policy-revision": "abc123" });

  const warn = decisionResponse(
    "uid-2",
    "Pod shop/web",
    { ...decision, decision: "warn", violations: decision.violations.slice(1) },
    "r",
  );
  assert.equal(warn.allowed, true);
  assert.equal(warn.status, undefined);
  assert.equal(warn.warnings?.length, 1);

  const many = decisionResponse(
    "uid-3",
    "Pod shop/web",
    {
      ...decision,
      decision: "warn",
      violations: Array.from({ length: 25 }, (_, i) => violation("warn", `r${i}`, "m\u0007\n")),
    },
    "r",
  );
  assert.equal(many.warnings?.length, 10);
  assert.match(many.warnings![9]!, /16 more warnings/);
  assert.ok(
    many.warnings!.every(
      (w) => ![...w].some((ch) => ch.charCodeAt(0) < 32) && w.length <= MAX_WARNING_LENGTH,
    ),
  );
});

test("warnings are cut between code points, and C1 and bidi controls are taken out", () => {
  const warned = (message: string) =>
    decisionResponse(
      "u",
      "Pod shop/web",
      { decision: "warn", violations: [violation("warn", "r", message)], unverified: [], not_evaluated: [] },
      "r",
    ).warnings![0]!;
  // Whatever comes before it, one of these cuts falls inside an emoji's surrogate pair.
  for (const lead of ["", "a", "ab"]) {
    const cut = warned(lead + "é😀".repeat(60));
    assert.ok(cut.length <= MAX_WARNING_LENGTH, lead);
    assert.ok(cut.isWellFormed(), `no lone surrogate: ${JSON.stringify(cut.slice(-6))}`);
    assert.match(cut, /(é|😀)\.\.\.$/);
  }
  const controls = warned("a\u0085b\u009bc\u202ed\u2066e\u2069f\u200fg");
  assert.equal(controls, "costguard limits/r: a b c d e f g");
});

test("an object created with generateName is named by it in messages, not by its namespace alone", () => {
  const review = admissionReview({
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { namespace: "shop", generateName: "nightly-" },
    spec: { template: { spec: podSpec([container("c", { requests: { cpu: "1" } })]) } },
  });
  const req = readAdmissionReview(review);
  assert.equal(subjectOf(req), "Job shop/nightly-*");
  // The same when it was read (a deny names it from the request the engine saw, whose name is "nightly-").
  const plan = planAdmission(req, OPTIONS);
  assert.ok(plan.evaluate);
  assert.equal(plan.request.name, "nightly-");
  assert.equal(subjectOf(req, plan.request), "Job shop/nightly-*");
  // No name at all: said so, not left as "Job shop/".
  assert.equal(subjectOf({ ...req, object: { metadata: {} } }), "Job (no name, namespace shop)");
  // A review without request.name (one the gate could not read has no request to name it either):
  // the object's own name, not "Job shop/".
  assert.equal(subjectOf({ ...req, name: "", object: { metadata: { name: "etl" } } }), "Job shop/etl");
});
