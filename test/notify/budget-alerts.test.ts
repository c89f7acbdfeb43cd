import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { buildBudgetStateFromFile } from "../../src/budget/build-state.js";
import { staleBillingData } from "../../src/budget/state.js";
import { fireBudgetAlerts } from "../../src/notify/budget-alerts.js";
import { loadNotifyConfig } from "../../src/notify/config.js";
import { openOutbox } from "../../src/notify/open-outbox.js";
import { policiesFrom, type TestCharge, writeFocusCsv } from "../budget/focus-files.js";
import { cli } from "../helpers/cli.js";
import { createTestDatabase, SHARED_DATABASE } from "../helpers/databases.js";
import { startHttpReceiver } from "./receivers.js";

const POLICY = `apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: team-budgets}
spec:
  type: BudgetLimit
  rules:
    - name: team-a
      selector: {tags: {team: a}}
      budget:
        monthly: 1000
        alertThresholds:
          - {percent: 50, action: notify, channels: ["webhook:finops-bot", "slack:#finops"]}
          - {percent: 100, action: block-new-resources, channels: ["webhook:finops-bot"]}
`;

/** 10 USD an hour for team a through September and October 2024. */
function charges(): TestCharge[] {
  const out: TestCharge[] = [];
  const start = Date.parse("2024-09-01T00:00:00Z");
  for (let h = 0; h < 61 * 24; h++) {
    const s = new Date(start + h * 3_600_000).toISOString().replace(".000", "");
    const e = new Date(start + (h + 1) * 3_600_000).toISOString().replace(".000", "");
    out.push({ start: s, end: e, cost: "10", tags: { team: "a" } });
  }
  return out;
}

