import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
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
        // maximum: a number too big for a double (1e400) parses as Infinity, which no limit can judge.
        ...NUMERIC_SPECS.map((k) => [k, { type: "number", minimum: 0, maximum: Number.MAX_VALUE }]),
        ...STRING_SPECS.map((k) => [k, { type: "string" }]),
      ]),
    },
    // A cost the caller already knows (kept instead of the price book's estimate): zero or more, as a
    // plain decimal (text keeps cents exact) or a number, in a three-letter currency.
    cost: {
      type: "object",
      properties: {
        monthly: {
          anyOf: [
            { type: "string", pattern: "^\\s*\\d+(\\.\\d+)?\\s*$" },
            { type: "number", minimum: 0, maximum: Number.MAX_VALUE },
          ],
        },
        currency: { type: "string", pattern: "^[A-Z]{3}$" },
      },
    },
    namespace: { type: "string" },
    id: { type: "string" },
    name: { type: "string" },
    provider: { type: "string" },
    account: { type: "string" },
    region: { type: "string" },
  },
} as const;

/** Says one schema error in words; undefined leaves it to the general wording. */
export type ErrorWording = (field: string, error: ErrorObject) => string | undefined;

/**
 * A compiled check of one JSON Schema: `is` answers fast (the hot path of a million records), `parse`
 * throws an InputError naming every problem, in `word`'s words where it has some (an error's `data`
 * is the value refused).
 */
export function schemaCheck<T>(schema: object, word: ErrorWording = () => undefined) {
  let validator: ValidateFunction | undefined;
  const compiled = (): ValidateFunction => {
    validator ??= new Ajv({ allErrors: true, strict: false, verbose: true }).compile(schema);
    return validator;
  };
  return {
    is: (value: unknown): value is T => compiled()(value),
    parse(value: unknown, where: string): T {
      const validate = compiled();
      if (validate(value)) return value as T;
      const details = (validate.errors ?? []).map((e) => {
        const field = e.instancePath.slice(1).replace(/\//g, ".") || "the request";
        const said = word(field, e);
        if (said !== undefined) return said;
        if (e.keyword === "required")
          return `${field === "the request" ? "" : `${field}: `}missing \`${String(e.params.missingProperty)}\``;
        if (e.keyword === "pattern" && field === "type")
          return `\`${field}\` must look like category/kind (e.g. compute/instance)`;
        if (e.keyword === "maximum") return `\`${field}\` is too big to be a number (it reads as Infinity)`;
        if (e.keyword === "enum")
          return `\`${field}\` must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
        return `\`${field}\` ${e.message ?? "is not valid"}`;
      });
      // One field failing every branch of an anyOf (cost.monthly) says so once.
      const unique = [...new Set(details)];
      throw new InputError(`${where} is not valid: ${unique.join("; ")}`, unique);
    },
  };
}

const requests = schemaCheck<ResourceRequest>(REQUEST_SCHEMA, (field) => {
  if (field === "cost.monthly") return '`cost.monthly` must be an amount of zero or more, e.g. "123.45"';
  if (field === "cost.currency") return "`cost.currency` must be a three-letter code such as USD";
  return undefined;
});

/** Whether `value` has the shape of a request (parseRequest says what is wrong when it has not). */
export function isRequest(value: unknown): value is ResourceRequest {
  return requests.is(value);
}

/** Checks one request; throws an InputError naming every problem (`where` says which request). */
export function parseRequest(value: unknown, where = "request"): ResourceRequest {
  return requests.parse(value, where);
}
