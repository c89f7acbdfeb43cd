import { REQUEST_SCHEMA } from "../../engine/request.js";
import { InputError } from "../../errors.js";
import { jsonText, listWrapper, MAX_NESTING, NestedTooDeepError, otherDocument } from "../../objects.js";
import { schemaCheck } from "../../schema-check.js";
import { keyTooLong, oversizedKey } from "../../store/limits.js";
import { parseInstant } from "../../time/instant.js";
import type { Resource } from "../types.js";

// A running cost: zero or more, as decimal text (an exponent of at most three digits) or a number.
// The schema checks its type; toResource its value (cheaper than a schema's anyOf, a million times).
const COST = { type: ["string", "number", "null"] };
const COST_TEXT = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?\s*$/;
/**
 * The largest running cost read (per hour or per month, in any currency): far past what anything
 * costs, and short of amounts whose hundreds of digits would fill every total they join.
 */
const MAX_COST = 1e12;
const MEASURE = { type: "number", minimum: 0, maximum: Number.MAX_VALUE };

/**
 * What an inventory record must be: a request every gate accepts, plus what only a running estate
 * has, each of the type the scan reads it as (a cost it cannot read would otherwise fail the scan
 * only when a finding needs it, and a state that is no text would silently skip the idle detector).
 */
export const RESOURCE_SCHEMA = {
  ...REQUEST_SCHEMA,
  required: ["id", "type"],
  properties: {
    ...REQUEST_SCHEMA.properties,
    id: { type: "string", minLength: 1 },
    state: { type: "string" },
    created_at: { type: ["string", "null"] },
    detached_at: { type: ["string", "null"] },
    attached_to: { type: ["string", "null"] },
    hourly_cost: COST,
    monthly_cost: COST,
    currency: { type: "string", pattern: "^[A-Z]{3}$" },
    metrics: {
      type: "object",
      properties: { avg_cpu_percent: MEASURE, avg_network_bytes: MEASURE, window_days: MEASURE },
    },
  },
} as const;

const resources = schemaCheck<Resource>(
  RESOURCE_SCHEMA,
  (field, e) => {
    if (field === "the resource")
      return e.keyword === "required" ? undefined : "a resource must be an object";
    if (field === "id") {
      if (typeof e.data === "string") return "`id` must not be empty";
      // A list or map is no id to quote (String() of a list, nested some thousands deep, ran out of stack).
      if (e.data !== null && typeof e.data === "object")
        return `\`id\` must be text, not ${Array.isArray(e.data) ? "a list" : "a map"}`;
      return `\`id\` must be text (quote it: "${String(e.data)}"), not ${e.data === null ? "null" : `a ${typeof e.data}`}`;
    }
    if (field === "hourly_cost" || field === "monthly_cost") return costProblem(field, e.data);
    if (field === "currency") return "`currency` must be a three-letter code such as USD";
    if (field.startsWith("metrics.")) return `\`${field}\` must be a number, zero or more`;
    if (field === "metrics") return "`metrics` must be an object";
    return undefined;
  },
  "the resource",
);

/**
 * Checks one inventory record against RESOURCE_SCHEMA. `where` names the record in errors: the text,
 * or its parts (`name:line`), joined only when there is an error.
 */
export function toResource(value: unknown, where: string, line?: number): Resource {
  const r = resources.is(value)
    ? value
    : resources.parse(wrapperless(value, where, line), named(where, line));
  // Ids are indexed (see MAX_KEY_BYTES).
  const idBytes = oversizedKey(r.id);
  if (idBytes !== undefined)
    throw new InputError(
      `${named(where, line)} is not valid: \`id\` is ${keyTooLong(idBytes, "an id")} (an ARN's longest)`,
    );
  // Checked here, not where used: a cost or a date only some findings read passed unread on every
  // other resource.
  const hourly = r.hourly_cost;
  if (hourly !== undefined && !isCost(hourly)) throw badCost(where, line, "hourly_cost", hourly);
  const monthly = r.monthly_cost;
  if (monthly !== undefined && !isCost(monthly)) throw badCost(where, line, "monthly_cost", monthly);
  const created = r.created_at;
  if (typeof created === "string" && parseInstant(created) === undefined)
    throw badDate(where, line, "created_at", created);
  const detached = r.detached_at;
  if (typeof detached === "string" && parseInstant(detached) === undefined)
    throw badDate(where, line, "detached_at", detached);
  return r;
}

/**
 * Refuses an export's wrapper read as a record: an object with no id or type whose only field is a list
 * (`{"resources": [...]}`, `Items:` in YAML), which would fail as "missing `id`" on its first line.
 */
function wrapperless(value: unknown, where: string, line?: number): unknown {
  const key = listWrapper(value);
  const record = named(where, line);
  if (key === undefined) {
    // Another input costguard reads (a Terraform plan, a Kubernetes object, a policy) given as an
    // inventory: said as such, not as "missing `id`; missing `type`".
    const other =
      value !== null && typeof value === "object" && !("id" in value)
        ? otherDocument(value, "resource")
        : undefined;
    if (other !== undefined) throw new InputError(`${record} is not valid: ${other}`);
    return value;
  }
  // The jq hint only where it can be pasted as it is: JSON, and a key jq takes bare.
  const fix =
    /\.ya?ml(:\d+)?$/i.test(record) || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)
      ? ""
      : `; take the list out of its wrapper, e.g. jq -c '.${key}[]'`;
  throw new InputError(
    `${record} is not valid: it holds ${JSON.stringify(key)}, a list, where a resource belongs: an inventory is the resources themselves, a JSON array or YAML list of them, or one JSON object per line (see docs/scan.md)${fix}`,
  );
}

