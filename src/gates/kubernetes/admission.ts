import type { Decision, ResourceRequest } from "../../engine/types.js";
import { InputError } from "../../errors.js";
import { shownValue } from "../../objects.js";
import type { ObjectRef } from "./kube-api.js";
import { isObject } from "./pod-resources.js";
import {
  WORKLOAD_KINDS,
  type WorkloadKind,
  type WorkloadOptions,
  workloadKind,
  workloadRequest,
} from "./workload.js";

export const ADMISSION_API_VERSION = "admission.k8s.io/v1";

/** The part of an `admission.k8s.io/v1` AdmissionRequest the gate reads. */
export interface AdmissionRequest {
  uid: string;
  kind: { group: string; version: string; kind: string };
  operation: string;
  namespace?: string;
  name?: string;
  /** The resource the request is for (`apps/v1 deployments`), and the subresource (`scale`). */
  resource?: { group: string; version: string; resource: string };
  subResource?: string;
  object?: unknown;
  /** The object before an UPDATE (a scale review's previous Scale). */
  oldObject?: unknown;
  dryRun?: boolean;
  userInfo?: { username?: string };
}

/** The AdmissionResponse sent back inside an AdmissionReview. */
export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; reason?: string; message: string };
  warnings?: string[];
  auditAnnotations?: Record<string, string>;
}

const OPERATIONS = ["CREATE", "UPDATE", "DELETE", "CONNECT"];

/**
 * Checks that a body is an `admission.k8s.io/v1` AdmissionReview with a request and a uid.
 * Anything else is an InputError naming what is wrong (the server answers it with 400).
 */
export function readAdmissionReview(body: unknown): AdmissionRequest {
  if (!isObject(body)) throw new InputError("expected an AdmissionReview object");
  const { apiVersion, kind, request } = body;
  if (kind !== "AdmissionReview") {
    // A manifest posted as it is (kubectl's object, not the API server's review of it), or a request.
    const what =
      typeof kind === "string" && typeof apiVersion === "string"
        ? `: this is the object itself; the API server sends it wrapped, as an AdmissionReview's request.object (to try a manifest by hand, wrap it so: docs/kubernetes.md)`
        : typeof body.type === "string"
          ? ": this is a costguard request; POST it to /v1/evaluate"
          : "";
    throw new InputError(`expected kind AdmissionReview, got ${shownValue(kind ?? null)}${what}`);
  }
  if (apiVersion !== ADMISSION_API_VERSION) {
    throw new InputError(
      `unsupported AdmissionReview apiVersion ${shownValue(apiVersion ?? null)}: costguard speaks ${ADMISSION_API_VERSION}; set admissionReviewVersions: ["v1"] in the webhook configuration`,
    );
  }
  if (!isObject(request)) throw new InputError("the AdmissionReview has no request");
  const problems: string[] = [];
  if (typeof request.uid !== "string" || request.uid === "")
    problems.push("request.uid must be a non-empty string");
  // The four an API server sends; anything else ("create") is no review, rather than allowed unread.
  if (typeof request.operation !== "string" || !OPERATIONS.includes(request.operation))
    problems.push(
      `request.operation must be one of ${OPERATIONS.join(", ")}, got ${shownValue(request.operation ?? null)}`,
    );
  const k = request.kind;
  if (!isObject(k) || typeof k.kind !== "string" || typeof (k.group ?? "") !== "string")
    problems.push("request.kind must be {group, version, kind}");
  // Read as text (in messages, the decision log, a scale review's API path): anything else, a list
  // nested some thousands deep say, failed there as the server's error (500).
  for (const field of ["name", "namespace", "subResource"] as const)
    if (request[field] !== undefined && typeof request[field] !== "string")
      problems.push(`request.${field} must be a string`);
  const r = request.resource;
  if (
    r !== undefined &&
    (!isObject(r) ||
      typeof r.resource !== "string" ||
      typeof (r.group ?? "") !== "string" ||
      typeof (r.version ?? "") !== "string")
  )
    problems.push("request.resource must be {group, version, resource}");
  const user = request.userInfo;
  if (
    user !== undefined &&
    (!isObject(user) || (user.username !== undefined && typeof user.username !== "string"))
  )
    problems.push("request.userInfo must be {username, ...}, its username a string");
  if (problems.length > 0)
    throw new InputError(`the AdmissionReview request is not valid: ${problems.join("; ")}`, problems);
  return request as unknown as AdmissionRequest;
}

