import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { openOutbox } from "../../src/notify/open-outbox.js";
import { cli } from "../helpers/cli.js";

const NOW = "2024-09-20T00:00:00Z";

test("notify cancel: pending messages are never sent again, deliver stops counting them, the audit log says who and why", async () => {
  const cwd = mkdtempSync(join(tmpdir(), "costguard-cancel-"));
  const env = {
    COSTGUARD_NOTIFY_OUTBOX: join(cwd, "outbox.db"),
    COSTGUARD_DATABASE_URL: join(cwd, "store.db"),
  };
  const outbox = await openOutbox(join(cwd, "outbox.db"), { env: {}, cwd });
  await outbox.enqueue(
    ["a", "b", "c", "d"].map((id) => ({
      id,
      channel: "webhook:gone",
      kind: "budget.threshold",
      subject: `subject ${id}`,
      text: "t",
      data: { title: "t", severity: "info" as const, fields: [] },
      createdAt: Date.parse("2024-09-19T00:00:00Z"),
    })),
  );
  // d is being sent by another deliverer right now.
  assert.equal((await outbox.claimDue(Date.parse(NOW), 10, 60_000, { id: "d" })).length, 1);
  await outbox.close();
  const run = (args: string[], extra: Record<string, string> = {}) =>
    cli(args, { cwd, env: { ...env, ...extra }, now: NOW });

  const failing = await run(["notify", "deliver"]);
  assert.equal(failing.code, 1, failing.stderr);
  assert.match(failing.stdout, /0 delivered, 3 to retry/);

  const noOne = await run(["notify", "cancel", "a"]);
  assert.equal(noOne.code, 2);
  assert.equal(noOne.stderr, "costguard: say who is acting: --as USER (or set COSTGUARD_USER)\n");
  // All or none: one id that cannot be cancelled cancels nothing.
  const partly = await run(["notify", "cancel", "a", "nope", "d", "--as", "alice"]);
  assert.equal(partly.code, 2);
  assert.match(
    partly.stderr,
    /^costguard: nothing was cancelled: nope: no such message; d: being sent now \(held until 2024-09-20T00:01:00\.000Z\)\n$/,
  );

  const done = await run([
    "notify",
    "cancel",
    "a",
    "b",
    "--as",
    "alice",
    "--reason",
    "mailbox deleted (550)",
  ]);
  assert.equal(done.code, 0, done.stderr);
  assert.equal(
    done.stdout,
    "cancelled a (webhook:gone, 1 attempt, last error: no URL configured for webhook gone (notify.webhooks))\n" +
      "cancelled b (webhook:gone, 1 attempt, last error: no URL configured for webhook gone (notify.webhooks))\n",
  );
  const again = await run(["notify", "cancel", "a", "--as", "alice"]);
  assert.equal(again.code, 2);
  assert.equal(again.stderr, "costguard: nothing was cancelled: a: already cancelled\n");

  // An hour on, c is due again and d's lease is over: a and b are neither tried nor counted.
  const later = await cli(["notify", "deliver"], { cwd, env, now: "2024-09-20T01:00:00Z" });
  assert.equal(later.code, 1);
  assert.match(later.stdout, /0 delivered, 2 to retry/);
  assert.match(later.stderr, /\(2 messages\)/);
  const list = await run(["notify", "list", "--status", "cancelled"]);
  assert.equal(list.code, 0, list.stderr);
  const rows = list.stdout.split("\n").filter((l) => l.startsWith("cancelled "));
  assert.equal(rows.length, 2, list.stdout);
  assert.match(rows[0]!, /^cancelled\s+a\s+webhook:gone\s+1\s+-\s+subject a\s/);
  assert.match(rows[1]!, /^cancelled\s+b\s+webhook:gone\s/);
  const json = JSON.parse((await run(["notify", "list", "--format", "json"])).stdout) as {
    id: string;
    status: string;
  }[];
  assert.deepEqual(
    json.map((e) => [e.id, e.status]),
    [
      ["a", "cancelled"],
      ["b", "cancelled"],
      ["c", "pending"],
      ["d", "pending"],
    ],
  );
  const audit = await run(["audit", "list", "--action", "notification.cancelled", "--format", "json"]);
  assert.equal(audit.code, 0, audit.stderr);
  const entries = JSON.parse(audit.stdout) as {
    actor: string;
    subject_type: string;
    subject_id: string;
    details: Record<string, unknown>;
  }[];
  assert.deepEqual(
    entries.map((e) => [e.actor, e.subject_type, e.subject_id, e.details.reason, e.details.channel]).sort(),
    [
      ["alice", "notification", "a", "mailbox deleted (550)", "webhook:gone"],
      ["alice", "notification", "b", "mailbox deleted (550)", "webhook:gone"],
    ],
  );
});

test("notify cancel --channel: every pending message to the channel, none to others; ids or --channel, not both", async () => {
  const cwd = mkdtempSync(join(tmpdir(), "costguard-cancel-"));
  const env = {
    COSTGUARD_NOTIFY_OUTBOX: join(cwd, "outbox.db"),
    COSTGUARD_DATABASE_URL: join(cwd, "store.db"),
  };
  const outbox = await openOutbox(join(cwd, "outbox.db"), { env: {}, cwd });
  await outbox.enqueue(
    [
      ["a", "webhook:gone"],
      ["b", "webhook:gone"],
      ["c", "webhook:other"],
    ].map(([id, channel]) => ({
      id: id!,
      channel: channel!,
      kind: "budget.threshold",
      subject: `subject ${id}`,
      text: "t",
      data: { title: "t", severity: "info" as const, fields: [] },
      createdAt: Date.parse("2024-09-19T00:00:00Z"),
    })),
  );
  await outbox.close();
  const run = (args: string[]) => cli(args, { cwd, env, now: NOW });

  const both = await run(["notify", "cancel", "a", "--channel", "webhook:gone", "--as", "alice"]);
  assert.equal(both.code, 2);
  assert.equal(
    both.stderr,
    "costguard: notify cancel takes message ids or --channel CHANNEL (one of them)\n",
  );
  assert.equal((await run(["notify", "cancel", "--as", "alice"])).code, 2);
  const none = await run(["notify", "cancel", "--channel", "webhook:nobody", "--as", "alice"]);
  assert.equal(none.code, 2);
  assert.equal(none.stderr, "costguard: no pending messages to webhook:nobody: nothing was cancelled\n");

  const done = await run(["notify", "cancel", "--channel", "webhook:gone", "--as", "alice"]);
  assert.equal(done.code, 0, done.stderr);
  assert.match(
    done.stdout,
    /^cancelled a \(webhook:gone, 0 attempts\)\ncancelled b \(webhook:gone, 0 attempts\)\n$/,
  );
  const json = JSON.parse((await run(["notify", "list", "--format", "json"])).stdout) as {
    id: string;
    status: string;
  }[];
  assert.deepEqual(
    json.map((e) => [e.id, e.status]),
    [
      ["a", "cancelled"],
      ["b", "cancelled"],
      ["c", "pending"],
    ],
  );
});
