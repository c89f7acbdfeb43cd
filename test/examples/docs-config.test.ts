import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../../src/config/load.js";
import { DEFAULT_REMEDIATION_CONFIG } from "../../src/remediation/config.js";

/**
 * The fenced YAML block of a docs page whose first line is `firstLine`, as written there: the
 * examples are read from the pages themselves, so a page and the code cannot drift apart.
 */
function docsBlock(page: string, firstLine: string): string {
  const text = readFileSync(join("docs", page), "utf8");
  const blocks = [...text.matchAll(/^```ya?ml\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
  const found = blocks.filter((b) => b.split("\n")[0]!.trim() === firstLine);
  assert.equal(found.length, 1, `one block of docs/${page} opens with "${firstLine}"`);
  return found[0]!;
}

/** Loads `text` as ./costguard.yaml of a folder of its own. */
function loadAsConfig(text: string) {
  const dir = mkdtempSync(join(tmpdir(), "costguard-docs-config-"));
  writeFileSync(join(dir, "costguard.yaml"), text);
  return loadConfig({ env: {}, cwd: dir });
}

test("docs/remediation.md: the configuration it gives as the defaults loads, and is the defaults", () => {
  const config = loadAsConfig(
    docsBlock("remediation.md", "# costguard.yaml (every key optional; these are the defaults)"),
  );
  assert.deepEqual(config.remediation, DEFAULT_REMEDIATION_CONFIG);
  assert.deepEqual(config.people, {});
});

test("docs/exceptions.md: its costguard.yaml loads, every team it names defined", () => {
  const config = loadAsConfig(docsBlock("exceptions.md", "# costguard.yaml"));
  assert.deepEqual(config.exceptions.approvers.policies["resource-limits"], {
    approvers: ["team:platform"],
    includeManager: false,
  });
  assert.deepEqual(config.exceptions.channels, ["slack:#finops"]);
  assert.equal(config.people.frank, "slack:#security-approvals");
});
