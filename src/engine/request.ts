import { InputError } from "../errors.js";
import { currencyProblem } from "../money/currency.js";
import { listWrapper, NestedTooDeepError, otherDocument, plainCopy } from "../objects.js";
import { closest } from "../policy/suggest.js";
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
    // plain decimal (text keeps cents exact) or a number, in a three-letter currency. One without
    // `monthly` ({} or {currency: USD}) would be no estimate: maxMonthlyCost unverified, not priced.
    cost: {
      type: "object",
      required: ["monthly"],
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
  (field, error) => {
    if (field === "cost" && error.keyword === "required")
      return '`cost` has no `monthly`: give the amount (`{"monthly": "123.45"}`), or leave `cost` out for the price book to estimate it';
    if (field === "cost.monthly") return '`cost.monthly` must be an amount of zero or more, e.g. "123.45"';
    if (field === "cost.currency") return "`cost.currency` must be a three-letter code such as USD";
    return undefined;
  },
  "the request",
);

/** Specs the price book fills in from another (docs/pricing.md): that one, written misplaced, is said too. */
const FILLED_FROM: Record<string, string> = {
  vcpus: "instance_type",
  memory_gb: "instance_type",
  instance_family: "instance_type",
  gpus: "instance_type",
  volume_type: "volume_sku",
  volume_sku: "volume_type",
};

/**
 * Why a request's spec may be missing: it sits at the request's top level (`instance_type: m5.large`
 * beside `type`) where the engine reads `specs.instance_type`, or the spec it would be filled in from
 * does (`vcpus` comes from `specs.instance_type`). Empty when the field is no spec, or the request
 * has neither at its top level; a field the request itself has (`type`, `region`, `name` ...) is its
 * own, never a misplaced spec. Said, never moved.
 */
export function misplacedSpec(request: ResourceRequest, field: string): string {
  if (!field.startsWith("specs.")) return "";
  const own = field.slice("specs.".length);
  const from = FILLED_FROM[own];
  const names = (from === undefined ? [own] : [own, from]).filter(
    (name) => !Object.hasOwn(REQUEST_SCHEMA.properties, name) && Object.hasOwn(request, name),
  );
  if (names.length === 0) return "";
  const listed = names.map((n) => `\`${n}\``).join(" and ");
  return `; it has ${listed} at its top level, but specs belong under \`specs\``;
}

/** Whether `value` has the shape of a request (parseRequest says what is wrong when it has not). */
export function isRequest(value: unknown): value is ResourceRequest {
  return requests.is(value);
}

/**
 * Keys whose content the checks read: one misspelt (`spec`, `Tags`, `regoin`) would leave what it
 * holds unchecked — a request with every limit unverified, or no tag to require — so a key that is
 * none of the request's own but one edit or so from one of these, absent, is refused.
 */
const GUARDED_KEYS = ["type", "specs", "tags", "cost", "provider", "account", "region", "namespace"];

/** Why `request` holds a key that looks like a misspelt guarded one, or undefined. */
function misspeltKey(request: ResourceRequest): string | undefined {
  for (const key in request) {
    if (Object.hasOwn(REQUEST_SCHEMA.properties, key)) continue;
    const meant = closest(key, GUARDED_KEYS);
    if (meant !== undefined && !Object.hasOwn(request, meant))
      return `it has \`${key}\`, no key of a request (did you mean \`${meant}\`?): what it holds would go unchecked`;
  }
  return undefined;
}

/**
 * Checks one request; throws an InputError naming every problem (`where` says which request). What
 * it returns is a copy: the value checked, changed afterwards (`specs.vcpus = NaN`), changes nothing.
 * One nested past MAX_NESTING (src/objects.ts) is refused as the copy finds it.
 */
export function parseRequest(value: unknown, where = "request"): ResourceRequest {
  if (requests.is(value)) {
    const misspelt = misspeltKey(value);
    if (misspelt !== undefined) throw new InputError(`${where} is not valid: ${misspelt}`);
    // ISO 4217, as a policy's limit and a price book's entries are: `UDS` would compare with nothing.
    const currency = (value.cost as { currency?: string } | undefined)?.currency;
    const problem = currency === undefined ? undefined : currencyProblem(currency);
    if (problem !== undefined) throw new InputError(`${where} is not valid: \`cost.currency\` ${problem}`);
    try {
      return plainCopy(value);
    } catch (err) {
      if (err instanceof NestedTooDeepError) throw new InputError(`${where} is not valid: ${err.message}`);
      throw err;
    }
  }
  const wrapper = listWrapper(value);
  if (wrapper !== undefined)
    throw new InputError(
      `${where} is not valid: it holds ${JSON.stringify(wrapper)}, a list, where a request belongs: give the requests themselves, one or an array of them`,
    );
  const other = otherDocument(value, "request");
  if (other !== undefined) throw new InputError(`${where} is not valid: ${other}`);
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new InputError(
      `${where} is not valid: a request must be an object such as {"type": "compute/instance", ...}, got ${value === null ? "null" : value === undefined ? "undefined" : Array.isArray(value) ? "a list" : `a ${typeof value}`}`,
    );
  return requests.parse(value, where);
}
