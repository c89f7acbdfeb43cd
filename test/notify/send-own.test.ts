import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { loadNotifyConfig } from "../../src/notify/config.js";
import { deliverDue } from "../../src/notify/deliver.js";
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

test("notify send to a receiver that refuses: its own failure only, the others due to the channel untried and not counted", async () => {
  // A port nothing listens on: the connection is refused.
  const closed = createNetServer();
  await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const cwd = mkdtempSync(join(tmpdir(), "costguard-send-refused-"));
  const env = {
    COSTGUARD_NOTIFY_OUTBOX: join(cwd, "outbox.db"),
    COSTGUARD_WEBHOOK_DEAD: `http://127.0.0.1:${port}/hook`,
  };
  const outbox = await openOutbox(join(cwd, "outbox.db"), { env: {}, cwd });
  await outbox.enqueue(
    ["a", "b"].map((id) => ({
      id,
      channel: "webhook:dead",
      kind: "budget.threshold",
      subject: `waiting ${id}`,
      text: "t",
      data: { title: "t", severity: "info" as const, fields: [] },
      createdAt: Date.parse("2024-09-19T00:00:00Z"),
    })),
  );
  await outbox.close();
  const r = await cli(["notify", "send", "webhook:dead"], { cwd, env, now: "2024-09-20T00:00:00Z" });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, "notifications: 0 delivered, 1 to retry\n");
  assert.doesNotMatch(r.stderr, /skipped|left due/);
  const check = await openOutbox(join(cwd, "outbox.db"), { env: {}, cwd });
  const pending = await check.list({ status: "pending" });
  await check.close();
  assert.deepEqual(
    pending.map((e) => [e.id.startsWith("test:") ? "test" : e.id, e.attempts]),
    [
      ["a", 0],
      ["b", 0],
      ["test", 1],
    ],
  );
});

test("deliverDue's only: its one attempt ends at the timeout, and its outcome is recorded only while its claim holds", async () => {
  const cwd = mkdtempSync(join(tmpdir(), "costguard-send-only-"));
  // HTTP: the status line at once, the body a byte at a time, never ending.
  const slow = createServer((_req, res) => {
    res.writeHead(502, { "content-type": "text/plain" });
    const timer = setInterval(() => res.write("x"), 200);
    res.on("close", () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => slow.listen(0, "127.0.0.1", resolve));
  after(() => {
    slow.closeAllConnections();
    slow.close();
  });
  const loaded = loadNotifyConfig({
    cwd,
    env: {
      COSTGUARD_NOTIFY_OUTBOX: join(cwd, "outbox.db"),
      COSTGUARD_WEBHOOK_SLOW: `http://127.0.0.1:${(slow.address() as AddressInfo).port}/hook`,
    },
  });
  const config = { ...loaded, retry: { ...loaded.retry, timeoutMs: 1000 } };
  const T = Date.parse("2024-09-20T00:00:00Z");
  const of = (id: string) => ({
    id,
    channel: "webhook:slow",
    kind: "test",
    subject: id,
    text: "t",
    data: { title: "t", severity: "info" as const, fields: [] },
    createdAt: T,
  });
  const a = await openOutbox(config.outbox, { env: {}, cwd });
  const b = await openOutbox(config.outbox, { env: {}, cwd });
  try {
    await a.enqueue([of("mine"), of("other")]);
    const started = Date.now();
    const run = await deliverDue({ outbox: a, config, now: () => T, only: { id: "mine" } });
    const took = Date.now() - started;
    assert.ok(took < 4000, `one attempt took ${took} ms against a 1 s timeout`);
    assert.deepEqual(
      run.failed.map((f) => f.id),
      ["mine"],
    );
    assert.deepEqual(run.skipped, []);

    // The claim runs out mid-attempt: another deliverer takes the message over and records its own
    // outcome, which this one's does not overwrite.
    await a.enqueue([of("held")]);
    let clock = T;
    const now = () => clock;
    let theirs: Awaited<ReturnType<typeof deliverDue>> | undefined;
    const ours = await deliverDue({
      outbox: a,
      config,
      now,
      only: { id: "held" },
      send: async () => {
        clock += config.retry.leaseMs + 1;
        theirs = await deliverDue({
          outbox: b,
          config,
          now,
          only: { id: "held" },
          send: async () => {
            throw new Error("HTTP 503: down for maintenance");
          },
        });
      },
    });
    assert.deepEqual(
      theirs?.failed.map((f) => f.id),
      ["held"],
    );
    assert.deepEqual([ours.delivered, ours.failed.length], [0, 0]);
    assert.deepEqual(ours.lost, [{ id: "held", channel: "webhook:slow", outcome: "delivered" }]);
    const byId = new Map((await a.list()).map((e) => [e.id, e]));
    assert.deepEqual(
      [byId.get("held")!.status, byId.get("held")!.lastError],
      ["pending", "HTTP 503: down for maintenance"],
    );
    assert.equal(byId.get("other")!.attempts, 0, "never claimed");
  } finally {
    await a.close();
    await b.close();
  }
});