export type AdmissionPlan =
  | { evaluate: false; reason: string }
  | { evaluate: true; kind: WorkloadKind; request: ResourceRequest };

export interface AdmissionOptions extends WorkloadOptions {
  /**
   * Whether objects a controller owns (the ReplicaSet of a Deployment, the Pods of a ReplicaSet, the
   * Job of a CronJob) are evaluated again. By default they are not: their owner was already admitted,
   * and counting its pods again would fail pod creation inside a rollout that was allowed.
   */
  evaluateOwned: boolean;
}

/** Decides whether an admission request is evaluated, and if so, the request the engine sees. */
export function planAdmission(req: AdmissionRequest, options: AdmissionOptions): AdmissionPlan {
  if (req.operation !== "CREATE" && req.operation !== "UPDATE")
    return { evaluate: false, reason: `${req.operation} is not evaluated` };
  // A subresource's update changes no requests (status, ephemeralcontainers: kubectl debug, whose
  // containers can have no resources), except a Pod's `resize` (in-place resizing): its object is the
  // Pod with the new requests, evaluated as an UPDATE of it. (A scale review comes here as the UPDATE of
  // the workload it scales, without its subresource.)
  if (typeof req.subResource === "string" && req.subResource !== "" && req.subResource !== "resize")
    return { evaluate: false, reason: `the ${req.subResource} subresource is not evaluated` };
  const kind = workloadKind(req.kind.group ?? "", req.kind.kind);
  if (kind === undefined) {
    const group = req.kind.group ? `${req.kind.group}/` : "";
    return { evaluate: false, reason: `${group}${req.kind.kind} is not a workload kind` };
  }
  // An object being deleted (its finalizers are removed by UPDATEs: the garbage collector's
  // foregroundDeletion, a controller's own) gets no new pods: the workload controllers stop creating
  // them once deletionTimestamp is set, and it can't be unset. Denying the update would leave the object
  // Terminating for ever, whatever its spec says.
  if (req.operation === "UPDATE" && deletionTimestampOf(req.object) !== undefined)
    return { evaluate: false, reason: "being deleted (metadata.deletionTimestamp is set)" };
  if (!options.evaluateOwned) {
    const owner = controllerOf(req.object);
    if (owner?.startsWith("Node "))
      return {
        evaluate: false,
        reason: `the mirror pod of a static pod on ${owner}, which its kubelet runs`,
      };
    if (owner) return { evaluate: false, reason: `owned by ${owner}, which was admitted itself` };
  }
  const request = workloadRequest(kind, req.object, req.namespace, options);
  if (req.operation === "UPDATE" && asksNoMoreThanBefore(request, previousRequest(kind, req, options)))
    return { evaluate: false, reason: "asks for no more than before (no spec larger, the same tags)" };
  return { evaluate: true, kind, request };
}

/** The request the object had before an UPDATE (its `oldObject`); undefined when it can't be read. */
function previousRequest(
  kind: WorkloadKind,
  req: AdmissionRequest,
  options: WorkloadOptions,
): ResourceRequest | undefined {
  if (!isObject(req.oldObject)) return undefined;
  try {
    return workloadRequest(kind, req.oldObject, req.namespace, options);
  } catch (err) {
    if (err instanceof InputError) return undefined;
    throw err;
  }
}

/**
 * Whether an UPDATE costs no more than the object it replaces, as the policies see it: the same specs,
 * each (CPU, memory, GPUs, replicas, per-pod requests, containers, containers missing requests) no
 * larger than before, and the same tags. Such an edit is the scale-down the scale subresource admits
 * (fewer replicas, smaller requests): a cost policy holds none back, even of a workload over a limit
 * set after it was admitted. A spec that appears or disappears (requests removed: unverified) or a tag
 * changed is no such edit, and is evaluated.
 */
function asksNoMoreThanBefore(now: ResourceRequest, before: ResourceRequest | undefined): boolean {
  if (before === undefined || now.type !== before.type || now.namespace !== before.namespace) return false;
  const specs = now.specs ?? {};
  const old = before.specs ?? {};
  if (Object.keys(specs).length !== Object.keys(old).length) return false;
  for (const [field, value] of Object.entries(specs)) {
    const was = old[field];
    if (typeof value !== "number" || typeof was !== "number" || value > was) return false;
  }
  const tags = now.tags ?? {};
  const oldTags = before.tags ?? {};
  if (Object.keys(tags).length !== Object.keys(oldTags).length) return false;
  return Object.entries(tags).every(([k, v]) => Object.hasOwn(oldTags, k) && oldTags[k] === v);
}

