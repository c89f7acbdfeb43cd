import { readFileSync } from "node:fs";
import type { ErrorObject, ValidateFunction } from "ajv";
import { compileOwnSchema } from "../ajv.js";

/** Path of the JSON Schema shipped in the package; editors can point at it. */
export const POLICY_SCHEMA_URL = new URL("../../../schema/policy.schema.json", import.meta.url);

let validator: ValidateFunction | undefined;

function schemaFileUrl(): URL {
  // Works from src/ (tsx, tests) and from dist/src/ (the built package).
  const fromSource = new URL("../../schema/policy.schema.json", import.meta.url);
  try {
    readFileSync(fromSource);
    return fromSource;
  } catch {
    return POLICY_SCHEMA_URL;
  }
}

export function loadPolicySchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(schemaFileUrl(), "utf8")) as Record<string, unknown>;
}

/** The compiled schema validator, built once per process. */
export function policySchemaValidator(): ValidateFunction {
  validator ??= compileOwnSchema(loadPolicySchema());
  return validator;
}

export type SchemaError = ErrorObject;
