import { InputError } from "./errors.js";

/**
 * A shallow copy of `object` with `key` set to `value`.
 *
 * Written this way on purpose: on Node 20 (V8 11.3) an object spread followed by a property the
 * source does not have (`{ ...request, cost }`, or `{ ...request }` then `copy.cost = ...`) leaves
 * V8's fast path and costs ~2.5 µs and a new hidden class per object, while `Object.assign` into a
 * fresh object and then setting the key costs ~60 ns (measured on the 4-key requests the gates see).
 * The gates, the scanner and the annotators each do this once or twice per decision.
 */
export function withField<T extends object, K extends string, V>(
  object: T,
  key: K,
  value: V,
): T & Record<K, V> {
  const copy = Object.assign({}, object) as T & Record<K, V>;
  (copy as Record<string, unknown>)[key] = value;
  return copy;
}

/**
 * The key of an export's wrapper (`{"Items": [...]}`, `resources:` in YAML): an object with one field,
 * a list, that is not `id` or `type`. Read where one record (a resource, a request) belongs, it would
 * fail as "missing `type`"; its key lets the error say what the input is instead.
 */
export function listWrapper(value: unknown): string | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  const key = keys[0];
  if (keys.length !== 1 || key === "id" || key === "type") return undefined;
  return Array.isArray((value as Record<string, unknown>)[key!]) ? key : undefined;
}

/** Where a gate takes its policies, as otherDocument says it (a test suite says its own). */
export const POLICIES_GIVEN = "policies are given with --policies";

/**
 * What a document without `type` is when it is another input costguard reads (a Kubernetes object, a
 * policy, a Terraform plan), with where it goes; read as a request or an inventory's resource it
 * would only be "missing `type`".
 */
export function otherDocument(value: unknown, noun: "request" | "resource"): string | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value) || "type" in value)
    return undefined;
  const doc = value as Record<string, unknown>;
  if (typeof doc.format_version === "string" && ("resource_changes" in doc || "planned_values" in doc))
    return `this is a Terraform plan, not a ${noun}: check it with costguard plan PLAN.json (docs/terraform.md)`;
  if (typeof doc.kind !== "string" || typeof doc.apiVersion !== "string") return undefined;
  if (doc.kind === "CostPolicy")
    return `this is a policy (kind CostPolicy), not a ${noun}: ${POLICIES_GIVEN}`;
  if (doc.kind === "AdmissionReview")
    return `this is a Kubernetes AdmissionReview, not a ${noun}: costguard serve decides those at POST /v1/admission (docs/kubernetes.md)`;
  return `this is a Kubernetes object (kind ${doc.kind}), not a ${noun}: the admission webhook decides workloads (costguard serve, POST /v1/admission with an AdmissionReview; docs/kubernetes.md)`;
}

/**
 * `object[key]` when the object holds `key` itself, else undefined. For maps keyed by what a user
 * wrote (a policy, team, person or tag name): a plain read of `constructor`, `toString` or
 * `__proto__` answers from Object.prototype, a function or an object where a value was meant.
 */
export function ownValue<V>(object: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/**
 * Sets `object[key]` as its own property. A plain assignment of `__proto__` replaces the object's
 * prototype (or, with a string, does nothing) instead of adding the key.
 */
export function setOwn<V>(object: Record<string, V>, key: string, value: V): void {
  if (key === "__proto__")
    Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
  else object[key] = value;
}

/**
 * How many levels of lists and maps costguard reads in a value, the outermost one counted: a request
 * nests three or four, a Kubernetes object some twenty. JSON.parse reads any depth, but a walk over the
 * value (plainCopy, JSON.stringify, the YAML library's parser) recurses, and ran out of stack as a crash
 * past some hundreds (YAML) or thousands of levels; a limit well short of that is a refusal instead.
 */
export const MAX_NESTING = 256;

/** What plainCopy throws for a value nested past MAX_NESTING; the caller says which value. */
export class NestedTooDeepError extends InputError {
  constructor() {
    super(
      `its lists and maps nest more than ${MAX_NESTING} levels deep (costguard reads ${MAX_NESTING}; a request needs a few)`,
    );
  }
}

/**
 * A copy of plain data (objects, arrays and what they hold, as parsed from JSON or YAML), sharing
 * nothing with `value`; anything else (a Date, a class's object) is kept as it is. Nested past
 * MAX_NESTING, it throws NestedTooDeepError: counted as it copies, so no second walk.
 */
export function plainCopy<T>(value: T): T {
  return copyWithin(value, MAX_NESTING) as T;
}

/** plainCopy with `levels` of nesting left. */
function copyWithin(value: unknown, levels: number): unknown {
  if (value === null || typeof value !== "object") return value;
  if (levels === 0) throw new NestedTooDeepError();
  if (Array.isArray(value)) {
    // A loop, not value.map with a closure over `levels`: that put `levels` in a context allocated on
    // every call, arrays or not (~60 ns a request on the engine benchmark's requests).
    const items = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) items[i] = copyWithin(value[i], levels - 1);
    return items;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value))
    setOwn(out, key, copyWithin((value as Record<string, unknown>)[key], levels - 1));
  return out;
}

/** A library caller's options object: an object (or nothing), else a clear refusal naming `shape`. */
export function callerOptions<T extends object>(
  options: T | undefined,
  fn: string,
  shape: string,
): Partial<T> {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object" || Array.isArray(options))
    throw new InputError(
      `${fn} takes an options object ${shape} (each optional), got ${options === null ? "null" : Array.isArray(options) ? "an array" : `a ${typeof options}`}`,
    );
  return options;
}

/**
 * JSON.stringify(value), for a message about what the input held, which can be anything: a list or map
 * it cannot write (nested past where it runs out of stack, or holding itself) is said as what it is.
 */
export function jsonText(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    // Not String(value): a list's joins what it holds, as deep a recursion.
    if (value === null || typeof value !== "object") return String(value);
    return Array.isArray(value) ? "a list" : "a map";
  }
}

/** A value as a message shows it: `NaN`, `"lots"`, `{"a":1}`; cut at `max` characters. */
export function shownValue(value: unknown, max = 60): string {
  const text =
    typeof value === "number" || typeof value === "bigint" || value === undefined
      ? String(value)
      : (jsonText(value) ?? String(value));
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
