import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, test } from "node:test";
import { cli } from "../helpers/cli.js";

const POLICIES = resolve("examples/policies");
const dir = mkdtempSync(join(tmpdir(), "costguard-cli-states-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The example estate with its instances' states replaced in turn by `states`, and volumes' by `volumeState`. */
function estate(states: string[], volumeState: string, team?: string): string {
  const lines = readFileSync(resolve("examples/scan/estate.jsonl"), "utf8").trim().split("\n");
  let k = 0;
  const out = lines.map((line) => {
    const r = JSON.parse(line);
    if (r.type === "compute/instance" || r.type === "database/instance")
      r.state = states[k++ % states.length];
    if (r.type === "storage/volume" && !r.attached_to) r.state = volumeState;
    if (team !== undefined && r.tags) r.tags.team = team;
    return JSON.stringify(r);
  });
  const file = join(dir, `estate-${Math.random().toString(36).slice(2)}.jsonl`);
  writeFileSync(file, `${out.join("\n")}\n`);
  return file;
}

describe("states a scan cannot judge idleness by are counted and shown, never silently skipped", () => {
  test("instances neither running nor stopped are listed by state; attached volumes are not orphans", async () => {
    const at = "2026-06-01T00:00:00Z";
    const plain = await cli(
      [
        "scan",
        "-p",
        POLICIES,
        "-i",
        `file:${resolve("examples/scan/estate.jsonl")}`,
        "--at",
        at,
        "--no-store",
        "--format",
        "json",
      ],
      { cwd: dir },
    );
    assert.equal(plain.code, 0, plain.stderr);
    const before = JSON.parse(plain.stdout).scan.summary;
    assert.equal(before.idle_other_states, undefined);
    assert.ok(before.by_policy["orphaned-resource-detection"] > 0);

    const file = estate(["modifying", "VM running", "pending", "\u001b[31mred", "STOPPED"], "Attached");
    const database = join(dir, "states.db");
    const run = await cli(
      ["scan", "-p", POLICIES, "-i", `file:${file}`, "--at", at, "--database", database],
      {
        cwd: dir,
      },
    );
    assert.equal(run.code, 0, run.stderr);
    const line = run.stdout.split("\n").find((l) => l.includes("neither running nor stopped"));
    assert.match(
      line ?? "",
      /^Not judged idle: \d+ instances and databases are in a state neither running nor stopped: (modifying|pending|\\x1b\[31mred) \d+ · /,
    );
    assert.equal(run.stdout.includes("\u001b"), false, "a state is shown printable");
    assert.doesNotMatch(run.stdout, /orphaned-resource-detection/, "an Attached volume is attached");

    const scans = await cli(["scans", "list", "--database", database, "--format", "json"], { cwd: dir });
    const [scan] = JSON.parse(scans.stdout);
    const counts = scan.summary?.idle_other_states ?? scan.idle_other_states;
    assert.deepEqual(Object.keys(counts).sort(), ["\u001b[31mred", "modifying", "pending"]);
    const shown = await cli(["scans", "show", scan.id, "--database", database], { cwd: dir });
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /not judged +.*idle \(state modifying\) \d+/);
    assert.match(shown.stdout, /idle \(state \\x1b\[31mred\) \d+/);
    assert.equal(shown.stdout.includes("\u001b"), false);
  });

  test("scans show prints a team from a tag printable and cut short, as the scan's summary does", async () => {
    const file = estate(["running"], "available", `\u001b[2J${"t".repeat(200)}`);
    const database = join(dir, "teams.db");
    const run = await cli(
      ["scan", "-p", POLICIES, "-i", `file:${file}`, "--at", "2026-06-01T00:00:00Z", "--database", database],
      { cwd: dir },
    );
    assert.equal(run.code, 0, run.stderr);
    const [scan] = JSON.parse(
      (await cli(["scans", "list", "--database", database, "--format", "json"], { cwd: dir })).stdout,
    );
    const shown = await cli(["scans", "show", scan.id, "--database", database], { cwd: dir });
    const team = shown.stdout.split("\n").find((l) => l.startsWith("  by team"));
    assert.ok(team, shown.stdout);
    assert.equal(team.includes("\u001b"), false);
    assert.ok(team.length < 120, team);
  });
});
