import { dirname, resolve } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { compileOwnSchema } from "../ajv.js";
import { type ParsedInput, parseInputs } from "../cli/io.js";
import { printable } from "../cli/table.js";
import { parseRequest } from "../engine/request.js";
import type { ResourceRequest } from "../engine/types.js";
import { formatProblem, InputError, type PolicyProblem, type SourcePosition } from "../errors.js";
import { readText } from "../files.js";
import { POLICIES_GIVEN } from "../objects.js";
import { schemaProblems } from "../policy/schema-problems.js";
import { locateInNode } from "../policy/source-map.js";
import type { PolicySource } from "../policy/types.js";
import { NESTED_TOO_DEEP, yamlTooDeep, yamlValue } from "../yaml-value.js";

/** A policy test suite: policies, and cases of requests with the decision each must get. */
export interface TestSuite {
  file: string;
  policies: string[];
  cases: TestCase[];
}

export interface ExpectedViolation {
  policy: string;
  rule: string;
}

export interface TestCase {
  name: string;
  request: ResourceRequest;
  expect: { decision: "allow" | "warn" | "deny"; violations?: ExpectedViolation[]; count?: number };
  /** Where its request (or requestFile) is in the suite, for what is said about the request later. */
  at: SourcePosition & { path: string };
  /** How messages name the request: `case "x": request`, `case "x": requestFile r.json`. */
  label: string;
}

export const SUITE_SCHEMA = {
  type: "object",
  additionalProperties: false,
  required: ["policies", "cases"],
  properties: {
    description: { type: "string" },
    policies: { type: "array", minItems: 1, items: { type: "string" } },
    cases: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name", "expect"],
        properties: {
          name: { type: "string" },
          request: { type: "object" },
          requestFile: { type: "string" },
          expect: {
            type: "object",
            additionalProperties: false,
            required: ["decision"],
            properties: {
              decision: { enum: ["allow", "warn", "deny"] },
              count: { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
              violations: {
                type: "array",
                items: {
                  type: "object",
                  additionalProperties: false,
                  required: ["policy", "rule"],
                  properties: { policy: { type: "string" }, rule: { type: "string" } },
                },
              },
            },
          },
        },
      },
    },
  },
};

// verbose: the errors carry the values and schemas schemaProblems words them with.
const validateSuite = compileOwnSchema(SUITE_SCHEMA);

/** Reads a suite file; paths inside it are relative to the file. */
export function readSuite(file: string): TestSuite {
  const text = readText(file);
  const deep = yamlTooDeep(text);
  if (deep !== undefined) throw new InputError(`${file}:${deep.line}:${deep.column}: ${NESTED_TOO_DEEP}`);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, merge: true });
  const first = doc.errors[0];
  // A policy file named as a suite (`costguard test policies.yaml`): said so, not as the yaml
  // library's "please use YAML.parseAllDocuments()" nor as six unknown keys.
  if (first?.code === "MULTIPLE_DOCS") throw new InputError(notASuite(file, "it has several documents"));
  if (first) {
    const pos = first.linePos?.[0];
    throw new InputError(
      `${file}:${pos?.line ?? 1}:${pos?.col ?? 1}: not valid YAML: ${first.message.split("\n")[0]!.replace(/ at line \d+, column \d+:$/, "")}`,
    );
  }
  const value = yamlValue(doc, file) as Record<string, unknown>;
  if (isPolicyLike(value)) {
    const kind =
      typeof value.kind === "string" ? `kind: ${printable(value.kind.slice(0, 60))}` : "apiVersion:";
    throw new InputError(notASuite(file, `it is a policy document, ${kind}`));
  }
  const source: PolicySource = {
    file,
    index: 0,
    locate: (path, atKey) => locateInNode(doc.contents as never, lineCounter, path, atKey),
  };
  const problems = validateSuite(value)
    ? caseProblems(value, source)
    : schemaProblems(validateSuite.errors ?? [], source);
  const base = dirname(file);
  const cases: TestCase[] = [];
  if (problems.length === 0) {
    // Every request is read and checked before any case runs, as evaluate checks its requests first:
    // one that is not a request (a typo, a requestFile holding a list) is the suite's fault, exit 2,
    // not a case that fails (exit 1) for a reason no policy change could fix.
    (value.cases as Record<string, unknown>[]).forEach((c, i) => {
      const name = String(c.name);
      const shown = printable(name);
      const fromFile = c.requestFile !== undefined;
      const path = ["cases", i, fromFile ? "requestFile" : "request"];
      const label = fromFile
        ? `case "${shown}": requestFile ${printable(String(c.requestFile))}`
        : `case "${shown}": request`;
      try {
        const request = parseRequest(
          fromFile ? readRequestFile(resolve(base, String(c.requestFile)), shown) : c.request,
          label,
        );
        const { file, line, column } = problemAt(source, path, "");
        const at = { file, line, column, path: `/${path.join("/")}` };
        cases.push({ name, request, expect: c.expect as TestCase["expect"], at, label });
      } catch (err) {
        if (!(err instanceof InputError)) throw err;
        // A suite takes its policies in its own policies:, not with --policies as a gate does.
        problems.push(
          problemAt(
            source,
            path,
            err.message.replace(POLICIES_GIVEN, "a suite names its policies in policies:"),
          ),
        );
      }
    });
  }
  if (problems.length > 0) {
    const details = problems.map(formatProblem);
    throw new InputError(`test suite ${file} is not valid:\n${details.join("\n")}`, details);
  }
  return { file, policies: (value.policies as string[]).map((p) => resolve(base, p)), cases };
}