function deletionTimestampOf(object: unknown): string | undefined {
  const meta = isObject(object) && isObject(object.metadata) ? object.metadata : undefined;
  const at = meta?.deletionTimestamp;
  return typeof at === "string" && at !== "" ? at : undefined;
}

/**
 * The controllers whose pods the gate leaves to their controller's review, by kind and API group; and
 * the Node (core group) of a mirror pod, which the kubelet creates for a static pod it runs from a
 * file: denying it would not stop the pod, only hide it from the API.
 */
const CONTROLLERS = new Map([
  ["Node", ""],
  ["Deployment", "apps"],
  ["ReplicaSet", "apps"],
  ["StatefulSet", "apps"],
  ["DaemonSet", "apps"],
  ["Job", "batch"],
  ["CronJob", "batch"],
]);

function controllerOf(object: unknown): string | undefined {
  if (!isObject(object) || !isObject(object.metadata)) return undefined;
  const refs = object.metadata.ownerReferences;
  if (!Array.isArray(refs)) return undefined;
  for (const ref of refs) {
    // Only text is a controller's kind: String() of a list joins what it holds, a list some thousands
    // deep as deep a recursion.
    if (!isObject(ref) || typeof ref.kind !== "string") continue;
    // By group too: a custom resource of the same kind name (example.com/v1 Deployment) is no
    // controller the gate reviews, and its pods would pass unreviewed.
    const group = CONTROLLERS.get(ref.kind);
    if (
      ref.controller === true &&
      group !== undefined &&
      (group === ""
        ? ref.apiVersion === "v1"
        : typeof ref.apiVersion === "string" && ref.apiVersion.startsWith(`${group}/`))
    )
      return `${ref.kind} ${typeof ref.name === "string" ? ref.name : ""}`.trim();
  }
  return undefined;
}

/** Whether the request changes a workload's `scale` subresource (`kubectl scale`, an autoscaler). */
export function isScaleReview(req: AdmissionRequest): boolean {
  return req.subResource === "scale";
}

/**
 * The workload kind a scale review scales, from its resource (`apps deployments`: Deployment); undefined
 * for anything else (a custom resource with a scale subresource, core replicationcontrollers), which
 * costguard does not evaluate — nor reads from the API. Plural names are the kinds' own, lowercased.
 */
export function scaledKind(req: AdmissionRequest): WorkloadKind | undefined {
  const r = req.resource;
  if (!isObject(r) || typeof r.resource !== "string") return undefined;
  for (const kind of Object.keys(WORKLOAD_KINDS) as WorkloadKind[])
    if (`${kind.toLowerCase()}s` === r.resource) return workloadKind(String(r.group ?? ""), kind);
  return undefined;
}

/**
 * The object a scale review is about and the replicas it asks for. A Scale (`autoscaling/v1`) has
 * `spec.replicas` and no pod template: what the change costs needs the workload itself.
 */
export function scaleTarget(req: AdmissionRequest): { ref: ObjectRef; replicas: number } {
  const r = req.resource;
  if (!r || typeof r.resource !== "string" || !req.namespace || !req.name)
    throw new InputError("a scale review must name its resource, namespace and name");
  const spec = isObject(req.object) ? req.object.spec : undefined;
  const replicas = isObject(spec) ? spec.replicas : undefined;
  if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0)
    throw new InputError(
      `spec.replicas of the Scale must be a whole number ≥ 0, got ${shownValue(replicas ?? null)}`,
    );
  return {
    ref: {
      group: r.group ?? "",
      version: r.version,
      resource: r.resource,
      namespace: req.namespace,
      name: req.name,
    },
    replicas,
  };
}

/**
 * A scale review as the review of the workload it scales: `workload` (read from the API) with
 * spec.replicas set to what the Scale asks, under the workload's own kind — so it is planned and
 * evaluated like any UPDATE of that workload.
 */
export function scaledWorkloadReview(
  req: AdmissionRequest,
  workload: unknown,
  replicas: number,
): AdmissionRequest {
  if (!isObject(workload) || typeof workload.kind !== "string")
    throw new InputError("the scaled object read from the Kubernetes API has no kind");
  const spec = isObject(workload.spec) ? workload.spec : {};
  const { subResource: _sub, ...rest } = req;
  return {
    ...rest,
    kind: { group: req.resource?.group ?? "", version: req.resource?.version ?? "v1", kind: workload.kind },
    object: { ...workload, spec: { ...spec, replicas } },
    // The workload as it is, not the old Scale: what the UPDATE it stands for replaces.
    oldObject: workload,
  };
}

