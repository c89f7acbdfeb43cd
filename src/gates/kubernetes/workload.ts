import type { ResourceRequest } from "../../engine/types.js";
import { InputError } from "../../errors.js";
import { shownValue } from "../../objects.js";
import { isObject, podResources } from "./pod-resources.js";
import { bytesToGiB, millicoresToCores } from "./quantity.js";

/**
 * The workload kinds the admission gate evaluates and the resource type each becomes. Types sit in the
 * `compute` category so that a rule scoped `compute/*` (like the guide's tagging policy) covers
 * workloads too; scope a rule to workloads alone by listing these types.
 */
export const WORKLOAD_KINDS = {
  Pod: { group: "", type: "compute/k8s-pod" },
  Deployment: { group: "apps", type: "compute/k8s-deployment" },
  StatefulSet: { group: "apps", type: "compute/k8s-statefulset" },
  DaemonSet: { group: "apps", type: "compute/k8s-daemonset" },
  ReplicaSet: { group: "apps", type: "compute/k8s-replicaset" },
  Job: { group: "batch", type: "compute/k8s-job" },
  CronJob: { group: "batch", type: "compute/k8s-cronjob" },
} as const;

export type WorkloadKind = keyof typeof WORKLOAD_KINDS;

/** The workload kind for an API group and kind, or undefined for anything else (Service, a CRD...). */
export function workloadKind(group: string, kind: string): WorkloadKind | undefined {
  const found = (WORKLOAD_KINDS as Record<string, { group: string }>)[kind];
  return found !== undefined && found.group === group ? (kind as WorkloadKind) : undefined;
}

export interface WorkloadOptions {
  /**
   * How many nodes a DaemonSet's pods are counted on. An admission webhook can't know the cluster's
   * node count, so by default a DaemonSet is counted per node (1).
   */
  daemonSetNodes: number;
}

/** Where each kind keeps its pod spec, and how many pods of it run at once. */
function podSpecAndReplicas(
  kind: WorkloadKind,
  spec: Record<string, unknown>,
  options: WorkloadOptions,
): { podSpec: unknown; template: unknown; replicas: number; path: string } {
  switch (kind) {
    case "Pod":
      return { podSpec: spec, template: undefined, replicas: 1, path: "spec" };
    case "Deployment":
    case "StatefulSet":
    case "ReplicaSet":
      return template(spec, "spec.template", count(spec.replicas, 1, "spec.replicas"));
    case "DaemonSet":
      return template(spec, "spec.template", options.daemonSetNodes);
    case "Job":
      return template(spec, "spec.template", jobPods(spec, "spec"));
    case "CronJob": {
      const jobTemplate = isObject(spec.jobTemplate) ? spec.jobTemplate : undefined;
      const jobSpec = isObject(jobTemplate?.spec) ? jobTemplate.spec : undefined;
      if (!jobSpec) throw new InputError("spec.jobTemplate.spec is missing");
      return template(jobSpec, "spec.jobTemplate.spec.template", jobPods(jobSpec, "spec.jobTemplate.spec"));
    }
  }
}

// Built whole rather than spread and extended: `{ ...o, replicas }` is a slow path in V8 11.
function template(spec: Record<string, unknown>, path: string, replicas: number) {
  const t = isObject(spec.template) ? spec.template : undefined;
  if (!t) throw new InputError(`${path} is missing`);
  return { podSpec: t.spec, template: t, replicas, path: `${path}.spec` };
}

/** A Job runs `parallelism` pods at once (default 1), never more than its `completions`. */
function jobPods(spec: Record<string, unknown>, path: string): number {
  const parallelism = count(spec.parallelism, 1, `${path}.parallelism`);
  const completions =
    spec.completions == null ? parallelism : count(spec.completions, 1, `${path}.completions`);
  return Math.min(parallelism, completions);
}

function count(value: unknown, fallback: number, where: string): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0)
    throw new InputError(`${where} must be a whole number of at least 0, got ${shownValue(value)}`);
  return value;
}

