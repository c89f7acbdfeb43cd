import assert from "node:assert/strict";
import { test } from "node:test";
import { channelOf } from "../../src/cli/notices.js";

test("a person is reached through people: however their name is written, as approvers compare names", () => {
  const people = { carol: "slack:#carol", "maria@company.com": "email:maria.ops@company.com" };
  assert.equal(channelOf("carol", people), "slack:#carol");
  assert.equal(channelOf("Carol", people), "slack:#carol");
  assert.equal(channelOf("ＣＡＲＯＬ", people), "slack:#carol");
  assert.equal(channelOf("Maria@Company.com", people), "email:maria.ops@company.com");
  // Not in people: an address is mailed as it is; anything else reaches nobody.
  assert.equal(channelOf("dave@company.com", people), "email:dave@company.com");
  assert.equal(channelOf("dave", people), undefined);
});