describe("budget alerts", () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-alerts-"));
  const policies = policiesFrom(dir, POLICY);
  const billing = writeFocusCsv(dir, "billing.csv", charges());

  test("each threshold fires once per period, however often budgets are evaluated", async () => {
    const outbox = await openOutbox(join(dir, "alerts.db"), { env: {}, cwd: dir });
    const fireAt = async (iso: string) => {
      const at = Date.parse(iso);
      const { state } = await buildBudgetStateFromFile(policies, billing, { at });
      return fireBudgetAlerts(state, { outbox, ledger: outbox, now: at });
    };
    // Day 2 (480 spent): 50% is reached on the forecast (10/h runs to 7200); 100% too.
    let fired = await fireAt("2024-09-03T00:00:00Z");
    assert.deepEqual(fired.fired, [
      "budget:team-budgets/team-a:monthly:2024-09:50",
      "budget:team-budgets/team-a:monthly:2024-09:100",
    ]);
    assert.equal(fired.enqueued, 3);
    const subjects = (await outbox.list()).map((m) => m.subject).sort();
    assert.deepEqual(subjects, [
      "Budget team-budgets/team-a is forecast to reach 100% of its monthly limit (2024-09)",
      "Budget team-budgets/team-a is forecast to reach 50% of its monthly limit (2024-09)",
      "Budget team-budgets/team-a is forecast to reach 50% of its monthly limit (2024-09)",
    ]);
    // Later runs in the same month, even with actual spend past both thresholds: nothing new.
    for (const at of ["2024-09-03T01:00:00Z", "2024-09-10T00:00:00Z", "2024-09-30T23:00:00Z"]) {
      fired = await fireAt(at);
      assert.deepEqual([fired.fired, fired.enqueued], [[], 0], at);
    }
    // A new month: the thresholds fire again, once.
    fired = await fireAt("2024-10-06T00:00:00Z");
    assert.deepEqual(fired.fired, [
      "budget:team-budgets/team-a:monthly:2024-10:50",
      "budget:team-budgets/team-a:monthly:2024-10:100",
    ]);
    fired = await fireAt("2024-10-07T00:00:00Z");
    assert.deepEqual(fired.fired, []);
    assert.equal((await outbox.list()).length, 6);
    await outbox.close();
  });

  test("billing data gone stale is reported once per place it ends, to every threshold's channels", async () => {
    const outbox = await openOutbox(join(mkdtempSync(join(dir, "stale-")), "alerts.db"), {
      env: {},
      cwd: dir,
    });
    const fireAt = async (iso: string) => {
      const at = Date.parse(iso);
      const { state } = await buildBudgetStateFromFile(policies, billing, { at });
      return fireBudgetAlerts(state, { outbox, ledger: outbox, now: at, stale: staleBillingData(state, at) });
    };
    // The data ends 2024-11-01: fresh on its last day, stale ten days later.
    let fired = await fireAt("2024-11-01T00:00:00Z");
    assert.equal(fired.staleReported, false);
    fired = await fireAt("2024-11-11T00:00:00Z");
    assert.equal(fired.staleReported, true);
    const stale = (await outbox.list()).filter((m) => m.kind === "budget.stale");
    assert.deepEqual(stale.map((m) => m.channel).sort(), ["slack:#finops", "webhook:finops-bot"]);
    assert.equal(stale[0]!.subject, "Budgets are not judged: billing data ends 2024-11-01T00:00:00.000Z");
    assert.match(
      stale[0]!.text,
      /^The billing data ends 2024-11-01T00:00:00\.000Z, 10 days before the evaluation time .*Check that the billing export still arrives \(.*billing\.csv\)\.$/,
    );
    // Again a day later: already said.
    fired = await fireAt("2024-11-12T00:00:00Z");
    assert.deepEqual([fired.staleReported, fired.enqueued], [false, 0]);
    await outbox.close();
  });

  test("thresholds that name no channels go to the configured default channels", async () => {
    const sub = mkdtempSync(join(dir, "defaults-"));
    const bare = policiesFrom(
      sub,
      POLICY.replace('channels: ["webhook:finops-bot", "slack:#finops"]', "channels: []").replace(
        ', channels: ["webhook:finops-bot"]',
        "",
      ),
    );
    const outbox = await openOutbox(join(sub, "alerts.db"), { env: {}, cwd: dir });
    const at = Date.parse("2024-09-03T00:00:00Z");
    const { state } = await buildBudgetStateFromFile(bare, billing, { at });
    const fired = await fireBudgetAlerts(state, {
      outbox,
      ledger: outbox,
      now: at,
      defaultChannels: ["email:finops@example.com"],
    });
    assert.equal(fired.fired.length, 2);
    assert.deepEqual(
      (await outbox.list()).map((m) => m.channel),
      ["email:finops@example.com", "email:finops@example.com"],
    );
    await outbox.close();
  });

  test("costguard budgets --notify delivers alerts to the configured receivers, once", async () => {
    const http = await startHttpReceiver();
    after(() => http.close());
    const config = join(dir, "costguard.yaml");
    writeFileSync(
      config,
      `notify:
  outbox: ${join(dir, "cli-outbox.db")}
  slack:
    webhooks:
      "#finops": ${http.url}/slack
  webhooks:
    finops-bot: ${http.url}/bot
`,
    );
    const run = (args: string[]) => cli(args, { cwd: dir, now: "2024-09-20T00:00:00Z" });
    const args = ["budgets", "-p", join(dir, "budgets.yaml"), "-b", billing, "--notify", "--config", config];
    let r = await run([...args, "--at", "2024-09-06T00:00:00Z"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /2 thresholds newly reached, 3 notifications queued/);
    assert.match(r.stderr, /3 delivered, 0 to retry/);
    r = await run([...args, "--at", "2024-09-07T00:00:00Z"]);
    assert.match(r.stderr, /0 thresholds newly reached, 0 notifications queued/);
    assert.equal(http.received.length, 3);
    assert.deepEqual(http.received.map((x) => x.path).sort(), ["/bot", "/bot", "/slack"]);
    r = await run(["notify", "list", "--config", config, "--format", "json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      JSON.parse(r.stdout).map((e: { status: string }) => e.status),
      ["delivered", "delivered", "delivered"],
    );
  });

  test("budgets --notify whose receivers are not configured says so once per channel and reason", async () => {
    const config = join(dir, "no-receivers.yaml");
    writeFileSync(config, `notify:\n  outbox: ${join(dir, "no-receivers-outbox.db")}\n`);
    const r = await cli(
      [
        "budgets",
        "-p",
        join(dir, "budgets.yaml"),
        "-b",
        billing,
        "--notify",
        "--config",
        config,
        "--at",
        "2024-09-06T00:00:00Z",
      ],
      { cwd: dir, now: "2024-09-20T00:00:00Z" },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /0 delivered, 3 to retry/);
    const lines = r.stderr.split("\n").filter((l) => l.startsWith("costguard: webhook:finops-bot: "));
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /; retrying after \S+ \(2 messages\)$/);
  });

  test("with outbox: store, two servers on one PostgreSQL database share the outbox and the ledger", async () => {
    const http = await startHttpReceiver();
    after(() => http.close());
    const database = await createTestDatabase(SHARED_DATABASE);
    after(() => database.drop());
    // Two working folders, as two machines would have: nothing of the outbox is kept in either.
    const servers = [mkdtempSync(join(dir, "server-a-")), mkdtempSync(join(dir, "server-b-"))];
    for (const cwd of servers)
      writeFileSync(
        join(cwd, "costguard.yaml"),
        `notify:\n  outbox: store\n  webhooks:\n    finops-bot: ${http.url}/bot\n  slack:\n    webhooks:\n      "#finops": ${http.url}/slack\n`,
      );
    const run = (cwd: string, args: string[]) =>
      cli(args, { cwd, env: { COSTGUARD_DATABASE_URL: database.url } });
    const args = ["budgets", "-p", join(dir, "budgets.yaml"), "-b", billing, "--notify"];
    let r = await run(servers[0]!, [...args, "--at", "2024-09-06T00:00:00Z"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /2 thresholds newly reached, 3 notifications queued/);
    r = await run(servers[1]!, [...args, "--at", "2024-09-07T00:00:00Z"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /0 thresholds newly reached, 0 notifications queued/,
      "the other server's ledger is shared",
    );
    assert.equal(http.received.length, 3);
    r = await run(servers[1]!, ["notify", "list", "--format", "json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      JSON.parse(r.stdout).map((e: { status: string }) => e.status),
      ["delivered", "delivered", "delivered"],
    );
    for (const cwd of servers) assert.ok(!existsSync(join(cwd, ".costguard", "notify.db")), "no outbox file");
    // The same outbox by flags, without a config file.
    r = await cli(["notify", "list", "--outbox", "store", "--database", database.url, "--format", "json"], {
      cwd: dir,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).length, 3);
  });

  test("config precedence: defaults < file < environment < flags", () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-config-"));
    const file = join(dir, "precedence.yaml");
    writeFileSync(
      file,
      "notify:\n  outbox: from-file.db\n  email:\n    smtp: smtp://file.example:25\n    from: file@example.com\n  webhooks:\n    bot: https://file.example/bot\n",
    );
    const base = loadNotifyConfig({ cwd: dir, env: {} });
    assert.equal(base.outbox, join(dir, ".costguard", "notify.db"));
    const fromFile = loadNotifyConfig({ cwd: dir, env: {}, file });
    assert.deepEqual(
      [fromFile.outbox, fromFile.email.smtp?.host, fromFile.webhooks.bot],
      [join(dir, "from-file.db"), "file.example", "https://file.example/bot"],
    );
    const fromEnv = loadNotifyConfig({
      cwd: dir,
      env: {
        COSTGUARD_CONFIG: file,
        COSTGUARD_NOTIFY_OUTBOX: "env.db",
        COSTGUARD_WEBHOOK_BOT: "https://env.example/bot",
      },
    });
    assert.deepEqual(
      [fromEnv.outbox, fromEnv.email.from, fromEnv.webhooks.bot],
      [join(dir, "env.db"), "file@example.com", "https://env.example/bot"],
    );
    const fromFlags = loadNotifyConfig({
      cwd: dir,
      env: { COSTGUARD_NOTIFY_OUTBOX: "env.db" },
      file,
      flags: { outbox: "/tmp/flag.db" },
    });
    assert.equal(fromFlags.outbox, "/tmp/flag.db");
    assert.ok(Object.isFrozen(fromFlags.retry));
    const defaults = loadNotifyConfig({
      cwd: dir,
      env: { COSTGUARD_NOTIFY_DEFAULT_CHANNELS: "slack:#finops, webhook:bot" },
    });
    assert.deepEqual(defaults.defaultChannels, ["slack:#finops", "webhook:bot"]);
    assert.throws(
      () => loadNotifyConfig({ cwd: dir, env: { COSTGUARD_NOTIFY_DEFAULT_CHANNELS: "pager:oncall" } }),
      /not a channel: pager:oncall/,
    );
    // Channels name outbox messages, which the store indexes: at most 260 characters.
    const address = `${"f".repeat(200)}@${"e".repeat(53)}`;
    assert.deepEqual(
      loadNotifyConfig({ cwd: dir, env: { COSTGUARD_NOTIFY_DEFAULT_CHANNELS: `email:${address}` } })
        .defaultChannels,
      [`email:${address}`],
    );
    assert.throws(
      () => loadNotifyConfig({ cwd: dir, env: { COSTGUARD_NOTIFY_DEFAULT_CHANNELS: `email:${address}x` } }),
      /not a channel: email:f+@e+x \(use slack:#name, email:address or webhook:NAME, at most 260 characters\)/,
    );
    writeFileSync(file, "notify:\n  webhook: {}\n");
    assert.throws(() => loadNotifyConfig({ cwd: dir, env: {}, file }), /unknown key notify.webhook/);
    // Inside the sections too: `slack: {webhook: URL}` configured nothing and said nothing.
    const refused: [string, RegExp][] = [
      [
        "  slack: {webhook: https://hooks.example/x}",
        /unknown key notify\.slack\.webhook \(known: webhooks\)/,
      ],
      ["  email: {sender: a@example.com}", /unknown key notify\.email\.sender \(known: smtp, from\)/],
      ["  email: {smtp: {host: h, prot: 25}}", /unknown key notify\.email\.smtp\.prot/],
      ["  retry: {batch: 5}", /unknown key notify\.retry\.batch/],
      ['  email: {smtp: "smtp://"}', /notify\.email\.smtp: names no server \(smtp:\/\/HOST:PORT\)/],
      ['  email: {from: "costguard"}', /notify\.email\.from: not an email address/],
    ];
    for (const [yaml, message] of refused) {
      writeFileSync(file, `notify:\n${yaml}\n`);
      assert.throws(() => loadNotifyConfig({ cwd: dir, env: {}, file }), message, yaml);
    }
    writeFileSync(file, 'notify:\n  email: {from: "FinOps <finops@example.com>"}\n');
    assert.equal(loadNotifyConfig({ cwd: dir, env: {}, file }).email.from, "FinOps <finops@example.com>");
    assert.throws(
      () => loadNotifyConfig({ cwd: dir, env: { COSTGUARD_SMTP_FROM: "nobody" } }),
      /COSTGUARD_SMTP_FROM: not an email address/,
    );
  });
});
