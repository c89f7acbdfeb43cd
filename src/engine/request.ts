import { Ajv, type ValidateFunction } from "ajv";
import { InputError } from "../errors.js";
import type { ResourceRequest } from "./types.js";

const NUMERIC_SPECS = ["vcpus", "memory_gb", "size_gb", "storage_gb", "iops", "gpus", "replicas"];
const STRING_SPECS = ["instance_family", "instance_type", "volume_type"];

/** The shape a request must have at every gate, checked before the engine sees it. */
export const REQUEST_SCHEMA = {
  type: "object",
  required: ["type"],
  properties: {
    type: { type: "string", pattern: "^[a-z0-9-]+/[a-z0-9-]+$" },
    tags: { type: "object", additionalProperties: { type: "string" } },
    specs: {
      type: "object",
      properties: Object.fromEntries([
        ...NUMERIC_SPECS.map((k) => [k, { type: "number", minimum: 0 }]),
        ...STRING_SPECS.map((k) => [k, { type: "string" }]),
      ]),
    },
    namespace: { type: "string" },
    id: { type: "string" },
    name: { type: "string" },
    provider: { type: "string" },
    account: { type: "string" },
    region: { type: "string" },
  },
} as const;

let validator: ValidateFunction | undefined;

function compiled(): ValidateFunction {
  validator ??= new Ajv({ allErrors: true, strict: false }).compile(REQUEST_SCHEMA);
  return validator;
}

/** Whether `value` has the shape of a request (parseRequest says what is wrong when it has not). */
export function isRequest(value: unknown): value is ResourceRequest {
  return compiled()(value);
}

/** Checks one request; throws an InputError naming every problem (`where` says which request). */
export function parseRequest(value: unknown, where = "request"): ResourceRequest {
  const validate = compiled();
  if (validate(value)) return value as ResourceRequest;
  const details = (validate.errors ?? []).map((e) => {
    const field = e.instancePath.slice(1).replace(/\//g, ".") || "the request";
    if (e.keyword === "required")
      return `${field === "the request" ? "" : `${field}: `}missing \`${String(e.params.missingProperty)}\``;
    if (e.keyword === "pattern") return `\`${field}\` must look like category/kind (e.g. compute/instance)`;
    return `\`${field}\` ${e.message ?? "is not valid"}`;
  });
  throw new InputError(`${where} is not valid: ${details.join("; ")}`, details);
}
