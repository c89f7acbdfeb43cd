import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, test } from "node:test";
import { renderExceptionsReport } from "../../src/cli/exceptions-output.js";
import { type CliRun, cli, costguard } from "../helpers/cli.js";

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

const dir = mkdtempSync(join(tmpdir(), "costguard-exc-cli-"));
const env = { COSTGUARD_NOTIFY_OUTBOX: join(dir, "notify.db") };

function workspace(): string[] {
  const config = join(dir, "costguard.yaml");
  writeFileSync(
    config,
    `policies: [${resolve("examples/policies")}]
database: ./state.db
exceptions:
  approvers:
    managers: {alice: carol}
    teams: {security: [frank], finops: [erin]}
  channels: [webhook:approvals]
people:
  carol: email:carol@company.com
`,
  );
  return ["--config", config];
}

const T = "2025-03-01T09:00:00Z";

describe("costguard exceptions", () => {
  const ws = workspace();
  const run = (...args: string[]) => inProcess([...args, ...ws], { env });
  const bin = (...args: string[]) => costguard([...args, ...ws], { env });
  let id = "";

  test("request prints the new exception's id", () => {
    const r = bin(
      "exceptions",
      "request",
      "--resource",
      "i-0abc",
      "--policy",
      "mandatory-tags",
      "--rule",
      "cost-center-required",
      "--justification",
      "migration in progress",
      "--duration",
      "30d",
      "--as",
      "alice",
      "--at",
      T,
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^exc-[0-9a-f]{10}\n$/);
    id = r.stdout.trim();
    assert.match(
      r.stderr,
      /pending approval \(approvers: carol \(manager of alice\), frank \(security team\)\)/,
    );
  });

  test("the requester approving their own exception is refused with exit 1", () => {
    const r = bin("exceptions", "approve", id, "--as", "alice");
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "");
    assert.match(
      r.stderr,
      new RegExp(`^costguard: refused: alice requested exception ${id} and cannot approve it`),
    );
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  test("someone outside the approvers is refused; an approver approves", async () => {
    const refused = await run("exceptions", "approve", id, "--as", "erin");
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /erin is not an eligible approver/);
    // Approved as of a time to come, it would apply from now for a duration counted from then, and
    // nothing could be recorded on it (a revocation) until that time: refused, nothing changed.
    const ahead = await run("exceptions", "approve", id, "--as", "frank", "--at", "2099-01-01T00:00:00Z");
    assert.equal(ahead.status, 2);
    assert.match(
      ahead.stderr,
      /^costguard: --at 2099-01-01T00:00:00Z is later than now \(.*\): an exception's changes are recorded as of now or earlier/,
    );
    const still = JSON.parse((await run("exceptions", "show", id, "--format", "json")).stdout);
    assert.equal(still.status, "pending");
    // Reading as of a later time is a what-if, and stays allowed.
    assert.equal((await run("exceptions", "list", "--at", "2099-01-01T00:00:00Z")).status, 0);
    const ok = await run("exceptions", "approve", id, "--as", "frank", "--at", T, "--format", "json");
    assert.equal(ok.status, 0, ok.stderr);
    const exc = JSON.parse(ok.stdout);
    assert.equal(exc.status, "approved");
    assert.equal(exc.expires_at, "2025-03-31T09:00:00.000Z");
  });

  test("list --requested-by and audit list --actor find a user in any case or way of writing the name", async () => {
    const mine = await run("exceptions", "list", "--requested-by", "ＡLICE", "--format", "json");
    assert.equal(mine.status, 0, mine.stderr);
    assert.deepEqual(
      JSON.parse(mine.stdout).map((e: { id: string }) => e.id),
      [id],
    );
    const approvals = await run("audit", "list", "--actor", "Frank", "--format", "json");
    assert.equal(approvals.status, 0, approvals.stderr);
    assert.deepEqual(
      JSON.parse(approvals.stdout).map((e: { actor: string; action: string }) => [e.actor, e.action]),
      [["frank", "exception.approved"]],
    );
  });

  test("list shows the status as of --at: expired after 30 days", async () => {
    const before = JSON.parse(
      (await run("exceptions", "list", "--format", "json", "--status", "approved", "--at", T)).stdout,
    );
    assert.deepEqual(
      before.map((e: { id: string }) => e.id),
      [id],
    );
    // A policy no exception names: nothing listed, and what it might have meant said on stderr.
    const misspelt = await run("exceptions", "list", "--policy", "mandatory-tag");
    assert.equal(misspelt.status, 0, misspelt.stderr);
    assert.equal(misspelt.stdout, "no exceptions\n");
    assert.match(
      misspelt.stderr,
      /^costguard: no exception names the policy mandatory-tag: did you mean mandatory-tags\? \(policies with exceptions: mandatory-tags\)\n$/,
    );
    const table = await run("exceptions", "list", "--at", "2025-04-01T00:00:00Z");
    assert.equal(table.status, 0);
    assert.match(table.stdout, new RegExp(`${id}\\s+expired\\s+temporary\\s+i-0abc\\s+mandatory-tags`));
    // An empty filter was no filter: every exception, as if it matched. A quoting slip: refused.
    for (const flag of ["--policy", "--requested-by", "--resource"]) {
      const empty = await run("exceptions", "list", flag, "");
      assert.equal(empty.status, 2, flag);
      assert.equal(empty.stderr, `costguard: ${flag} needs a value\n`);
    }
    for (const flag of ["--finding", "--policy", "--resource"]) {
      const empty = await run("exceptions", "request", flag, "", "--justification", "x", "--as", "bob");
      assert.equal(empty.status, 2, flag);
      assert.equal(empty.stderr, `costguard: ${flag} needs a value\n`);
    }
  });

  test("reject needs a reason; a decided exception cannot be rejected", async () => {
    const pending = await run(
      "exceptions",
      "request",
      "--match-tag",
      "team=ml",
      "--match-type",
      "compute/*",
      "--policy",
      "resource-limits",
      "--justification",
      "training cluster",
      "--as",
      "bob",
      "--at",
      T,
    );
    assert.equal(pending.status, 0, pending.stderr);
    const other = pending.stdout.trim();
    assert.equal((await run("exceptions", "reject", other, "--as", "frank")).status, 2);
    const rejected = await run(
      "exceptions",
      "reject",
      other,
      "--as",
      "frank",
      "--reason",
      "resize instead",
      "--at",
      T,
    );
    assert.equal(rejected.status, 0, rejected.stderr);
    assert.match(rejected.stdout, /rejected\s+conditional/);
    assert.match(rejected.stdout, /target\s+type=compute\/\*,tag:team=ml/);
    const again = await run("exceptions", "reject", other, "--as", "frank", "--reason", "x");
    assert.equal(again.status, 1);
    assert.match(again.stderr, /is rejected; only pending exceptions can be rejected/);
  });

  test("renew extends an expired exception; report counts it", async () => {
    const renewed = await run(
      "exceptions",
      "renew",
      id,
      "--as",
      "carol",
      "--duration",
      "7d",
      "--at",
      "2025-04-02T00:00:00Z",
      "--format",
      "json",
    );
    assert.equal(renewed.status, 0, renewed.stderr);
    assert.equal(JSON.parse(renewed.stdout).expires_at, "2025-04-09T00:00:00.000Z");
    const report = JSON.parse(
      (await run("exceptions", "report", "--format", "json", "--at", "2025-04-03T00:00:00Z")).stdout,
    );
    assert.deepEqual(report.by_status, { approved: 1, rejected: 1 });
    assert.deepEqual(report.by_type, { temporary: 1, conditional: 1 });
    assert.deepEqual(
      report.expiring_soon.map((e: { id: string }) => e.id),
      [id],
    );
    const text = await run("exceptions", "report", "--at", "2025-04-03T00:00:00Z");
    assert.match(text.stdout, /^Exceptions report at 2025-04-03T00:00:00\.000Z: 2 exceptions$/m);
    const one = renderExceptionsReport({ ...report, total: 1 }, false);
    assert.match(one, /^Exceptions report at 2025-04-03T00:00:00\.000Z: 1 exception$/m);
  });

  test("bad input: no user, unknown id, unknown policy, bad duration", async () => {
    const noUser = await run("exceptions", "approve", id);
    assert.equal(noUser.status, 2);
    assert.match(noUser.stderr, /--as USER/);
    assert.equal((await run("exceptions", "show", "exc-nope")).status, 2);
    const typo = await run(
      "exceptions",
      "request",
      "--resource",
      "i-1",
      "--policy",
      "mandatory-tag",
      "--justification",
      "x",
      "--as",
      "bob",
    );
    assert.equal(typo.status, 2);
    assert.match(typo.stderr, /did you mean 'mandatory-tags'/);
    const dur = await run(
      "exceptions",
      "request",
      "--resource",
      "i-1",
      "--policy",
      "mandatory-tags",
      "--justification",
      "x",
      "--duration",
      "soon",
      "--as",
      "bob",
    );
    assert.equal(dur.status, 2);
    assert.match(dur.stderr, /--duration must look like 30d/);
    // Under an hour is a slip, said without suggesting 0 (which an exception does not take either).
    const request = (...flags: string[]) =>
      run(
        "exceptions",
        "request",
        "--resource",
        "i-1",
        "--policy",
        "mandatory-tags",
        "--justification",
        "x",
        ...flags,
        "--as",
        "bob",
      );
    for (const [text, said] of [
      ["0.0001h", /^costguard: --duration must be at least an hour \(1h\), got '0\.0001h'$/m],
      ["0d", /^costguard: --duration must be at least an hour \(1h\), got '0d'$/m],
      [
        "1m",
        /^costguard: --duration must be at least an hour \(1h\), got '1m': m is minutes; a month is e\.g\. 30d$/m,
      ],
    ] as const) {
      const short = await request("--duration", text);
      assert.equal(short.status, 2, text);
      assert.match(short.stderr, said, text);
    }
    // A review interval is whole days: the message names only forms it takes (it named 90m, then refused it).
    for (const text of ["1.5", "90m"]) {
      const review = await request("--review-interval", text);
      assert.equal(review.status, 2, text);
      assert.match(
        review.stderr,
        new RegExp(
          `^costguard: --review-interval must be a whole number of days, e\\.g\\. 90, 90d or 2w, got '${text.replace(".", "\\.")}'$`,
          "m",
        ),
        text,
      );
    }
    // A selector's tags, for a request that is otherwise right.
    const selecting = (...tags: string[]) =>
      run(
        "exceptions",
        "request",
        ...tags.flatMap((t) => ["--match-tag", t]),
        "--policy",
        "mandatory-tags",
        "--justification",
        "x",
        "--as",
        "bob",
      );
    const proto = await selecting("__proto__=x");
    assert.equal(proto.status, 2);
    assert.match(proto.stderr, /--match-tag: `__proto__` is not a tag key/);
    // The second value of a tag replaced the first in silence.
    const twice = await selecting("team=web", "team=search");
    assert.equal(twice.status, 2);
    assert.match(
      twice.stderr,
      /--match-tag names the tag team twice \('web' and 'search'\): a resource has one value per tag/,
    );
    // Pairs listed with spaces after the commas: the keys are without them (" team" matched nothing).
    const spaced = await selecting("team=web, team=search");
    assert.equal(spaced.status, 2);
    assert.match(spaced.stderr, /--match-tag names the tag team twice/);
    // A name with a character nobody sees is a lookalike of another (frank + a zero-width space
    // approved by frank), and a control character would reach the terminal: refused, not echoed.
    for (const [as, code] of [
      ["frank\u200b", "200B"],
      ["bob\u001b[2J", "001B"],
      ["\u202ebob", "202E"],
    ] as const) {
      const r = await run(
        "exceptions",
        "request",
        "--resource",
        "i-1",
        "--policy",
        "mandatory-tags",
        "--justification",
        "x",
        "--as",
        as,
      );
      assert.equal(r.status, 2, as);
      assert.equal(
        r.stderr,
        `costguard: --as: a user name cannot hold an invisible or control character (this one has U+${code}); write the name plainly\n`,
      );
    }
    const fromEnv = await inProcess(["exceptions", "approve", id, ...ws], {
      env: { ...env, COSTGUARD_USER: "fr\u200dank" },
    });
    assert.equal(fromEnv.status, 2);
    assert.match(fromEnv.stderr, /^costguard: COSTGUARD_USER: a user name cannot hold .*U\+200D/);
  });

  test("a per-policy approver override naming no loaded policy is warned of (a misspelt name)", async () => {
    const config = join(dir, "override.yaml");
    writeFileSync(
      config,
      `policies: [${resolve("examples/policies")}]
database: ./override.db
exceptions:
  approvers:
    teams: {finops: [erin]}
    policies: {team-budget: [team:finops], team-budgets: [team:finops]}
`,
    );
    const r = await inProcess(
      [
        "exceptions",
        "request",
        "--policy",
        "team-budgets",
        "--resource",
        "i-9",
        "--justification",
        "x",
        "--as",
        "bob",
        "--config",
        config,
      ],
      { env },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr,
      /^costguard: warning: exceptions\.approvers\.policies names 'team-budget', which no loaded policy is: its approvers apply to nothing \(loaded: .*team-budgets/m,
    );
    assert.doesNotMatch(r.stderr, /'team-budgets'/);
  });

  test("a wildcard or pattern where only exact values match is warned of: the exception would cover nothing", async () => {
    const r = await run(
      "exceptions",
      "request",
      "--policy",
      "mandatory-tags",
      "--match-tag",
      "team=ml-.*",
      "--match-account",
      "1111*",
      "--justification",
      "x",
      "--as",
      "bob",
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stderr,
      /^costguard: warning: --match-tag team=ml-\.\* is matched as written: only --match-type takes a wildcard \(compute\/\*\); give the exact value$/m,
    );
    assert.match(r.stderr, /^costguard: warning: --match-account 1111\* is matched as written/m);
    const exact = await run(
      "exceptions",
      "request",
      "--policy",
      "mandatory-tags",
      "--resource",
      "i-0abc",
      "--justification",
      "x",
      "--as",
      "bob",
    );
    assert.doesNotMatch(exact.stderr, /matched as written/);
  });

  test("show, list and report notify no one: no outbox is opened, nor its file made", async () => {
    const outbox = join(dir, "unmade", "notify.db");
    for (const args of [["show", id], ["list"], ["report"]]) {
      const r = await inProcess(["exceptions", ...args, ...ws], { env: { COSTGUARD_NOTIFY_OUTBOX: outbox } });
      assert.equal(r.status, 0, `${args[0]}: ${r.stderr}`);
      assert.ok(!existsSync(join(dir, "unmade")), `${args[0]} made the outbox's folder`);
    }
  });
});

describe("exception notices", () => {
  test("every change is queued once in the outbox, to the people concerned and the configured channels", async () => {
    const list = await inProcess(["notify", "list", "--format", "json"], { env });
    assert.equal(list.status, 0, list.stderr);
    const messages = JSON.parse(list.stdout) as { id: string; channel: string; kind: string }[];
    const kinds = messages.map((m) => `${m.kind} ${m.channel}`);
    assert.ok(kinds.includes("exception.requested email:carol@company.com"), kinds.join("\n"));
    assert.ok(kinds.includes("exception.requested webhook:approvals"));
    assert.ok(kinds.includes("exception.approved webhook:approvals"));
    assert.equal(new Set(messages.map((m) => m.id)).size, messages.length);
  });
});

describe("costguard evaluate honours approved exceptions", () => {
  test("the excepted violation moves to excepted, with the id; --no-exceptions decides without it", async () => {
    const ws = workspace();
    const db = join(dir, "state.db");
    const request = JSON.stringify({
      id: "i-0abc",
      type: "compute/instance",
      tags: { "cost-center": "CC-123456", environment: "staging" },
    });
    const id = (
      await inProcess(
        [
          "exceptions",
          "request",
          "--resource",
          "i-0abc",
          "--policy",
          "mandatory-tags",
          "--rule",
          "cost-center-required",
          "--justification",
          "owner and project tags come with the migration",
          "--duration",
          "30d",
          "--as",
          "alice",
          ...ws,
        ],
        { env },
      )
    ).stdout.trim();
    assert.equal((await inProcess(["exceptions", "approve", id, "--as", "carol", ...ws], { env })).status, 0);
    const args = ["evaluate", "--policies", "examples/policies", "--database", db];
    const plain = await inProcess([...args, "--no-exceptions"], { input: request, env });
    assert.equal(plain.status, 1);
    const excepted = await inProcess(args, { input: request, env });
    assert.equal(excepted.status, 0, excepted.stderr);
    const d = JSON.parse(excepted.stdout);
    assert.equal(d.decision, "allow");
    assert.ok(d.excepted.length >= 1);
    assert.ok(d.excepted.every((v: { exception_id: string }) => v.exception_id === id));
    // The table shows them too, with the exception (it showed "no violations").
    const table = await inProcess([...args, "--format", "table"], { input: request, env });
    assert.match(
      table.stdout,
      new RegExp(
        `^i-0abc +ALLOW +mandatory-tags +cost-center-required +high +excepted ${id} +Required tag`,
        "m",
      ),
    );
    assert.doesNotMatch(table.stdout, /no violations/);
    // A --database that is not there is a slip, said (exit 2), not a new store without exceptions.
    const typo = join(tmpdir(), `costguard-typo-${process.pid}.db`);
    const missing = await inProcess(["evaluate", "--policies", "examples/policies", "--database", typo], {
      input: request,
      env,
    });
    assert.equal(missing.status, 2);
    assert.match(
      missing.stderr,
      /^costguard: no store at .*costguard-typo-\d+\.db: approved exceptions are read from an existing store/,
    );
    assert.equal(existsSync(typo), false);
    const other = await inProcess(args, { input: request.replace("i-0abc", "i-other"), env });
    assert.equal(other.status, 1, "another resource is not covered");
  });
});

describe("costguard plan honours approved exceptions", () => {
  test("an exception for a Terraform address moves its violations to excepted, in every format; --no-exceptions decides without it", async () => {
    const ws = workspace();
    const db = join(dir, "state.db");
    const plan = resolve("test/fixtures/terraform/aws-all-types.json");
    // The plan gate ignored exceptions: a GPU box approved by security was still denied at plan time.
    const id = (
      await inProcess(
        ["exceptions", "request", "--resource", "aws_instance.trainer", "--policy", "resource-limits"].concat(
          ["--justification", "the training box", "--duration", "30d", "--as", "alice", ...ws],
        ),
        { env },
      )
    ).stdout.trim();
    assert.match(id, /^exc-/);
    assert.equal((await inProcess(["exceptions", "approve", id, "--as", "frank", ...ws], { env })).status, 0);
    const trainer = async (...extra: string[]) => {
      const r = await inProcess(
        ["plan", plan, "-p", "examples/policies", "--database", db, "--format", "json", ...extra],
        {
          env,
        },
      );
      const doc = JSON.parse(r.stdout) as {
        resources: {
          address: string;
          violations: { policy: string }[];
          excepted?: { policy: string; exception_id: string }[];
        }[];
      };
      return doc.resources.find((x) => x.address === "aws_instance.trainer")!;
    };
    const plain = await trainer("--no-exceptions");
    assert.ok(plain.violations.some((v) => v.policy === "resource-limits"));
    assert.equal(plain.excepted, undefined);
    const honoured = await trainer();
    assert.ok(honoured.violations.every((v) => v.policy !== "resource-limits"));
    assert.ok(honoured.excepted!.length > 0);
    assert.ok(honoured.excepted!.every((v) => v.policy === "resource-limits" && v.exception_id === id));
    const table = await inProcess(["plan", plan, "-p", "examples/policies", "--database", db], { env });
    assert.match(
      table.stdout,
      new RegExp(`^\\[excepted ${id}\\] aws_instance\\.trainer: resource-limits/max-instance-size: `, "m"),
    );
    const markdown = await inProcess(
      ["plan", plan, "-p", "examples/policies", "--database", db, "--format", "markdown"],
      {
        env,
      },
    );
    assert.match(
      markdown.stdout,
      /### Covered by approved exceptions\n\n- `aws_instance\.trainer` — resource-limits\/max-instance-size/,
    );
    // SARIF: results suppressed externally (code scanning shows them dismissed); JUnit: system-out.
    const sarif = JSON.parse(
      (
        await inProcess(["plan", plan, "-p", "examples/policies", "--database", db, "--format", "sarif"], {
          env,
        })
      ).stdout,
    ) as { runs: { results: { ruleId: string; message: { text: string }; suppressions?: unknown[] }[] }[] };
    const suppressed = sarif.runs[0]!.results.filter((x) => x.suppressions);
    assert.equal(suppressed.length, honoured.excepted!.length);
    assert.ok(suppressed.every((x) => x.ruleId === "resource-limits/max-instance-size"));
    assert.deepEqual(suppressed[0]!.suppressions, [
      { kind: "external", status: "accepted", justification: `approved costguard exception ${id}` },
    ]);
    const junit = await inProcess(
      ["plan", plan, "-p", "examples/policies", "--database", db, "--format", "junit"],
      {
        env,
      },
    );
    assert.match(junit.stdout, new RegExp(`\\[excepted ${id}\\] resource-limits/max-instance-size: `));
  });
});

describe("costguard scan honours approved exceptions", () => {
  test("a finding an approved exception covers is stored as excepted, and open again once it is revoked", async () => {
    const ws = workspace();
    const db = join(dir, "state.db");
    const at = ["--at", "2025-03-03T09:00:00Z"];
    assert.equal(
      (
        await inProcess([
          "sandbox",
          "init",
          "--resources",
          "30",
          "--seed",
          "exc",
          "--no-billing",
          "--database",
          db,
          ...at,
        ])
      ).status,
      0,
    );
    const scan = (...extra: string[]) =>
      inProcess(
        [
          "scan",
          "--policies",
          "examples/policies",
          "--inventory",
          "sandbox",
          "--database",
          db,
          "--format",
          "json",
          ...at,
          ...extra,
        ],
        { env },
      );
    const first = JSON.parse((await scan()).stdout) as {
      findings: { resource_id: string; policy: string; rule: string; fingerprint: string }[];
    };
    const target = first.findings.find((f) => f.policy === "mandatory-tags")!;
    const id = (
      await inProcess(
        [
          "exceptions",
          "request",
          "--resource",
          target.resource_id,
          "--policy",
          target.policy,
          "--rule",
          target.rule,
          "--justification",
          "legacy",
          "--as",
          "alice",
          ...ws,
          // As of the scans: an exception applies from its approval on.
          ...at,
        ],
        { env },
      )
    ).stdout.trim();
    assert.equal(
      (await inProcess(["exceptions", "approve", id, "--as", "frank", ...ws, ...at], { env })).status,
      0,
    );
    const statusOf = async () => {
      const { openStore } = await import("../../src/store/open.js");
      const store = await openStore({ kind: "sqlite", path: db });
      try {
        return (await store.findings.get(target.fingerprint))?.status;
      } finally {
        await store.close();
      }
    };
    assert.equal(await statusOf(), "open");
    assert.equal((await scan()).status, 0);
    assert.equal(await statusOf(), "excepted");
    // findings show names the exception that covers it (kept with the finding as its scan matched it).
    const show = () => inProcess(["findings", "show", target.fingerprint, "--database", db], { env });
    assert.match(
      (await show()).stdout,
      new RegExp(`\n {2}status +excepted by ${id} \\(costguard exceptions show ${id}\\)\n`),
    );
    assert.equal(
      (
        await inProcess(["exceptions", "revoke", id, "--as", "alice", "--reason", "tagged now", ...ws], {
          env,
        })
      ).status,
      0,
    );
    // Revoked, the finding stays excepted until the next scan: said as such, naming what covered it.
    assert.match(
      (await show()).stdout,
      new RegExp(
        `\n {2}status +excepted at its last scan by ${id}, revoked since: the next scan opens it again \\(costguard exceptions show ${id}\\)\n`,
      ),
    );
    assert.equal((await scan()).status, 0);
    assert.equal(await statusOf(), "open");
  });

  test("--finding requests an exception for a stored finding, a detector's too; the next scan excepts it", async () => {
    const ws = workspace();
    const db = join(dir, "finding.db");
    const at = ["--at", "2025-03-03T09:00:00Z"];
    const init = await inProcess(
      [
        "sandbox",
        "init",
        "--resources",
        "60",
        "--seed",
        "exc-finding",
        "--no-billing",
        "--database",
        db,
        ...at,
      ],
      { env },
    );
    assert.equal(init.status, 0, init.stderr);
    const scan = () =>
      inProcess(
        ["scan", "--policies", "examples/policies", "--inventory", "sandbox", "--database", db, ...at],
        {
          env,
        },
      );
    assert.equal((await scan()).status, 0);
    const listed = await inProcess(
      ["findings", "list", "--policy", "idle-resource-detection", "--format", "json", "--database", db],
      { env },
    );
    const idle = (JSON.parse(listed.stdout) as { findings: { fingerprint: string; resource_id: string }[] })
      .findings[0];
    assert.ok(idle, "the sandbox has an idle instance");
    const request = (...extra: string[]) =>
      inProcess(
        [
          "exceptions",
          "request",
          "--justification",
          "failover standby",
          "--as",
          "alice",
          "--database",
          db,
          ...ws,
          // As of the scans: an exception applies from its approval on.
          ...at,
          ...extra,
        ],
        { env },
      );
    const asked = await request("--finding", idle.fingerprint, "--format", "json");
    assert.equal(asked.status, 0, asked.stderr);
    const exc = JSON.parse(asked.stdout) as { id: string; resource_id: string; policy: string; rule: string };
    assert.deepEqual(
      { resource_id: exc.resource_id, policy: exc.policy, rule: exc.rule },
      { resource_id: idle.resource_id, policy: "idle-resource-detection", rule: "low-utilization" },
    );
    assert.equal(
      (
        await inProcess(["exceptions", "approve", exc.id, "--as", "carol", "--database", db, ...ws, ...at], {
          env,
        })
      ).status,
      0,
    );
    assert.equal((await scan()).status, 0);
    const after = await inProcess(
      ["findings", "show", idle.fingerprint, "--format", "json", "--database", db],
      { env },
    );
    assert.equal((JSON.parse(after.stdout) as { status: string }).status, "excepted");

    // --finding stands alone; an unknown one is named; without it a policy is needed.
    const both = await request("--finding", idle.fingerprint, "--policy", "mandatory-tags");
    assert.equal(both.status, 2);
    assert.match(both.stderr, /--finding names the resource, policy and rule/);
    const unknown = await request("--finding", "0000000000000000");
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /no stored finding with fingerprint 0000000000000000/);
    const neither = await request("--resource", idle.resource_id);
    assert.equal(neither.status, 2);
    assert.match(neither.stderr, /say what it waives: --policy NAME/);
  });
});
