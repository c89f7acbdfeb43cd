import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { cli } from "../helpers/cli.js";

/**
 * examples/requests/README.md tells which decisions each bundled request gets from each bundled
 * policy set; the table is read from the page and every cell checked against `costguard evaluate`.
 */
const page = readFileSync("examples/requests/README.md", "utf8");
const rows = [...page.matchAll(/^\| `([^`]+)`[^|]*\| ([^|]+) \| ([^|]+) \|$/gm)].map((m) => ({
  file: m[1]!,
  guideMain: m[2]!,
  policies: m[3]!,
}));

/** The decisions a cell names, in order: "ALLOW, DENY" or "DENY: no owner tag" → ["ALLOW", "DENY"]. */
function decisionsOf(cell: string): string[] {
  return cell.split(":")[0]!.match(/\b(ALLOW|WARN|DENY)\b/g) ?? [];
}

async function decisions(policies: string, file: string): Promise<string[]> {
  const run = await cli(
    ["evaluate", "--policies", policies, `examples/requests/${file}`, "--format", "json"],
    {
      cwd: process.cwd(),
    },
  );
  assert.ok(run.code === 0 || run.code === 1, `${file} against ${policies}: ${run.stderr}`);
  const parsed = JSON.parse(run.stdout) as unknown;
  const list = (Array.isArray(parsed) ? parsed : [parsed]) as Array<{ decision: string }>;
  return list.map((d) => d.decision.toUpperCase());
}

test("examples/requests/README.md: its table names every request in the folder", () => {
  const requests = readdirSync("examples/requests").filter((f) => f !== "README.md");
  assert.deepEqual(rows.map((r) => r.file).sort(), requests.sort());
});

for (const row of rows) {
  test(`examples/requests/README.md: ${row.file} gets the decisions the table gives`, async () => {
    assert.deepEqual(await decisions("examples/guide-main", row.file), decisionsOf(row.guideMain));
    assert.deepEqual(await decisions("examples/policies", row.file), decisionsOf(row.policies));
  });
}