function notASuite(file: string, why: string): string {
  return `${file} is not a test suite (${why}; a suite is one document with policies: and cases:)`;
}

/** A mapping with a policy's apiVersion or kind and none of a suite's keys. */
function isPolicyLike(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  return ("apiVersion" in value || "kind" in value) && !("policies" in value) && !("cases" in value);
}

/** An error in the suite at `path`, where it is in the file. */
function problemAt(source: PolicySource, path: (string | number)[], message: string): PolicyProblem {
  const pos = source.locate(path);
  return {
    file: source.file,
    line: pos.line,
    column: pos.column,
    path: `/${path.join("/")}`,
    message,
    severity: "error",
    documentIndex: 0,
  };
}

/** What the schema cannot say: each case has a request or a requestFile (not both), and its own name. */
function caseProblems(value: Record<string, unknown>, source: PolicySource): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  const problem = (path: (string | number)[], message: string) => out.push(problemAt(source, path, message));
  const named = new Map<string, number>();
  (value.cases as Record<string, unknown>[]).forEach((c, i) => {
    const name = String(c.name);
    const shown = printable(name);
    if (c.request === undefined && c.requestFile === undefined)
      problem(["cases", i], `case "${shown}" needs a request (inline) or a requestFile`);
    else if (c.request !== undefined && c.requestFile !== undefined)
      problem(["cases", i], `case "${shown}" has both a request and a requestFile: keep one`);
    // Named by nothing (or only spaces), a case's result line would say no more than a nameless one.
    if (name.trim() === "")
      problem(["cases", i, "name"], `case ${i} has an empty name: a failure would not say which case it is`);
    const first = named.get(name);
    if (first !== undefined)
      problem(
        ["cases", i, "name"],
        `case name "${shown}" is used twice (cases ${first} and ${i}): a failure would not say which`,
      );
    else named.set(name, i);
  });
  return out;
}

/**
 * A requestFile's one request, read as `evaluate` reads its input (JSON, YAML, documents that hold
 * nothing not counted); parseRequest says whether it is a valid one.
 */
function readRequestFile(path: string, name: string): unknown {
  // `why` goes on from the file's name: ": no such file or directory", " holds a list of…".
  const bad = (why: string) => new InputError(`case "${name}": requestFile ${path}${why}`);
  let text: string;
  try {
    text = readText(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // readText's own errors name the file first (`/x/adir is a folder, not a file`): not twice.
    if (e.message.startsWith(`${path} `)) throw bad(e.message.slice(path.length));
    // `no such file or directory`, not Node's `ENOENT: no such file or directory, open '/the/path'`.
    throw bad(`: ${e.code ? e.message.replace(/^E[A-Z]+: /, "").replace(/, \w+ '.*'$/, "") : e.message}`);
  }
  if (text.trim() === "") throw bad(" is empty: it must hold the one request the case decides");
  let input: ParsedInput;
  try {
    input = parseInputs(text, path);
  } catch (err) {
    // Its message names the file first (`/x/r.yaml:3:1: not valid JSON or YAML: …`).
    if (err instanceof InputError) throw new InputError(`case "${name}": requestFile ${err.message}`);
    throw err;
  }
  // Several requests where a case decides one: said as such.
  const several = "a case decides one request (each case its own)";
  const count = input.values.length;
  if (input.shape === "lines") throw bad(` holds JSON lines, ${count} requests: ${several}`);
  if (input.shape === "array") {
    if (input.values[0]?.where.startsWith(`${path} document `))
      throw bad(` holds several YAML documents: ${several}`);
    throw bad(` holds a list of ${count} ${count === 1 ? "request" : "requests"}: ${several}`);
  }
  return input.values[0]!.value;
}
