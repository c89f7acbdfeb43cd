/** Builders for Kubernetes objects and AdmissionReviews as an API server sends them. */

export interface ContainerResources {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

export function container(name: string, resources?: ContainerResources, extra: object = {}) {
  return { name, image: `example/${name}:1`, ...(resources ? { resources } : {}), ...extra };
}

export function podSpec(containers: object[], extra: object = {}) {
  return { containers, ...extra };
}

const template = (spec: object, labels: Record<string, string> = {}) => ({
  metadata: { labels: { app: "web", ...labels } },
  spec,
});

/** One object of each workload kind around the same pod spec. */
export function workload(
  kind: string,
  spec: object,
  opts: { name?: string; namespace?: string; labels?: Record<string, string>; replicas?: number } = {},
): Record<string, unknown> {
  const metadata = {
    name: opts.name ?? "web",
    namespace: opts.namespace ?? "shop",
    labels: opts.labels ?? {},
  };
  const replicas = opts.replicas ?? 3;
  switch (kind) {
    case "Pod":
      return { apiVersion: "v1", kind, metadata, spec };
    case "Deployment":
    case "StatefulSet":
    case "ReplicaSet":
      return { apiVersion: "apps/v1", kind, metadata, spec: { replicas, template: template(spec) } };
    case "DaemonSet":
      return { apiVersion: "apps/v1", kind, metadata, spec: { template: template(spec) } };
    case "Job":
      return {
        apiVersion: "batch/v1",
        kind,
        metadata,
        spec: { parallelism: replicas, template: template(spec) },
      };
    case "CronJob":
      return {
        apiVersion: "batch/v1",
        kind,
        metadata,
        spec: {
          schedule: "0 * * * *",
          jobTemplate: { spec: { parallelism: replicas, template: template(spec) } },
        },
      };
    default:
      return { apiVersion: "v1", kind, metadata, spec };
  }
}

const GROUPS: Record<string, string> = {
  Pod: "",
  Deployment: "apps",
  StatefulSet: "apps",
  DaemonSet: "apps",
  ReplicaSet: "apps",
  Job: "batch",
  CronJob: "batch",
};

/** An admission.k8s.io/v1 AdmissionReview for an object, as the API server posts it. */
export function admissionReview(
  object: Record<string, unknown>,
  opts: { uid?: string; operation?: string; group?: string } = {},
) {
  const kind = String(object.kind);
  const metadata = object.metadata as { name?: string; namespace?: string };
  const group = opts.group ?? GROUPS[kind] ?? "";
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: opts.uid ?? "705ab4f5-6393-11e8-b7cc-42010a800002",
      kind: { group, version: "v1", kind },
      resource: { group, version: "v1", resource: `${kind.toLowerCase()}s` },
      requestKind: { group, version: "v1", kind },
      name: metadata.name,
      namespace: metadata.namespace,
      operation: opts.operation ?? "CREATE",
      userInfo: { username: "admin", groups: ["system:authenticated"] },
      object: opts.operation === "DELETE" ? null : object,
      oldObject: opts.operation === "DELETE" ? object : null,
      dryRun: false,
      options: { apiVersion: "meta.k8s.io/v1", kind: "CreateOptions" },
    },
  };
}
