import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
import { failureReasons } from "../../src/cli/notify-options.js";
import { cli } from "../helpers/cli.js";

const failed = (error: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: `m${i}`, channel: "email:x@y", error, nextAttemptAt: 0 }));

test("failureReasons: the commonest reasons first, with counts; the rest counted", () => {
  assert.equal(failureReasons([]), "");
  assert.equal(
    failureReasons([
      ...failed("timeout", 2),
      ...failed("no SMTP server configured", 5),
      ...failed("HTTP 500", 1),
    ]),
    "5 × no SMTP server configured; 2 × timeout; 1 × HTTP 500",
  );
  assert.equal(failureReasons(failed("HTTP 500", 3), 1), "3 × HTTP 500");
  // Three shown; a fourth left over is shown too (a count of one reason would hide it for nothing).
  const four = [
    ...failed("no SMTP server configured", 4),
    ...failed("no Slack webhook configured for #finops", 3),
    ...failed("timeout", 2),
    ...failed("HTTP 500", 1),
  ];
  assert.equal(
    failureReasons(four),
    "4 × no SMTP server configured; 3 × no Slack webhook configured for #finops; 2 × timeout; 1 × HTTP 500",
  );
  // Two or more left over are counted, reasons and messages, each singular or plural.
  assert.equal(
    failureReasons([...four, ...failed("HTTP 502", 1)]),
    "4 × no SMTP server configured; 3 × no Slack webhook configured for #finops; 2 × timeout; 2 other reasons (2 messages)",
  );
  assert.equal(
    failureReasons([...four, ...failed("HTTP 502", 1)], 1),
    "4 × no SMTP server configured; 4 other reasons (7 messages)",
  );
  assert.equal(failureReasons([...failed("a", 1), ...failed("b", 1)], 1), "1 × a; 1 × b");
});

const dir = mkdtempSync(join(tmpdir(), "costguard-notify-report-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("a command whose notifications cannot leave says why on its one line", async () => {
  const config = join(dir, "costguard.yaml");
  writeFileSync(
    config,
    `policies: [${resolve("examples/policies")}]
database: ${join(dir, "store.db")}
notify:
  outbox: ${join(dir, "outbox.db")}
people:
  carol: email:carol@company.com
exceptions:
  approvers:
    managers: {alice: carol}
`,
  );
  const r = await cli(
    [
      "exceptions",
      "request",
      "--config",
      config,
      "--resource",
      "i-1",
      "--policy",
      "mandatory-tags",
      "--justification",
      "migration",
      "--duration",
      "7d",
      "--as",
      "alice",
    ],
    { cwd: dir, env: { COSTGUARD_SMTP_URL: "" } },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /costguard: notifications: 1 queued, 0 delivered, 1 to retry \(costguard notify deliver\): 1 × no SMTP server configured/,
  );
});

test("notify deliver with messages waiting but none due says they wait, not only '0 delivered'", async () => {
  const outbox = join(dir, "waiting.db");
  // An SMTP server that is not listening: the message is kept to be tried again.
  const send = await cli(
    ["notify", "send", "email:carol@company.com", "--text", "hello", "--outbox", outbox],
    {
      cwd: dir,
      env: { COSTGUARD_SMTP_URL: "smtp://127.0.0.1:1" },
    },
  );
  assert.equal(send.code, 1, send.stderr);
  // Its retry is scheduled later: nothing is due now.
  const deliver = await cli(["notify", "deliver", "--outbox", outbox], {
    cwd: dir,
    env: { COSTGUARD_SMTP_URL: "" },
  });
  assert.equal(deliver.code, 0, deliver.stderr);
  assert.equal(
    deliver.stdout,
    "notifications: 0 delivered, 0 to retry\n1 message waits to be tried again later, none due yet (costguard notify list --status pending says when)\n",
  );
});

test("notify send to a channel no configuration reaches is refused, and writes nothing", async () => {
  const outbox = join(dir, "unreached.db");
  for (const [channel, missing] of [
    ["email:carol@company.com", /no SMTP server configured/],
    ["slack:#finops", /no Slack webhook configured for #finops/],
    ["webhook:finops-bot", /no URL configured for webhook finops-bot/],
  ] as const) {
    const send = await cli(["notify", "send", channel, "--outbox", outbox], {
      cwd: dir,
      env: { COSTGUARD_SMTP_URL: "" },
    });
    assert.equal(send.code, 2, send.stderr);
    assert.match(send.stderr, missing);
    assert.match(send.stderr, /nothing was written to the outbox; configure it, then send again\n$/);
  }
  assert.equal(existsSync(outbox), false);
});

test("notify deliver where no outbox is yet says so and makes none (a mistyped --outbox is not a new empty one)", async () => {
  const typo = join(dir, "typo.db");
  const deliver = await cli(["notify", "deliver", "--outbox", typo], { cwd: dir, env: {} });
  assert.equal(deliver.code, 0, deliver.stderr);
  assert.equal(deliver.stdout, "notifications: 0 delivered, 0 to retry\n");
  assert.match(deliver.stderr, /^costguard: no notification outbox at \S+typo\.db yet: nothing to deliver/);
  assert.equal(existsSync(typo), false);
});

test("two stores of one seeded estate sharing the outbox file: the second says its notices were already there, not nothing", async () => {
  const cwd = mkdtempSync(join(dir, "shared-outbox-"));
  const at = ["--at", "2026-06-01T09:00:00Z"];
  const remediate = async (db: string) => {
    const init = await cli(
      ["sandbox", "init", "--database", db, "--resources", "40", "--seed", "shared", "--no-billing", ...at],
      { cwd },
    );
    assert.equal(init.code, 0, init.stderr);
    return cli(
      [
        "remediate",
        "-p",
        resolve("examples/policies"),
        "-i",
        "sandbox",
        "--database",
        db,
        "--execute",
        ...at,
      ],
      { cwd, env: { COSTGUARD_SMTP_URL: "" } },
    );
  };
  const first = await remediate(join(cwd, "a.db"));
  const queued = /costguard: notifications: (\d+) queued, 0 delivered/.exec(first.stderr);
  assert.ok(queued && Number(queued[1]) > 0, first.stderr);
  assert.doesNotMatch(first.stderr, /already in the outbox/);

  const second = await remediate(join(cwd, "b.db"));
  assert.match(
    second.stderr,
    new RegExp(`costguard: notifications: 0 queued, ${queued[1]} already in the outbox\\n`),
  );
  assert.ok(
    second.stderr.includes(
      `costguard: warning: ${queued[1]} messages were not queued: the outbox file ${join(cwd, ".costguard", "notify.db")} already holds ones with the same notice keys (handed over before a crash, or queued from another store using this outbox: give each store its own with notify.outbox or COSTGUARD_NOTIFY_OUTBOX)\n`,
    ),
    second.stderr,
  );
});
