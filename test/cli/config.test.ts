import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { cli } from "../helpers/cli.js";

test("costguard.yaml: a misspelt top-level key is an error naming the key and the one meant", async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-config-"));
  const estate = `file:${resolve("examples/scan/estate.jsonl")}`;
  // `polices:` was ignored: the run then said --policies was required, never why.
  writeFileSync(join(dir, "costguard.yaml"), `polices: [${resolve("examples/policies")}]\n`);
  const typo = await cli(["run", "--inventory", estate], { cwd: dir });
  assert.equal(typo.code, 2);
  assert.match(
    typo.stderr,
    /costguard\.yaml: unknown key `polices` \(did you mean `policies`\?\); the keys are policies, database/,
  );
  writeFileSync(join(dir, "costguard.yaml"), "remediaton: {maxAttempts: 1}\n");
  const other = await cli(["exceptions", "list"], { cwd: dir });
  assert.equal(other.code, 2);
  assert.match(other.stderr, /unknown key `remediaton` \(did you mean `remediation`\?\)/);
  // Every documented section is taken.
  writeFileSync(
    join(dir, "costguard.yaml"),
    `policies: [${resolve("examples/policies")}]\ndatabase: ./state.db\nexceptions: {}\nremediation: {}\npeople: {}\nnotify: {digest: 10}\n`,
  );
  const ok = await cli(["run", "--inventory", estate], { cwd: dir });
  assert.equal(ok.code, 0, ok.stderr);
});
