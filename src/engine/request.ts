import { InputError } from "../errors.js";
import { listWrapper, otherDocument } from "../objects.js";
import { schemaCheck } from "../schema-check.js";
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

const requests = schemaCheck<ResourceRequest>(
  REQUEST_SCHEMA,
  (field) => {
    if (field === "cost.monthly") return '`cost.monthly` must be an amount of zero or more, e.g. "123.45"';
    if (field === "cost.currency") return "`cost.currency` must be a three-letter code such as USD";
    return undefined;
  },
  "the request",
);

/**
 * Why a request's spec may be missing: specs sit at the request's top level (`instance_type: m5.large`
 * beside `type`) where the engine reads `specs.instance_type`, and `specs.vcpus` is filled in from
 * `specs.instance_type` only. Empty when the field is no spec or the request has no such key at its
 * top level; a top-level field is the request's own, so it is said, never moved.
 */
export function misplacedSpec(request: ResourceRequest, field: string): string {
  if (!field.startsWith("specs.")) return "";
  const own = field.slice("specs.".length);
  const names = [own, ...NUMERIC_SPECS, ...STRING_SPECS].filter(
    (name, i, all) => all.indexOf(name) === i && Object.hasOwn(request, name),
  );
  if (names.length === 0) return "";
  const listed = names.map((n) => `\`${n}\``).join(", ");
  return `; it has ${listed} at its top level, but specs belong under \`specs\``;
}

/** Whether `value` has the shape of a request (parseRequest says what is wrong when it has not). */
export function isRequest(value: unknown): value is ResourceRequest {
  return requests.is(value);
}

/** Checks one request; throws an InputError naming every problem (`where` says which request). */
export function parseRequest(value: unknown, where = "request"): ResourceRequest {
  if (requests.is(value)) return value;
  const wrapper = listWrapper(value);
  if (wrapper !== undefined)
    throw new InputError(
      `${where} is not valid: it holds ${JSON.stringify(wrapper)}, a list, where a request belongs: give the requests themselves, one or an array of them`,
    );
  const other = otherDocument(value, "request");
  if (other !== undefined) throw new InputError(`${where} is not valid: ${other}`);
  return requests.parse(value, where);
}
