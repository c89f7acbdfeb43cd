import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { CliContext } from "../../src/cli/context.js";
import { reportDelivery } from "../../src/cli/notify-options.js";
import { openOutbox } from "../../src/notify/open-outbox.js";
import { sqlOutbox } from "../../src/notify/sql-outbox.js";
import { openSqliteDb } from "../../src/store/sqlite-db.js";
import { queryPlan, recordingReads, type SeenQuery } from "../helpers/query-plans.js";

const dir = mkdtempSync(join(tmpdir(), "costguard-outbox-plan-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("a claim reads due messages in order from an index, not sorting every due message for each claim", async () => {
  const path = join(dir, "notify.db");
  await (await openOutbox(path, { env: {}, cwd: dir })).close(); // migrated
  const db = openSqliteDb(path);
  try {
    const seen: SeenQuery[] = [];
    const outbox = sqlOutbox(recordingReads(db, seen));
    // The first message due, then the rest of its channel and kind for a digest, as a run claims them;
    // or the notices of a digest sent before.
    const dueBy = Date.now();
    await outbox.claimDue(Date.now(), 1, 60_000, { dueBy, exceptChannels: ["webhook:down"] });
    await outbox.claimDue(Date.now(), 499, 60_000, {
      channel: "email:a@example.com",
      kind: "remediation.notice",
      dueBy,
      unsent: true,
    });
    await outbox.claimDue(Date.now(), 10_000, 60_000, { sentAs: "digest:0123|email:a@example.com" });
    const selects = seen.filter((s) => s.sql.trimStart().startsWith("SELECT"));
    assert.equal(selects.length, 3);
    for (const [select, index] of [
      [selects[0]!, "notify_outbox_claim"],
      [selects[1]!, "notify_outbox_claim_digest"],
      [selects[2]!, "notify_outbox_sent_as"],
    ] as const) {
      const text = await queryPlan(db, select);
      assert.match(text, new RegExp(`USING INDEX ${index} `));
      assert.doesNotMatch(text, /TEMP B-TREE/, "no sort");
    }
  } finally {
    await db.close();
  }
});

test("a delivery's failures are a line per channel and reason, with how many messages, not a line each", () => {
  let out = "";
  let err = "";
  const ctx = {
    stdout: {
      write: (t: string) => {
        out += t;
        return true;
      },
    },
    stderr: {
      write: (t: string) => {
        err += t;
        return true;
      },
    },
  } as unknown as CliContext;
  const at = Date.UTC(2026, 5, 1);
  const failed = [
    ...Array.from({ length: 1200 }, (_, i) => ({
      id: `m${i}`,
      channel: "email:kenji@company.com",
      error: "no SMTP server configured",
      nextAttemptAt: at + (i % 2) * 1000,
    })),
    { id: "w1", channel: "webhook:bot", error: "bot.example: 503", nextAttemptAt: at },
  ];
  reportDelivery({ delivered: 3, failed, attempted: failed.length + 3, lost: [], skipped: [] }, ctx);
  assert.equal(out, "notifications: 3 delivered, 1201 to retry\n");
  assert.equal(
    err,
    [
      "costguard: email:kenji@company.com: no SMTP server configured; retrying after 2026-06-01T00:00:00.000Z (1,200 messages)",
      "costguard: webhook:bot: bot.example: 503; retrying after 2026-06-01T00:00:00.000Z (w1)",
      "",
    ].join("\n"),
  );
});
