import { dirname, resolve } from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { compileOwnSchema } from "../ajv.js";
import { formatProblem, InputError, type PolicyProblem } from "../errors.js";
import { readText } from "../files.js";
import { schemaProblems } from "../policy/schema-problems.js";
import { locateInNode } from "../policy/source-map.js";
import type { PolicySource } from "../policy/types.js";
import { yamlValue } from "../yaml-value.js";

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
  request: unknown;
  expect: { decision: "allow" | "warn" | "deny"; violations?: ExpectedViolation[]; count?: number };
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
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, merge: true });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0];
    throw new InputError(
      `${file}:${pos?.line ?? 1}:${pos?.col ?? 1}: not valid YAML: ${first.message.split("\n")[0]}`,
    );
  }
  const value = yamlValue(doc, file) as Record<string, unknown>;
  const source: PolicySource = {
    file,
    index: 0,
    locate: (path, atKey) => locateInNode(doc.contents as never, lineCounter, path, atKey),
  };
  const problems = validateSuite(value)
    ? caseProblems(value, source)
    : schemaProblems(validateSuite.errors ?? [], source);
  if (problems.length > 0) {
    const details = problems.map(formatProblem);
    throw new InputError(`test suite ${file} is not valid:\n${details.join("\n")}`, details);
  }
  const base = dirname(file);
  const cases = (value.cases as Record<string, unknown>[]).map((c) => {
    const request =
      c.requestFile !== undefined
        ? readRequestFile(resolve(base, String(c.requestFile)), file, String(c.name))
        : c.request;
    return { name: String(c.name), request, expect: c.expect as TestCase["expect"] };
  });
  return { file, policies: (value.policies as string[]).map((p) => resolve(base, p)), cases };
}

/** What the schema cannot say: each case has a request or a requestFile (not both), and its own name. */
function caseProblems(value: Record<string, unknown>, source: PolicySource): PolicyProblem[] {
  const out: PolicyProblem[] = [];
  const problem = (path: (string | number)[], message: string) => {
    const pos = source.locate(path);
    out.push({
      file: source.file,
      line: pos.line,
      column: pos.column,
      path: `/${path.join("/")}`,
      message,
      severity: "error",
      documentIndex: 0,
    });
  };
  const named = new Map<string, number>();
  (value.cases as Record<string, unknown>[]).forEach((c, i) => {
    const name = String(c.name);
    if (c.request === undefined && c.requestFile === undefined)
      problem(["cases", i], `case "${name}" needs a request (inline) or a requestFile`);
    else if (c.request !== undefined && c.requestFile !== undefined)
      problem(["cases", i], `case "${name}" has both a request and a requestFile: keep one`);
    const first = named.get(name);
    if (first !== undefined)
      problem(
        ["cases", i, "name"],
        `case name "${name}" is used twice (cases ${first} and ${i}): a failure would not say which`,
      );
    else named.set(name, i);
  });
  return out;
}

function readRequestFile(path: string, suite: string, name: string): unknown {
  try {
    const lineCounter = new LineCounter();
    const doc = parseDocument(readText(path), { lineCounter, merge: true });
    if (doc.errors[0]) throw new Error(doc.errors[0].message.split("\n")[0]);
    return yamlValue(doc, path);
  } catch (err) {
    throw new InputError(
      `${suite}: case "${name}": cannot read requestFile ${path}: ${(err as Error).message}`,
    );
  }
}
