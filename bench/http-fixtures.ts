/** Request bodies the HTTP benchmark sends: a mix of allowed, warned and denied answers. */

export const EVALUATE_BODIES: object[] = [
  {
    type: "compute/instance",
    namespace: "production",
    tags: {
      "cost-center": "CC-123456",
      environment: "production",
      owner: "ana@company.com",
      project: "checkout",
      team: "shop",
    },
    specs: { vcpus: 8, memory_gb: 32, instance_family: "general-purpose", instance_type: "m5.2xlarge" },
  },
  {
    type: "compute/instance",
    tags: { "cost-center": "INVALID", environment: "test" },
    specs: { vcpus: 32, memory_gb: 128, instance_family: "gpu" },
  },
  {
    type: "storage/volume",
    namespace: "staging",
    tags: { "cost-center": "CC-000042", environment: "staging", owner: "ops@company.com", project: "ingest" },
    specs: { size_gb: 500, volume_type: "provisioned-iops" },
  },
  {
    type: "database/instance",
    namespace: "production",
    tags: {
      "cost-center": "CC-000001",
      environment: "production",
      owner: "dba@company.com",
      project: "ledger",
    },
    specs: { vcpus: 16, storage_gb: 1000 },
  },
];

export const BATCH_SIZE = 100;
export const BATCH_BODY: object[] = Array.from(
  { length: BATCH_SIZE },
  (_, i) => EVALUATE_BODIES[i % EVALUATE_BODIES.length]!,
);

const container = (name: string, cpu: string, memory: string) => ({
  name,
  image: `registry.example.com/${name}:1.4.2`,
  ports: [{ containerPort: 8080, protocol: "TCP" }],
  resources: { requests: { cpu, memory }, limits: { memory } },
});

const TAGS = { team: "shop", "cost-center": "CC-123456", environment: "production", project: "checkout" };
const OWNER = { "tag.costguard.dev/owner": "ana@company.com" };

function deployment(
  name: string,
  labels: Record<string, string>,
  annotations: Record<string, string>,
  replicas: number,
  cpu: string,
) {
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: `bench-${name}`,
      kind: { group: "apps", version: "v1", kind: "Deployment" },
      resource: { group: "apps", version: "v1", resource: "deployments" },
      requestKind: { group: "apps", version: "v1", kind: "Deployment" },
      name,
      namespace: "production",
      operation: "CREATE",
      userInfo: { username: "ci-deployer", groups: ["system:authenticated"] },
      object: {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name, namespace: "production", labels, annotations },
        spec: {
          replicas,
          selector: { matchLabels: { app: name } },
          template: {
            metadata: { labels: { app: name, ...labels } },
            spec: {
              initContainers: [container("migrate", "250m", "128Mi")],
              containers: [container(name, cpu, "1Gi"), container("envoy", "100m", "128Mi")],
            },
          },
        },
      },
      oldObject: null,
      dryRun: false,
      options: { apiVersion: "meta.k8s.io/v1", kind: "CreateOptions" },
    },
  };
}

/** Allowed, warned (10-CPU pods), denied (no tags). */
export const ADMISSION_BODIES: object[] = [
  deployment("checkout", TAGS, OWNER, 3, "500m"),
  deployment("search", { ...TAGS, team: "search" }, OWNER, 4, "10"),
  deployment("untagged", {}, {}, 2, "1"),
];
