import assert from "node:assert/strict";
import { test } from "node:test";
import { slackPayload } from "../../src/notify/render.js";

test("Slack's top-level text escapes &, < and > as the blocks do: no mention or link from a subject", () => {
  const subject = "costguard grace started: stop <!channel> <http://evil.example|your bank> & co";
  const payload = slackPayload({
    id: "k|slack:#finops",
    channel: "slack:#finops",
    kind: "remediation.grace-started",
    subject,
    text: "owner <!here>",
    data: { title: subject, severity: "warning", fields: [] },
    createdAt: 0,
  });
  assert.equal(
    payload.text,
    "costguard grace started: stop &lt;!channel&gt; &lt;http://evil.example|your bank&gt; &amp; co",
  );
  const section = (payload.blocks as { type: string; text?: { text: string } }[])[1]!;
  assert.match(section.text!.text, /owner &lt;!here&gt;$/);
});
