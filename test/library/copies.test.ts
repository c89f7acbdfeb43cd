import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseRemediationConfig } from "../../src/index.js";

// What the library returns is the caller's to change, and what the caller gave stays theirs: neither
// reaches into the other afterwards.

describe("copies", () => {
  test("parseRemediationConfig copies addTags and tagDefaults", () => {
    const addTags = { a: "b" };
    const tagDefaults = { owner: "platform" };
    const config = parseRemediationConfig({ addTags, tagDefaults });
    assert.deepEqual(config.addTags, { a: "b" });
    assert.notEqual(config.addTags, addTags);
    assert.notEqual(config.tagDefaults, tagDefaults);
    (config.addTags as Record<string, string>).a = "changed";
    addTags.a = "later";
    tagDefaults.owner = "later";
    assert.deepEqual(addTags, { a: "later" });
    assert.deepEqual(config.addTags, { a: "changed" });
    assert.deepEqual(config.tagDefaults, { owner: "platform" });
  });
});
