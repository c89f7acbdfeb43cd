import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { openOutbox } from "../../src/notify/open-outbox.js";
import { cli } from "../helpers/cli.js";

const NOW = "2024-09-20T00:00:00Z";

test("notify deliver --at later than now is refused: every failure's next attempt would go past now", async () => {
  const cwd = mkdtempSync(join(tmpdir(), "costguard-at-ahead-"));
  const env = { COSTGUARD_NOTIFY_OUTBOX: join(cwd, "outbox.db") };
  const outbox = await openOutbox(join(cwd, "outbox.db"), { env: {}, cwd });
  const created = Date.parse("2024-09-19T00:00:00Z");
  await outbox.enqueue([
    {
      id: "m1",
      channel: "webhook:nowhere",
      kind: "budget.threshold",
      subject: "s",
      text: "t",
      data: { title: "s", severity: "info", fields: [] },
      createdAt: created,
    },
  ]);
  await outbox.close();
  const ahead = await cli(["notify", "deliver", "--at", "2099-01-01T00:00:00Z"], { cwd, env, now: NOW });
  assert.equal(ahead.code, 2, ahead.stdout);
  assert.match(
    ahead.stderr,
    /^costguard: --at 2099-01-01T00:00:00Z is later than now \(2024-09-20T00:00:00\.000Z\): .*deliver without --at\n$/,
  );
  const after = await openOutbox(join(cwd, "outbox.db"), { env: {}, cwd });
  const [entry] = await after.list();
  await after.close();
  assert.deepEqual([entry!.attempts, entry!.nextAttemptAt], [0, created], "nothing was tried or moved");
  // As of now or earlier (a replay) it delivers as before: the failure is retried from then.
  const past = await cli(["notify", "deliver", "--at", "2024-09-19T12:00:00Z"], { cwd, env, now: NOW });
  assert.equal(past.code, 1, past.stderr);
  assert.match(past.stdout, /0 delivered, 1 to retry/);
});

test("budgets --notify --at later than now is refused before anything is queued; without --notify it looks ahead", async () => {
  const cwd = mkdtempSync(join(tmpdir(), "costguard-at-ahead-"));
  const config = join(cwd, "costguard.yaml");
  writeFileSync(config, `notify:\n  outbox: ${join(cwd, "outbox.db")}\n  defaultChannels: [webhook:bot]\n`);
  const args = [
    "budgets",
    "-p",
    resolve("examples/budgets/sample-budgets.yaml"),
    "-b",
    resolve("examples/billing/focus-1.0-sample.csv"),
    "--at",
    "2024-12-01T00:00:00Z",
  ];
  const ahead = await cli([...args, "--notify", "--config", config], { cwd, now: NOW });
  assert.equal(ahead.code, 2, ahead.stdout);
  assert.match(ahead.stderr, /^costguard: --at 2024-12-01T00:00:00Z is later than now .*without --notify\n$/);
  assert.equal(existsSync(join(cwd, "outbox.db")), false, "no outbox made, nothing queued");
  const whatIf = await cli(args, { cwd, now: NOW });
  assert.equal(whatIf.code, 0, whatIf.stderr);
});