/**
 * Refuses a record holding text no store keeps as written, in a key or a value: U+0000 (NUL), which
 * no cloud allows in a name, id or tag and PostgreSQL cannot store (a scan into it failed as a
 * database error); and half a UTF-16 surrogate pair (JSON's `\ud800` alone), which is no character at
 * all: SQLite and PostgreSQL would each keep another replacement for it. Reading a million records'
 * every text costs about a second, so JSON is checked only when its text holds an escape that can
 * spell either (`mayHoldNul`); formats read as values (YAML, CSV) are walked. A record nesting lists and
 * maps past MAX_NESTING is refused as such where it is walked (a YAML one's aliases can build it deeper
 * than its text, which is refused that deep): the walk recursed, and ran out of stack.
 */
export function refuseNul(value: unknown, where: string, line?: number): void {
  let found: ReturnType<typeof unstorableField>;
  try {
    found = unstorableField(value, "", MAX_NESTING);
  } catch (err) {
    if (err instanceof NestedTooDeepError)
      throw new InputError(`${named(where, line)} is not valid: ${err.message}`);
    throw err;
  }
  if (found !== undefined) {
    const { field, nul } = found;
    const what = field === "" ? "a text" : `\`${field}\``;
    throw new InputError(
      nul
        ? `${named(where, line)} is not valid: ${what} holds a NUL character (U+0000): no cloud allows one, and the store cannot keep it`
        : `${named(where, line)} is not valid: ${what} holds half a UTF-16 surrogate pair (an escape such as \\ud800 without its other half), which is no character: fix the export`,
    );
  }
}

/**
 * Whether JSON text may hold a NUL or half a surrogate pair: only as an escape (`\u0000`,
 * `\ud800`...), since JSON allows no raw control character and the text read is UTF-8.
 */
export function mayHoldNul(jsonText: string): boolean {
  return jsonText.includes("\\u") && (jsonText.includes("\\u0000") || SURROGATE_ESCAPE.test(jsonText));
}

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

declare global {
  interface String {
    /** ES2024, in Node 20: false when the text holds half a surrogate pair. */
    isWellFormed(): boolean;
  }
}

/** Whether a text cannot be stored as written (see refuseNul): "nul", "half", or undefined. */
function unstorable(text: string): "nul" | "half" | undefined {
  if (text.includes("\0")) return "nul";
  return text.isWellFormed() ? undefined : "half";
}

/**
 * The path of the first text that cannot be stored (a key's own path when the key cannot), or undefined;
 * NestedTooDeepError past `levels` of lists and maps.
 */
function unstorableField(
  value: unknown,
  path: string,
  levels: number,
): { field: string; nul: boolean } | undefined {
  if (typeof value === "string") {
    const problem = unstorable(value);
    return problem === undefined ? undefined : { field: path, nul: problem === "nul" };
  }
  if (value === null || typeof value !== "object") return undefined;
  if (levels === 0) throw new NestedTooDeepError();
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = unstorableField(value[i], `${path}[${i}]`, levels - 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, v] of Object.entries(value)) {
    const at = path === "" ? key : `${path}.${key}`;
    const problem = unstorable(key);
    if (problem !== undefined)
      return {
        field: path === "" ? JSON.stringify(key) : `${path}.${JSON.stringify(key)}`,
        nul: problem === "nul",
      };
    const found = unstorableField(v, at, levels - 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A cost as most inventories write one: a plain decimal of at most 12 whole digits, under MAX_COST. */
const PLAIN_COST = /^\s*\+?(?:\d{1,12}(?:\.\d*)?|\.\d+)\s*$/;

function isCost(v: string | number | null): boolean {
  if (v === null) return true;
  // Checked a million times a scan: the common text in one test, the rest read as a number.
  if (typeof v === "string" && PLAIN_COST.test(v)) return true;
  // Zero written as -0 is zero; anything else below it is not a cost.
  const n = typeof v === "string" ? (COST_TEXT.test(v) ? Number(v) : Number.NaN) : v;
  return n >= 0 && n <= MAX_COST;
}

function badCost(where: string, line: number | undefined, field: string, v: unknown): InputError {
  return new InputError(`${named(where, line)} is not valid: ${costProblem(field, v)}`);
}

function costProblem(field: string, v: unknown): string {
  return `\`${field}\` is ${shown(v)}: a running cost is an amount of zero or more, at most ${MAX_COST.toLocaleString("en-US")}, e.g. "0.096"`;
}

function badDate(where: string, line: number | undefined, field: string, v: string): InputError {
  return new InputError(
    `${named(where, line)} is not valid: \`${field}\` is ${shown(v)}: not a date (ISO 8601, e.g. 2026-06-01T09:30:00Z)`,
  );
}

/** A refused value as the record wrote it, in JSON (control characters escaped), cut short. */
function shown(value: unknown): string {
  // JSON reads a number past its range (1e400) as Infinity, which JSON would write as null.
  if (typeof value === "number" && !Number.isFinite(value)) return "a number too large to read";
  const text = jsonText(value) ?? String(value);
  // Nested too deep to write, it is said as what it is (no JSON text is a bare `a list`).
  if (text === "a list" || text === "a map") return text;
  return `\`${text.length > 40 ? `${text.slice(0, 40)}…` : text}\``;
}

function named(where: string, line: number | undefined): string {
  return line === undefined ? where : `${where}:${line}`;
}
