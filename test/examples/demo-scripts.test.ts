import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";

// The demos ship in the package: `sh node_modules/costguard/examples/scan/demo.sh` is run from a
// user's own folder, not the package's. Each is run from an empty folder with a `node` that only
// writes down where it was run and with what, so the test takes no time: every costguard the script
// starts, and every file of the package it names, must be there from where it is run; its store is
// in the temporary folder, and the user's folder is left as it was. That `node` prints a line the
// demos' `grep Remediated` keeps, as `set -e` stops a script at a grep finding none.

const DEMOS = ["examples/scan/demo.sh", "examples/cycle/demo.sh"];

/** Each `node` the script ran: the folder it ran in, its COSTGUARD_DATABASE_URL and its arguments. */
function nodeRuns(demo: string): { cwd: string; db: string; args: string[] }[] {
  const dir = mkdtempSync(join(tmpdir(), "costguard-demo-script-"));
  try {
    const log = join(dir, "node.log");
    const bin = join(dir, "bin");
    const user = join(dir, "user");
    mkdirSync(bin);
    mkdirSync(user);
    writeFileSync(
      join(bin, "node"),
      `#!/bin/sh\n{ printf 'cwd %s\\n' "$PWD"; printf 'db %s\\n' "$COSTGUARD_DATABASE_URL"; for a in "$@"; do printf 'arg %s\\n' "$a"; done; echo end; } >> "${log}"\necho "Remediated 0"\n`,
    );
    chmodSync(join(bin, "node"), 0o755);
    const run = spawnSync("sh", [resolve(demo)], {
      cwd: user,
      encoding: "utf8",
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, TMPDIR: dir },
    });
    assert.equal(run.status, 0, `${demo}: ${run.stderr}`);
    assert.deepEqual(readdirSync(user), [], `${demo} wrote in the folder it was run from`);
    const runs: { cwd: string; db: string; args: string[] }[] = [];
    let current: { cwd: string; db: string; args: string[] } | undefined;
    for (const line of readFileSync(log, "utf8").split("\n")) {
      if (line.startsWith("cwd ")) current = { cwd: line.slice(4), db: "", args: [] };
      else if (line.startsWith("db ")) current!.db = line.slice(3);
      else if (line.startsWith("arg ")) current!.args.push(line.slice(4));
      else if (line === "end") runs.push(current!);
    }
    return runs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const demo of DEMOS) {
  test(`${demo} runs from any folder: the costguard it starts and the files it names are found`, () => {
    const runs = nodeRuns(demo);
    assert.ok(runs.length > 3, `${runs.length} runs`);
    const missing: string[] = [];
    for (const { cwd, db, args } of runs) {
      if (!db.startsWith(`${tmpdir()}/costguard-demo-script-`))
        missing.push(`a store in the temporary folder: ${db}`);
      const [script, ...rest] = args;
      if (!script?.endsWith("bin/costguard.js") || !existsSync(resolve(cwd, script)))
        missing.push(`costguard itself: ${script} from ${cwd}`);
      for (const arg of rest) {
        const path = arg.replace(/^file:/, "");
        if (/(^|\/)examples\//.test(path) && !existsSync(resolve(cwd, path)))
          missing.push(`${path} from ${cwd}`);
      }
    }
    assert.deepEqual(missing, []);
  });
}
