import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import Database from "better-sqlite3";
import type { CliContext } from "../../src/cli/context.js";
import { reportDelivery } from "../../src/cli/notify-options.js";
import { loadNotifyConfig, type NotifyConfig } from "../../src/notify/config.js";
import { deliverDue, digestOf, retryDelay } from "../../src/notify/deliver.js";
import { openOutbox } from "../../src/notify/open-outbox.js";
import { slackPayload } from "../../src/notify/render.js";
import { retryAfterMs } from "../../src/notify/senders.js";
import type { OutboxMessage } from "../../src/notify/types.js";
import { openStore } from "../../src/store/open.js";
import { cli } from "../helpers/cli.js";
import { startHttpReceiver, startSmtpReceiver } from "./receivers.js";

const T0 = Date.parse("2024-09-30T12:00:00Z");

function message(id: string, channel: string): OutboxMessage {
  return {
    id,
    channel,
    kind: "budget.threshold",
    subject: `subject ${id}`,
    text: `text of ${id}`,
    data: {
      title: `title ${id}`,
      severity: "warning",
      fields: [{ label: "Spend", value: "80.00 USD <80%>" }],
    },
    createdAt: T0,
  };
}

function configFor(dir: string, env: Record<string, string>): NotifyConfig {
  return loadNotifyConfig({ cwd: dir, env: { ...env, COSTGUARD_NOTIFY_OUTBOX: join(dir, "outbox.db") } });
}

