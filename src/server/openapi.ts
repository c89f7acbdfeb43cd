import {
  ADMISSION_RESPONSE_SCHEMA,
  ADMISSION_REVIEW_REQUEST_SCHEMA,
  DECISION_SCHEMA,
  ERROR_SCHEMA,
  REQUEST_SCHEMA,
} from "./schemas.js";

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: object) => ({ content: { "application/json": { schema } } });
const error = (description: string) => ({ description, ...json(ref("Error")) });

/** The OpenAPI 3.1 description of the decision server, served at GET /openapi.json. */
export function buildOpenApiDocument(version: string): object {
  return {
    openapi: "3.1.0",
    info: {
      title: "costguard decision server",
      version,
      description:
        "Allow / warn / deny decisions on cloud resource requests and Kubernetes workloads, from the loaded cost policies.",
      license: { name: "Apache-2.0", identifier: "Apache-2.0" },
    },
    paths: {
      "/v1/evaluate": {
        post: {
          operationId: "evaluate",
          summary: "Decide one resource request or a batch",
          description:
            "The same JSON as `costguard evaluate`: one request gives one decision, an array gives an array of decisions in the same order. A decision of deny is still a 200 answer.",
          requestBody: {
            required: true,
            ...json({ oneOf: [ref("ResourceRequest"), { type: "array", items: ref("ResourceRequest") }] }),
          },
          responses: {
            "200": {
              description: "The decision, or the decisions in request order",
              ...json({ oneOf: [ref("Decision"), { type: "array", items: ref("Decision") }] }),
            },
            "400": error("Malformed JSON or a request that is not valid (details name each problem)"),
            "408": error("The request did not arrive in full within the request timeout"),
            "413": error("Body over the size limit, or a batch over the batch limit"),
            "415": error("Body is not application/json, or in a content coding other than gzip or deflate"),
            "431": error("Request headers over 16 KiB"),
          },
        },
      },
      "/v1/admission": {
        post: {
          operationId: "admission",
          summary: "Kubernetes validating admission webhook",
          description:
            "Takes an admission.k8s.io/v1 AdmissionReview for a Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or CronJob and answers with an AdmissionReview whose response echoes the uid. Deny is allowed=false with status.code 403; warn-level violations become warnings. Allowed without evaluation: DELETE and CONNECT, other kinds, objects owned by a controller (mirror pods too), updates of an object being deleted, updates asking for no more than the object had, subresources other than scale (and a Pod's resize), and scales of a kind costguard does not evaluate; docs/kubernetes.md says each.",
          requestBody: { required: true, ...json(ref("AdmissionReviewRequest")) },
          responses: {
            "200": { description: "The admission answer", ...json(ref("AdmissionReviewResponse")) },
            "400": error("Not an admission.k8s.io/v1 AdmissionReview"),
            "408": error("The request did not arrive in full within the request timeout"),
            "413": error("Body over the size limit"),
            "415": error("Body is not application/json, or in a content coding other than gzip or deflate"),
            "431": error("Request headers over 16 KiB"),
            "503": error(
              "A scale review whose workload the Kubernetes API could not give: the call fails so that the webhook's failurePolicy decides",
            ),
          },
        },
      },
      "/healthz": {
        get: {
          operationId: "healthz",
          summary: "Liveness: the process answers",
          responses: {
            "200": {
              description: "Alive",
              ...json({ type: "object", properties: { status: { type: "string", enum: ["ok"] } } }),
            },
          },
        },
      },
      "/readyz": {
        get: {
          operationId: "readyz",
          summary: "Readiness, with the serving policy revision and the last reload",
          responses: {
            "200": { description: "Serving decisions", ...json(ref("Readiness")) },
            "503": { description: "Shutting down", ...json(ref("Readiness")) },
          },
        },
      },
      "/metrics": {
        get: {
          operationId: "metrics",
          summary: "Prometheus metrics (text exposition format)",
          responses: {
            "200": {
              description: "Metrics",
              content: { "text/plain; version=0.0.4": { schema: { type: "string" } } },
            },
          },
        },
      },
      "/openapi.json": {
        get: {
          operationId: "openapi",
          summary: "This document",
          responses: { "200": { description: "OpenAPI 3.1 document", ...json({ type: "object" }) } },
        },
      },
    },
    components: {
      schemas: {
        ResourceRequest: REQUEST_SCHEMA,
        Decision: DECISION_SCHEMA,
        Error: ERROR_SCHEMA,
        AdmissionReviewRequest: ADMISSION_REVIEW_REQUEST_SCHEMA,
        AdmissionReviewResponse: ADMISSION_RESPONSE_SCHEMA,
        Readiness: READINESS_SCHEMA,
      },
    },
  };
}

const READINESS_SCHEMA = {
  type: "object",
  required: ["status", "policy", "last_reload"],
  properties: {
    status: { type: "string", enum: ["ready", "shutting-down"] },
    policy: {
      type: "object",
      description: "The policy set serving now",
      properties: {
        revision: { type: "string" },
        policies: { type: "integer" },
        rules: { type: "integer" },
        files: { type: "array", items: { type: "string" } },
        loaded_at: { type: "string", format: "date-time" },
      },
    },
    last_reload: {
      type: "object",
      description: "The last load attempt; when it failed, the previous set keeps serving",
      properties: {
        result: { type: "string", enum: ["loaded", "unchanged", "failed"] },
        trigger: { type: "string" },
        at: { type: "string", format: "date-time" },
        revision: { type: "string" },
        error: { type: "string" },
        problems: { type: "array", items: { type: "string" } },
      },
    },
    budgets: {
      type: "object",
      description:
        "Only on a server enforcing budgets: how fresh its billing data is. With stale data budget rules go to not_evaluated (blocks the data shows stand); the server stays ready",
      required: ["at", "data_through", "max_billing_lag_hours", "stale"],
      properties: {
        at: { type: "string", format: "date-time" },
        data_through: { type: ["string", "null"], format: "date-time" },
        max_billing_lag_hours: { type: "number" },
        stale: {
          type: ["string", "null"],
          description: "Why the data is too old to judge by; null when it is not",
        },
      },
    },
  },
} as const;
