import type { PolicyProblem } from "../errors.js";
import type { SchemaError } from "./schema.js";
import { closest } from "./suggest.js";
import type { PolicySource } from "./types.js";

/** Turns JSON Schema errors into one readable problem each, positioned in the source file. */
export function schemaProblems(errors: readonly SchemaError[], source: PolicySource): PolicyProblem[] {
  const relevant = errors.filter((e) => e.keyword !== "if");
  // An anyOf speaks for its branches. When every branch is a missing key, keep the anyOf ("needs a or b");
  // otherwise keep the branch complaints that say most (a pattern with its description) and drop the
  // type mismatches of the branches that were never meant.
  const drop = new Set<SchemaError>();
  for (const anyOf of relevant.filter((e) => e.keyword === "anyOf")) {
    const siblings = relevant.filter(
      (e) => e !== anyOf && e.instancePath === anyOf.instancePath && e.keyword !== "anyOf",
    );
    if (siblings.length > 0 && siblings.every((e) => e.keyword === "required")) {
      for (const s of siblings) drop.add(s);
      continue;
    }
    const specific = siblings.filter((e) => e.keyword !== "type");
    if (specific.length > 0) {
      drop.add(anyOf);
      for (const s of siblings) if (s.keyword === "type") drop.add(s);
    } else {
      for (const s of siblings) drop.add(s);
    }
  }
  const kept = relevant.filter((e) => !drop.has(e));
  const seen = new Set<string>();
  const out: PolicyProblem[] = [];
  for (const error of kept) {
    const problem = toProblem(error, source);
    const key = `${problem.line}:${problem.column}:${problem.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(problem);
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}

const BOUNDS = new Set(["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"]);

function toProblem(error: SchemaError, source: PolicySource): PolicyProblem {
  const path = parsePointer(error.instancePath);
  const name = fieldName(path);
  const params = error.params as Record<string, unknown>;
  const parent = (error.parentSchema ?? {}) as Record<string, unknown>;
  let message: string;
  let suggestion: string | undefined;
  let at = path;
  let atKey = false;
  // YAML's .nan is a number to JSON Schema and fails every bound: one message, not two wrong ones.
  const nan = typeof error.data === "number" && Number.isNaN(error.data);
  switch (nan && BOUNDS.has(error.keyword) ? "nan" : error.keyword) {
    case "nan":
      message = `${name} must be a number, got NaN`;
      break;
    case "additionalProperties": {
      const key = String(params.additionalProperty);
      at = [...path, key];
      atKey = true;
      suggestion = closest(key, knownKeys(parent));
      message = `unknown key \`${key}\`${suggestion ? ` — did you mean \`${suggestion}\`?` : ""}`;
      break;
    }
    case "required":
      message = `missing required key \`${String(params.missingProperty)}\`${path.length ? ` in ${name}` : ""}`;
      break;
    case "type":
      message = `${name} must be ${article(String(params.type))}, got ${describe(error.data)}`;
      break;
    case "enum":
    case "const": {
      const allowed = (error.keyword === "enum" ? params.allowedValues : [params.allowedValue]) as unknown[];
      if (typeof error.data === "string") suggestion = closest(error.data, allowed.map(String));
      message = `${name} must be ${allowed.length === 1 ? "" : "one of "}${allowed.map(String).join(", ")}; got ${describe(error.data)}${suggestion ? ` — did you mean \`${suggestion}\`?` : ""}`;
      break;
    }
    case "minimum":
      message =
        params.limit === 0
          ? `${name} must not be negative, got ${describe(error.data)}`
          : `${name} must be at least ${String(params.limit)}, got ${describe(error.data)}`;
      break;
    case "maximum":
      // Past the largest double, YAML and JSON read Infinity.
      message =
        error.data === Number.POSITIVE_INFINITY
          ? `${name} is too big to be a number (it reads as Infinity)`
          : `${name} must be at most ${String(params.limit)}, got ${describe(error.data)}`;
      break;
    case "exclusiveMinimum":
      message = `${name} must be greater than ${String(params.limit)}, got ${describe(error.data)}`;
      break;
    case "minItems":
      message =
        params.limit === 1
          ? `${name} must not be empty`
          : `${name} needs at least ${String(params.limit)} items`;
      break;
    case "minProperties":
      message = `${name} must not be empty`;
      break;
    case "minLength":
      message = `${name} must not be empty`;
      break;
    case "maxLength":
      message = `${name} is ${(error.data as string).length.toLocaleString("en-US")} characters long: at most ${String(params.limit)}`;
      break;
    case "uniqueItems":
      message = `${name} lists the same value twice (items ${String(params.j)} and ${String(params.i)})`;
      break;
    case "pattern":
      message = `${name} ${describe(error.data)} is not valid${parent.description ? `: ${String(parent.description)}` : ` (must match ${String(params.pattern)})`}`;
      break;
    case "anyOf":
      message = describeAnyOf(name, parent, error.data);
      break;
    default:
      message = `${name} ${error.message ?? "is not valid"}`;
  }
  const pos = source.locate(at, atKey);
  const problem: PolicyProblem = {
    file: source.file,
    line: pos.line,
    column: pos.column,
    path: `/${at.join("/")}`,
    message,
    severity: "error",
    documentIndex: source.index,
  };
  if (suggestion) problem.suggestion = suggestion;
  return problem;
}

/** The field a path ends at, as problems name it: `name`, or `channels[0]` for an item of a list. */
function fieldName(path: readonly (string | number)[]): string {
  if (path.length === 0) return "the document";
  const last = String(path[path.length - 1]);
  if (/^\d+$/.test(last) && path.length > 1) return `\`${String(path[path.length - 2])}[${last}]\``;
  return `\`${last}\``;
}

function describeAnyOf(name: string, parent: Record<string, unknown>, data: unknown): string {
  const branches = (parent.anyOf ?? []) as Record<string, unknown>[];
  const required = branches.map((b) =>
    Array.isArray(b.required) && Object.keys(b).length === 1 ? b.required : null,
  );
  if (required.every((r) => r !== null)) {
    return `${name} needs ${required.map((r) => `\`${(r as string[]).join("`, `")}\``).join(" or ")}`;
  }
  const description = parent.description ?? branches.map((b) => b.description).find(Boolean);
  return `${name} ${describe(data)} is not valid${description ? `: ${String(description)}` : ""}`;
}

/** Keys a schema object accepts: its properties and the alternatives spelled in its patternProperties. */
function knownKeys(schema: Record<string, unknown>): string[] {
  const keys = Object.keys((schema.properties ?? {}) as object);
  for (const pattern of Object.keys((schema.patternProperties ?? {}) as object)) {
    const m = /^\^\(([\w|-]+)\)\$$/.exec(pattern);
    if (m) keys.push(...m[1]!.split("|"));
  }
  return keys;
}

function parsePointer(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function article(type: string): string {
  const names: Record<string, string> = {
    number: "a number",
    integer: "a whole number",
    string: "a string",
    object: "a mapping",
    array: "a list",
    boolean: "true or false",
  };
  return type
    .split(",")
    .map((t) => names[t] ?? t)
    .join(" or ");
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string") return `string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}
