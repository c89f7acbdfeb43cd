import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import {
  compilePolicySet,
  evaluate,
  InputError,
  type LoadedPolicy,
  loadConfig,
  loadNotifyConfig,
  loadPolicies,
  type PolicyDocument,
  PolicyValidationError,
  parseRequest,
  readPolicies,
} from "../../src/index.js";
import { MAX_NESTING } from "../../src/objects.js";

// What a JavaScript caller of the library may pass by mistake: refused with the library's own errors
// (InputError, PolicyValidationError) saying what was expected, never a TypeError from deep inside.

const FILE = "examples/policies/resource-limits-policy.yaml";

const document = (): PolicyDocument => ({
  apiVersion: "costguard.dev/v1",
  kind: "CostPolicy",
  metadata: { name: "limits" },
  spec: {
    type: "ResourceLimit",
    rules: [{ name: "r", resource: "compute/instance", constraint: { maxVCPUs: 4 } }],
  },
});
const loaded = (doc: unknown): LoadedPolicy =>
  ({
    document: doc,
    source: { file: "mine", index: 0, locate: () => ({ line: 1, column: 1 }) },
  }) as LoadedPolicy;

describe("compilePolicySet", () => {
  test("takes an array of loaded policies, and says so when given anything else", () => {
    for (const given of [undefined, null, {}, "policies/", document()])
      assert.throws(() => compilePolicySet(given as never), {
        name: "InputError",
        message:
          /^compilePolicySet takes an array of loaded policies \(loadPolicies\(paths\)\.policies\), got /,
      });
    assert.throws(() => compilePolicySet([document()] as never), {
      name: "InputError",
      message:
        "policies[0] is a policy document, not a loaded policy: load files with loadPolicies(paths), or give {document, source}",
    });
    for (const [entry, got] of [
      [{}, "an object without a document"],
      [null, "null"],
      ["limits.yaml", "a string"],
      [{ document: "x" }, "an object without a document"],
    ] as const)
      assert.throws(() => compilePolicySet([entry] as never), {
        name: "InputError",
        message: `policies[0] is not a loaded policy ({document, source}, as loadPolicies returns): got ${got}`,
      });
  });

  test("a document it did not load is checked as the loader checks it", () => {
    // As the benchmark and tests build them: valid, compiled as any.
    assert.equal(
      compilePolicySet([loaded(document())]).evaluate({ type: "compute/instance", specs: { vcpus: 8 } })
        .decision,
      "deny",
    );
    assert.throws(
      () => compilePolicySet([loaded({ kind: "CostPolicy" })]),
      (err: unknown) => {
        assert.ok(err instanceof PolicyValidationError);
        assert.ok(err.problems.every((p) => p.file === "mine"));
        return true;
      },
    );
    const noCheck = document();
    delete (noCheck.spec.rules[0] as { constraint?: unknown }).constraint;
    assert.throws(() => compilePolicySet([loaded(noCheck)]), {
      name: "PolicyValidationError",
      message: "mine:1:1: `rules[0]` needs `constraint` or `checks` (at /spec/rules/0)",
    });
    // Checked as a set too: the same name twice.
    assert.throws(
      () => compilePolicySet([loaded(document()), { ...loaded(document()), source: undefined } as never]),
      {
        name: "PolicyValidationError",
        message: /duplicate policy name `limits`/,
      },
    );
  });
});

describe("evaluate", () => {
  const set = compilePolicySet(loadPolicies([FILE]).policies);
  test("refuses what is no request instead of reading it", () => {
    for (const [request, got] of [
      [null, "null"],
      [undefined, "undefined"],
      ["compute/instance", "a string"],
    ] as const) {
      const message = `a request must be an object such as {"type": "compute/instance", ...}, got ${got}: check it with parseRequest`;
      assert.throws(() => set.evaluate(request as never), { name: "InputError", message });
      assert.throws(() => evaluate(loadPolicies([FILE]).policies, request as never), {
        name: "InputError",
        message,
      });
    }
    // Without a type no rule's scope could match it: it was allowed.
    assert.throws(() => set.evaluate({} as never), {
      name: "InputError",
      message:
        "a request must have a `type` (category/kind, such as compute/instance): check it with parseRequest",
    });
  });

  test("decides a request handed to it unchecked, nested past what JSON.stringify reaches, saying what it holds", () => {
    // The messages showed the value as JSON, then as String(value): each ran out of stack (RangeError).
    for (const levels of [3000, 100_000]) {
      let deep: unknown = [];
      for (let i = 1; i < levels; i++) deep = [deep];
      // Unchecked: what a JavaScript caller may hand over, whatever the request type says.
      const decision = set.evaluate({
        type: "compute/instance",
        specs: { vcpus: deep, instance_family: deep },
      } as never);
      assert.equal(decision.decision, "deny");
      const said = decision.violations.map((v) => v.message);
      const shown = levels === 3000 ? `${"[".repeat(59)}…` : "a list";
      assert.deepEqual(said, [
        `specs.vcpus is ${shown}, not a number: it cannot be within maxVCPUs 16`,
        `specs.instance_family is ${shown}, not text: it cannot be checked against allowedInstanceFamilies ['general-purpose', 'compute-optimized']`,
        `specs.instance_family is ${shown}, not text: it cannot be checked against deniedInstanceFamilies ['gpu', 'high-memory']`,
      ]);
      const checks = document();
      checks.spec.rules = [
        {
          name: "r",
          resource: "compute/instance",
          checks: [
            { field: "specs.x", op: "eq", value: 1 },
            { field: "specs.x", op: "absent" },
          ],
        },
      ];
      const checked = compilePolicySet([loaded(checks)]).evaluate({
        type: "compute/instance",
        specs: { x: deep },
      });
      // Written whole, as these checks write what they found.
      const json = levels === 3000 ? `${"[".repeat(levels)}${"]".repeat(levels)}` : "a list";
      assert.deepEqual(
        checked.violations.map((v) => v.message),
        [`specs.x is ${json}, must be 1`, `specs.x must be absent, found ${json}`],
      );
    }
  });
});