/**
 * Turns a workload object into the request the engine evaluates:
 * - `specs.vcpus` / `specs.memory_gb`: the pod's effective request × replicas (memory in GiB);
 *   absent (so rules report them unverified) when no container states that request;
 * - `specs.pod_vcpus`, `specs.pod_memory_gb`, `specs.replicas`, `specs.gpus`, `specs.containers`,
 *   `specs.containers_missing_requests` for rules that need them;
 * - `tags`: the pod template's labels overlaid with the object's own labels, then annotations
 *   `tag.costguard.dev/<key>` (for values a label can't hold, such as an owner's e-mail address);
 * - `namespace`, `name`, `provider: kubernetes`, and `id` NAMESPACE/NAME (what an exception names).
 */
export function workloadRequest(
  kind: WorkloadKind,
  object: unknown,
  namespace: string | undefined,
  options: WorkloadOptions,
): ResourceRequest {
  if (!isObject(object)) throw new InputError(`the ${kind} object is missing`);
  const spec = isObject(object.spec) ? object.spec : undefined;
  if (!spec) throw new InputError(`the ${kind} has no spec`);
  const { podSpec, template: podTemplate, replicas, path } = podSpecAndReplicas(kind, spec, options);
  const pod = podResources(podSpec, path);

  const metadata = isObject(object.metadata) ? object.metadata : {};
  const templateMetadata =
    isObject(podTemplate) && isObject(podTemplate.metadata) ? podTemplate.metadata : {};
  const tags: Record<string, string> = {};
  copyLabels(templateMetadata.labels, tags);
  copyLabels(metadata.labels, tags);
  copyTagAnnotations(metadata.annotations, tags);

  const n = BigInt(replicas);
  const specs: Record<string, number> = {};
  if (pod.cpuMillis !== null) {
    specs.vcpus = millicoresToCores(pod.cpuMillis * n);
    specs.pod_vcpus = millicoresToCores(pod.cpuMillis);
  }
  if (pod.memoryBytes !== null) {
    specs.memory_gb = bytesToGiB(pod.memoryBytes * n);
    specs.pod_memory_gb = bytesToGiB(pod.memoryBytes);
  }
  specs.replicas = replicas;
  specs.gpus = Number(pod.gpus * n);
  specs.containers = pod.containers;
  specs.containers_missing_requests = pod.containersMissingRequests;
  // Quantities are exact integers until here: one past what a number holds became Infinity, denied
  // as "Infinity vCPUs" and logged as null (a decision log line no replay could read).
  for (const [field, value] of Object.entries(specs))
    if (!Number.isFinite(value))
      throw new InputError(
        `the ${kind}'s ${field === "gpus" ? "GPU" : field.includes("memory") ? "memory" : field.includes("vcpus") ? "CPU" : field} requests come to more than a number holds (specs.${field})`,
      );

  const request: ResourceRequest = { type: WORKLOAD_KINDS[kind].type, provider: "kubernetes", tags, specs };
  const ns =
    typeof metadata.namespace === "string" && metadata.namespace !== "" ? metadata.namespace : namespace;
  if (ns !== undefined && ns !== "") request.namespace = ns;
  const name = nonEmpty(metadata.name) ?? nonEmpty(metadata.generateName);
  if (name !== undefined) request.name = name;
  // Its identity for exceptions: `--resource shop/web` covers the workload web in namespace shop (a
  // generateName is only the start of a name, so no identity).
  const named = nonEmpty(metadata.name);
  if (named !== undefined) request.id = request.namespace ? `${request.namespace}/${named}` : named;
  return request;
}

function copyLabels(labels: unknown, into: Record<string, string>): void {
  if (!isObject(labels)) return;
  for (const k in labels) {
    const v = labels[k];
    if (typeof v === "string" && Object.hasOwn(labels, k)) into[k] = v;
  }
}

/** Annotations that carry a tag: `tag.costguard.dev/owner: ana@company.com` is the tag `owner`. */
export const TAG_ANNOTATION_PREFIX = "tag.costguard.dev/";

function copyTagAnnotations(annotations: unknown, into: Record<string, string>): void {
  if (!isObject(annotations)) return;
  for (const [k, v] of Object.entries(annotations)) {
    if (
      typeof v === "string" &&
      k.startsWith(TAG_ANNOTATION_PREFIX) &&
      k.length > TAG_ANNOTATION_PREFIX.length
    )
      into[k.slice(TAG_ANNOTATION_PREFIX.length)] = v;
  }
}

function nonEmpty(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}
