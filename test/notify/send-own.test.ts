import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { openOutbox } from "../../src/notify/open-outbox.js";
import { cli } from "../helpers/cli.js";
import { startHttpReceiver } from "./receivers.js";

test("notify send delivers its own test message only, and reports only its outcome", async () => {
  const http = await startHttpReceiver();
  after(() => http.close());
  // Another channel's receiver refuses: its messages are notify deliver's, not this check's.
  http.answers.set("/down", { status: 500, headers: {} });
  const cwd = mkdtempSync(join(tmpdir(), "costguard-send-own-"));
  const env = {
    COSTGUARD_NOTIFY_OUTBOX: join(cwd, "outbox.db"),
    COSTGUARD_WEBHOOK_UP: `${http.url}/up`,
    COSTGUARD_WEBHOOK_DOWN: `${http.url}/down`,
  };
  const outbox = await openOutbox(join(cwd, "outbox.db"), { env: {}, cwd });
  await outbox.enqueue(
    ["a", "b"].map((id) => ({
      id,
      channel: "webhook:down",
      kind: "budget.threshold",
      subject: `waiting ${id}`,
      text: "t",
      data: { title: "t", severity: "info" as const, fields: [] },
      createdAt: Date.parse("2024-09-19T00:00:00Z"),
    })),
  );
  await outbox.close();
  const r = await cli(["notify", "send", "webhook:up", "--text", "hello"], {
    cwd,
    env,
    now: "2024-09-20T00:00:00Z",
  });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "notifications: 1 delivered, 0 to retry\n");
  assert.equal(r.stderr, "");
  assert.deepEqual(http.requests, ["POST /up"], "the waiting messages were not tried");
  const check = await openOutbox(join(cwd, "outbox.db"), { env: {}, cwd });
  const waiting = await check.list({ status: "pending" });
  await check.close();
  assert.deepEqual(
    waiting.map((e) => [e.id, e.attempts]),
    [
      ["a", 0],
      ["b", 0],
    ],
  );
});
