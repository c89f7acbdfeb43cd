import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, test } from "node:test";
import { type CliRun, cli, costguard } from "../helpers/cli.js";
import { twinInstance } from "../helpers/scan-context.js";

/** The CLI in this process (fast); the first tests run the real binary. */
async function inProcess(
  args: readonly string[],
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliRun> {
  const r = await cli([...args], {
    cwd: process.cwd(),
    env: options.env ?? {},
    ...(options.input === undefined ? {} : { input: options.input }),
  });
  return { status: r.code, stdout: r.stdout, stderr: r.stderr };
}

const AT = ["--at", "2025-03-03T09:00:00Z"];

async function workspace(
  remediation: string,
): Promise<{ args: string[]; env: NodeJS.ProcessEnv; db: string }> {
  const dir = mkdtempSync(join(tmpdir(), "costguard-rem-cli-"));
  const db = join(dir, "state.db");
  const config = join(dir, "costguard.yaml");
  writeFileSync(
    config,
    `policies: [${resolve("examples/policies")}]\ndatabase: ${db}\nremediation:\n${remediation}`,
  );
  const init = await inProcess([
    "sandbox",
    "init",
    "--resources",
    "40",
    "--seed",
    "cli",
    "--no-billing",
    "--database",
    db,
    ...AT,
  ]);
  assert.equal(init.status, 0, init.stderr);
  return {
    args: ["--config", config, "--inventory", "sandbox", ...AT],
    env: { COSTGUARD_NOTIFY_OUTBOX: join(dir, "notify.db") },
    db,
  };
}

describe("costguard remediate and run", () => {
  test("remediate is a dry run by default: it prints the plan and changes nothing", async () => {
    const ws = await workspace(
      "  grace: {high: 0, medium: 7d}\n  safety: {maxActions: 100, maxActionsPercent: 100}\n",
    );
    const before = costguard(["sandbox", "show", "--database", ws.db]).stdout;
    const r = costguard(["remediate", ...ws.args], { env: ws.env });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Remediation plan \(dry run\) at 2025-03-03T09:00:00.000Z\n/);
    assert.match(r.stdout, /ACTION\s+RESOURCE\s+SEVERITY\s+STATE\s+ACTS/);
    assert.match(r.stdout, /\ntag\s+\S+\s+high\s+due\s+now\s+mandatory-tags\/cost-center-required/);
    assert.match(r.stdout, /would warn the owner \(grace-started\)/);
    assert.match(r.stdout, /Dry run: nothing was changed\. Run again with --execute to act\.\n$/);
    assert.equal(costguard(["sandbox", "show", "--database", ws.db]).stdout, before);
  });

  test("remediate --limit: the table shows that many tasks, due first, and says how many more; json lists all", async () => {
    const ws = await workspace(
      "  grace: {high: 0, medium: 7d}\n  safety: {maxActions: 100, maxActionsPercent: 100}\n",
    );
    // Beside json, which lists every task, --limit would change nothing: refused.
    const limited = await inProcess(["remediate", "--format", "json", "--limit", "3", ...ws.args], {
      env: ws.env,
    });
    assert.equal(limited.status, 2);
    assert.equal(limited.stderr, "costguard: --limit does nothing with --format json: it lists every task\n");
    const json = await inProcess(["remediate", "--format", "json", ...ws.args], {
      env: ws.env,
    });
    assert.equal(json.status, 0, json.stderr);
    const plan = JSON.parse(json.stdout) as { due: unknown[]; waiting: unknown[]; passed: unknown[] };
    const tasks = plan.due.length + plan.waiting.length;
    assert.ok(
      plan.due.length > 3 && plan.waiting.length > 0,
      `${plan.due.length} due, ${plan.waiting.length} waiting`,
    );
    const r = await inProcess(["remediate", "--limit", "3", ...ws.args], { env: ws.env });
    assert.equal(r.status, 0, r.stderr);
    const rows = r.stdout.split("\n").filter((l) => /^(notify|tag|stop|resize|terminate|delete)\s/.test(l));
    assert.equal(rows.length, 3);
    assert.ok(
      rows.every((l) => /\s(now)\s/.test(l)),
      "the due tasks come first",
    );
    assert.match(
      r.stdout,
      new RegExp(
        `\\n\\.\\.\\. and ${tasks - 3} more tasks \\(${plan.due.length - 3} due, ${plan.waiting.length} in grace period\\): --limit 0 shows every one; --format json lists them all\\n`,
      ),
    );
    const all = await inProcess(["remediate", "--limit", "0", ...ws.args], { env: ws.env });
    assert.equal(
      all.stdout.split("\n").filter((l) => /^(notify|tag|stop|resize|terminate|delete)\s/.test(l)).length,
      tasks,
    );
    assert.doesNotMatch(all.stdout, /more tasks/);
    for (const bad of ["-1", "x", "1.5"]) {
      const b = await inProcess(["remediate", "--limit", bad, ...ws.args], { env: ws.env });
      assert.equal(b.status, 2);
      assert.equal(b.stderr, `costguard: --limit must be a whole number (0: every task), got ${bad}\n`);
    }
  });

  test("run --execute acts and prints the cycle summary; JSON has the guide's fields", async () => {
    const ws = await workspace("  grace: {high: 0}\n  safety: {maxActions: 100, maxActionsPercent: 100}\n");
    const r = await inProcess(["run", "--execute", "--format", "json", ...ws.args], { env: ws.env });
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout);
    for (const key of [
      "violations_found",
      "violations_actionable",
      "remediations_completed",
      "remediations_failed",
      "compliance_score",
      "duration_seconds",
    ])
      assert.ok(key in s, key);
    assert.equal(s.mode, "execute");
    assert.ok(s.remediations_completed > 0);
    assert.equal(s.remediations_failed, 0);
    assert.ok(s.compliance_score >= 0 && s.compliance_score <= 100);
    // The sandbox has metrics, dates and specs for everything: nothing was left unjudged.
    assert.deepEqual(s.not_judged, {
      idle_unmeasured: 0,
      idle_other_states: {},
      unattached_undated: 0,
      unverified_checks: {},
      unjudged_types: {},
    });
    const again = await inProcess(["run", ...ws.args], { env: ws.env });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /Mode\s+dry run \(nothing changed; --execute acts\)/);
    assert.match(again.stdout, /Compliance score\s+\d+\.\d\d% \((compliant|partial|non-compliant);/);
    assert.doesNotMatch(again.stdout, /Not judged/);
  });

  test("a dry run's summary counts the tasks it plans and the warnings it would send, storing and sending none", async () => {
    const ws = await workspace("  safety: {maxActions: 100, maxActionsPercent: 100}\n");
    const dry = await inProcess(["run", ...ws.args], { env: ws.env });
    assert.equal(dry.status, 0, dry.stderr);
    const planned = /Tasks planned\s+(\d+) \(dry run: none stored\)/.exec(dry.stdout);
    const warned = /Owner warnings\s+(\d+) \(dry run: none sent\)/.exec(dry.stdout);
    assert.ok(planned && Number(planned[1]) > 0, dry.stdout);
    assert.ok(warned && Number(warned[1]) > 0, dry.stdout);
    assert.doesNotMatch(dry.stdout, /Tasks created/);
    // Nothing was stored: acting then creates every task the dry run planned, and warns as many owners.
    const act = await inProcess(["run", "--execute", ...ws.args], { env: ws.env });
    assert.equal(act.status, 0, act.stderr);
    assert.match(act.stdout, new RegExp(`Tasks created\\s+${planned[1]}\n`));
    assert.match(act.stdout, new RegExp(`Owner warnings\\s+${warned[1]}\n`));
  });

  test("over the blast-radius cap: exit 1, nothing acted on", async () => {
    const ws = await workspace("  grace: {high: 0, medium: 0}\n  safety: {maxActions: 3}\n");
    const before = (await inProcess(["sandbox", "show", "--database", ws.db])).stdout;
    const r = await inProcess(["remediate", "--execute", ...ws.args], { env: ws.env });
    assert.equal(r.status, 1);
    assert.match(
      r.stdout,
      /ABORTED: blast radius: this run would change \d+ of \d+ resources, more than remediation\.safety\.maxActions \(3\)/,
    );
    assert.equal((await inProcess(["sandbox", "show", "--database", ws.db])).stdout, before);
    // A dry run over the cap does not tell the user to run again with --execute: that would abort too.
    const dry = await inProcess(["remediate", ...ws.args], { env: ws.env });
    assert.equal(dry.status, 1);
    assert.match(dry.stdout, /ABORTED: blast radius: /);
    assert.match(
      dry.stdout,
      /Dry run: nothing was changed, and --execute would change nothing either while the run is over the cap\.\n$/,
    );
  });

  test("bad input: acting on a file inventory, an unknown setting", async () => {
    const ws = await workspace("  grace: {high: 0}\n");
    const file = await inProcess(
      [
        "remediate",
        "--execute",
        "--config",
        ws.args[1]!,
        "--inventory",
        "file:examples/requests/compliant.json",
      ],
      { env: ws.env },
    );
    assert.equal(file.status, 2);
    assert.match(file.stderr, /the sandbox and aws can act, a file cannot/);
    // So a dry run over a file does not end by advising --execute, nor does run's summary.
    // (Default grace: nothing due, so no blast radius to exceed.)
    const estate = [
      ...["--policies", "examples/policies", "--database", ws.db],
      ...["--inventory", "file:examples/scan/estate.jsonl", ...AT],
    ];
    const dry = await inProcess(["remediate", ...estate, "--no-store"], { env: ws.env });
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(
      dry.stdout,
      /\nDry run: nothing was changed\. A file inventory cannot act: --execute needs the sandbox or aws inventory\.\n$/,
    );
    assert.doesNotMatch(dry.stdout, /Run again with --execute/);
    const summary = await inProcess(["run", ...estate], { env: ws.env });
    assert.equal(summary.status, 0, summary.stderr);
    assert.match(
      summary.stdout,
      /^Mode +dry run \(nothing changed; a file inventory cannot act: --execute needs the sandbox or aws inventory\)\n/,
    );
    // --verbose prints actions as they happen: in a dry run it printed nothing, and said nothing.
    for (const command of ["remediate", "run"]) {
      const verbose = await inProcess([command, ...ws.args, "--verbose"], { env: ws.env });
      assert.equal(verbose.status, 2, verbose.stderr);
      assert.equal(
        verbose.stderr,
        "costguard: --verbose prints each action's steps as it acts: it needs --execute (a dry run acts on nothing)\n",
      );
    }
    const bad = await workspace("  grace: {urgent: 1h}\n");
    const r = await inProcess(["remediate", ...bad.args], { env: bad.env });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /remediation\.grace\.urgent is not a known setting/);
    // The same --at as every command: a day the calendar has not is refused, not rolled over.
    const day = await inProcess(["remediate", ...ws.args, "--at", "2026-02-30"], { env: ws.env });
    assert.equal(day.status, 2);
    assert.match(
      day.stderr,
      /--at must be an ISO 8601 date or date-time \(e\.g\. 2026-06-01T00:00:00Z\), got 2026-02-30/,
    );
  });

  test("a file inventory listing one id in two accounts: two resources, each with its own task, owner and score", async () => {
    // Keyed by id alone, one account's stop superseded the other's, both tasks took the tags (and
    // owner) of one record, and the score counted one non-compliant resource of two.
    const dir = mkdtempSync(join(tmpdir(), "costguard-rem-twins-"));
    const twin = (account: string, owner: string, type: string, hourly: string) =>
      JSON.stringify(twinInstance(account, owner, type, hourly));
    const estate = join(dir, "twins.jsonl");
    writeFileSync(
      estate,
      `${twin("111111111111", "alice@company.com", "m5.large", "0.096")}\n${twin("222222222222", "bob@company.com", "m5.xlarge", "0.192")}\n`,
    );
    const config = join(dir, "costguard.yaml");
    writeFileSync(
      config,
      `policies: [${resolve("examples/policies")}]\ndatabase: ${join(dir, "state.db")}\n`,
    );
    const args = ["--config", config, "--inventory", `file:${estate}`, ...AT, "--format", "json"];
    const env = { COSTGUARD_NOTIFY_OUTBOX: join(dir, "notify.db") };

    const plan = await inProcess(["remediate", ...args], { env });
    assert.equal(plan.status, 0, plan.stderr);
    const p = JSON.parse(plan.stdout) as {
      created: { action: string; account: string; provider: string; region: string; owner: string }[];
      passed: unknown[];
    };
    assert.deepEqual(p.passed, []);
    assert.deepEqual(
      p.created.map((t) => [t.action, t.provider, t.account, t.region, t.owner].join(" ")).sort(),
      [
        "stop aws 111111111111 us-east-1 alice@company.com",
        "stop aws 222222222222 us-east-1 bob@company.com",
      ],
    );

    const run = await inProcess(["run", ...args], { env });
    assert.equal(run.status, 0, run.stderr);
    const s = JSON.parse(run.stdout);
    assert.equal(s.resources_scanned, 2);
    assert.equal(s.violations_found, 2);
    assert.equal(s.tasks_created, 2);
    assert.equal(s.non_compliant_resources, 2);
    assert.equal(s.compliance_score, 0);
  });

  test("run's summary says in its subject and title that it was a dry run", async () => {
    const ws = await workspace(
      "  channels: [webhook:bot]\n  safety: {maxActions: 100, maxActionsPercent: 100}\n",
    );
    const dry = await inProcess(["run", ...ws.args], { env: ws.env });
    assert.equal(dry.status, 0, dry.stderr);
    const listed = await inProcess(["notify", "list", "--format", "json"], { env: ws.env });
    const messages = JSON.parse(listed.stdout) as { subject: string; payload: { title?: string } }[];
    const summary = messages.find((m) => m.subject.startsWith("costguard: compliance"));
    assert.ok(summary, listed.stdout);
    assert.match(summary.subject, / on sandbox \(dry run\)$/);
    assert.match(JSON.stringify(summary), /Compliance scan complete \(dry run\): /);
  });

  test("run --no-store, as its messages advise: a look back scans and plans, storing nothing", async () => {
    const ws = await workspace("  safety: {maxActions: 100, maxActionsPercent: 100}\n");
    const args = ws.args.slice(0, -2); // without the workspace's --at
    const later = await inProcess(["run", ...args, "--at", "2025-03-04T09:00:00Z"], { env: ws.env });
    assert.equal(later.status, 0, later.stderr);
    const back = await inProcess(["run", ...ws.args], { env: ws.env });
    assert.equal(back.status, 2);
    assert.match(back.stderr, /or without storing it \(--no-store\) for a what-if\.\n$/);
    const whatIf = await inProcess(["run", ...ws.args, "--no-store", "--format", "json"], { env: ws.env });
    assert.equal(whatIf.status, 0, whatIf.stderr);
    const summary = JSON.parse(whatIf.stdout) as {
      mode: string;
      scan_start: string;
      violations_found: number;
    };
    assert.equal(summary.mode, "dry-run");
    assert.equal(summary.scan_start, "2025-03-03T09:00:00.000Z");
    assert.ok(summary.violations_found > 0);
    // Nothing stored: the latest stored scan is still the later one.
    const list = await inProcess(
      ["findings", "list", "--database", ws.db, "--format", "json", "--limit", "1"],
      {
        env: ws.env,
      },
    );
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, /"last_seen": ?"2025-03-04T09:00:00.000Z"/);
    assert.doesNotMatch(list.stdout, /"last_seen": ?"2025-03-03T09:00:00.000Z"/);
    // As for remediate: what --no-store makes pointless is refused.
    for (const [flag, why] of [
      ["--lock-timeout=1m", /^costguard: --lock-timeout does nothing with --no-store: only stored scans/],
      [
        "--allow-empty",
        /^costguard: --allow-empty does nothing with --no-store: a scan not stored resolves no findings\n$/,
      ],
    ] as const) {
      const r = await inProcess(["run", ...ws.args, "--no-store", flag], { env: ws.env });
      assert.equal(r.status, 2, r.stdout);
      assert.match(r.stderr, why);
    }
  });

  test("a look ahead (--at after now) stores nothing: refused unless --no-store, so later runs as of now still work", async () => {
    const ws = await workspace("  grace: {high: 0}\n  safety: {maxActions: 100, maxActionsPercent: 100}\n");
    const ahead = new Date(Date.now() + 40 * 86_400_000).toISOString();
    const args = ws.args.slice(0, -2); // without the workspace's --at
    for (const command of [
      ["remediate", ...args],
      ["run", ...args],
      ["scan", "-p", "examples/policies", "-i", "sandbox", "--database", ws.db],
    ]) {
      const r = await inProcess([...command, "--at", ahead], { env: ws.env });
      assert.equal(r.status, 2, `${command[0]}: ${r.stdout}`);
      assert.match(
        r.stderr,
        /^costguard: --at \S+ is later than now \(.*\): a scan stored as of then would refuse every scan/,
      );
    }
    for (const command of ["remediate", "run"]) {
      const look = await inProcess([command, ...args, "--at", ahead, "--no-store"], { env: ws.env });
      assert.equal(look.status, 0, `${command}: ${look.stderr}`);
    }
    // Nor acts: as of then, grace periods that have not ended would be over.
    for (const command of [
      ["remediate", ...args, "--no-store"],
      ["run", ...args],
    ]) {
      const acting = await inProcess([...command, "--at", ahead, "--execute"], { env: ws.env });
      assert.equal(acting.status, 2, `${command[0]}: ${acting.stdout}`);
      assert.match(
        acting.stderr,
        /^costguard: --at \S+ is later than now \(.*\): acting as of then would treat grace periods that have not ended as over; look ahead without --execute\n$/,
      );
    }
    // Nothing stored ahead: a run as of now is not refused.
    const now = await inProcess(["remediate", ...args], { env: ws.env });
    assert.equal(now.status, 0, now.stderr);
  });
});

test("--help of remediate and run says --lock-timeout waits for another run acting too, not only a scan", async () => {
  for (const command of ["remediate", "run"]) {
    const help = (await inProcess([command, "--help"])).stdout.replace(/\s+/g, " ");
    assert.match(
      help,
      /--lock-timeout <duration> wait this long \(30s, 10m, 1h\) for another run acting on the same inventory \(--execute\) or a stored scan of it already running to finish/,
      command,
    );
  }
  const scan = (await inProcess(["scan", "--help"])).stdout.replace(/\s+/g, " ");
  assert.match(scan, /for a stored scan of the same inventory already running to finish/);
});