describe("loadPolicies and readPolicies", () => {
  test("one path given alone is one path (it was walked a character at a time, / among them)", () => {
    const one = loadPolicies(FILE);
    assert.deepEqual(
      one.policies.map((p) => p.document.metadata.name),
      loadPolicies([FILE]).policies.map((p) => p.document.metadata.name),
    );
    assert.deepEqual(readPolicies(FILE).files, [FILE]);
  });

  test("a file: URL is its path; another URL or value is refused", () => {
    const url = pathToFileURL(resolve(FILE));
    assert.equal(loadPolicies([url]).policies.length, loadPolicies([FILE]).policies.length);
    assert.equal(loadPolicies(url).policies.length, loadPolicies([FILE]).policies.length);
    assert.throws(() => loadPolicies([new URL("https://example.com/p.yaml")]), {
      name: "InputError",
      message: "policy path 0: https://example.com/p.yaml is not a file: URL; policies are read from files",
    });
    assert.throws(() => loadPolicies(undefined as never), {
      name: "InputError",
      message: "policy paths must be a path or a list of paths (files or folders), got undefined",
    });
    assert.throws(() => loadPolicies([FILE, 3] as never), {
      name: "InputError",
      message: "policy path 1 must be a path (a string or a file: URL), got a number",
    });
    assert.ok(new InputError("x") instanceof Error);
  });
});

describe("configuration loaders and parseRequest", () => {
  test("loadConfig and loadNotifyConfig without options read as the CLI would in this process", () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-lib-config-"));
    writeFileSync(
      join(dir, "costguard.yaml"),
      "policies: [./p]\nnotify:\n  webhooks: {ops: https://hooks.example.com/o}\n",
    );
    const env = { ...process.env };
    delete env.COSTGUARD_CONFIG;
    assert.deepEqual(loadConfig({ cwd: dir, env }).policies, [join(dir, "p")]);
    assert.equal(loadNotifyConfig({ cwd: dir, env }).webhooks.ops, "https://hooks.example.com/o");
    // Only cwd: the process's environment; nothing: its working folder too.
    assert.equal(
      loadConfig({ cwd: dir }).file,
      process.env.COSTGUARD_CONFIG ? resolve(process.env.COSTGUARD_CONFIG) : join(dir, "costguard.yaml"),
    );
    assert.doesNotThrow(() => loadConfig());
    assert.equal(typeof loadNotifyConfig().outbox, "string");
    assert.equal(typeof loadNotifyConfig({ cwd: dir }).outbox, "string");
    assert.throws(() => loadConfig("costguard.yaml" as never), {
      name: "InputError",
      message: "loadConfig takes an options object {flag, env, cwd} (each optional), got a string",
    });
    assert.throws(() => loadNotifyConfig(null as never), {
      name: "InputError",
      message: "loadNotifyConfig takes an options object {cwd, env, file, flags} (each optional), got null",
    });
  });

  test("parseRequest says what it got, in English", () => {
    for (const [value, got] of [
      [undefined, "undefined"],
      [null, "null"],
      [3, "a number"],
      [[], "a list"],
    ] as const)
      assert.throws(() => parseRequest(value), {
        name: "InputError",
        message: `request is not valid: a request must be an object such as {"type": "compute/instance", ...}, got ${got}`,
      });
  });

  test("parseRequest takes a request nested MAX_NESTING levels deep, and refuses one deeper at any depth", () => {
    // `levels` lists within one another, under the request's `specs`: two levels more in all.
    const nested = (levels: number) => {
      let value: unknown[] = [];
      for (let i = 1; i < levels; i++) value = [value];
      return { type: "compute/instance", specs: { x: value } };
    };
    const copy = parseRequest(nested(MAX_NESTING - 2));
    assert.deepEqual(copy, nested(MAX_NESTING - 2));
    for (const levels of [MAX_NESTING - 1, 3000, 100_000])
      assert.throws(() => parseRequest(nested(levels), "deep.json"), {
        name: "InputError",
        message: `deep.json is not valid: its lists and maps nest more than ${MAX_NESTING} levels deep (costguard reads ${MAX_NESTING}; a request needs a few)`,
      });
  });
});
