import assert from "node:assert/strict";
import { test } from "node:test";
import { outboxNotifier } from "../../src/cli/notices.js";
import { parseConfig } from "../../src/config/load.js";
import type { AuditSink } from "../../src/exceptions/service.js";
import type { OutboxMessage, OutboxStore } from "../../src/notify/types.js";
import type { OwnerNotice } from "../../src/remediation/types.js";

type AuditEntry = Parameters<AuditSink["append"]>[0];

function setup(config: unknown = {}) {
  const queued: OutboxMessage[] = [];
  const audited: AuditEntry[] = [];
  const outbox = {
    enqueue: async (messages: readonly OutboxMessage[]) => {
      queued.push(...messages);
      return messages.length;
    },
  } as unknown as OutboxStore;
  const notifier = outboxNotifier({
    outbox,
    config: parseConfig(config, null),
    clock: () => new Date("2026-12-01T00:00:00Z"),
    audit: { append: async (e: AuditEntry) => void audited.push(e) },
  });
  return { notifier, queued, audited };
}

const notice = (owner: string | null): OwnerNotice => ({
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

test("a notice no one can be told of is audited with why; one to a person without a channel names them; a summary to no channel is silence", async () => {
  const { notifier, queued, audited } = setup();
  await notifier.notify(notice(null));
  await notifier.notify(notice("someone-without-an-address"));
  await notifier.notify(notice("maria@example.com"));
  await notifier.announce({
    key: "summary",
    channels: [],
    kind: "cycle.summary",
    subject: "s",
    text: "t",
    data: { title: "s", severity: "info", fields: [] },
  });
  assert.deepEqual(
    queued.map((m) => m.channel),
    ["email:maria@example.com"],
  );
  assert.deepEqual(
    audited.map((e) => [e.action, e.subject_id, (e.details as { unreachable: string[] }).unreachable]),
    [
      ["notice.unreachable", "k-null", []],
      ["notice.unreachable", "k-someone-without-an-address", ["someone-without-an-address"]],
    ],
  );
  assert.equal(
    (audited[0]!.details as { reason?: string }).reason,
    "the notice names no one to tell and no channel to copy",
  );
  assert.equal((audited[1]!.details as { reason?: string }).reason, undefined);
});

test("a notice naming the tag placeholder as owner (a task stored before it counted as none) goes to defaultOwner", async () => {
  const { notifier, queued } = setup({ remediation: { defaultOwner: "finops@company.com" } });
  await notifier.notify(notice("unassigned"));
  assert.deepEqual(
    queued.map((m) => [m.channel, m.data?.fields?.find((f) => f.label === "Owner")?.value]),
    [["email:finops@company.com", "finops@company.com"]],
  );
});
