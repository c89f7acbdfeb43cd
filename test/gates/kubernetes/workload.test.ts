import assert from "node:assert/strict";
import { test } from "node:test";
import { podResources } from "../../../src/gates/kubernetes/pod-resources.js";
import { WORKLOAD_KINDS, workloadKind, workloadRequest } from "../../../src/gates/kubernetes/workload.js";
import { InputError } from "../../../src/index.js";
import { container, podSpec, workload } from "../../support/kubernetes.js";

const OPTIONS = { daemonSetNodes: 1 };

const webPod = podSpec([
  container("app", { requests: { cpu: "500m", memory: "512Mi" } }),
  container("proxy", { requests: { cpu: "250m", memory: "256Mi" } }),
]);

test("each workload kind multiplies the pod's requests by how many pods run at once", () => {
  const expected: Record<string, number> = {
    Pod: 1,
    Deployment: 4,
    StatefulSet: 4,
    ReplicaSet: 4,
    DaemonSet: 1,
    Job: 4,
    CronJob: 4,
  };
  for (const [kind, replicas] of Object.entries(expected)) {
    const k = workloadKind(kind === "Pod" ? "" : ["Job", "CronJob"].includes(kind) ? "batch" : "apps", kind);
    assert.ok(k, kind);
    const r = workloadRequest(k, workload(kind, webPod, { replicas: 4 }), "shop", OPTIONS);
    assert.equal(r.type, WORKLOAD_KINDS[k].type, kind);
    assert.ok(r.type.startsWith("compute/k8s-"), kind);
    assert.equal(r.specs?.replicas, replicas, kind);
    assert.equal(r.specs?.vcpus, 0.75 * replicas, kind);
    assert.equal(r.specs?.memory_gb, 0.75 * replicas, kind);
    assert.equal(r.specs?.pod_vcpus, 0.75, kind);
    assert.equal(r.specs?.pod_memory_gb, 0.75, kind);
    assert.equal(r.namespace, "shop");
    assert.equal(r.name, "web");
    assert.equal(r.provider, "kubernetes");
  }
});

test("kinds are recognised by API group too: a CRD called Deployment is not a workload", () => {
  assert.equal(workloadKind("apps", "Deployment"), "Deployment");
  assert.equal(workloadKind("example.com", "Deployment"), undefined);
  assert.equal(workloadKind("", "Service"), undefined);
  assert.equal(workloadKind("", "Pod"), "Pod");
});

test("a DaemonSet counts per node unless told how many nodes", () => {
  const ds = workload("DaemonSet", webPod);
  assert.equal(workloadRequest("DaemonSet", ds, undefined, OPTIONS).specs?.vcpus, 0.75);
  assert.equal(workloadRequest("DaemonSet", ds, undefined, { daemonSetNodes: 10 }).specs?.vcpus, 7.5);
});

test("a Job runs min(parallelism, completions) pods; defaults are one", () => {
  const job = workload("Job", webPod) as { spec: Record<string, unknown> };
  job.spec.parallelism = 5;
  job.spec.completions = 2;
  assert.equal(workloadRequest("Job", job, undefined, OPTIONS).specs?.replicas, 2);
  delete job.spec.parallelism;
  delete job.spec.completions;
  assert.equal(workloadRequest("Job", job, undefined, OPTIONS).specs?.replicas, 1);
  const deployment = workload("Deployment", webPod) as { spec: Record<string, unknown> };
  delete deployment.spec.replicas;
  assert.equal(workloadRequest("Deployment", deployment, undefined, OPTIONS).specs?.replicas, 1);
  deployment.spec.replicas = 0;
  assert.equal(workloadRequest("Deployment", deployment, undefined, OPTIONS).specs?.vcpus, 0);
});

test("labels become tags: the object's own labels override the pod template's", () => {
  const d = workload("Deployment", webPod, { labels: { app: "shop-web", "cost-center": "CC-123456" } });
  const r = workloadRequest("Deployment", d, "shop", OPTIONS);
  assert.deepEqual(r.tags, { app: "shop-web", "cost-center": "CC-123456" });
});

test("tag.costguard.dev/ annotations carry tags a label value can't hold", () => {
  const d = workload("Deployment", webPod, { labels: { owner: "ana" } }) as {
    metadata: Record<string, unknown>;
  };
  d.metadata.annotations = {
    "tag.costguard.dev/owner": "ana@company.com",
    "tag.costguard.dev/": "ignored",
    "kubectl.kubernetes.io/last-applied-configuration": "{}",
  };
  const r = workloadRequest("Deployment", d, undefined, OPTIONS);
  assert.deepEqual(r.tags, { app: "web", owner: "ana@company.com" });
});

