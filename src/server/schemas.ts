import { REQUEST_SCHEMA } from "../engine/request.js";

/**
 * JSON schemas of what the server sends. Fastify compiles them into serializers (faster than
 * JSON.stringify for these shapes) and the OpenAPI document reuses them.
 */

const str = { type: "string" } as const;

export const VIOLATION_SCHEMA = {
  type: "object",
  required: ["policy", "rule", "severity", "enforcement", "message", "resource_type", "field"],
  properties: {
    policy: str,
    rule: str,
    severity: { type: "string", enum: ["critical", "high", "medium", "low"] },
    enforcement: { type: "string", enum: ["deny", "warn", "audit"] },
    message: str,
    resource_type: str,
    field: { ...str, description: "The request field that failed, e.g. specs.vcpus or tags.cost-center." },
    actual: { description: "The value found (null when missing)." },
    limit: { description: "The limit, allowed values or pattern the value was checked against." },
  },
} as const;

/** The price book's estimate (CostEstimate in src/engine/types.ts); a test keeps the two in step. */
export const COST_ESTIMATE_SCHEMA = {
  type: "object",
  required: ["status", "hours_per_month", "method", "components", "assumptions"],
  additionalProperties: true,
  description: "Exact decimal amounts as strings; monthly = hourly × hours_per_month (730).",
  properties: {
    status: { type: "string", enum: ["known", "unknown"] },
    currency: str,
    hourly: str,
    monthly: str,
    hours_per_month: { type: "number" },
    method: str,
    components: {
      type: "array",
      items: {
        type: "object",
        required: ["name", "quantity", "unit", "unit_price", "monthly", "entry", "source"],
        additionalProperties: true,
        properties: {
          name: str,
          quantity: str,
          unit: str,
          unit_price: str,
          hourly: str,
          monthly: str,
          entry: str,
          source: str,
        },
      },
    },
    assumptions: { type: "array", items: str },
    reason: str,
  },
} as const;

export const DECISION_SCHEMA = {
  type: "object",
  required: ["decision", "violations", "unverified", "not_evaluated"],
  // Later stages (cost estimate, budgets, exceptions) add fields; they pass through unchanged.
  additionalProperties: true,
  properties: {
    decision: { type: "string", enum: ["allow", "warn", "deny"] },
    violations: { type: "array", items: VIOLATION_SCHEMA },
    unverified: {
      type: "array",
      description: "Constraints that could not be checked because the request lacks the field.",
      items: {
        type: "object",
        required: ["policy", "rule", "field", "message"],
        properties: { policy: str, rule: str, field: str, message: str },
      },
    },
    not_evaluated: {
      type: "array",
      description: "Rules that apply but this gate does not evaluate (e.g. budgets without billing data).",
      items: {
        type: "object",
        required: ["policy", "rule", "reason"],
        properties: { policy: str, rule: str, reason: str },
      },
    },
    estimated_monthly_cost: COST_ESTIMATE_SCHEMA,
  },
} as const;

export const ERROR_SCHEMA = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["name", "message", "details"],
      properties: {
        name: { ...str, description: "InputError, PayloadTooLarge, NotFoundError, MethodNotAllowed, ..." },
        message: str,
        details: { type: "array", items: str },
      },
    },
  },
} as const;

export const ADMISSION_RESPONSE_SCHEMA = {
  type: "object",
  required: ["apiVersion", "kind", "response"],
  properties: {
    apiVersion: { type: "string", enum: ["admission.k8s.io/v1"] },
    kind: { type: "string", enum: ["AdmissionReview"] },
    response: {
      type: "object",
      required: ["uid", "allowed"],
      properties: {
        uid: str,
        allowed: { type: "boolean" },
        status: {
          type: "object",
          properties: { code: { type: "integer" }, reason: str, message: str },
        },
        warnings: { type: "array", items: { type: "string", maxLength: 120 } },
        auditAnnotations: { type: "object", additionalProperties: str },
      },
    },
  },
} as const;

export const ADMISSION_REVIEW_REQUEST_SCHEMA = {
  type: "object",
  required: ["apiVersion", "kind", "request"],
  description: "An admission.k8s.io/v1 AdmissionReview as the Kubernetes API server sends it.",
  properties: {
    apiVersion: { type: "string", enum: ["admission.k8s.io/v1"] },
    kind: { type: "string", enum: ["AdmissionReview"] },
    request: {
      type: "object",
      required: ["uid", "kind", "operation"],
      properties: {
        uid: str,
        kind: { type: "object", properties: { group: str, version: str, kind: str } },
        operation: { type: "string", enum: ["CREATE", "UPDATE", "DELETE", "CONNECT"] },
        namespace: str,
        name: str,
        object: { type: "object", description: "The Pod, Deployment, StatefulSet, ... being admitted." },
        dryRun: { type: "boolean" },
      },
    },
  },
} as const;

export { REQUEST_SCHEMA };
