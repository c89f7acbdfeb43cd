import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { outboxNotifier } from "../../src/cli/notices.js";
import { parseConfig } from "../../src/config/load.js";
import type { AuditSink } from "../../src/exceptions/service.js";
import { parseChannel } from "../../src/notify/channels.js";
import type { OutboxMessage, OutboxStore } from "../../src/notify/types.js";
import { cli } from "../helpers/cli.js";

/** What nodemailer would read otherwise than the outbox names it: a list, a group, a display name. */
const TWISTED = [
  "x,attacker@evil.com",
  "Victim:x@evil.com",
  "Victim:x@evil.com;",
  "x@example.com;attacker@evil.com",
  "Boss <attacker@evil.com>",
  "<x@example.com>",
  '"x y"@example.com',
  "x@example.com (attacker@evil.com)",
  "x@[127.0.0.1]",
  "x@example.com>",
];

test("email: takes exactly one plain ASCII address, as nodemailer reads it", () => {
  for (const ok of ["finops@example.com", "a.b+tag@mail-1.example.co.uk", "kenji@company.com", "a@b"])
    assert.deepEqual(parseChannel(`email:${ok}`), { kind: "email", to: ok }, ok);
  for (const bad of [...TWISTED, "jörg@example.com", "x@exämple.com"])
    assert.equal(parseChannel(`email:${bad}`), null, bad);
});

test("notify send and the configuration refuse such an address with why, exit 2", async () => {
  const cwd = mkdtempSync(join(tmpdir(), "costguard-email-"));
  const env = { COSTGUARD_SMTP_URL: "smtp://127.0.0.1:2525", COSTGUARD_NOTIFY_OUTBOX: join(cwd, "o.db") };
  const list = await cli(["notify", "send", "email:x,attacker@evil.com"], { cwd, env });
  assert.equal(list.code, 2);
  assert.equal(
    list.stderr,
    "costguard: not a channel: email:x,attacker@evil.com (email: takes one plain address, name@example.com, without a display name, quotes, comments, commas, colons, semicolons or angle brackets)\n",
  );
  const utf8 = await cli(["notify", "send", "email:jörg@example.com"], { cwd, env });
  assert.equal(utf8.code, 2);
  assert.match(
    utf8.stderr,
    /^costguard: not a channel: email:jörg@example\.com \(an email address must be ASCII: .*SMTPUTF8/,
  );
  const defaults = await cli(["notify", "send", "webhook:x"], {
    cwd,
    env: { ...env, COSTGUARD_NOTIFY_DEFAULT_CHANNELS: "email:Victim:x@evil.com" },
  });
  assert.equal(defaults.code, 2);
  assert.match(
    defaults.stderr,
    /notify\.defaultChannels: not a channel: email:Victim:x@evil\.com \(email: takes one plain address/,
  );
  assert.throws(
    () => parseConfig({ people: { carol: "email:carol@example.com,attacker@evil.com" } }, null),
    /'email:carol@example\.com,attacker@evil\.com' is not a channel \(email: takes one plain address/,
  );
});

test("an owner whose tag is no plain address is unreachable, audited, and sent nothing", async () => {
  const queued: OutboxMessage[] = [];
  const audited: Parameters<AuditSink["append"]>[0][] = [];
  const notifier = outboxNotifier({
    outbox: {
      enqueue: async (messages: readonly OutboxMessage[]) => {
        queued.push(...messages);
        return messages.length;
      },
    } as unknown as OutboxStore,
    config: parseConfig({}, null),
    clock: () => new Date("2026-12-01T00:00:00Z"),
    audit: { append: async (e) => void audited.push(e) },
  });
  for (const owner of [...TWISTED, "jörg@example.com", "maria@example.com"])
    await notifier.notify({
      kind: "grace-started",
      key: `k-${owner}`,
      task_id: "task-1",
      resource_id: "i-1",
      owner,
      severity: "high",
      action: "stop",
      acts_at: "2026-12-02T00:00:00.000Z",
      text: "i-1 will be stopped",
    });
  assert.deepEqual(
    queued.map((m) => m.channel),
    ["email:maria@example.com"],
  );
  assert.deepEqual(
    audited.map((e) => [e.action, (e.details as { unreachable: string[] }).unreachable]),
    [...TWISTED, "jörg@example.com"].map((o) => ["notice.unreachable", [o]]),
  );
});
