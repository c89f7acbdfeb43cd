import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, test } from "node:test";
import { cli, costguard } from "../helpers/cli.js";

// Eight lines whose aliases expand to 9^8 (43 million) strings: the YAML library refuses to build
// the value past 100 aliases, and every reader must say so as bad input, not crash (exit 3) on it.
const BOMB = ["a: &a [x, x, x, x, x, x, x, x, x]"]
  .concat(
    "bcdefgh".split("").map((k, i) => {
      const prev = "abcdefgh"[i]!;
      return `${k}: &${k} [${Array(9).fill(`*${prev}`).join(", ")}]`;
    }),
  )
  .join("\n");

const EXAMPLES = resolve("examples");

describe("YAML whose aliases would expand without end is bad input everywhere", () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-yaml-bomb-"));
  const bomb = join(dir, "bomb.yaml");
  writeFileSync(bomb, `${BOMB}\n`);
  writeFileSync(join(dir, "bomb.test.yaml"), `${BOMB}\n`);

  for (const [what, args, message] of [
    ["a policy file (validate)", ["validate", bomb], /bomb\.yaml:1:1: not valid YAML: Excessive alias count/],
    [
      "a policy file (budgets)",
      ["budgets", "-p", bomb, "-b", `${EXAMPLES}/billing/focus-1.0-sample.csv`],
      /not valid YAML/,
    ],
    [
      "a request (evaluate)",
      ["evaluate", "-p", `${EXAMPLES}/guide-main`, bomb],
      /bomb\.yaml: not valid YAML: Excessive alias/,
    ],
    [
      "a test suite",
      ["test", join(dir, "bomb.test.yaml")],
      /bomb\.test\.yaml: not valid YAML: Excessive alias/,
    ],
    [
      "a --detectors file",
      [
        "scan",
        "-p",
        `${EXAMPLES}/policies`,
        "--inventory",
        `file:${EXAMPLES}/scan/estate.jsonl`,
        "--no-store",
        "--detectors",
        bomb,
      ],
      /bomb\.yaml: not valid YAML\/JSON: Excessive alias/,
    ],
  ] as const) {
    test(what, async () => {
      const r = await cli([...args], { cwd: dir });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr + r.stdout, message);
      assert.doesNotMatch(r.stderr, /internal error/);
    });
  }
});

describe("a list or map used as a key (`? [a, b] : c`) is refused where it is read, with no process warning", () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-yaml-key-"));
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const policy = write(
    "policy.yaml",
    "apiVersion: costguard.dev/v1\nkind: CostPolicy\nmetadata:\n  name: x\nspec:\n  ? [a, b]\n  : c\n",
  );
  const request = write("request.yaml", "type: compute/instance\ntags:\n  ? {k: v}\n  : x\n");
  const config = write("costguard.yaml", "? [a]\n: 1\n");
  const detectors = write("detectors.yaml", "? [idle]\n: {}\n");
  for (const [what, args, message] of [
    [
      "a policy file, at the key",
      ["validate", policy],
      /policy\.yaml:6:5: not valid in a policy: a key must be a plain value \(text or a number\), not a list or map/,
    ],
    [
      "a request",
      ["evaluate", "-p", `${EXAMPLES}/guide-main`, request],
      /request\.yaml: not valid YAML here: a key must be a plain value/,
    ],
    [
      "costguard.yaml",
      ["run", "-i", "sandbox", "--config", config],
      /costguard\.yaml: unknown key `\[ a \]`/,
    ],
    [
      "a --detectors file",
      [
        "scan",
        "-p",
        `${EXAMPLES}/policies`,
        "-i",
        `file:${EXAMPLES}/scan/estate.jsonl`,
        "--no-store",
        "--detectors",
        detectors,
      ],
      /detectors\.yaml/,
    ],
  ] as const) {
    test(what, () => {
      const r = costguard([...args]);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /Warning|stringified/);
    });
  }
});
