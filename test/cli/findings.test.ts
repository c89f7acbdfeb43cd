import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { openStore } from "../../src/store/open.js";
import { openSqliteDb } from "../../src/store/sqlite-db.js";
import { cli } from "../helpers/cli.js";
import { idleFinding } from "../helpers/findings.js";

const POLICIES = resolve("examples/policies");
const dir = mkdtempSync(join(tmpdir(), "costguard-cli-findings-"));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Listed {
  fingerprint: string;
  resource_id: string;
  severity: string;
  team: string;
  policy: string;
  status: string;
  savings_monthly: string;
  first_seen: string;
  last_seen: string;
  resolved_at: string | null;
}

interface ListDoc {
  findings: Listed[];
  count: number;
  matching: number;
  savings_monthly: Record<string, string>;
}

/** Cents of a decimal text, exactly (the example savings have at most a few decimals). */
const cents = (text: string) => Math.round(Number(text) * 100);

describe("costguard findings and scans: reading what stored scans kept", () => {
  const db = join(dir, "store.db");
  const estate = join(dir, "estate.jsonl");
  const lines = readFileSync("examples/scan/estate.jsonl", "utf8").trim().split("\n");
  const run = (args: string[]) => cli([...args, "--database", db], { cwd: dir });
  let gone: string[] = [];

  before(async () => {
    writeFileSync(estate, `${lines.join("\n")}\n`);
    const first = await run(["scan", "-p", POLICIES, "-i", `file:${estate}`, "--at", "2026-06-01T00:00:00Z"]);
    assert.equal(first.code, 0, first.stderr);
    // A day later a quarter of the estate is gone: its findings resolve.
    const kept = lines.filter((_, i) => i % 4 !== 0);
    gone = lines.filter((_, i) => i % 4 === 0).map((l) => (JSON.parse(l) as { id: string }).id);
    writeFileSync(estate, `${kept.join("\n")}\n`);
    const second = await run([
      "scan",
      "-p",
      POLICIES,
      "-i",
      `file:${estate}`,
      "--at",
      "2026-06-02T00:00:00Z",
    ]);
    assert.equal(second.code, 0, second.stderr);
  });

  const listJson = async (args: string[] = []): Promise<ListDoc> => {
    const r = await run(["findings", "list", "--format", "json", ...args]);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as ListDoc;
  };

  test("json lists every matching finding once, with the count and savings at stake", async () => {
    const open = await listJson();
    assert.ok(open.findings.length > 5);
    assert.equal(open.count, open.findings.length);
    assert.equal(open.matching, open.findings.length);
    assert.ok(open.findings.every((f) => f.status === "open"));
    assert.equal(new Set(open.findings.map((f) => f.fingerprint)).size, open.findings.length);
    assert.ok(
      open.findings.every((f) => !gone.includes(f.resource_id)),
      "gone resources are not open",
    );
    // Savings at stake: per resource the largest of its findings' savings, as the scan counts it.
    const largest = new Map<string, number>();
    for (const f of open.findings)
      largest.set(f.resource_id, Math.max(largest.get(f.resource_id) ?? 0, cents(f.savings_monthly)));
    const expected = [...largest.values()].reduce((a, b) => a + b, 0);
    assert.equal(cents(open.savings_monthly.USD!), expected);
    // The scan's own summary says the same.
    const scans = JSON.parse((await run(["scans", "list", "--format", "json"])).stdout) as {
      savings_monthly: string;
      findings: number;
    }[];
    assert.equal(cents(scans[0]!.savings_monthly), expected);
    assert.equal(scans[0]!.findings, open.findings.length);
    // --limit: the first of them in the same order, counted as listed; the biggest savings first
    // with --sort savings.
    for (const limit of [1, 3]) {
      const some = await listJson(["--limit", String(limit)]);
      assert.deepEqual(some.findings, open.findings.slice(0, limit));
      assert.deepEqual([some.count, some.matching], [limit, open.findings.length]);
    }
    const biggest = await listJson(["--limit", "2", "--sort", "savings"]);
    assert.deepEqual(
      biggest.findings.map((f) => cents(f.savings_monthly)),
      open.findings
        .map((f) => cents(f.savings_monthly))
        .sort((a, b) => b - a)
        .slice(0, 2),
    );
  });

  test("--status resolved lists what the second scan no longer saw; all is both", async () => {
    const resolved = await listJson(["--status", "resolved"]);
    assert.ok(resolved.findings.length > 0);
    for (const f of resolved.findings) {
      assert.ok(gone.includes(f.resource_id), `${f.resource_id} was scanned again yet resolved`);
      assert.equal(f.resolved_at, "2026-06-02T00:00:00.000Z");
      assert.equal(f.last_seen, "2026-06-01T00:00:00.000Z");
    }
    const all = await listJson(["--status", "all"]);
    const open = await listJson(["--status", "open"]);
    assert.equal(all.findings.length, open.findings.length + resolved.findings.length);
    const still = open.findings[0]!;
    assert.equal(still.first_seen, "2026-06-01T00:00:00.000Z");
    assert.equal(still.last_seen, "2026-06-02T00:00:00.000Z");
  });

  test("filters by severity, team and policy narrow the list to what they name", async () => {
    const all = await listJson(["--status", "all"]);
    const high = await listJson(["--status", "all", "--severity", "critical,high"]);
    assert.deepEqual(
      high.findings.map((f) => f.fingerprint),
      all.findings
        .filter((f) => f.severity === "critical" || f.severity === "high")
        .map((f) => f.fingerprint),
    );
    assert.ok(high.findings.length > 0 && high.findings.length < all.findings.length);
    const team = all.findings[0]!.team;
    const byTeam = await listJson(["--status", "all", "--team", team]);
    assert.deepEqual(
      byTeam.findings.map((f) => f.fingerprint),
      all.findings.filter((f) => f.team === team).map((f) => f.fingerprint),
    );
    const policy = await listJson(["--status", "all", "--policy", "mandatory-tags"]);
    assert.ok(policy.findings.length > 0);
    assert.ok(policy.findings.every((f) => f.policy === "mandatory-tags"));
    // What to act on: by recommended action, and what is worth it (savings compared as amounts).
    type Acted = { recommendation: { action: string }; savings_monthly: string };
    const acts = (all.findings as unknown as Acted[]).map((f) => f.recommendation.action);
    const stopDelete = await listJson(["--status", "all", "--action", "stop,delete"]);
    assert.equal(stopDelete.findings.length, acts.filter((a) => a === "stop" || a === "delete").length);
    assert.ok(stopDelete.findings.length > 0 && stopDelete.findings.length < all.findings.length);
    const amounts = (all.findings as unknown as Acted[])
      .map((f) => Number(f.savings_monthly))
      .sort((a, b) => a - b);
    const floor = amounts[Math.floor(amounts.length * 0.9)]!;
    const worth = await listJson(["--status", "all", "--min-savings", String(floor)]);
    assert.equal(worth.findings.length, amounts.filter((a) => a >= floor).length);
    assert.ok(worth.findings.length > 0 && worth.findings.length < all.findings.length);
    assert.ok((worth.findings as unknown as Acted[]).every((f) => Number(f.savings_monthly) >= floor));
  });

  test("filters by account, region and resource type (a category with category/*)", async () => {
    type Placed = { account: string | null; region: string | null; resource_type: string };
    const all = (await listJson(["--status", "all"])).findings as unknown as Placed[];
    const count = (keep: (f: Placed) => boolean) => all.filter(keep).length;
    const account = all[0]!.account!;
    const byAccount = (await listJson(["--status", "all", "--account", account]))
      .findings as unknown as Placed[];
    assert.equal(
      byAccount.length,
      count((f) => f.account === account),
    );
    assert.ok(byAccount.length > 0 && byAccount.length < all.length);
    const regions = [...new Set(all.map((f) => f.region))].filter((r) => r !== null).slice(0, 2);
    const byRegion = await listJson(["--status", "all", "--region", regions.join(","), "--account", account]);
    assert.equal(
      byRegion.findings.length,
      count((f) => f.account === account && regions.includes(f.region!)),
    );
    const volumes = await listJson(["--status", "all", "--type", "storage/volume"]);
    const storage = await listJson(["--status", "all", "--type", "storage/*"]);
    assert.equal(
      volumes.findings.length,
      count((f) => f.resource_type === "storage/volume"),
    );
    assert.ok(volumes.findings.length > 0);
    assert.equal(
      storage.findings.length,
      count((f) => f.resource_type.startsWith("storage/")),
    );
    const both = await listJson(["--status", "all", "--type", "storage/*,compute/instance"]);
    assert.equal(
      both.findings.length,
      count((f) => f.resource_type.startsWith("storage/") || f.resource_type === "compute/instance"),
    );
    // A type misspelt matches nothing, and the table says what it may have meant.
    const misspelt = await run(["findings", "list", "--type", "storage/volumes"]);
    assert.equal(misspelt.code, 0, misspelt.stderr);
    assert.equal(
      misspelt.stdout,
      "No open findings.\nNo resource type storage/volumes is one costguard's inventories give: did you mean storage/volume?\n",
    );
  });

  test("--older-than keeps findings first seen more than that long before --at (or now)", async () => {
    // Every finding here was first seen at 2026-06-01T00:00:00Z.
    const open = await listJson();
    const older = async (age: string, at?: string) =>
      (await listJson(["--older-than", age, ...(at ? ["--at", at] : [])])).findings.length;
    assert.equal(await older("1d"), open.findings.length);
    assert.equal(await older("11h", "2026-06-01T12:00:00Z"), open.findings.length);
    assert.equal(await older("13h", "2026-06-01T12:00:00Z"), 0);
    // More than a day: seen exactly a day before is not.
    assert.equal(await older("1d", "2026-06-02T00:00:00Z"), 0);
    assert.equal(await older("1d", "2026-06-02T00:00:00.001Z"), open.findings.length);
    const refused = await run(["findings", "list", "--at", "2026-06-02T00:00:00Z"]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--at does nothing without --older-than/);
    // The table says the age it filtered by (none that old is not none open), and from when.
    const none = await run(["findings", "list", "--older-than", "13h", "--at", "2026-06-01T12:00:00Z"]);
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout, "No open findings first seen more than 13h before 2026-06-01T12:00:00Z.\n");
    const summary = await run(["findings", "summary", "--older-than", "13h", "--at", "2026-06-01T12:00:00Z"]);
    assert.match(summary.stdout, /^No open findings first seen more than 13h before 2026-06-01T12:00:00Z\./m);
    const fromNow = await run(["findings", "list", "--older-than", "36500d"]);
    assert.equal(fromNow.stdout, "No open findings first seen more than 36500d ago.\n");
  });

  test("summary totals the findings by team, account, type...: each group's count, resources and savings", async () => {
    type Group = {
      group: string | null;
      count: number;
      resources: number;
      savings_monthly: Record<string, string>;
    };
    type Summary = { by: string; groups: Group[]; count: number; savings_monthly: Record<string, string> };
    const summary = async (args: string[]): Promise<Summary> => {
      const r = await run(["findings", "summary", "--format", "json", ...args]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as Summary;
    };
    const open = await listJson();
    type Found = Listed & { account: string | null; resource_type: string };
    const found = open.findings as Found[];
    for (const [by, key] of [
      ["team", (f: Found) => f.team],
      ["account", (f: Found) => f.account],
      ["type", (f: Found) => f.resource_type],
    ] as const) {
      const s = await summary(["--by", by]);
      assert.equal(s.by, by);
      // A resource is in one group of these: the groups add up to the whole, as the list counts it.
      assert.equal(s.count, open.count);
      assert.deepEqual(s.savings_monthly, open.savings_monthly);
      for (const g of s.groups) {
        const mine = found.filter((f) => key(f) === g.group);
        assert.equal(g.count, mine.length, `${by} ${g.group}`);
        assert.equal(g.resources, new Set(mine.map((f) => f.resource_id)).size, `${by} ${g.group}`);
      }
      assert.equal(
        s.groups.reduce((n, g) => n + g.count, 0),
        open.count,
      );
      const usd = s.groups.map((g) => cents(g.savings_monthly.USD ?? "0"));
      assert.deepEqual(
        usd,
        [...usd].sort((a, b) => b - a),
        `${by}: the largest savings first`,
      );
    }
    // Filters are those of list.
    const high = await summary(["--by", "team", "--severity", "high"]);
    assert.equal(high.count, found.filter((f) => f.severity === "high").length);
    // By policy a resource may count in two groups: the table says so, and the whole is counted once.
    const byPolicy = await run(["findings", "summary", "--by", "policy"]);
    assert.equal(byPolicy.code, 0, byPolicy.stderr);
    assert.match(byPolicy.stdout, /^POLICY +FINDINGS +RESOURCES +SAVINGS\/MONTH\n/);
    assert.match(
      byPolicy.stdout,
      /open findings in \d+ policies: .* counts in each, so they add up to more\)\n$/,
    );
    const csv = await run(["findings", "summary", "--by", "region", "--format", "csv"]);
    assert.equal(csv.stdout.split("\n")[0], "region,findings,resources,savings_monthly,currency");
    const wrong = await run(["findings", "summary", "--by", "acount"]);
    assert.equal(wrong.code, 2);
    assert.match(
      wrong.stderr,
      /--by must be one of team, account, region, type, .*got acount \(did you mean account\?\)/,
    );
  });

  test("--inventory that no scan read says which inventories the scans did read", async () => {
    const wrong = await run(["findings", "list", "--inventory", "aws"]);
    assert.equal(wrong.code, 0, wrong.stderr);
    assert.equal(
      wrong.stdout,
      `No open findings.\nNo scan read an inventory named aws; the latest scans read: file:${estate}\n`,
    );
    // Real names with nothing matching get no hint (a resource gone has resolved findings only).
    const resolved = (await listJson(["--status", "resolved"])).findings[0]!;
    const none = await run([
      "findings",
      "list",
      "--inventory",
      `file:${estate}`,
      "--policy",
      resolved.policy,
      "--resource",
      resolved.resource_id,
    ]);
    assert.equal(none.stdout, "No open findings.\n");
  });

  test("--region, --account, --resource or --exception that names nothing stored says so, with what is", async () => {
    const r = await run([
      "findings",
      "list",
      "--region",
      "us-east-1,us-east-9",
      "--account",
      "000000000000",
      "--resource",
      "i-nosuch",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^No stored finding is in the region us-east-9 \(did you mean us-east-1\?\); stored findings are in: [^\n]*\bus-east-1\b/m,
    );
    assert.doesNotMatch(r.stdout, /region us-east-1\b/, "a real one of several is not hinted at");
    assert.match(
      r.stdout,
      /^No stored finding is in the account 000000000000; stored findings are in: [^\n]*\b345678901234\b/m,
    );
    assert.match(r.stdout, /^No stored finding, of any status, is of a resource named i-nosuch$/m);
    const exception = await run(["findings", "summary", "--exception", "exc-nosuch"]);
    assert.equal(exception.code, 0, exception.stderr);
    assert.match(
      exception.stdout,
      /\nNo exception exc-nosuch is stored: costguard exceptions list shows those that are\n$/,
    );
  });

  test("--policy or --team that no scan found findings of says which the scans did", async () => {
    const r = await run(["findings", "list", "--policy", "mandatory-tag", "--team", "nobody"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^No scan found findings of a policy named mandatory-tag \(did you mean mandatory-tags\?\); the latest scans found findings of: [^\n]*\bmandatory-tags\b/m,
    );
    assert.match(
      r.stdout,
      /^No scan found findings of a team named nobody; the latest scans found findings of: [^\n]*\bpayments\b/m,
    );
    const typo = await run(["findings", "list", "--team", "paymnts"]);
    assert.match(
      typo.stdout,
      /^No scan found findings of a team named paymnts \(did you mean payments\?\);/m,
    );
  });

  test("the table shows the biggest savings first and says how many it left out", async () => {
    const open = await listJson();
    const r = await run(["findings", "list", "--limit", "3"]);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.split("\n").filter((l) => /^[0-9a-f]{16} /.test(l));
    assert.equal(rows.length, 3);
    const top = [...open.findings].sort(
      (a, b) =>
        cents(b.savings_monthly) - cents(a.savings_monthly) || (a.fingerprint < b.fingerprint ? -1 : 1),
    );
    assert.deepEqual(
      rows.map((l) => l.slice(0, 16)),
      top.slice(0, 3).map((f) => f.fingerprint),
    );
    assert.match(
      r.stdout,
      new RegExp(`3 of ${open.findings.length} open findings, biggest savings first: [\\d,.]+ USD per month`),
    );
  });

  test("csv carries each finding with its lifecycle", async () => {
    const r = await run(["findings", "list", "--status", "all", "--format", "csv"]);
    assert.equal(r.code, 0, r.stderr);
    const [header, ...rows] = r.stdout.trim().split("\n");
    const columns = header!.split(",");
    for (const c of ["fingerprint", "status", "first_seen", "last_seen", "resolved_at", "savings_monthly"])
      assert.ok(columns.includes(c), c);
    const all = await listJson(["--status", "all"]);
    assert.equal(rows.length, all.findings.length);
    assert.ok(rows.some((l) => l.includes(",resolved,")));
  });

  test("show prints one finding in full; json is the stored finding", async () => {
    const open = await listJson();
    const f = open.findings.find((x) => x.policy === "idle-resource-detection") ?? open.findings[0]!;
    const text = await run(["findings", "show", f.fingerprint]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^${f.fingerprint}  ${f.policy}/`));
    assert.match(text.stdout, /checks\n {4}- /);
    assert.match(text.stdout, /first seen +2026-06-01T00:00:00.000Z \(scan scan-/);
    const json = await run(["findings", "show", f.fingerprint, "--format", "json"]);
    assert.deepEqual(JSON.parse(json.stdout), f);
    const missing = await run(["findings", "show", "0000000000000000"]);
    assert.equal(missing.code, 2);
    assert.equal(missing.stderr, "costguard: no stored finding with fingerprint 0000000000000000\n");
  });

  test("show takes a start of a fingerprint no other finding has, as git takes a commit's", async () => {
    const all = (await listJson(["--status", "all"])).findings.map((x) => x.fingerprint).sort();
    const whole = await run(["findings", "show", all[0]!, "--format", "json"]);
    // The shortest start (4 or more) that only this fingerprint has, given in capitals.
    const unique = (fp: string) => {
      for (let n = 4; n <= fp.length; n++) {
        const start = fp.slice(0, n);
        if (all.filter((x) => x.startsWith(start)).length === 1) return start;
      }
      return fp;
    };
    const short = await run(["findings", "show", unique(all[0]!).toUpperCase(), "--format", "json"]);
    assert.equal(short.code, 0, short.stderr);
    assert.equal(short.stdout, whole.stdout);
    // One shorter than 4 is not taken for a fingerprint (a start several share: the store contract).
    const three = await run(["findings", "show", all[0]!.slice(0, 3)]);
    assert.equal(three.code, 2);
    assert.match(
      three.stderr,
      /no stored finding with fingerprint \w{3} \(a start of a fingerprint is taken from 4 characters: give more of it\)/,
    );
  });

  test("scans list is the history newest first; show gives one scan's counts", async () => {
    const r = await run(["scans", "list"]);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.split("\n").filter((l) => l.startsWith("scan-"));
    assert.equal(rows.length, 2);
    assert.match(rows[0]!, /2026-06-02T00:00:00.000Z +completed/);
    assert.match(rows[1]!, /2026-06-01T00:00:00.000Z +completed/);
    const history = JSON.parse((await run(["scans", "list", "--format", "json"])).stdout) as {
      id: string;
      resolved_findings: number;
    }[];
    const resolved = await listJson(["--status", "resolved"]);
    assert.equal(history[0]!.resolved_findings, resolved.findings.length);
    const show = await run(["scans", "show", history[0]!.id]);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, new RegExp(`findings +\\d+: 0 new, ${resolved.findings.length} resolved`));
    assert.match(show.stdout, /by severity +high \d+/);
    // Where the findings it counted are read: what it resolved (it found nothing new).
    assert.match(
      show.stdout,
      new RegExp(`\n {2}read them +costguard findings list --resolved-in ${history[0]!.id}\n`),
    );
    const first = await run(["scans", "show", history[1]!.id]);
    assert.match(
      first.stdout,
      new RegExp(`\n {2}read them +costguard findings list --new-in ${history[1]!.id}\n`),
    );
    const limited = JSON.parse(
      (await run(["scans", "list", "--format", "json", "--limit", "1"])).stdout,
    ) as unknown[];
    assert.equal(limited.length, 1);
    // csv: a row per scan, as json has it, for a spreadsheet's trend.
    const csv = await run(["scans", "list", "--format", "csv"]);
    assert.equal(csv.code, 0, csv.stderr);
    const [header, ...csvRows] = csv.stdout.trimEnd().split("\n");
    assert.equal(
      header,
      "id,inventory,started_at,finished_at,status,resources_scanned,findings,new_findings,resolved_findings,excepted_findings,savings_monthly,excepted_savings_monthly,currency,resources_billed,policy_revision,error",
    );
    const full = JSON.parse((await run(["scans", "list", "--format", "json"])).stdout) as Record<
      string,
      unknown
    >[];
    assert.deepEqual(
      csvRows.map((row) => row.split(",")),
      full.map((s) =>
        [
          s.id,
          s.inventory,
          s.started_at,
          s.finished_at,
          "completed",
          s.resources_scanned,
          s.findings,
          s.new_findings,
          s.resolved_findings,
          0,
          s.savings_monthly,
          0,
          "USD",
          0,
          s.policy_revision,
          "",
        ].map(String),
      ),
    );
    // --inventory naming no scanned inventory: said so, with those the scans read ("No scans stored."
    // of a store holding them was untrue).
    const other = await run(["scans", "list", "--inventory", "estate.jsonl"]);
    assert.equal(other.code, 0, other.stderr);
    assert.equal(
      other.stdout,
      `No scan read an inventory named estate.jsonl; the latest scans read: file:${estate}\n`,
    );
    const missing = await run(["scans", "show", "scan-nope"]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no stored scan with id scan-nope/);
    // The newest without its id (or `latest`), and a start of an id as for fingerprints: ids are long.
    const heading = (text: string) => text.split(/\s+/)[0];
    for (const args of [[], ["latest"], [history[1]!.id.slice(0, "scan-20260601".length)]]) {
      const found = await run(["scans", "show", ...args]);
      assert.equal(found.code, 0, found.stderr);
      assert.equal(
        heading(found.stdout),
        args.length === 1 && args[0] !== "latest" ? history[1]!.id : history[0]!.id,
      );
    }
    const shared = await run(["scans", "show", "scan-202606"]);
    assert.equal(shared.code, 2);
    assert.equal(
      shared.stderr,
      `costguard: scan-202606 is the start of 2 scan ids (${history[1]!.id}, ${history[0]!.id}): give more of it\n`,
    );
  });

  test("bad flags are one clear line and exit 2; a store that does not exist is not created", async () => {
    const cases: [string[], RegExp][] = [
      [["findings", "list", "--status", "closed"], /--status must be open, resolved, excepted or all/],
      [["findings", "list", "--severity", "urgent"], /--severity must be critical, high, medium, low or all/],
      [["findings", "list", "--format", "xml"], /--format must be table, json or csv, got xml/],
      [
        ["findings", "list", "--limit", "-1"],
        /--limit must be a whole number up to 1,000,000,000 \(0: every one\), got -1/,
      ],
      [["findings", "list", "--format", "csv", "--sort", "savings"], /--sort savings needs --limit/],
      [["findings", "list", "--sort", "age"], /--sort must be savings or stored, got age/],
      [
        ["findings", "list", "--action", "nuke"],
        /--action must be notify, tag, stop, resize, terminate, delete or all/,
      ],
      [
        ["findings", "list", "--min-savings", "-5"],
        /--min-savings must be an amount of zero or more .*got -5/,
      ],
      [
        ["findings", "list", "--min-savings", "lots"],
        /--min-savings must be an amount of zero or more .*got lots/,
      ],
      [["findings", "list", "--type", "*"], /--type takes resource types .*got \*: leave --type out/],
      [["findings", "list", "--type", "compute*"], /--type takes resource types .*got compute\*$/m],
      [
        ["findings", "list", "--type", "storage/"],
        /--type takes resource types .*got storage\/ \(did you mean storage\/\*\?\)$/m,
      ],
      [["findings", "list", "--account", ","], /--account needs a value/],
      [["findings", "list", "--older-than", "a while"], /--older-than must look like 30d, 24h, 90m or 2w/],
      [["findings", "list", "--older-than", "40000d"], /--older-than is at most 36,500 days/],
      [["scans", "list", "--limit", "x"], /--limit must be a whole number/],
      [
        ["findings", "list", "--limit", "99999999999999999999"],
        /--limit must be a whole number up to 1,000,000,000/,
      ],
      [["scans", "list", "--limit", "1000000001"], /--limit must be a whole number up to 1,000,000,000/],
      // An empty name (a quoting slip) matched nothing: "No scans stored." of a store full of them.
      [["findings", "list", "--team", ""], /^costguard: --team needs a value\n$/],
      [["findings", "list", "--policy", " "], /^costguard: --policy needs a value\n$/],
      [["findings", "list", "--resource", ""], /^costguard: --resource needs a value\n$/],
      [["findings", "list", "--inventory", ""], /^costguard: --inventory needs a value\n$/],
      [["scans", "list", "--inventory", ""], /^costguard: --inventory needs a value\n$/],
    ];
    for (const [args, message] of cases) {
      const r = await run(args);
      assert.equal(r.code, 2, args.join(" "));
      assert.match(r.stderr, message);
      assert.equal(r.stderr.split("\n").length, 2, "one line");
    }
    const nowhere = join(dir, "nowhere", "store.db");
    const r = await cli(["findings", "list", "--database", nowhere], { cwd: dir });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no store at .*nowhere\/store\.db: a stored scan creates it/);
    assert.ok(!existsSync(nowhere));
  });
});

describe("costguard findings list pages through more findings than one page", () => {
  const db = join(dir, "many.db");
  const estate = join(dir, "many.jsonl");

  before(async () => {
    // 1,500 untagged instances: one mandatory-tags finding each.
    const rows = Array.from({ length: 1500 }, (_, i) =>
      JSON.stringify({
        id: `i-${String(i).padStart(6, "0")}`,
        type: "compute/instance",
        provider: "aws",
        region: "us-east-1",
        state: "running",
        tags: {},
        specs: { vcpus: 2, memory_gb: 8, instance_type: "m5.large" },
        // One of them idle, late in the file: its saving puts it first by savings.
        ...(i === 1400
          ? { hourly_cost: "0.096", metrics: { avg_cpu_percent: 1, avg_network_bytes: 1000, window_days: 7 } }
          : {}),
      }),
    );
    writeFileSync(estate, `${rows.join("\n")}\n`);
    const r = await cli(["scan", "-p", POLICIES, "-i", `file:${estate}`, "--database", db], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
  });

  test("--limit 0 is every one in the table, biggest saving first, as `remediate --limit 0` (it was refused)", async () => {
    const r = await cli(
      ["findings", "list", "--limit", "0", "--policy", "mandatory-tags", "--database", db],
      {
        cwd: dir,
      },
    );
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.split("\n").filter((l) => /^[0-9a-f]{16} /.test(l));
    assert.equal(rows.length, 1500);
    assert.match(r.stdout, /^1,500 open findings: /m);
  });

  test("json and csv export every finding once; --limit stops across pages; --sort savings takes the biggest", async () => {
    const json = await cli(
      ["findings", "list", "--format", "json", "--policy", "mandatory-tags", "--database", db],
      {
        cwd: dir,
      },
    );
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as ListDoc;
    assert.equal(doc.findings.length, 1500);
    assert.equal(new Set(doc.findings.map((f) => f.fingerprint)).size, 1500);
    const fps = doc.findings.map((f) => f.fingerprint);
    const csv = await cli(
      [
        "findings",
        "list",
        "--format",
        "csv",
        "--policy",
        "mandatory-tags",
        "--limit",
        "1200",
        "--database",
        db,
      ],
      {
        cwd: dir,
      },
    );
    assert.equal(csv.code, 0, csv.stderr);
    const lines = csv.stdout.trim().split("\n").slice(1);
    assert.equal(lines.length, 1200);
    assert.deepEqual(
      lines.map((l) => l.split(",")[0]),
      fps.slice(0, 1200),
    );
    // The same resources, one priced: it comes first by savings, whatever its place in the store.
    const top = await cli(
      [
        "findings",
        "list",
        "--format",
        "json",
        "--sort",
        "savings",
        "--limit",
        "2",
        "--status",
        "all",
        "--database",
        db,
      ],
      { cwd: dir },
    );
    assert.equal(top.code, 0, top.stderr);
    const best = (JSON.parse(top.stdout) as ListDoc).findings;
    assert.equal(best.length, 2);
    assert.ok(cents(best[0]!.savings_monthly) >= cents(best[1]!.savings_monthly));
    assert.ok(cents(best[0]!.savings_monthly) > 0, "an idle, priced instance saves money");
  });
});

test("findings list --limit 0 shows a table of more rows than a call takes as arguments", async () => {
  // 130,000 findings recorded straight into a store (a scan of as many resources takes longer).
  const db = join(dir, "wide.db");
  const store = await openStore({ kind: "sqlite", path: db });
  const scan = "scan-wide";
  const at = "2026-03-01T00:00:00.000Z";
  const findings = Array.from({ length: 130_000 }, (_, i) => idleFinding(`i-${i}`));
  await store.findings.record(scan, "wide", at, findings);
  await store.close();
  const r = await cli(["findings", "list", "--limit", "0", "--database", db], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^130,000 open findings: 130,000\.00 USD per month/m);
  // The same by savings as JSON: written a page at a time (702,470 as one text was past V8's
  // longest string), each finding once.
  const json = await cli(
    ["findings", "list", "--limit", "0", "--sort", "savings", "--format", "json", "--database", db],
    { cwd: dir },
  );
  assert.equal(json.code, 0, json.stderr);
  const doc = JSON.parse(json.stdout) as { findings: { fingerprint: string }[]; count: number };
  assert.equal(doc.count, 130_000);
  assert.equal(new Set(doc.findings.map((f) => f.fingerprint)).size, 130_000);
});

test("findings list --new-in: what a scan saw first (latest, an id or a start of one), with the other filters", async () => {
  const home = mkdtempSync(join(tmpdir(), "costguard-cli-new-in-"));
  try {
    const db = join(home, "store.db");
    const estate = join(home, "estate.jsonl");
    const run = (args: string[]) => cli([...args, "--database", db], { cwd: home });
    const lines = readFileSync("examples/scan/estate.jsonl", "utf8").trim().split("\n");
    const scan = async (kept: string[], at: string) => {
      writeFileSync(estate, `${kept.join("\n")}\n`);
      const r = await run(["scan", "-p", POLICIES, "-i", `file:${estate}`, "--at", at, "--format", "json"]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout).scan as { id: string; summary: { new_findings: number } };
    };
    // Half the estate on day one, all of it on day two: the other half's findings are new then.
    const first = await scan(
      lines.filter((_, i) => i % 2 === 0),
      "2026-06-01T00:00:00Z",
    );
    const second = await scan(lines, "2026-06-02T00:00:00Z");
    assert.ok(second.summary.new_findings > 0 && first.summary.new_findings > 0);
    const list = async (args: string[]) => {
      const r = await run(["findings", "list", "--format", "json", "--status", "all", ...args]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout) as ListDoc;
    };
    const latest = await list(["--new-in", "latest"]);
    assert.equal(latest.count, second.summary.new_findings);
    assert.ok(latest.findings.every((f) => f.first_seen === "2026-06-02T00:00:00.000Z"));
    assert.deepEqual(await list(["--new-in", second.id]), latest);
    const day1 = await list(["--new-in", first.id.slice(0, "scan-20260601".length)]);
    assert.equal(day1.count, first.summary.new_findings);
    assert.ok(day1.findings.every((f) => f.first_seen === "2026-06-01T00:00:00.000Z"));
    // With the other filters, and in the table's heading.
    const high = await list(["--new-in", "latest", "--severity", "high"]);
    assert.deepEqual(
      high.findings.map((f) => f.fingerprint),
      latest.findings.filter((f) => f.severity === "high").map((f) => f.fingerprint),
    );
    const table = await run(["findings", "list", "--new-in", "latest", "--limit", "1"]);
    assert.match(
      table.stdout,
      new RegExp(`^1 of \\d+ open findings new in ${second.id}, biggest savings first`, "m"),
    );
    // Another inventory scanned since: latest is its scan, unless --inventory names the first one.
    const other = join(home, "other.jsonl");
    writeFileSync(other, `${lines.slice(0, 3).join("\n")}\n`);
    const third = await run(["scan", "-p", POLICIES, "-i", `file:${other}`, "--at", "2026-06-03T00:00:00Z"]);
    assert.equal(third.code, 0, third.stderr);
    const newest = await list(["--new-in", "latest"]);
    assert.ok(newest.findings.every((f) => f.first_seen === "2026-06-03T00:00:00.000Z"));
    assert.deepEqual(await list(["--new-in", "latest", "--inventory", `file:${estate}`]), latest);
    // scans show takes the same choice: the newest of all, or of an inventory.
    const heading = async (args: string[]) => (await run(["scans", "show", ...args])).stdout.split(/\s+/)[0];
    assert.equal(await heading(["--inventory", `file:${estate}`]), second.id);
    assert.notEqual(await heading([]), second.id);
    const both = await run(["scans", "show", second.id, "--inventory", `file:${estate}`]);
    assert.equal(both.code, 2);
    assert.equal(
      both.stderr,
      `costguard: --inventory chooses among scans for latest; ${second.id} names one scan\n`,
    );
    const never = await run(["findings", "list", "--new-in", "latest", "--inventory", "sandbox"]);
    assert.equal(never.code, 2);
    assert.equal(never.stderr, "costguard: no stored scan of sandbox\n");
    const nope = await run(["findings", "list", "--new-in", "scan-2027"]);
    assert.equal(nope.code, 2);
    assert.equal(nope.stderr, "costguard: no stored scan with id scan-2027\n");
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("findings show says what covers an excepted finding: the exception its scan matched, one ended since, or where to look", async () => {
  const { renderStoredFinding } = await import("../../src/cli/findings-output.js");
  const { idleFinding } = await import("../helpers/findings.js");
  const stored = {
    ...idleFinding("i-1"),
    inventory: "sandbox",
    status: "excepted" as const,
    first_seen: "2026-06-01T00:00:00.000Z",
    last_seen: "2026-06-01T00:00:00.000Z",
    resolved_at: null,
    first_scan_id: "s1",
    last_scan_id: "s1",
    exception_id: "exc-1",
  };
  const status = (text: string) => /\n {2}status +(.*)\n/.exec(text)?.[1];
  assert.equal(
    status(renderStoredFinding(stored, false, { id: "exc-1" })),
    "excepted by exc-1 (costguard exceptions show exc-1)",
  );
  assert.equal(
    status(renderStoredFinding(stored, false, { id: "exc-1", ended: "expired" })),
    "excepted at its last scan by exc-1, expired since: the next scan opens it again (costguard exceptions show exc-1)",
  );
  assert.equal(
    status(renderStoredFinding({ ...stored, exception_id: null }, false, null)),
    "excepted at its last scan (costguard exceptions list --status approved --resource i-1; one selecting by tag covers it too)",
  );
});

/** A store and a file estate of their own in `cwd`, and the example estate's lines to fill it with. */
function estateIn(cwd: string) {
  const db = join(cwd, "store.db");
  return {
    db,
    estate: join(cwd, "estate.jsonl"),
    run: (args: string[]) => cli([...args, "--database", db], { cwd }),
    lines: readFileSync("examples/scan/estate.jsonl", "utf8").trim().split("\n"),
  };
}

/** Writes `kept` as the estate of `cwd` (estateIn) and scans it, stored, as of `at`: its json when it passed. */
async function scanLines(cwd: string, kept: readonly string[], at: string) {
  const { estate, run } = estateIn(cwd);
  writeFileSync(estate, kept.length > 0 ? `${kept.join("\n")}\n` : "");
  const done = await run(["scan", "-p", POLICIES, "-i", `file:${estate}`, "--at", at, "--format", "json"]);
  const scan =
    done.code === 0
      ? (JSON.parse(done.stdout).scan as {
          id: string;
          summary: { new_findings: number; resolved_findings: number };
        })
      : undefined;
  return { code: done.code, stderr: done.stderr, scan };
}

test("a hint lists at most 20 names, each cut to 60 characters (a team may be named in 5,000)", async () => {
  const cwd = mkdtempSync(join(dir, "hint-"));
  const { run, lines } = estateIn(cwd);
  // 26 teams, the first by name 5,000 characters long; none has a cost-center tag to find missing.
  const resource = JSON.parse(lines[0]!) as { id: string; tags: Record<string, string> };
  const teams = Array.from({ length: 26 }, (_, i) => (i === 0 ? "a".repeat(5000) : `team-${i}`));
  const estate = teams.map((team, i) => {
    const { "cost-center": _, ...tags } = resource.tags;
    return JSON.stringify({ ...resource, id: `i-team-${i}`, tags: { ...tags, team } });
  });
  const done = await scanLines(cwd, estate, "2026-06-01T00:00:00Z");
  assert.equal(done.code, 0, done.stderr);
  const r = await run(["findings", "list", "--team", "b".repeat(5000)]);
  assert.equal(r.code, 0, r.stderr);
  const listed = [`${"a".repeat(59)}…`, ...teams.slice(1).sort().slice(0, 19)];
  assert.equal(
    r.stdout.split("\n")[1],
    `No scan found findings of a team named ${"b".repeat(59)}…; the latest scans found findings of: ${listed.join(", ")} and 6 more`,
  );
});

test("findings prune deletes resolved findings resolved before an age or a time; open ones stay; one seen again is new", async () => {
  const cwd = mkdtempSync(join(dir, "prune-"));
  const { db, estate, run, lines } = estateIn(cwd);
  const scan = async (kept: string[], at: string) => {
    const done = await scanLines(cwd, kept, at);
    assert.equal(done.code, 0, done.stderr);
    return done.scan!.summary;
  };
  await scan(lines, "2026-06-01T00:00:00Z");
  // Half the estate gone on June 2nd, another resource on June 20th.
  const resolvedJune2 = (await scan(lines.slice(0, 20), "2026-06-02T00:00:00Z")).resolved_findings;
  assert.ok(resolvedJune2 > 0);
  const resolvedJune20 = (await scan(lines.slice(1, 20), "2026-06-20T00:00:00Z")).resolved_findings;
  assert.ok(resolvedJune20 > 0);
  const count = async (status: string) =>
    (JSON.parse((await run(["findings", "list", "--status", status, "--format", "json"])).stdout) as ListDoc)
      .matching;
  const open = await count("open");
  assert.equal(await count("resolved"), resolvedJune2 + resolvedJune20);
  const listAll = async () =>
    (JSON.parse((await run(["findings", "list", "--status", "all", "--format", "json"])).stdout) as ListDoc)
      .findings;
  const resolvedOn = (day: string) =>
    listAll().then((all) => all.filter((f) => f.resolved_at?.startsWith(day)).map((f) => f.fingerprint));
  const [june2, june20] = [await resolvedOn("2026-06-02"), await resolvedOn("2026-06-20")];
  assert.deepEqual([june2.length, june20.length], [resolvedJune2, resolvedJune20]);

  // A scan of the inventory running (here, held by this process): its findings are left, exit 1.
  const store = await openStore({ kind: "sqlite", path: db });
  try {
    const inventory = `file:${estate}`;
    await store.scans.start({
      id: "held",
      inventory,
      started_at: "2026-06-20T12:00:00.000Z",
      policy_revision: "r",
      policies: [],
    });
    const busy = await run(["findings", "prune", "--resolved-before", "2026-06-10"]);
    assert.equal(busy.code, 1);
    assert.equal(busy.stdout, "");
    assert.equal(
      busy.stderr,
      `costguard: a scan of ${inventory} is running: its ${resolvedJune2} resolved findings were left; prune again once it has finished\n`,
    );
    // A dry run says so too, rather than what the prune would not do now.
    const dryBusy = await run(["findings", "prune", "--resolved-before", "2026-06-10", "--dry-run"]);
    assert.equal(dryBusy.code, 1);
    assert.equal(dryBusy.stdout, "");
    assert.equal(
      dryBusy.stderr,
      `costguard: a scan of ${inventory} is running: its ${resolvedJune2} resolved findings would be left; prune again once it has finished\n`,
    );
    await store.scans.fail("held", "2026-06-20T12:00:00.000Z", "held by a test");
  } finally {
    await store.close();
  }
  const dry = await run(["findings", "prune", "--resolved-before", "2026-06-10", "--dry-run"]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(
    dry.stdout,
    `Would delete ${resolvedJune2} resolved findings resolved before 2026-06-10T00:00:00.000Z (dry run: nothing deleted):\n  file:${estate}  ${resolvedJune2}\n`,
  );
  assert.equal(await count("resolved"), resolvedJune2 + resolvedJune20);
  // An age counts back from --at: 10 days before June 20th is June 10th.
  const pruned = await run(["findings", "prune", "--resolved-before", "10d", "--at", "2026-06-20T00:00:00Z"]);
  assert.equal(pruned.code, 0, pruned.stderr);
  assert.match(
    pruned.stdout,
    new RegExp(`^Deleted ${resolvedJune2} resolved findings resolved before 2026-06-10T00:00:00.000Z:\\n`),
  );
  assert.match(pruned.stdout, /`costguard store compact` gives the room back to the disk\.\n$/);
  assert.deepEqual([await count("resolved"), await count("open")], [resolvedJune20, open]);
  const again = await run(["findings", "prune", "--resolved-before", "2026-06-10", "--format", "json"]);
  assert.deepEqual(JSON.parse(again.stdout), {
    resolved_before: "2026-06-10T00:00:00.000Z",
    dry_run: false,
    deleted: 0,
    by_inventory: {},
    busy: {},
  });
  // An inventory no scan read (misspelt) is said so, as findings list says it.
  for (const dryRun of [[], ["--dry-run"]]) {
    const typo = await run([
      "findings",
      "prune",
      "--resolved-before",
      "2026-06-10",
      "--inventory",
      "nosuch",
      ...dryRun,
    ]);
    assert.equal(typo.code, 0, typo.stderr);
    assert.equal(
      typo.stdout,
      `No resolved findings resolved before 2026-06-10T00:00:00.000Z: nothing to ${dryRun.length ? "prune" : "delete"}.\nNo scan read an inventory named nosuch; the latest scans read: file:${estate}\n`,
    );
  }
  // What was pruned and is seen again comes back as new; what was kept reopens.
  await scan(lines, "2026-06-21T00:00:00Z");
  const firstSeen = new Map((await listAll()).map((f) => [f.fingerprint, f.first_seen]));
  for (const fingerprint of june2) assert.equal(firstSeen.get(fingerprint), "2026-06-21T00:00:00.000Z");
  for (const fingerprint of june20) assert.equal(firstSeen.get(fingerprint), "2026-06-01T00:00:00.000Z");

  for (const [args, message] of [
    [[], /required option '--resolved-before <age\|time>' not specified/],
    [["--resolved-before", "90"], /--resolved-before must be an age \(90d, 26w, 1d12h\) or a time/],
    [["--resolved-before", "2026-02-30"], /--resolved-before must be an age .* got '2026-02-30'/],
    [
      ["--resolved-before", "2026-06-01", "--at", "2026-07-01"],
      /--at counts an age back: --resolved-before gave a time/,
    ],
    [["--resolved-before", "1d", "--format", "csv"], /--format must be text or json, got csv/],
  ] as const) {
    const bad = await run(["findings", "prune", ...args]);
    assert.equal(bad.code, 2, `${args.join(" ")}: ${bad.stderr}`);
    assert.match(bad.stderr, message);
  }
  const none = await cli(
    ["findings", "prune", "--resolved-before", "1d", "--database", join(cwd, "none.db")],
    { cwd },
  );
  assert.equal(none.code, 2);
  assert.equal(existsSync(join(cwd, "none.db")), false);
});

test("findings list and summary --resolved-in: what a scan resolved (latest: the newest completed), still resolved", async () => {
  const cwd = mkdtempSync(join(dir, "resolved-in-"));
  const { run, lines } = estateIn(cwd);
  const scan = async (kept: string[], at: string) => {
    const done = await scanLines(cwd, kept, at);
    return { code: done.code, ...done.scan! };
  };
  const listed = async (args: string[]) => {
    const r = await run(["findings", "list", ...args, "--format", "json"]);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as ListDoc).findings;
  };
  await scan(lines, "2026-06-01T00:00:00Z");
  const second = await scan(lines.slice(0, 30), "2026-06-02T00:00:00Z");
  const third = await scan(lines.slice(0, 20), "2026-06-03T00:00:00Z");
  assert.ok(second.summary.resolved_findings > 0 && third.summary.resolved_findings > 0);
  // A scan that reads nothing fails (its findings are open) and resolves nothing: latest skips it.
  assert.equal((await scan([], "2026-06-04T00:00:00Z")).code, 2);
  const gone = (from: number, to: number) =>
    new Set(lines.slice(from, to).map((l) => (JSON.parse(l) as { id: string }).id));
  const latest = await listed(["--resolved-in", "latest"]);
  assert.equal(latest.length, third.summary.resolved_findings);
  for (const f of latest) {
    assert.equal(f.status, "resolved");
    assert.equal(f.resolved_at, "2026-06-03T00:00:00.000Z");
    assert.ok(gone(20, 30).has(f.resource_id), f.resource_id);
  }
  // Their savings are what acting would have saved: no longer at stake.
  const table = await run(["findings", "list", "--resolved-in", "latest"]);
  assert.match(
    table.stdout,
    new RegExp(
      `\\n${latest.length} findings resolved in ${third.id}: [\\d,.]+ USD per month no longer at stake in all`,
    ),
  );
  // Open and resolved together: their total is not all at stake, and says so.
  for (const command of ["list", "summary"]) {
    const mixed = await run(["findings", command, "--status", "all"]);
    assert.match(
      mixed.stdout,
      /USD per month in savings, resolved findings' included \(those are no longer at stake\)/,
      command,
    );
    assert.doesNotMatch(mixed.stdout, / at stake in all| per month at stake/, command);
  }
  // One finding is one finding.
  const once = latest.find((f) => latest.filter((g) => g.resource_id === f.resource_id).length === 1)!;
  const one = await run(["findings", "list", "--resolved-in", "latest", "--resource", once.resource_id]);
  assert.match(one.stdout, new RegExp(`\\n1 finding resolved in ${third.id}: `));
  const oneSummary = await run([
    "findings",
    "summary",
    "--resolved-in",
    "latest",
    "--resource",
    once.resource_id,
  ]);
  assert.match(oneSummary.stdout, new RegExp(`\\n1 finding resolved in ${third.id} in 1 team: `));
  const byId = await listed(["--resolved-in", second.id]);
  assert.equal(byId.length, second.summary.resolved_findings);
  for (const f of byId) assert.ok(gone(30, 40).has(f.resource_id), f.resource_id);
  const summary = await run([
    "findings",
    "summary",
    "--resolved-in",
    third.id,
    "--by",
    "team",
    "--format",
    "json",
  ]);
  assert.equal(summary.code, 0, summary.stderr);
  assert.equal(JSON.parse(summary.stdout).count, third.summary.resolved_findings);
  // Seen again, they are open: no longer what that scan resolved.
  await scan(lines, "2026-06-05T00:00:00Z");
  assert.deepEqual(await listed(["--resolved-in", second.id]), []);
  assert.equal((await listed(["--resolved-in", second.id, "--status", "all"])).length, 0);
  const none = await run(["findings", "summary", "--resolved-in", third.id]);
  assert.equal(none.stdout, `No findings resolved in ${third.id}.\n`);

  for (const [args, message] of [
    [["--resolved-in", "scan-2099"], /^costguard: no stored scan with id scan-2099\n$/],
    [
      ["--resolved-in", "latest", "--exception", "exc-1"],
      /--exception lists excepted findings and --resolved-in resolved ones/,
    ],
    [
      ["--resolved-in", second.id, "--inventory", "sandbox"],
      new RegExp(`${second.id} scanned file:\\S+, not sandbox`),
    ],
    [["--resolved-in", "latest", "--inventory", "sandbox"], /^costguard: no stored scan of sandbox\n$/],
  ] as const) {
    const bad = await run(["findings", "list", ...args]);
    assert.equal(bad.code, 2, `${args.join(" ")}: ${bad.stderr}`);
    assert.match(bad.stderr, message);
  }
  const failed = (await run(["scans", "list", "--format", "json"])).stdout;
  const failedId = (JSON.parse(failed) as { id: string; status: string }[]).find(
    (s) => s.status === "failed",
  )!.id;
  const refused = await run(["findings", "list", "--resolved-in", failedId]);
  assert.equal(refused.code, 2);
  assert.equal(
    refused.stderr,
    `costguard: ${failedId} failed: a scan resolves findings only when it completes\n`,
  );
});

test("a store whose findings were changed by hand into what is not JSON: one line naming the finding, exit 3", async () => {
  const cwd = mkdtempSync(join(dir, "damaged-"));
  const database = join(cwd, "store.db");
  const scanned = await cli(
    ["scan", "-p", "examples/policies", "-i", "file:examples/scan/estate.jsonl", "--database", database],
    { cwd: process.cwd() },
  );
  assert.equal(scanned.code, 0, scanned.stderr);
  const listed = await cli(["findings", "list", "--database", database, "--format", "json", "--limit", "1"], {
    cwd: process.cwd(),
  });
  const fingerprint = (JSON.parse(listed.stdout) as { findings: { fingerprint: string }[] }).findings[0]!
    .fingerprint;
  const raw = openSqliteDb(database);
  try {
    await raw.run("UPDATE finding_rows SET checks = '[{' WHERE fingerprint = ?", [fingerprint]);
  } finally {
    await raw.close();
  }
  for (const format of ["table", "csv", "json"]) {
    const r = await cli(["findings", "list", "--database", database, "--format", format], {
      cwd: process.cwd(),
    });
    assert.equal(r.code, 3, `${format}: ${r.stderr}`);
    assert.match(
      r.stderr,
      new RegExp(
        `^costguard: the database failed: the checks of finding ${fingerprint}: not JSON as costguard stores it \\(.*\\); the database was changed by something other than costguard, or is damaged\\n$`,
      ),
    );
  }
});

test("a finding's savings changed by hand into what is not an amount: one line naming it, exit 3 (was exit 2, bad input)", async () => {
  const cwd = mkdtempSync(join(dir, "damaged-savings-"));
  const database = join(cwd, "store.db");
  const scanned = await cli(
    ["scan", "-p", "examples/policies", "-i", "file:examples/scan/estate.jsonl", "--database", database],
    { cwd: process.cwd() },
  );
  assert.equal(scanned.code, 0, scanned.stderr);
  const listed = await cli(["findings", "list", "--database", database, "--format", "json", "--limit", "1"], {
    cwd: process.cwd(),
  });
  const first = (JSON.parse(listed.stdout) as { findings: { fingerprint: string; resource_id: string }[] })
    .findings[0]!;
  const raw = openSqliteDb(database);
  try {
    await raw.run("UPDATE finding_rows SET savings_monthly = 'abc' WHERE fingerprint = ?", [
      first.fingerprint,
    ]);
  } finally {
    await raw.close();
  }
  const damaged =
    "`abc` is not an amount as costguard stores it; the database was changed by something other than costguard, or is damaged";
  // Totals (list's, summary) name the resource; a finding read whole is named by its fingerprint.
  for (const [args, what] of [
    [
      ["findings", "list"],
      `the savings of a finding of ${first.resource_id} in file:examples/scan/estate.jsonl`,
    ],
    [
      ["findings", "summary"],
      `the savings of a finding of ${first.resource_id} in file:examples/scan/estate.jsonl`,
    ],
    [["findings", "show", first.fingerprint], `the savings of finding ${first.fingerprint}`],
  ] as const) {
    const r = await cli([...args, "--database", database], { cwd: process.cwd() });
    assert.equal(r.code, 3, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr, `costguard: the database failed: ${what}: ${damaged}\n`, args.join(" "));
  }
});

test("stored totals count a resource per account, region and type, as the scan does: list, summary and the savings gate", async () => {
  const home = mkdtempSync(join(tmpdir(), "costguard-cli-placed-"));
  try {
    const db = join(home, "store.db");
    const estate = join(home, "acct.jsonl");
    const run = (args: string[]) => cli(args, { cwd: home });
    // RDS names are unique per account and region only: three databases named prod-db, idle, 730 USD
    // a month each; and an instance and a volume both named i-1.
    const idle = { avg_cpu_percent: 1, avg_network_bytes: 0, window_days: 7 };
    const db1 = {
      id: "prod-db",
      type: "database/instance",
      provider: "aws",
      hourly_cost: "1",
      metrics: idle,
    };
    const records = [
      { ...db1, account: "111111111111", region: "us-east-1" },
      { ...db1, account: "222222222222", region: "us-east-1" },
      { ...db1, account: "111111111111", region: "eu-west-1" },
      { ...db1, id: "i-1", type: "compute/instance", account: "3", region: "us-east-1" },
      {
        id: "i-1",
        type: "storage/volume",
        provider: "aws",
        account: "3",
        region: "us-east-1",
        monthly_cost: "50",
        state: "available",
        created_at: "2020-01-01T00:00:00Z",
      },
    ];
    writeFileSync(estate, `${records.map((r) => JSON.stringify(r)).join("\n")}\n`);
    const scan = (at: string, more: string[]) =>
      run(["scan", "-p", POLICIES, "-i", `file:${estate}`, "--at", at, "--format", "json", ...more]);
    const first = await scan("2026-12-01T00:00:00Z", ["--database", db]);
    assert.equal(first.code, 0, first.stderr);
    const scanned = JSON.parse(first.stdout).scan.summary as { savings_monthly: string };
    assert.equal(scanned.savings_monthly, "2970");
    const list = await run(["findings", "list", "--format", "json", "--database", db]);
    assert.deepEqual((JSON.parse(list.stdout) as ListDoc).savings_monthly, { USD: "2970" });
    const summary = await run([
      "findings",
      "summary",
      "--by",
      "account",
      "--format",
      "json",
      "--database",
      db,
    ]);
    const doc = JSON.parse(summary.stdout) as {
      groups: { group: string; resources: number; savings_monthly: { USD: string } }[];
      savings_monthly: { USD: string };
    };
    assert.deepEqual(
      doc.groups.map((g) => [g.group, g.resources, g.savings_monthly.USD]),
      [
        ["111111111111", 2, "1460"],
        ["3", 2, "780"],
        ["222222222222", 1, "730"],
      ],
    );
    assert.deepEqual(doc.savings_monthly, { USD: "2970" });
    // The savings gate says the same stored as not.
    for (const store of [["--database", db], ["--no-store"]]) {
      const gated = await scan("2026-12-02T00:00:00Z", [...store, "--fail-on-savings", "2500"]);
      assert.equal(gated.code, 1, `${store.join(" ")}: ${gated.stderr}`);
      assert.match(gated.stderr, /2,970\.00 USD per month at stake/);
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("findings a failed scan wrote before its bad line are new to the next completed scan: NEW, --new-only, --new-in, scans show", async () => {
  const home = mkdtempSync(join(tmpdir(), "costguard-cli-kept-"));
  try {
    const db = join(home, "store.db");
    const estate = join(home, "estate.jsonl");
    const run = (args: string[]) => cli([...args, "--database", db], { cwd: home });
    const idle = { avg_cpu_percent: 1, avg_network_bytes: 0, window_days: 7 };
    const record = (i: number) =>
      JSON.stringify({ id: `i-${i}`, type: "compute/instance", hourly_cost: "0.1", metrics: idle });
    const all = Array.from({ length: 6000 }, (_, i) => record(i));
    const scan = (lines: string[], at: string, more: string[] = []) => {
      writeFileSync(estate, `${lines.join("\n")}\n`);
      return run(["scan", "-p", POLICIES, "-i", `file:${estate}`, "--at", at, "--format", "json", ...more]);
    };
    assert.equal((await scan(all.slice(0, 3000), "2026-06-01T00:00:00Z")).code, 0);
    // Every record, with a bad line at 5001: the findings before it are written, the scan fails.
    const failed = await scan(
      [...all.slice(0, 5000), '{"id": broken', ...all.slice(5000)],
      "2026-06-02T00:00:00Z",
    );
    assert.equal(failed.code, 2, failed.stderr);
    const history = JSON.parse((await run(["scans", "list", "--format", "json"])).stdout) as {
      id: string;
      status: string;
    }[];
    const failedId = history.find((s) => s.status === "failed")!.id;
    const kept = JSON.parse((await run(["scans", "show", failedId, "--format", "json"])).stdout) as {
      findings_kept?: number;
    };
    assert.ok(kept.findings_kept !== undefined && kept.findings_kept > 0, JSON.stringify(kept));
    // The good file again: the 6,000 findings (idle and untagged) of the 3,000 resources past the first
    // scan's are new to it, those the failed scan kept included.
    const next = await scan(all, "2026-06-03T00:00:00Z", ["--fail-on", "medium", "--new-only"]);
    assert.equal(next.code, 1, next.stderr);
    assert.match(
      next.stderr,
      /6,000 findings at or above medium new in this scan \(6,000 seen by earlier scans/,
    );
    const done = JSON.parse(next.stdout).scan as { id: string; summary: { new_findings: number } };
    assert.equal(done.summary.new_findings, 6000);
    const newIn = await run(["findings", "list", "--new-in", "latest", "--format", "json"]);
    assert.equal((JSON.parse(newIn.stdout) as ListDoc).count, 6000);
    const shown = await run(["scans", "show", failedId]);
    assert.match(
      shown.stdout,
      new RegExp(
        `wrote +${kept.findings_kept!.toLocaleString("en-US")} new findings before it failed: kept; counted new by ${done.id}`,
      ),
    );
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