describe("the notification outbox", () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-notify-"));

  test("a receiver down for a while gets every message exactly once when it comes back", async () => {
    const http = await startHttpReceiver();
    after(() => http.close());
    const config = configFor(dir, {
      COSTGUARD_SLACK_WEBHOOK_FINOPS: `${http.url}/slack/finops`,
      COSTGUARD_WEBHOOK_FINOPS_BOT: `${http.url}/hooks/bot`,
    });
    let clock = T0;
    const now = () => clock;
    let outbox = await openOutbox(config.outbox, { env: {}, cwd: dir });
    const messages = [
      message("m1", "slack:#finops"),
      message("m2", "webhook:finops-bot"),
      message("m3", "webhook:finops-bot"),
      message("m4", "slack:#finops"),
    ];
    assert.equal(await outbox.enqueue(messages), 4);
    assert.equal(await outbox.enqueue(messages), 0, "the same ids are not queued twice");

    http.down = true;
    let run = await deliverDue({ outbox, config, now });
    assert.deepEqual([run.attempted, run.delivered, run.failed.length], [4, 0, 4]);
    assert.match(run.failed[0]!.error, /HTTP 503/);
    assert.equal(run.failed[0]!.nextAttemptAt, T0 + 30_000);
    // Not due yet: nothing is attempted.
    clock += 10_000;
    assert.equal((await deliverDue({ outbox, config, now })).attempted, 0);
    // Still down at the first retry; the backoff doubles.
    clock = T0 + 30_000;
    run = await deliverDue({ outbox, config, now });
    assert.equal(run.failed.length, 4);
    assert.equal(run.failed[0]!.nextAttemptAt, clock + 60_000);

    // The process restarts: the outbox is a file, nothing is lost.
    await outbox.close();
    outbox = await openOutbox(config.outbox, { env: {}, cwd: dir });
    assert.equal((await outbox.list({ status: "pending" })).length, 4);

    http.down = false;
    clock += 60_000;
    run = await deliverDue({ outbox, config, now });
    assert.deepEqual([run.attempted, run.delivered], [4, 4]);
    clock += 3_600_000;
    assert.equal((await deliverDue({ outbox, config, now })).attempted, 0);

    assert.equal(http.refused, 8);
    const keys = http.received.map((r) => r.key).sort();
    assert.deepEqual(keys, ["m1", "m2", "m3", "m4"]);
    const slack = http.received.find((r) => r.key === "m1")!;
    assert.equal(slack.path, "/slack/finops");
    const blocks = slack.body.blocks as { type: string; text?: { text: string } }[];
    assert.deepEqual(
      blocks.map((b) => b.type),
      ["header", "section", "section", "context"],
    );
    assert.equal(blocks[0]!.text!.text, "title m1");
    const hook = http.received.find((r) => r.key === "m2")!;
    assert.equal(hook.path, "/hooks/bot");
    assert.equal(hook.body.id, "m2");
    assert.equal((hook.body.data as { title: string }).title, "title m2");
    const delivered = await outbox.list({ status: "delivered" });
    assert.deepEqual(
      delivered.map((e) => e.attempts),
      [3, 3, 3, 3],
    );
    await outbox.close();
  });

  test("a user and password in a webhook URL go as Basic auth and are never quoted; a URL without a host is refused", async () => {
    const http = await startHttpReceiver();
    after(() => http.close());
    const host = new URL(http.url).host;
    const config = configFor(mkdtempSync(join(dir, "basic-auth-")), {
      COSTGUARD_WEBHOOK_CI: `http://ci-bot:p%40ss%3Aword@${host}/hooks/ci`,
    });
    const outbox = await openOutbox(config.outbox, { env: {}, cwd: dir });
    await outbox.enqueue([message("b1", "webhook:ci")]);
    const taken = await deliverDue({ outbox, config, now: () => T0 });
    assert.equal(taken.delivered, 1, JSON.stringify(taken.failed));
    assert.equal(http.received.length, 1);
    assert.equal(http.received[0]!.path, "/hooks/ci");
    assert.equal(
      http.received[0]!.authorization,
      `Basic ${Buffer.from("ci-bot:p@ss:word").toString("base64")}`,
    );
    // Refused: the error says what the receiver answered, without the password.
    http.down = true;
    await outbox.enqueue([message("b2", "webhook:ci")]);
    const refused = await deliverDue({ outbox, config, now: () => T0 });
    assert.equal(refused.failed.length, 1);
    assert.doesNotMatch(refused.failed[0]!.error, /p%40ss|p@ss/);
    await outbox.close();
    for (const bad of ["http://", "https://hooks.example:99999/x"])
      assert.throws(() => configFor(mkdtempSync(join(dir, "bad-url-")), { COSTGUARD_WEBHOOK_BAD: bad }), {
        message: `notify: the URL for bad must be an http(s) URL with a host, got ${bad}`,
      });
    assert.throws(
      () => configFor(mkdtempSync(join(dir, "bad-url-")), { COSTGUARD_WEBHOOK_BAD: "ftp://u:secret@x" }),
      { message: "notify: the URL for bad must be an http(s) URL with a host, got ftp://u:***@x/" },
    );
  });

  test("a receiver that cannot be reached is said in words, not as fetch's 'fetch failed'", async () => {
    // A port just freed: nothing listens there, the connection is refused.
    const closed = await startHttpReceiver();
    const url = closed.url;
    await closed.close();
    const config = configFor(mkdtempSync(join(dir, "unreachable-")), {
      COSTGUARD_WEBHOOK_BOT: `${url}/hooks/bot`,
      COSTGUARD_WEBHOOK_NOWHERE: "http://no-such-host.invalid/hook",
    });
    const outbox = await openOutbox(config.outbox, { env: {}, cwd: dir });
    await outbox.enqueue([message("u1", "webhook:bot"), message("u2", "webhook:nowhere")]);
    const run = await deliverDue({ outbox, config, now: () => T0 });
    const errors = run.failed.map((f) => f.error).sort();
    assert.equal(errors.length, 2);
    assert.match(
      errors[0]!,
      new RegExp(`^${new URL(url).host.replace(/\./g, "\\.")} refused the connection$`),
    );
    assert.match(errors[1]!, /^no such host: no-such-host\.invalid$/);
    await outbox.close();
  });

  test("a failed answer is quoted on one line, 200 bytes at most however long its page; TLS failures in words", async () => {
    // An error page of a megabyte over several lines, as a proxy in front of a receiver answers.
    const page = `<html>\n<body>\n  <h1>Bad   gateway</h1>\n</body>\n</html>\n${"x".repeat(1 << 20)}`;
    const server = createServer((_req, res) => res.writeHead(502, { "content-type": "text/html" }).end(page));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    after(() => {
      server.closeAllConnections();
      server.close();
    });
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const config = configFor(mkdtempSync(join(dir, "answers-")), {
      COSTGUARD_WEBHOOK_PROXY: `http://${host}/hook`,
      // TLS asked of a port that answers plain HTTP.
      COSTGUARD_WEBHOOK_PLAIN: `https://${host}/hook`,
    });
    const outbox = await openOutbox(config.outbox, { env: {}, cwd: dir });
    await outbox.enqueue([message("a1", "webhook:proxy"), message("a2", "webhook:plain")]);
    const run = await deliverDue({ outbox, config, now: () => T0 });
    const failed = Object.fromEntries(run.failed.map((f) => [f.id, f.error]));
    const quoted = "<html> <body> <h1>Bad gateway</h1> </body> </html> ";
    assert.equal(
      failed.a1,
      `HTTP 502: ${quoted}${"x".repeat(200 - Buffer.byteLength(page.slice(0, page.indexOf("x"))))}`,
    );
    assert.equal(
      failed.a2,
      `cannot reach ${host}: it does not speak TLS on that port (an http:// URL written as https://?) (ERR_SSL_WRONG_VERSION_NUMBER)`,
    );
    await outbox.close();
  });

  test("a redirect is a failed attempt naming where it leads; a rate limit's Retry-After is waited out", async () => {
    const receiver = await startHttpReceiver();
    try {
      // Followed, a 301 made the POST a GET without its body, answered 200: marked delivered, never received.
      receiver.answers.set("/moved", { status: 301, headers: { location: "/hooks/new" } });
      receiver.answers.set("/busy", { status: 429, headers: { "retry-after": "120" } });
      receiver.answers.set("/briefly", { status: 503, headers: { "retry-after": "5" } });
      const config = configFor(mkdtempSync(join(dir, "redirect-")), {
        COSTGUARD_WEBHOOK_MOVED: `${receiver.url}/moved`,
        COSTGUARD_WEBHOOK_BUSY: `${receiver.url}/busy`,
        COSTGUARD_WEBHOOK_BRIEFLY: `${receiver.url}/briefly`,
      });
      const outbox = await openOutbox(config.outbox, { env: {}, cwd: dir });
      await outbox.enqueue([
        message("r1", "webhook:moved"),
        message("r2", "webhook:busy"),
        message("r3", "webhook:briefly"),
      ]);
      const run = await deliverDue({ outbox, config, now: () => T0 });
      assert.equal(run.delivered, 0);
      assert.deepEqual(receiver.received, []);
      assert.deepEqual(receiver.requests.sort(), ["POST /briefly", "POST /busy", "POST /moved"]);
      const failed = Object.fromEntries(run.failed.map((f) => [f.id, f]));
      assert.equal(
        failed.r1?.error,
        `HTTP 301: the URL redirects to ${receiver.url}/hooks/new; costguard does not follow a receiver's redirects (a POST would arrive as a GET without its message): configure the URL it redirects to`,
      );
      assert.equal(failed.r2?.error, "HTTP 429: not taken");
      // 120 s asked, beyond the first backoff (30 s); 5 s asked, within it: the backoff stands.
      assert.equal(failed.r2?.nextAttemptAt, T0 + 120_000);
      assert.equal(failed.r3?.nextAttemptAt, T0 + 30_000);
      await outbox.close();
    } finally {
      await receiver.close();
    }
  });

  test("Retry-After is read as seconds or an HTTP date, at most a day", () => {
    const now = Date.parse("2026-11-30T12:00:00Z");
    assert.equal(retryAfterMs("120", now), 120_000);
    assert.equal(retryAfterMs("Mon, 30 Nov 2026 12:05:00 GMT", now), 300_000);
    assert.equal(retryAfterMs("Mon, 30 Nov 2026 11:00:00 GMT", now), 0);
    assert.equal(retryAfterMs("99999999", now), 24 * 3600 * 1000);
    assert.equal(retryAfterMs("soon", now), undefined);
    assert.equal(retryAfterMs(null, now), undefined);
  });

  test("two deliverers on the same outbox never send a message twice", async () => {
    const http = await startHttpReceiver();
    after(() => http.close());
    const sub = mkdtempSync(join(dir, "pair-"));
    const config = configFor(sub, { COSTGUARD_WEBHOOK_BOT: `${http.url}/bot` });
    const a = await openOutbox(config.outbox, { env: {}, cwd: dir });
    const b = await openOutbox(config.outbox, { env: {}, cwd: dir });
    await a.enqueue(Array.from({ length: 30 }, (_, i) => message(`p${i}`, "webhook:bot")));
    const now = () => T0;
    const [ra, rb] = await Promise.all([
      deliverDue({ outbox: a, config, now }),
      deliverDue({ outbox: b, config, now }),
    ]);
    assert.equal(ra.delivered + rb.delivered, 30);
    assert.equal(http.received.length, 30);
    assert.equal(new Set(http.received.map((r) => r.key)).size, 30);
    await a.close();
    await b.close();
  });

  test("a deliverer whose claim ran out mid-attempt does not overwrite the record of the one that took the message over", async () => {
    const sub = mkdtempSync(join(dir, "lease-lost-"));
    const config = configFor(sub, {});
    const a = await openOutbox(config.outbox, { env: {}, cwd: dir });
    const b = await openOutbox(config.outbox, { env: {}, cwd: dir });
    await a.enqueue([message("held-1", "webhook:bot")]);
    let clock = T0;
    const now = () => clock;
    // A's attempt outlasts its lease (the process stalled): B claims the message, its receiver
    // refuses it, B records that; then A's receiver takes it after all.
    let inB: Awaited<ReturnType<typeof deliverDue>> | undefined;
    const ra = await deliverDue({
      outbox: a,
      config,
      now,
      send: async () => {
        clock += config.retry.leaseMs + 1;
        inB = await deliverDue({
          outbox: b,
          config,
          now,
          send: async () => {
            throw new Error("HTTP 503: down for maintenance");
          },
        });
      },
    });
    assert.deepEqual(
      inB?.failed.map((f) => f.id),
      ["held-1"],
    );
    assert.deepEqual([ra.delivered, ra.failed.length], [0, 0]);
    assert.deepEqual(ra.lost, [{ id: "held-1", channel: "webhook:bot", outcome: "delivered" }]);
    const [entry] = await a.list();
    assert.deepEqual(
      [entry!.status, entry!.attempts, entry!.lastError],
      ["pending", 1, "HTTP 503: down for maintenance"],
      "B's record stands",
    );
    let out = "";
    let err = "";
    const ctx = {
      stdout: { write: (t: string) => (out += t) },
      stderr: { write: (t: string) => (err += t) },
    } as unknown as CliContext;
    reportDelivery(ra, ctx);
    assert.equal(out, "notifications: 0 delivered, 0 to retry, 1 taken over by another deliverer\n");
    assert.equal(
      err,
      "costguard: warning: webhook:bot: the lease on held-1 ran out before its delivery was recorded; another deliverer has claimed it since and records its own outcome (notify.retry.leaseSeconds is how long a claim holds)\n",
    );
    await a.close();
    await b.close();
  });

  test("a run attempts each message once: one that failed is not tried again when its retry comes due during the run", async () => {
    const sub = mkdtempSync(join(dir, "once-"));
    writeFileSync(join(sub, "costguard.yaml"), "notify:\n  retry: {initialDelaySeconds: 1}\n");
    const config = configFor(sub, {});
    const outbox = await openOutbox(config.outbox, { env: {}, cwd: dir });
    await outbox.enqueue([message("bad-1", "webhook:bad"), message("slow-1", "webhook:slow")]);
    let clock = T0;
    const now = () => clock;
    const tried: string[] = [];
    // webhook:bad refuses at once (retry due in 1 s); webhook:slow takes 3 s to time out, by when
    // bad-1's retry is due: it was tried again in the same run, and counted twice.
    const run = await deliverDue({
      outbox,
      config,
      now,
      send: async (m) => {
        tried.push(m.id);
        if (m.channel === "webhook:slow") {
          clock += 3_000;
          throw new Error("no answer from slow.example within 3 s");
        }
        throw new Error("HTTP 400: bad request");
      },
    });
    assert.deepEqual(tried, ["bad-1", "slow-1"]);
    assert.deepEqual([run.attempted, run.delivered, run.failed.length], [2, 0, 2]);
    // What the run says is what the outbox says.
    const pending = new Map((await outbox.list()).map((e) => [e.id, e]));
    for (const f of run.failed) {
      assert.equal(f.nextAttemptAt, pending.get(f.id)!.nextAttemptAt, f.id);
      assert.equal(pending.get(f.id)!.attempts, 1, f.id);
    }
    let out = "";
    let err = "";
    const ctx = {
      stdout: { write: (t: string) => (out += t) },
      stderr: { write: (t: string) => (err += t) },
    } as unknown as CliContext;
    reportDelivery(run, ctx);
    assert.equal(out, "notifications: 0 delivered, 2 to retry\n");
    assert.equal(
      err,
      [
        "costguard: webhook:bad: HTTP 400: bad request; retrying after 2024-09-30T12:00:01.000Z (bad-1)",
        "costguard: webhook:slow: no answer from slow.example within 3 s; retrying after 2024-09-30T12:00:04.000Z (slow-1)",
        "",
      ].join("\n"),
    );
    // The next run takes bad-1 again.
    assert.deepEqual((await deliverDue({ outbox, config, now, send: async () => {} })).delivered, 1);
    await outbox.close();
  });

  test("a receiver that timed out or refused is not tried again in the run: its messages are left due", async () => {
    // Accepts connections and never answers: every message to it was a whole timeout.
    const held = new Set<import("node:net").Socket>();
    const blackhole = createNetServer((socket) => {
      held.add(socket);
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => blackhole.listen(0, "127.0.0.1", resolve));
    const http = await startHttpReceiver();
    const closed = await startHttpReceiver();
    await closed.close();
    after(async () => {
      for (const s of held) s.destroy();
      blackhole.close();
      await http.close();
    });
    const hole = `http://127.0.0.1:${(blackhole.address() as AddressInfo).port}`;
    const loaded = configFor(mkdtempSync(join(dir, "down-")), {
      COSTGUARD_WEBHOOK_DEAD_A: `${hole}/a`,
      COSTGUARD_WEBHOOK_DEAD_B: `${hole}/b`,
      COSTGUARD_WEBHOOK_OK: `${http.url}/ok`,
      COSTGUARD_SMTP_URL: `smtp://127.0.0.1:${new URL(closed.url).port}`,
      COSTGUARD_SMTP_FROM: "costguard@example.com",
    });
    const config = { ...loaded, retry: { ...loaded.retry, timeoutMs: 1000 } };
    const outbox = await openOutbox(config.outbox, { env: {}, cwd: dir });
    const many = (prefix: string, channel: string, n: number) =>
      Array.from({ length: n }, (_, i) => message(`${prefix}-${i}`, channel));
    await outbox.enqueue([
      ...many("1-dead-a", "webhook:dead-a", 4),
      ...many("2-dead-b", "webhook:dead-b", 2),
      ...many("3-mail-a", "email:a@example.com", 2),
      ...many("4-mail-b", "email:b@example.com", 1),
      ...many("5-ok", "webhook:ok", 2),
    ]);
    const started = Date.now();
    const run = await deliverDue({ outbox, config, now: () => T0 });
    const took = Date.now() - started;
    assert.ok(took < 4500, `one timeout, not six: ${took} ms`);
    assert.deepEqual([run.attempted, run.delivered], [4, 2]);
    assert.deepEqual(
      run.failed.map((f) => f.id),
      ["1-dead-a-0", "3-mail-a-0"],
    );
    const timedOut = "skipped: webhook:dead-a timed out earlier in this run";
    assert.deepEqual(run.skipped, [
      { channel: "webhook:dead-a", error: timedOut, count: 3 },
      { channel: "webhook:dead-b", error: timedOut, count: 2 },
      {
        channel: "email:a@example.com",
        error: "skipped: email:a@example.com refused the connection earlier in this run",
        count: 1,
      },
      {
        channel: "email:b@example.com",
        error: "skipped: email:a@example.com refused the connection earlier in this run",
        count: 1,
      },
    ]);
    let out = "";
    let err = "";
    const ctx = {
      stdout: { write: (t: string) => (out += t) },
      stderr: { write: (t: string) => (err += t) },
    } as unknown as CliContext;
    reportDelivery(run, ctx);
    assert.equal(out, "notifications: 2 delivered, 9 to retry\n");
    assert.match(
      err,
      /^costguard: webhook:dead-b: skipped: webhook:dead-a timed out earlier in this run; left due for the next run \(2 messages\)$/m,
    );
    // Left as they were: untried, due, free for the next run.
    const skippedIds = (await outbox.list({ status: "pending" }))
      .filter((e) => e.attempts === 0)
      .map((e) => e.id);
    assert.equal(skippedIds.length, 7);
    const next = await deliverDue({ outbox, config, now: () => T0, send: async () => {} });
    assert.equal(next.delivered, 7);
    await outbox.close();
  });

  test("a channel with no configured receiver stays pending, with the reason, until config names one", async () => {
    const sub = mkdtempSync(join(dir, "unconfigured-"));
    const config = configFor(sub, {});
    const outbox = await openOutbox(config.outbox, { env: {}, cwd: dir });
    await outbox.enqueue([message("u1", "slack:#nowhere"), message("u2", "email:a@example.com")]);
    const run = await deliverDue({ outbox, config, now: () => T0 });
    assert.deepEqual(
      run.failed.map((f) => f.error),
      [
        "no Slack webhook configured for #nowhere (notify.slack.webhooks)",
        "no SMTP server configured (notify.email.smtp or COSTGUARD_SMTP_URL)",
      ],
    );
    assert.equal((await outbox.list({ status: "pending" })).length, 2);
    await outbox.close();
  });

  test("email goes through a real SMTP server as text and HTML, once, after the server recovers", async () => {
    const smtp = await startSmtpReceiver();
    after(() => smtp.close());
    const sub = mkdtempSync(join(dir, "mail-"));
    const config = configFor(sub, {
      COSTGUARD_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      COSTGUARD_SMTP_FROM: "costguard@example.com",
    });
    const outbox = await openOutbox(config.outbox, { env: {}, cwd: dir });
    await outbox.enqueue([
      message("e1", "email:finops@example.com"),
      message("e2", "email:lead@example.com"),
    ]);
    let clock = T0;
    const now = () => clock;
    smtp.down = true;
    let run = await deliverDue({ outbox, config, now });
    assert.equal(run.failed.length, 2);
    assert.match(run.failed[0]!.error, /451/);
    smtp.down = false;
    clock += 30_000;
    run = await deliverDue({ outbox, config, now });
    assert.equal(run.delivered, 2);
    clock += 3_600_000;
    assert.equal((await deliverDue({ outbox, config, now })).attempted, 0);
    assert.equal(smtp.refused, 2);
    assert.deepEqual(
      smtp.messages.map((m) => m.to),
      [["finops@example.com"], ["lead@example.com"]],
    );
    const raw = smtp.messages[0]!.raw;
    assert.match(raw, /Subject: subject e1/);
    assert.match(raw, /Content-Type: text\/plain/);
    assert.match(raw, /Content-Type: text\/html/);
    assert.match(raw, /X-Costguard-Idempotency-Key: e1/);
    // Quoted-printable may fold a line anywhere (a soft break: "=" at its end).
    assert.match(raw.replace(/=\r?\n/g, ""), /80\.00 USD &lt;80%&gt;/, "HTML escapes values");
    await outbox.close();
  });

  test("mail that cannot be handed over says why in words: TLS on the wrong port, no greeting, refused", async () => {
    const smtp = await startSmtpReceiver();
    // Accepts the connection and says nothing, as a web server on a port named in an smtp:// URL does.
    const silent = createNetServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    // Greets, then answers nothing more: a server gone quiet mid-conversation.
    const quiet = createNetServer((socket) => socket.write("220 quiet.example ESMTP\r\n"));
    await new Promise<void>((resolve) => quiet.listen(0, "127.0.0.1", resolve));
    const closed = await startHttpReceiver();
    await closed.close();
    after(async () => {
      await smtp.close();
      silent.close();
      quiet.close();
    });
    const silentPort = (silent.address() as AddressInfo).port;
    const failure = async (url: string) => {
      const loaded = configFor(mkdtempSync(join(dir, "mail-failure-")), {
        COSTGUARD_SMTP_URL: url,
        COSTGUARD_SMTP_FROM: "costguard@example.com",
      });
      const config = { ...loaded, retry: { ...loaded.retry, timeoutMs: 500 } };
      const outbox = await openOutbox(config.outbox, { env: {}, cwd: dir });
      await outbox.enqueue([message("f1", "email:finops@example.com")]);
      const run = await deliverDue({ outbox, config, now: () => T0 });
      await outbox.close();
      return run.failed.map((f) => f.error);
    };
    assert.deepEqual(await failure(`smtps://127.0.0.1:${smtp.port}`), [
      `cannot reach 127.0.0.1:${smtp.port}: it does not speak TLS on connect; smtps:// is for servers that do (port 465), smtp:// upgrades with STARTTLS (ports 587, 25) (wrong version number)`,
    ]);
    assert.deepEqual(await failure(`smtp://127.0.0.1:${silentPort}`), [
      `no SMTP greeting from 127.0.0.1:${silentPort} within 0.5 s: is it an SMTP server? (one that speaks TLS from the start, as on port 465, is smtps://)`,
    ]);
    const quietPort = (quiet.address() as AddressInfo).port;
    assert.deepEqual(await failure(`smtp://127.0.0.1:${quietPort}`), [
      `127.0.0.1:${quietPort} had not taken the message within 0.5 s: its answers stopped or came too slowly`,
    ]);
    const port = new URL(closed.url).port;
    assert.deepEqual(await failure(`smtp://127.0.0.1:${port}`), [`127.0.0.1:${port} refused the connection`]);
    assert.equal(smtp.messages.length, 0);
  });

  test("an attempt ends at the timeout however slowly the receiver answers: SMTP and HTTP a byte a second", async () => {
    // Greets at once, then answers every command a byte a second: nodemailer's connection, greeting
    // and idle timeouts never fire, and one attempt ran 105 s against a 3 s timeout.
    const sockets = new Set<import("node:net").Socket>();
    const trickling = createNetServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.write("220 slow.example ESMTP\r\n");
      let pending = "";
      socket.on("data", () => {
        // Every reply is "250 ok": enough to keep nodemailer waiting for the rest of each.
        pending += "250 ok\r\n";
      });
      const timer = setInterval(() => {
        if (pending === "" || socket.destroyed) return;
        socket.write(pending[0]!);
        pending = pending.slice(1);
      }, 200);
      socket.on("close", () => {
        clearInterval(timer);
        sockets.delete(socket);
      });
    });
    await new Promise<void>((resolve) => trickling.listen(0, "127.0.0.1", resolve));
    // HTTP: the status line and headers at once, the body a byte at a time, never ending.
    const slowHttp = createServer((_req, res) => {
      res.writeHead(502, { "content-type": "text/plain" });
      const timer = setInterval(() => res.write("x"), 200);
      res.on("close", () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => slowHttp.listen(0, "127.0.0.1", resolve));
    after(() => {
      for (const s of sockets) s.destroy();
      trickling.close();
      slowHttp.closeAllConnections();
      slowHttp.close();
    });
    const smtpPort = (trickling.address() as AddressInfo).port;
    const httpHost = `127.0.0.1:${(slowHttp.address() as AddressInfo).port}`;
    const loaded = configFor(mkdtempSync(join(dir, "trickle-")), {
      COSTGUARD_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      COSTGUARD_SMTP_FROM: "costguard@example.com",
      COSTGUARD_WEBHOOK_SLOW: `http://${httpHost}/hook`,
    });
    const config = { ...loaded, retry: { ...loaded.retry, timeoutMs: 1000 } };
    const outbox = await openOutbox(config.outbox, { env: {}, cwd: dir });
    for (const [id, channel] of [
      ["slow-mail", "email:finops@example.com"],
      ["slow-hook", "webhook:slow"],
    ] as const) {
      await outbox.enqueue([message(id, channel)]);
      const started = Date.now();
      const run = await deliverDue({ outbox, config, now: () => T0 });
      const took = Date.now() - started;
      assert.ok(took < 4000, `${id}: one attempt took ${took} ms against a 1 s timeout`);
      assert.equal(run.failed.length, 1, id);
      if (id === "slow-mail")
        assert.equal(
          run.failed[0]!.error,
          `127.0.0.1:${smtpPort} had not taken the message within 1 s: its answers stopped or came too slowly`,
        );
      else assert.match(run.failed[0]!.error, /^HTTP 502: x+$/);
    }
    await outbox.close();
  });

  test("remediation notices go as one digest per channel and kind; other kinds one by one", async () => {
    const http = await startHttpReceiver();
    const smtp = await startSmtpReceiver();
    after(() => Promise.all([http.close(), smtp.close()]));
    const sub = mkdtempSync(join(dir, "digest-"));
    const config = configFor(sub, {
      COSTGUARD_SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      COSTGUARD_WEBHOOK_BOT: `${http.url}/bot`,
    });
    const outbox = await openOutbox(config.outbox, { env: {}, cwd: dir });
    const notice = (id: string, channel: string, kind = "remediation.grace-started"): OutboxMessage => ({
      ...message(id, channel),
      kind,
      subject: `costguard grace started: stop ${id}`,
      data: { title: id, severity: id.endsWith("9") ? "critical" : "warning", fields: [] },
    });
    await outbox.enqueue([
      ...Array.from({ length: 5 }, (_, i) => notice(`mail-${i}`, "email:alice@example.com")),
      ...Array.from({ length: 3 }, (_, i) => notice(`bot-${i}`, "webhook:bot")),
      notice("bot-acted", "webhook:bot", "remediation.acted"),
      message("budget-1", "webhook:bot"),
      message("budget-2", "webhook:bot"),
    ]);
    let clock = T0;
    const now = () => clock;
    smtp.down = true;
    let run = await deliverDue({ outbox, config, now });
    assert.deepEqual([run.attempted, run.delivered, run.failed.length], [11, 6, 5]);
    assert.ok(run.failed.every((f) => /451/.test(f.error) && f.nextAttemptAt === T0 + 30_000));
    // One email for the five, once the server takes it; nothing sent twice.
    smtp.down = false;
    clock += 30_000;
    run = await deliverDue({ outbox, config, now });
    assert.deepEqual([run.attempted, run.delivered], [5, 5]);
    assert.equal(smtp.refused, 1, "the digest was refused once, as one message");
    assert.equal(smtp.messages.length, 1);
    const raw = smtp.messages[0]!.raw.replace(/=\r?\n/g, "");
    assert.match(raw, /Subject: costguard: 5 remediation notices \(grace started\)/);
    for (let i = 0; i < 5; i++) assert.match(raw, new RegExp(`- costguard grace started: stop mail-${i}`));
    // The webhook: a digest of the three of one kind, the other kind alone, the budget alerts alone.
    assert.equal(http.received.length, 4);
    const digest = http.received.find((r) => (r.body.subject as string).includes("3 remediation notices"))!;
    const data = digest.body.data as { severity: string; messages: { id: string }[] };
    assert.deepEqual(data.messages.map((m) => m.id).sort(), ["bot-0", "bot-1", "bot-2"]);
    assert.equal(data.severity, "warning");
    assert.match(digest.key!, /^digest:[0-9a-f]{32}\|webhook:bot$/);
    assert.deepEqual(
      http.received
        .map((r) => r.key)
        .filter((k) => !k!.startsWith("digest:"))
        .sort(),
      ["bot-acted", "budget-1", "budget-2"],
    );
    assert.equal((await outbox.list({ status: "pending" })).length, 0);
    assert.deepEqual(
      (await outbox.list({ status: "delivered" })).map((e) => e.attempts).sort(),
      [1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2],
    );
    await outbox.close();
  });

  test("a digest re-sent after a crash goes with the same notices under the same key; notices queued since go apart", async () => {
    const sub = mkdtempSync(join(dir, "digest-crash-"));
    const config = configFor(sub, {});
    const notice = (id: string, createdAt = T0): OutboxMessage => ({
      ...message(id, "webhook:bot"),
      kind: "remediation.grace-started",
      createdAt,
    });
    const first = await openOutbox(config.outbox, { env: {}, cwd: dir });
    await first.enqueue([notice("g-1"), notice("g-2")]);
    let clock = T0;
    const now = () => clock;
    const received: { id: string; notices: string[] }[] = [];
    const take = (m: OutboxMessage) =>
      received.push({
        id: m.id,
        notices: ((m.data.messages as { id: string }[] | undefined) ?? [{ id: m.id }])
          .map((n) => n.id)
          .sort(),
      });
    // The receiver takes the digest; the process dies (kill -9) before that is recorded.
    let taken: () => void = () => {};
    const crashed = new Promise<void>((resolve) => {
      taken = resolve;
    });
    void deliverDue({
      outbox: first,
      config,
      now,
      send: (m) => {
        take(m);
        taken();
        return new Promise<void>(() => {});
      },
    });
    await crashed;
    // A notice is queued since; another deliverer runs once the lease is over.
    const second = await openOutbox(config.outbox, { env: {}, cwd: dir });
    await second.enqueue([notice("g-3", T0 + 1_000)]);
    clock += config.retry.leaseMs + 1;
    const run = await deliverDue({
      outbox: second,
      config,
      now,
      send: async (m) => {
        take(m);
      },
    });
    assert.equal(run.delivered, 3);
    assert.equal(received.length, 3);
    assert.match(received[0]!.id, /^digest:[0-9a-f]{32}\|webhook:bot$/);
    assert.deepEqual(received[1], received[0], "the same notices, under the same key");
    assert.deepEqual(received[2], { id: "g-3", notices: ["g-3"] });
    await second.close();
    await first.close();
  });

  test("notify.digest: 1 sends every notice alone; a long digest keeps Slack's section under its limit", async () => {
    const http = await startHttpReceiver();
    after(() => http.close());
    const sub = mkdtempSync(join(dir, "digest-off-"));
    writeFileSync(join(sub, "costguard.yaml"), "notify:\n  digest: 1\n");
    const config = configFor(sub, { COSTGUARD_WEBHOOK_BOT: `${http.url}/bot` });
    assert.equal(config.digest, 1);
    const outbox = await openOutbox(config.outbox, { env: {}, cwd: dir });
    await outbox.enqueue(
      Array.from({ length: 4 }, (_, i) => ({
        ...message(`n-${i}`, "webhook:bot"),
        kind: "remediation.grace-started",
      })),
    );
    const run = await deliverDue({ outbox, config, now: () => T0 });
    assert.equal(run.delivered, 4);
    assert.deepEqual(http.received.map((r) => r.key).sort(), ["n-0", "n-1", "n-2", "n-3"]);
    await outbox.close();

    const many = Array.from({ length: 300 }, (_, i) => ({
      ...message(`s-${i}`, "slack:#finops"),
      kind: "remediation.grace-started",
      subject: `costguard grace started: stop i-${String(i).padStart(17, "0")}`,
    }));
    const payload = slackPayload(digestOf(many)) as { blocks: { text?: { text: string } }[] };
    const section = payload.blocks[1]!.text!.text;
    assert.ok(section.length <= 3000, `${section.length} characters`);
    const shown = section.split("\n").filter((l) => l.includes("- costguard grace started")).length;
    assert.ok(shown > 10 && shown < 300);
    assert.ok(section.endsWith(`… and ${300 - shown} more`), section.slice(-40));

    for (const bad of ["0", "1.5", "x", "20000"]) {
      writeFileSync(join(sub, "costguard.yaml"), `notify:\n  digest: ${bad}\n`);
      assert.throws(
        () => configFor(sub, {}),
        /notify\.digest must be a whole number from 1 to 10000 \(1: no digests\)/,
      );
    }
  });

  test("an outbox file from before migrations were recorded is taken over with its messages", async () => {
    const path = join(mkdtempSync(join(dir, "old-")), "notify.db");
    // The schema costguard 0.1 created, with one message waiting and one threshold fired.
    const old = new Database(path);
    old.exec(`CREATE TABLE notify_outbox (id TEXT PRIMARY KEY, channel TEXT NOT NULL, kind TEXT NOT NULL,
        subject TEXT NOT NULL, body TEXT NOT NULL, data TEXT NOT NULL, created_at INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending', attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL, lease_until INTEGER NOT NULL DEFAULT 0, last_error TEXT,
        delivered_at INTEGER);
      CREATE INDEX notify_outbox_due ON notify_outbox (status, next_attempt_at);
      CREATE TABLE budget_thresholds_fired (key TEXT PRIMARY KEY, fired_at INTEGER NOT NULL);`);
    const m = message("old-1", "webhook:bot");
    old
      .prepare(
        "INSERT INTO notify_outbox (id, channel, kind, subject, body, data, created_at, attempts, next_attempt_at, last_error) VALUES (?, ?, ?, ?, ?, ?, ?, 2, ?, 'HTTP 503')",
      )
      .run(
        m.id,
        m.channel,
        m.kind,
        m.subject,
        m.text,
        JSON.stringify(m.data),
        m.createdAt,
        m.createdAt + 60_000,
      );
    old.prepare("INSERT INTO budget_thresholds_fired (key, fired_at) VALUES ('k-old', ?)").run(T0);
    old.close();

    const outbox = await openOutbox(path, { env: {}, cwd: dir });
    const entries = await outbox.list();
    assert.deepEqual(
      entries.map((e) => [e.id, e.status, e.attempts, e.lastError, e.nextAttemptAt]),
      [["old-1", "pending", 2, "HTTP 503", T0 + 60_000]],
    );
    assert.deepEqual([...(await outbox.fired(["k-old", "k-new"]))], ["k-old"]);
    await outbox.close();
    // Opening it again applies nothing twice.
    const again = await openOutbox(path, { env: {}, cwd: dir });
    assert.equal((await again.list()).length, 1);
    await again.close();
  });

  test("an outbox path that cannot be a database is a clear error", async () => {
    const file = join(mkdtempSync(join(dir, "bad-")), "not-a-db");
    writeFileSync(file, "this is not SQLite\n".repeat(100));
    await assert.rejects(openOutbox(file, { env: {}, cwd: dir }), (err: Error) => {
      assert.equal(err.name, "InputError");
      assert.match(err.message, /notification outbox .*not-a-db/);
      return true;
    });
  });

  test("retry settings past a week, a lease no longer than an attempt and a bad SMTP port are refused", () => {
    const withFile = (yaml: string) => {
      const file = join(mkdtempSync(join(dir, "cfg-")), "costguard.yaml");
      writeFileSync(file, yaml);
      return () => loadNotifyConfig({ cwd: dir, env: {}, file });
    };
    // 99999999999 s was taken and every attempt then failed on a timer out of range.
    assert.throws(
      withFile("notify:\n  retry: {timeoutSeconds: 99999999999}\n"),
      /notify.retry.timeoutSeconds must be a positive number of seconds, at most 604800/,
    );
    assert.throws(
      withFile("notify:\n  retry: {initialDelaySeconds: 1e30}\n"),
      /initialDelaySeconds .*at most/,
    );
    assert.throws(
      withFile("notify:\n  retry: {timeoutSeconds: 120}\n"),
      /leaseSeconds \(60\) must be longer than timeoutSeconds \(120\)/,
    );
    assert.equal(
      withFile("notify:\n  retry: {timeoutSeconds: 120, leaseSeconds: 300}\n")().retry.leaseMs,
      300_000,
    );
    for (const port of ["99999", "0", "25.5", '"25"'])
      assert.throws(
        withFile(`notify:\n  email: {smtp: {host: mail, port: ${port}}}\n`),
        /notify.email.smtp.port must be a port number/,
        port,
      );
  });

  test("backoff doubles from the initial delay up to the cap", () => {
    const retry = {
      initialDelayMs: 30_000,
      maxDelayMs: 3_600_000,
      leaseMs: 60_000,
      timeoutMs: 10_000,
      batch: 100,
    };
    assert.deepEqual(
      [1, 2, 3, 4, 8, 20].map((n) => retryDelay(n, retry)),
      [30_000, 60_000, 120_000, 240_000, 3_600_000, 3_600_000],
    );
  });

  test("notify list: 50 rows on a terminal table and how many more there are; json lists every one", async () => {
    const cwd = mkdtempSync(join(dir, "list-"));
    const env = { COSTGUARD_NOTIFY_OUTBOX: join(cwd, "outbox.db") };
    // No outbox yet: said (a mistyped path is not an empty outbox), and none made.
    const none = await cli(["notify", "list"], { cwd, env });
    assert.equal(none.code, 2, none.stdout);
    assert.match(
      none.stderr,
      /^costguard: no notification outbox at \S+outbox\.db: the first notification queued creates it/,
    );
    assert.equal(existsSync(join(cwd, "outbox.db")), false);
    const outbox = await openOutbox(join(cwd, "outbox.db"), { env: {}, cwd });
    const empty = await cli(["notify", "list"], { cwd, env });
    assert.equal(empty.code, 0, empty.stderr);
    assert.equal(empty.stdout, "no messages in the outbox\n");
    await outbox.enqueue(
      Array.from({ length: 60 }, (_, i) => ({
        ...message(`m${String(i).padStart(2, "0")}`, "webhook:bot"),
        createdAt: T0 + i,
      })),
    );
    await outbox.close();
    const rows = (out: string) => out.split("\n").filter((l) => /^pending /.test(l));
    const table = await cli(["notify", "list"], { cwd, env });
    assert.equal(table.code, 0, table.stderr);
    assert.equal(rows(table.stdout).length, 50);
    assert.match(rows(table.stdout)[0]!, /subject m00/, "oldest first");
    assert.match(table.stdout, /\n50 of 60 messages, oldest first: --limit N shows more/);
    const five = await cli(["notify", "list", "--status", "pending", "--limit", "5"], { cwd, env });
    assert.equal(rows(five.stdout).length, 5);
    assert.match(five.stdout, /5 of 60 pending messages/);
    const all = await cli(["notify", "list", "--limit", "60"], { cwd, env });
    assert.equal(rows(all.stdout).length, 60);
    assert.doesNotMatch(all.stdout, / of 60 /, "nothing left out, nothing to say");
    // 0 is every one, as for findings, scans and remediate (it was refused).
    const every = await cli(["notify", "list", "--limit", "0"], { cwd, env });
    assert.equal(every.code, 0, every.stderr);
    assert.equal(rows(every.stdout).length, 60);
    const json = await cli(["notify", "list", "--format", "json"], { cwd, env });
    assert.equal((JSON.parse(json.stdout) as unknown[]).length, 60);
    for (const bad of [
      ["--limit", "-1"],
      ["--limit", "ten"],
      ["--format", "yaml"],
    ]) {
      const r = await cli(["notify", "list", ...bad], { cwd, env });
      assert.equal(r.code, 2, bad.join(" "));
      assert.match(r.stderr, /^costguard: --(limit|format) must be/);
    }
  });

  test("moving to the store's outbox warns while messages still wait in the outbox file", async () => {
    const cwd = mkdtempSync(join(dir, "moved-"));
    const file = await openOutbox(join(cwd, ".costguard", "notify.db"), { env: {}, cwd });
    await file.enqueue([message("left-1", "webhook:bot"), message("left-2", "webhook:bot")]);
    await file.close();
    const env = { COSTGUARD_DATABASE_URL: join(cwd, "store.db") };
    await (await openStore({ kind: "sqlite", path: join(cwd, "store.db") })).close();
    const moved = await cli(["notify", "list", "--outbox", "store"], { cwd, env });
    assert.equal(moved.code, 0, moved.stderr);
    assert.equal(
      moved.stderr,
      "costguard: warning: 2 messages wait in the outbox file .costguard/notify.db, which the store's outbox does not deliver: `costguard notify deliver --outbox .costguard/notify.db` sends them\n",
    );
    assert.equal(moved.stdout, "no messages in the outbox\n", "the store's outbox is another one");
    // Once they are gone from the file, nothing more is said.
    const again = await openOutbox(join(cwd, ".costguard", "notify.db"), { env: {}, cwd });
    await again.markAllDelivered(["left-1", "left-2"], T0);
    await again.close();
    assert.equal((await cli(["notify", "list", "--outbox", "store"], { cwd, env })).stderr, "");
    assert.equal(
      (await cli(["notify", "list"], { cwd, env })).stderr,
      "",
      "the file outbox itself: no warning",
    );
  });
});
