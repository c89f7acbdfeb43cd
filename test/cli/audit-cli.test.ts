import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import { auditSummary } from "../../src/cli/audit-output.js";
import type { AuditEntry } from "../../src/store/audit.js";
import { cli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "costguard-audit-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const db = join(dir, "audit.db");
const run = (args: string[], now?: string) =>
  cli([...args, "--database", db], { cwd: dir, ...(now !== undefined ? { now } : {}) });

type Entry = AuditEntry;

describe("costguard audit list", () => {
  let instance = "";
  let volume = "";
  before(async () => {
    const init = await run([
      "sandbox",
      "init",
      "--resources",
      "30",
      "--seed",
      "audit",
      "--at",
      "2026-06-01T00:00:00Z",
    ]);
    assert.equal(init.code, 0, init.stderr);
    const raw = new Database(db, { readonly: true });
    const pick = (type: string, state: string) =>
      (
        raw
          .prepare("SELECT id FROM resources WHERE type = ? AND state = ? ORDER BY id LIMIT 1")
          .get(type, state) as { id: string } | undefined
      )?.id ?? "";
    instance = pick("compute/instance", "running");
    volume = pick("storage/volume", "available");
    raw.close();
    assert.ok(instance && volume, "the sandbox has a running instance and a detached volume");
    const acts: string[][] = [
      ["stop", instance, "--actor", "alice@company.com", "--at", "2026-06-02T10:00:00Z"],
      [
        "tag",
        volume,
        "--tag",
        "owner=bob@company.com",
        "--actor",
        "bob@company.com",
        "--at",
        "2026-06-03T10:00:00Z",
      ],
      ["start", instance, "--actor", "alice@company.com", "--at", "2026-06-04T10:00:00Z"],
    ];
    for (const act of acts) {
      const r = await run(["sandbox", "act", ...act]);
      assert.equal(r.code, 0, r.stderr);
    }
    // The actor is a user name like any other: one with an escape sequence is refused, not logged.
    const escaped = await run(["sandbox", "act", "stop", instance, "--actor", "mal\u001b[1Alory"]);
    assert.equal(escaped.code, 2);
    assert.match(
      escaped.stderr,
      /^costguard: --actor: a user name cannot hold an invisible or control character \(this one has U\+001B\)/,
    );
  });

  test("the table: newest first, who did what to which resource, a line of its details", async () => {
    const r = await run(["audit", "list"]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.match(lines[0]!, /^AT +ACTOR +ACTION +SUBJECT +DETAILS$/);
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(/\s{2,}/).slice(0, 3)),
      [
        ["2026-06-04T10:00:00Z", "alice@company.com", "resource.start"],
        ["2026-06-03T10:00:00Z", "bob@company.com", "resource.tag"],
        ["2026-06-02T10:00:00Z", "alice@company.com", "resource.stop"],
        ["2026-06-01T00:00:00Z", "costguard:sandbox", "sandbox.init"],
      ],
    );
    assert.ok(lines[3]!.includes(`resource ${instance}`), lines[3]);
    assert.match(lines[3]!, new RegExp(`${instance} stopped`));
  });

  test("filters: subject, an action or a family, actor, since (a time or an age), limit", async () => {
    const actions = async (args: string[], now?: string) => {
      const r = await run(["audit", "list", "--format", "json", ...args], now);
      assert.equal(r.code, 0, r.stderr);
      return (JSON.parse(r.stdout) as Entry[]).map((e) => e.action);
    };
    assert.deepEqual(await actions(["--subject", instance]), ["resource.start", "resource.stop"]);
    assert.deepEqual(await actions(["--action", "resource.tag"]), ["resource.tag"]);
    assert.deepEqual(await actions(["--action", "resource.*"]), [
      "resource.start",
      "resource.tag",
      "resource.stop",
    ]);
    assert.deepEqual(await actions(["--actor", "bob@company.com"]), ["resource.tag"]);
    assert.deepEqual(await actions(["--since", "2026-06-03"]), ["resource.start", "resource.tag"]);
    // An age counts back from now: two days before 06-04 12:00 is 06-02 12:00.
    assert.deepEqual(await actions(["--since", "2d"], "2026-06-04T12:00:00Z"), [
      "resource.start",
      "resource.tag",
    ]);
    assert.deepEqual(await actions(["--limit", "1"]), ["resource.start"]);
    assert.deepEqual(await actions(["--actor", "mallory"]), []);
    const none = await run(["audit", "list", "--actor", "mallory"]);
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout, "No audit entry matches.\n");
    // An action, or a family, the log does not hold: what it might have meant, and what it holds.
    const misspelt = await run(["audit", "list", "--action", "resource.stpo"]);
    assert.equal(misspelt.code, 0, misspelt.stderr);
    assert.match(
      misspelt.stdout,
      /^No entry in the audit log has the action resource\.stpo: did you mean resource\.stop\? Actions in the log: .*resource\.start, resource\.stop, resource\.tag/,
    );
    const family = await run(["audit", "list", "--action", "resorce.*", "--format", "json"]);
    assert.equal(family.code, 0, family.stderr);
    assert.equal(family.stdout, "[]\n");
    assert.match(family.stderr, /has the action resorce\.\*: did you mean resource\.\*\?/);
    // Held, but not by anyone the other filters leave: no hint.
    const held = await run(["audit", "list", "--action", "resource.tag", "--actor", "mallory"]);
    assert.equal(held.stdout, "No audit entry matches.\n");
  });

  test("json and csv give each entry whole, with its details", async () => {
    const json = await run(["audit", "list", "--format", "json", "--subject", volume]);
    assert.equal(json.code, 0, json.stderr);
    const [tag] = JSON.parse(json.stdout) as Entry[];
    assert.equal(tag?.subject_type, "resource");
    assert.equal(tag?.at, "2026-06-03T10:00:00.000Z");
    assert.deepEqual(tag?.details.tags, { owner: "bob@company.com" });
    const csv = await run(["audit", "list", "--format", "csv", "--subject", volume]);
    assert.equal(csv.code, 0, csv.stderr);
    const [header, row, ...rest] = csv.stdout.trimEnd().split("\n");
    assert.equal(header, "id,at,actor,action,subject_type,subject_id,details");
    assert.deepEqual(rest, []);
    assert.ok(
      row!.startsWith(
        `${tag!.id},2026-06-03T10:00:00.000Z,bob@company.com,resource.tag,resource,${volume},"{`,
      ),
    );
    // Empty json is an empty array, still JSON.
    const empty = await run(["audit", "list", "--format", "json", "--actor", "mallory"]);
    assert.deepEqual(JSON.parse(empty.stdout), []);
  });

  test("the table says when there are more entries than it shows", async () => {
    const r = await run(["audit", "list", "--limit", "2"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trimEnd().split("\n").length, 1 + 2 + 2);
    assert.match(
      r.stdout,
      /\n\nThe 2 most recently appended; there are more: --limit N shows more, --limit 0 every one\n$/,
    );
    const all = await run(["audit", "list", "--limit", "4"]);
    assert.doesNotMatch(all.stdout, /there are more/);
  });

  test("entries costguard did not write: details of null, an action family outside the BMP", async () => {
    const raw = new Database(db);
    raw
      .prepare(
        "INSERT INTO audit_log (at, actor, action, subject_type, subject_id, details) VALUES (?, ?, ?, ?, ?, ?)",
      )
      .run("2026-06-05T00:00:00.000Z", "import", "🚀.launch", "resource", "r-odd", "null");
    raw.close();
    const table = await run(["audit", "list", "--subject", "r-odd"]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /🚀\.launch +resource r-odd +null\n$/);
    const family = await run(["audit", "list", "--action", "🚀.*", "--format", "json"]);
    assert.deepEqual(
      (JSON.parse(family.stdout) as Entry[]).map((e) => [e.action, e.details]),
      [["🚀.launch", null]],
    );
  });

  test("bad flags exit 2 with what is wrong; a store that does not exist is not created", async () => {
    for (const [args, message] of [
      [["--since", "yesterday"], /--since must be an age \(90d, 26w, 1d12h\) or a time/],
      [["--format", "xml"], /--format must be table, json or csv, got xml/],
      [["--limit", "-1"], /--limit must be a whole number/],
      [["--since", "1969-12-31"], /--since must be 1970 or later, got 1969-12-31/],
      [
        ["--action", "*"],
        /--action takes an action \(resource\.stop\) or a family of them \(resource\.\*\), got \*/,
      ],
      [["--action", "resource*"], /--action takes an action/],
      [["--action", ".*"], /--action takes an action/],
      [["--action", ""], /--action needs a value/],
    ] as const) {
      const r = await run(["audit", "list", ...args]);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stdout}`);
      assert.match(r.stderr, message);
    }
    const missing = await cli(["audit", "list", "--database", join(dir, "none.db")], { cwd: dir });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no store at .*none\.db/);
  });
});

test("auditSummary: the message, reason or note first, then policy and rule, then the saving", () => {
  const entry = (action: string, details: Record<string, unknown>) => ({
    id: 1,
    at: "2026-06-01T00:00:00.000Z",
    actor: "x",
    action,
    subject_type: "resource",
    subject_id: "i-1",
    details,
  });
  assert.equal(
    auditSummary(
      entry("remediation.completed", {
        action: "stop",
        policy: "idle-resource-detection",
        rule: "low-utilization",
        monthly_saving: "2207.52",
        currency: "USD",
      }),
    ),
    "stop · idle-resource-detection/low-utilization · saves 2,207.52 USD/month",
  );
  assert.equal(
    auditSummary(entry("exception.approved", { note: "ok for Q3", policy: "p", rule: "r", target: "vol-1" })),
    "ok for Q3 · p/r · vol-1",
  );
  assert.equal(
    auditSummary(entry("remediation.skipped", { reason: "excepted by exc-1" })),
    "excepted by exc-1",
  );
  assert.equal(
    auditSummary({
      ...entry("notice.unreachable", {
        kind: "remediation",
        subject: "costguard grace started: stop i-1",
        unreachable: ["dana@company.com"],
        hint: "add them under people: in costguard.yaml",
      }),
      subject_type: "notice",
    }),
    "could not tell dana@company.com · costguard grace started: stop i-1 · add them under people: in costguard.yaml",
  );
  // Nothing to say in words: the details as JSON.
  assert.equal(auditSummary(entry("sandbox.init", { resources: 3 })), '{"resources":3}');
});
