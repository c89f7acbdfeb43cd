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

describe("YAML nested past MAX_NESTING is bad input everywhere, said where, before the YAML library reads it", () => {
  // The library's parser and composer recurse once a level: some hundreds of levels in, a RangeError
  // (exit 3), or a message that was only "Maximum call stack size exceeded".
  const dir = mkdtempSync(join(tmpdir(), "costguard-yaml-deep-"));
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return join(dir, name);
  };
  const flow = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;
  // Lists within lists on one line (`- - - x`): block YAML, as deep as flow, in as few bytes.
  const block = (levels: number) => `${"- ".repeat(levels)}x`;
  const why = "lists and maps nest more than 256 levels deep here";
  for (const levels of [3000, 100_000]) {
    for (const [form, deep, column] of [
      ["flow", flow(levels), 258],
      ["block", block(levels), 513],
    ] as const) {
      const name = `${form}-${levels}`;
      // Each file nests `deep` as the value of a top-level key, from its line 2, column 3: the 257th
      // level opens at its 256th `[` or `- `.
      const value = `x:\n  ${deep}\n`;
      const policy = write(
        `${name}.policy.yaml`,
        `apiVersion: costguard.dev/v1\nkind: CostPolicy\nmetadata: {name: x}\nspec:\n  type: ResourceLimit\n---\n${value}`,
      );
      // Three documents: the parser ran out of stack closing the first one's levels (exit 3).
      const request = write(`${name}.request.yaml`, `${value}---\n${value}---\n${value}`);
      const suite = write(`${name}.test.yaml`, value);
      const inSuite = write(
        `${name}-file.test.yaml`,
        `policies: [${EXAMPLES}/policies]\ncases:\n  - {name: deep, requestFile: ${request}, expect: {decision: allow}}\n`,
      );
      const detectors = write(`${name}.detectors.yaml`, value);
      const book = write(`${name}.book.yaml`, value);
      const config = write(`${name}.costguard.yaml`, value);
      const inventory = write(
        `${name}.inventory.yaml`,
        `- id: i-1\n  type: compute/instance\n  x:\n    ${deep}\n`,
      );
      const at = (file: string, line = 2, col: number = column) =>
        new RegExp(`${file.replace(/[.]/g, "\\.")}:${line}:${col}: ${why}`);
      for (const [what, args, message] of [
        ["a policy file (validate)", ["validate", policy], at(policy, 8)],
        ["a request (evaluate)", ["evaluate", "-p", `${EXAMPLES}/policies`, request], at(request)],
        ["a test suite", ["test", suite], at(suite)],
        ["a test suite's requestFile", ["test", inSuite], at(`requestFile ${request}`)],
        [
          "a --detectors file",
          [
            "scan",
            "-p",
            `${EXAMPLES}/policies`,
            "-i",
            `file:${EXAMPLES}/scan/estate.jsonl`,
            "--no-store",
          ].concat(["--detectors", detectors]),
          at(detectors),
        ],
        ["a price book", ["price", "--price-book", book, "m5.large"], at(book)],
        [
          "an inventory",
          ["scan", "-p", `${EXAMPLES}/policies`, "-i", `file:${inventory}`, "--no-store"],
          at(inventory, 4, form === "flow" ? 259 : 513),
        ],
      ] as const) {
        test(`${what}, ${levels} levels as ${form} YAML`, async () => {
          const r = await cli([...args], { cwd: dir });
          assert.equal(r.code, 2, r.stderr);
          assert.match(r.stderr + r.stdout, message);
          assert.doesNotMatch(r.stderr, /internal error|call stack/);
        });
      }
      test(`costguard.yaml, ${levels} levels as ${form} YAML`, async () => {
        const r = await cli(["evaluate", `${EXAMPLES}/requests/compliant.json`], {
          cwd: dir,
          env: { COSTGUARD_CONFIG: config },
        });
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, at(config));
      });
    }
  }
});

describe("aliases nesting one another past MAX_NESTING, each within it", () => {
  // `a1: &a1 [[...*a0...]]`: each anchor a list 250 deep holding the one before, so the value is far
  // deeper than its text. The walk for prototype keys over a YAML request recursed (exit 3). No more
  // anchors than that shows: the yaml library builds such a value in time growing as their square
  // (400 of them, 100,000 levels, took it 45 s).
  const dir = mkdtempSync(join(tmpdir(), "costguard-yaml-alias-deep-"));
  const chain = (anchors: number) =>
    Array.from(
      { length: anchors },
      (_, k) => `  a${k}: &a${k} ${"[".repeat(250)}${k === 0 ? "" : `*a${k - 1}`}${"]".repeat(250)}`,
    ).join("\n");
  for (const [anchors, levels] of [
    [12, 3000],
    [60, 15_000],
  ] as const) {
    test(`a request ${levels} levels deep so is refused as one that deep, naming it`, async () => {
      writeFileSync(join(dir, "request.yaml"), `type: compute/instance\nspecs:\n${chain(anchors)}\n`);
      const r = await cli(["evaluate", "-p", `${EXAMPLES}/policies`, join(dir, "request.yaml")], {
        cwd: dir,
      });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /request\.yaml is not valid: its lists and maps nest more than 256 levels deep/);
    });
  }
});
