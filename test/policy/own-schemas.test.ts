import assert from "node:assert/strict";
import { test } from "node:test";
import { Ajv } from "ajv";
import { BUDGET_STATE_SCHEMA } from "../../src/budget/build-state.js";
import { REQUEST_SCHEMA } from "../../src/engine/request.js";
import { RESOURCE_SCHEMA } from "../../src/inventory/file/validate.js";
import { loadPolicySchema } from "../../src/policy/schema.js";
import { SUITE_SCHEMA } from "../../src/policy-test/suite.js";

// costguard compiles its schemas without checking them against JSON Schema's meta-schema (a cost on
// every start): they are checked here instead.
test("costguard's own JSON Schemas are valid JSON Schemas", () => {
  const ajv = new Ajv({ strict: false });
  const schemas: Record<string, object> = {
    policy: loadPolicySchema(),
    "policy test suite": SUITE_SCHEMA,
    request: REQUEST_SCHEMA,
    "inventory resource": RESOURCE_SCHEMA,
    "budget state": BUDGET_STATE_SCHEMA,
  };
  for (const [name, schema] of Object.entries(schemas))
    assert.equal(ajv.validateSchema(schema), true, `${name}: ${ajv.errorsText(ajv.errors)}`);
  // The check can fail: a keyword given the wrong kind of value is found.
  assert.equal(ajv.validateSchema({ type: "object", required: "id" }), false);
});