/** Allowed without evaluation, with a warning saying why (shown to kubectl users). */
export function notEvaluatedResponse(uid: string, warning: string): AdmissionResponse {
  return { uid, allowed: true, warnings: [clip(warning, MAX_WARNING_LENGTH)] };
}

/** Kubernetes asks webhooks to keep each warning within 120 characters. */
export const MAX_WARNING_LENGTH = 120;
const MAX_WARNINGS = 10;
const MAX_MESSAGE_LENGTH = 4000;

/** Allowed answer for a request that is not evaluated (a DELETE, a Service, an owned Pod). */
export function allowedResponse(uid: string): AdmissionResponse {
  return { uid, allowed: true };
}

/**
 * The answer for an evaluated request: deny is `allowed: false` with status 403 and a message naming
 * each denying policy and rule; warn-level violations become warnings (≤ 120 characters each).
 * Audit-level violations change nothing here; they are in the decision log.
 */
export function decisionResponse(
  uid: string,
  subject: string,
  decision: Decision,
  revision: string,
): AdmissionResponse {
  const response: AdmissionResponse = {
    uid,
    allowed: decision.decision !== "deny",
    auditAnnotations: { decision: decision.decision, "policy-revision": revision },
  };
  const warnings: string[] = [];
  const denials: string[] = [];
  for (const v of decision.violations) {
    if (v.enforcement === "deny") denials.push(`${v.policy}/${v.rule}: ${v.message}`);
    else if (v.enforcement === "warn") warnings.push(`costguard ${v.policy}/${v.rule}: ${v.message}`);
  }
  if (denials.length > 0) {
    const message = `costguard denied ${subject}: ${denials.join("; ")}`;
    response.status = { code: 403, reason: "Forbidden", message: clip(message, MAX_MESSAGE_LENGTH) };
  }
  if (warnings.length > 0) {
    const shown = warnings.length > MAX_WARNINGS ? warnings.slice(0, MAX_WARNINGS - 1) : warnings;
    response.warnings = shown.map((w) => clip(w, MAX_WARNING_LENGTH));
    if (shown.length < warnings.length)
      response.warnings.push(
        `costguard: ${warnings.length - shown.length} more warnings in the decision log`,
      );
  }
  return response;
}

/** An answer for a workload object the gate can't read: denied with 400 (guardrails fail closed). */
export function unreadableResponse(uid: string, subject: string, message: string): AdmissionResponse {
  return {
    uid,
    allowed: false,
    status: {
      code: 400,
      reason: "BadRequest",
      message: clip(`costguard cannot read ${subject}: ${message}`, MAX_MESSAGE_LENGTH),
    },
  };
}

/** `Deployment shop/web`: how a message names the object under review. */
export function subjectOf(req: AdmissionRequest, request?: ResourceRequest): string {
  const name = admissionName(req);
  const ns = request?.namespace ?? req.namespace;
  if (!name) return `${req.kind.kind} (no name${ns ? `, namespace ${ns}` : ""})`;
  return `${req.kind.kind} ${ns ? `${ns}/` : ""}${name}`;
}

/**
 * The name of the object under review, as messages and the decision log's `admission.name` give it: the
 * review's, else the object's own — `web-*` for one created with `generateName: web-` (the request the
 * engine sees has `name: web-`, the field as it is); "" when it has none.
 */
export function admissionName(req: AdmissionRequest): string {
  return req.name || objectName(req.object);
}

/**
 * The object's own name when the review gives none (an object the gate could not read has no request
 * to take it from); one created with `metadata.generateName` has no name yet: `web-*`; else nothing.
 */
function objectName(object: unknown): string {
  const meta = (object as { metadata?: { name?: unknown; generateName?: unknown } } | null | undefined)
    ?.metadata;
  if (typeof meta?.name === "string" && meta.name !== "") return meta.name;
  return typeof meta?.generateName === "string" && meta.generateName !== "" ? `${meta.generateName}*` : "";
}

// Control characters (a tag value can hold anything) are not allowed in warnings: C0, DEL and C1, and
// the bidi controls that make text read other than it is (embeddings, overrides, isolates, marks).
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]+/g;

/** At most `max` UTF-16 units, cut between code points (never half a surrogate pair). */
function clip(text: string, max: number): string {
  const clean = text.replace(CONTROL, " ");
  if (clean.length <= max) return clean;
  let end = max - 3;
  const last = clean.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${clean.slice(0, end)}...`;
}