test("requests default to limits; containers with neither are counted and leave the figure unknown", () => {
  const onlyLimits = podResources(podSpec([container("a", { limits: { cpu: "2", memory: "1Gi" } })]), "spec");
  assert.equal(onlyLimits.cpuMillis, 2000n);
  assert.equal(onlyLimits.memoryBytes, 1_073_741_824n);
  assert.equal(onlyLimits.containersMissingRequests, 0);

  const none = podResources(podSpec([container("a"), container("b", { requests: { cpu: "1" } })]), "spec");
  assert.equal(none.cpuMillis, 1000n);
  assert.equal(none.memoryBytes, null, "no container states memory: unknown, not zero");
  assert.equal(none.containersMissingRequests, 2);

  const r = workloadRequest("Pod", workload("Pod", podSpec([container("a")])), undefined, OPTIONS);
  assert.equal(r.specs?.vcpus, undefined);
  assert.equal(r.specs?.memory_gb, undefined);
  assert.equal(r.specs?.containers_missing_requests, 1);
});

test("init containers count by the effective-request rule, sidecars add to the app containers", () => {
  // A big regular init container runs alone: the pod needs max(app, init).
  const bigInit = podResources(
    podSpec([container("app", { requests: { cpu: "1", memory: "1Gi" } })], {
      initContainers: [container("migrate", { requests: { cpu: "3", memory: "256Mi" } })],
    }),
    "spec",
  );
  assert.equal(bigInit.cpuMillis, 3000n);
  assert.equal(bigInit.memoryBytes, 1_073_741_824n);

  // A sidecar (restartPolicy: Always) runs beside everything after it.
  const sidecar = podResources(
    podSpec([container("app", { requests: { cpu: "1", memory: "1Gi" } })], {
      initContainers: [
        container("mesh", { requests: { cpu: "500m", memory: "128Mi" } }, { restartPolicy: "Always" }),
        container("migrate", { requests: { cpu: "2", memory: "64Mi" } }),
      ],
    }),
    "spec",
  );
  // init phase: mesh + migrate = 2.5 CPU; app phase: app + mesh = 1.5 CPU and 1.125 GiB.
  assert.equal(sidecar.cpuMillis, 2500n);
  assert.equal(sidecar.memoryBytes, 1_207_959_552n);

  // A regular init container before the sidecar does not run beside it.
  const before = podResources(
    podSpec([container("app", { requests: { cpu: "1" } })], {
      initContainers: [
        container("setup", { requests: { cpu: "1500m" } }),
        container("mesh", { requests: { cpu: "1" } }, { restartPolicy: "Always" }),
      ],
    }),
    "spec",
  );
  assert.equal(before.cpuMillis, 2000n);
});

test("pod overhead is added and pod-level requests replace the container sum", () => {
  const withOverhead = podResources(
    podSpec([container("app", { requests: { cpu: "1", memory: "1Gi" } })], {
      overhead: { cpu: "250m", memory: "120Mi" },
    }),
    "spec",
  );
  assert.equal(withOverhead.cpuMillis, 1250n);
  assert.equal(withOverhead.memoryBytes, 1_073_741_824n + 125_829_120n);
  const podLevel = podResources(
    podSpec([container("app", { requests: { cpu: "1" } })], { resources: { requests: { cpu: "4" } } }),
    "spec",
  );
  assert.equal(podLevel.cpuMillis, 4000n);
});

test("GPUs are counted from extended resources named */gpu", () => {
  const r = workloadRequest(
    "Deployment",
    workload("Deployment", podSpec([container("train", { limits: { "nvidia.com/gpu": "2", cpu: "8" } })]), {
      replicas: 3,
    }),
    undefined,
    OPTIONS,
  );
  assert.equal(r.specs?.gpus, 6);
  assert.equal(r.specs?.vcpus, 24);
});

test("a malformed object is an InputError that says where", () => {
  const bad = workload("Deployment", podSpec([container("a", { requests: { cpu: "lots" } })]));
  assert.throws(
    () => workloadRequest("Deployment", bad, undefined, OPTIONS),
    (e: unknown) =>
      e instanceof InputError &&
      e.message.includes("spec.template.spec.containers[0].resources.requests.cpu"),
  );
  assert.throws(() => workloadRequest("Deployment", { kind: "Deployment" }, undefined, OPTIONS), InputError);
  // A quantity past what a number holds: said, not decided as Infinity vCPUs (logged as null).
  for (const [requests, what] of [
    [
      { cpu: "9".repeat(400) },
      /the Deployment's CPU requests come to more than a number holds \(specs\.vcpus\)/,
    ],
    [
      { memory: `${"9".repeat(400)}Gi` },
      /the Deployment's memory requests come to more than a number holds \(specs\.memory_gb\)/,
    ],
  ] as const)
    assert.throws(
      () =>
        workloadRequest(
          "Deployment",
          workload("Deployment", podSpec([container("a", { requests })])),
          undefined,
          OPTIONS,
        ),
      (e: unknown) => e instanceof InputError && what.test(e.message),
    );
  assert.throws(
    () =>
      workloadRequest("Deployment", { spec: { replicas: -1, template: { spec: {} } } }, undefined, OPTIONS),
    /spec.replicas/,
  );
  assert.throws(
    () => workloadRequest("Pod", { spec: { containers: "app" } }, undefined, OPTIONS),
    /spec.containers must be a list/,
  );
});
