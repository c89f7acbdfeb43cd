import { dirname, resolve } from "node:path";
import { Ajv } from "ajv";
import { LineCounter, parseDocument } from "yaml";
import { InputError } from "../errors.js";
import { readText } from "../files.js";
import { locateInNode } from "../policy/source-map.js";
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

const SUITE_SCHEMA = {
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
        oneOf: [{ required: ["request"] }, { required: ["requestFile"] }],
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

const validateSuite = new Ajv({ allErrors: true, strict: false }).compile(SUITE_SCHEMA);

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
  if (!validateSuite(value)) {
    const details = (validateSuite.errors ?? []).map((e) => {
      const path = e.instancePath
        .slice(1)
        .split("/")
        .filter(Boolean)
        .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
      const pos = locateInNode(doc.contents as never, lineCounter, path);
      const extra = e.keyword === "additionalProperties" ? ` \`${String(e.params.additionalProperty)}\`` : "";
      return `${file}:${pos.line}:${pos.column}: ${e.instancePath || "suite"} ${e.message ?? "is not valid"}${extra}`;
    });
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
