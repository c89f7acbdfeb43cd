import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Decision, ResourceRequest } from "../../src/engine/types.js";
import { compileYaml, resourceLimit } from "../helpers/policies.js";

const limits = (constraint: string, resource = "compute/instance") =>
  compileYaml(resourceLimit(`      resource: ${resource}\n      constraint:\n${constraint}`));

const vm = (specs: Record<string, unknown>, extra: Partial<ResourceRequest> = {}): ResourceRequest => ({
  type: "compute/instance",
  specs,
  ...extra,
});

const fields = (d: Decision) => d.violations.map((v) => v.field);

describe("ResourceLimit constraints", () => {
  const numeric: [string, string, string][] = [
    ["maxVCPUs", "vcpus", "Requested 17 vCPUs exceeds limit of 16"],
    ["maxMemoryGB", "memory_gb", "Requested 17GB memory exceeds limit of 16GB"],
    ["maxSizeGB", "size_gb", "Requested 17GB volume size exceeds limit of 16GB"],
    ["maxStorageGB", "storage_gb", "Requested 17GB storage exceeds limit of 16GB"],
  ];
  for (const [key, field, message] of numeric) {
    test(`${key} reads specs.${field}, is inclusive, and denies above the limit`, () => {
      const set = limits(`        ${key}: 16\n`);
      assert.equal(set.evaluate(vm({ [field]: 16 })).decision, "allow");
      assert.equal(set.evaluate(vm({ [field]: 15.5 })).decision, "allow");
      const d = set.evaluate(vm({ [field]: 17 }));
      assert.equal(d.decision, "deny");
      assert.deepEqual(d.violations, [
        {
          policy: "limits",
          rule: "r",
          severity: "high",
          enforcement: "deny",
          message,
          resource_type: "compute/instance",
          field: `specs.${field}`,
          actual: 17,
          limit: 16,
        },
      ]);
      const missing = set.evaluate(vm({}));
      assert.equal(missing.decision, "allow");
      assert.deepEqual(missing.unverified, [
        {
          policy: "limits",
          rule: "r",
          field: `specs.${field}`,
          message: `${key} not checked: request has no numeric specs.${field}`,
        },
      ]);
    });
  }

  test("a spec written at the request's top level is said in the note, not read as the spec", () => {
    const set = limits("        maxVCPUs: 16\n");
    const misplaced = set.evaluate({ type: "compute/instance", vcpus: 96, instance_type: "m5.24xlarge" });
    assert.equal(misplaced.decision, "allow");
    assert.deepEqual(
      misplaced.unverified.map((u) => u.message),
      [
        "maxVCPUs not checked: request has no numeric specs.vcpus; it has `vcpus` and `instance_type` at its top level, but specs belong under `specs`",
      ],
    );
    // The note every other request shares is not changed by the one that said more.
    assert.equal(
      set.evaluate(vm({})).unverified[0]?.message,
      "maxVCPUs not checked: request has no numeric specs.vcpus",
    );
    // A top-level key that would not give the missing spec is the request's own business.
    for (const other of [{ size: "big" }, { gpus: 8, memory_gb: 64 }])
      assert.equal(
        set.evaluate({ type: "compute/instance", ...other }).unverified[0]?.message,
        "maxVCPUs not checked: request has no numeric specs.vcpus",
      );
  });

  const lists: [string, string, string, string][] = [
    ["allowedInstanceFamilies", "instance_family", "general-purpose", "gpu"],
    ["allowedTypes", "volume_type", "ssd", "provisioned-iops"],
  ];
  for (const [key, field, ok, bad] of lists) {
    test(`${key} allows only the listed specs.${field}`, () => {
      const set = limits(`        ${key}: [${ok}, other]\n`);
      assert.equal(set.evaluate(vm({ [field]: ok })).decision, "allow");
      const d = set.evaluate(vm({ [field]: bad }));
      assert.equal(d.decision, "deny");
      assert.deepEqual(fields(d), [`specs.${field}`]);
      assert.deepEqual(d.violations[0]?.limit, [ok, "other"]);
      assert.match(
        d.violations[0]?.message ?? "",
        new RegExp(`'${bad}' is not in allowed values: \\['${ok}', 'other'\\]`),
      );
      assert.equal(set.evaluate(vm({})).unverified[0]?.field, `specs.${field}`);
    });
  }

  const denied: [string, string, string][] = [
    ["deniedInstanceFamilies", "instance_family", "Instance family 'gpu' is not allowed"],
    ["deniedTypes", "volume_type", "Volume type 'gpu' is not allowed"],
  ];
  for (const [key, field, message] of denied) {
    test(`${key} denies the listed specs.${field}`, () => {
      const set = limits(`        ${key}: [gpu, high-memory]\n`);
      assert.equal(set.evaluate(vm({ [field]: "general-purpose" })).decision, "allow");
      const d = set.evaluate(vm({ [field]: "gpu" }));
      assert.equal(d.decision, "deny");
      assert.equal(d.violations[0]?.message, message);
      assert.equal(set.evaluate(vm({})).unverified.length, 1);
    });
  }

  test("each failed check is its own violation", () => {
    const set = limits(
      "        maxVCPUs: 16\n        maxMemoryGB: 64\n        deniedInstanceFamilies: [gpu]\n",
    );
    const d = set.evaluate(vm({ vcpus: 32, memory_gb: 128, instance_family: "gpu" }));
    assert.deepEqual(fields(d), ["specs.vcpus", "specs.memory_gb", "specs.instance_family"]);
  });

  test("a value of the wrong type fails the check, never a pass (allowed with a note) or a crash", () => {
    const set = limits("        maxVCPUs: 16\n");
    const d = set.evaluate(vm({ vcpus: "32" }));
    assert.equal(d.decision, "deny");
    assert.deepEqual(
      d.violations.map((v) => v.message),
      ['specs.vcpus is "32", not a number: it cannot be within maxVCPUs 16'],
    );
    assert.equal(d.unverified.length, 0);
  });
});

describe("scopes", () => {
  test("exact, category/* and * scopes", () => {
    const exact = limits("        maxVCPUs: 1\n", "compute/instance");
    const category = limits("        maxVCPUs: 1\n", "compute/*");
    const all = limits("        maxVCPUs: 1\n", '"*"');
    const list = limits("        maxVCPUs: 1\n", "[database/instance, storage/*]");
    const big = (type: string) => ({ type, specs: { vcpus: 4 } });
    assert.equal(exact.evaluate(big("compute/instance")).decision, "deny");
    assert.equal(exact.evaluate(big("compute/instance-group")).decision, "allow");
    assert.equal(category.evaluate(big("compute/anything")).decision, "deny");
    assert.equal(category.evaluate(big("computer/instance")).decision, "allow");
    assert.equal(all.evaluate(big("network/nat")).decision, "deny");
    assert.equal(list.evaluate(big("database/instance")).decision, "deny");
    assert.equal(list.evaluate(big("storage/bucket")).decision, "deny");
    assert.equal(list.evaluate(big("compute/instance")).decision, "allow");
  });
});

const tagPolicy = (tags: string, extra = "") =>
  compileYaml(`apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: tags}
spec:
  type: TagRequirement
  rules:
    - name: t
${extra}      requiredTags:
${tags}`);

describe("TagRequirement", () => {
  test("a missing tag is one violation; pattern and value checks do not run on nothing", () => {
    const set = tagPolicy(
      "        - {key: cost-center, pattern: '^CC-[0-9]{6}$', allowedValues: [CC-000001], minLength: 9}\n",
    );
    const d = set.evaluate({ type: "compute/instance", tags: {} });
    assert.equal(d.decision, "deny");
    assert.deepEqual(
      d.violations.map((v) => [v.message, v.field, v.actual, v.limit]),
      [["Required tag 'cost-center' is missing", "tags.cost-center", null, "present"]],
    );
    assert.equal(set.evaluate({ type: "compute/instance" }).violations.length, 1);
  });

  test("pattern, allowedValues, minLength and maxLength each report separately", () => {
    const set = tagPolicy(
      "        - {key: cc, pattern: '^CC-[0-9]{6}$'}\n        - {key: env, allowedValues: [prod, dev]}\n        - {key: project, minLength: 3, maxLength: 5}\n",
    );
    const ok = set.evaluate({ type: "x/y", tags: { cc: "CC-123456", env: "prod", project: "abc" } });
    assert.equal(ok.decision, "allow");
    const d = set.evaluate({ type: "x/y", tags: { cc: "CC-12345", env: "test", project: "ab" } });
    assert.deepEqual(
      d.violations.map((v) => v.message),
      [
        "Tag 'cc' value 'CC-12345' does not match required pattern",
        "Tag 'env' value 'test' is not in allowed values: ['prod', 'dev']",
        "Tag 'project' value 'ab' is shorter than 3 characters",
      ],
    );
    const long = set.evaluate({ type: "x/y", tags: { cc: "CC-123456", env: "dev", project: "abcdef" } });
    assert.deepEqual(
      long.violations.map((v) => v.message),
      ["Tag 'project' value is longer than 5 characters"],
    );
    assert.deepEqual(long.violations[0]?.limit, { maxLength: 5 });
  });

  test("an empty value is present: it fails the pattern, not the presence check", () => {
    const set = tagPolicy("        - {key: owner, pattern: '.+'}\n");
    assert.deepEqual(
      set.evaluate({ type: "x/y", tags: { owner: "" } }).violations.map((v) => v.message),
      ["Tag 'owner' value '' does not match required pattern"],
    );
  });

  test("patterns are unanchored unless they use ^ and $ (RE2 semantics)", () => {
    const set = tagPolicy("        - {key: team, pattern: 'ops'}\n");
    assert.equal(set.evaluate({ type: "x/y", tags: { team: "devops-eu" } }).decision, "allow");
    assert.equal(set.evaluate({ type: "x/y", tags: { team: "dev" } }).decision, "deny");
  });

  test("RE2-only syntax works: POSIX classes and inline flags", () => {
    const set = tagPolicy("        - {key: team, pattern: '^(?i)[[:alpha:]]+$'}\n");
    assert.equal(set.evaluate({ type: "x/y", tags: { team: "DevOps" } }).decision, "allow");
    assert.equal(set.evaluate({ type: "x/y", tags: { team: "dev-ops" } }).decision, "deny");
  });

  test("a catastrophic-backtracking pattern still decides (linear-time matching)", {
    timeout: 20_000,
  }, () => {
    const set = tagPolicy(
      "        - {key: k, pattern: '(a+)+$'}\n        - {key: j, pattern: '^(x+x+)+y$'}\n",
    );
    const d = set.evaluate({ type: "x/y", tags: { k: `${"a".repeat(30)}!`, j: "x".repeat(5000) } });
    // Neither value matches; a backtracking engine would take minutes to find that out (2^30 paths).
    assert.deepEqual(
      d.violations.map((v) => v.field),
      ["tags.k", "tags.j"],
    );
  });

  test("scope defaults to every resource type and can be narrowed", () => {
    const everywhere = tagPolicy("        - {key: owner}\n");
    assert.equal(everywhere.evaluate({ type: "network/vpc" }).decision, "deny");
    const compute = tagPolicy("        - {key: owner}\n", "      scope: [compute/*]\n");
    assert.equal(compute.evaluate({ type: "network/vpc" }).decision, "allow");
    assert.equal(compute.evaluate({ type: "compute/instance" }).decision, "deny");
  });
});

describe("enforcement and severity", () => {
  const policy = (specExtra: string, ruleExtra: string) =>
    compileYaml(
      resourceLimit(`      resource: "*"\n${ruleExtra}      constraint: {maxVCPUs: 1}\n`, specExtra),
    );
  const big = { type: "compute/instance", specs: { vcpus: 2 } };

  test("defaults: enforcement deny, severity high", () => {
    const v = policy("", "").evaluate(big).violations[0];
    assert.equal(v?.enforcement, "deny");
    assert.equal(v?.severity, "high");
  });

  test("set on the spec, overridden by the rule", () => {
    const specOnly = policy("  enforcement: warn\n  severity: low\n", "").evaluate(big);
    assert.equal(specOnly.decision, "warn");
    assert.equal(specOnly.violations[0]?.severity, "low");
    const ruleWins = policy(
      "  enforcement: warn\n  severity: low\n",
      "      enforcement: deny\n      severity: critical\n",
    ).evaluate(big);
    assert.equal(ruleWins.decision, "deny");
    assert.equal(ruleWins.violations[0]?.severity, "critical");
  });

  test("audit violations are reported but change nothing", () => {
    const d = policy("  enforcement: audit\n", "").evaluate(big);
    assert.equal(d.decision, "allow");
    assert.equal(d.violations.length, 1);
    assert.equal(d.violations[0]?.enforcement, "audit");
  });

  test("deny wins over warn across policies", () => {
    const set =
      compileYaml(`${resourceLimit('      resource: "*"\n      enforcement: warn\n      constraint: {maxVCPUs: 1}\n')}---
${resourceLimit('      resource: "*"\n      constraint: {maxMemoryGB: 1}\n').replace("name: limits", "name: memory")}`);
    assert.equal(set.evaluate({ type: "a/b", specs: { vcpus: 2 } }).decision, "warn");
    assert.equal(set.evaluate({ type: "a/b", specs: { vcpus: 2, memory_gb: 2 } }).decision, "deny");
  });
});

describe("namespaces", () => {
  const set = compileYaml(
    resourceLimit('      resource: "*"\n      constraint: {maxVCPUs: 1}\n').replace(
      "name: limits",
      "name: limits\n  namespace: production",
    ),
  );
  const req = (extra: Partial<ResourceRequest>) => ({
    type: "compute/instance",
    specs: { vcpus: 4 },
    ...extra,
  });

  test("applies to requests in its namespace only", () => {
    assert.equal(set.evaluate(req({ namespace: "production" })).decision, "deny");
    assert.equal(set.evaluate(req({ namespace: "staging" })).decision, "allow");
  });

  test("without a namespace, the environment tag decides", () => {
    assert.equal(set.evaluate(req({ tags: { environment: "production" } })).decision, "deny");
    assert.equal(set.evaluate(req({ tags: { environment: "staging" } })).decision, "allow");
    assert.equal(
      set.evaluate(req({ namespace: "staging", tags: { environment: "production" } })).decision,
      "allow",
    );
  });

  test("with neither, the policy applies (fail closed)", () => {
    assert.equal(set.evaluate(req({})).decision, "deny");
  });

  test("an empty or blank namespace is none, and a namespace or environment matches trimmed, in any case", () => {
    // An export writing "" for "no namespace" took a production-tagged GPU box out of production's limits.
    assert.equal(set.evaluate(req({ namespace: "", tags: { environment: "production" } })).decision, "deny");
    assert.equal(set.evaluate(req({ namespace: "  " })).decision, "deny");
    assert.equal(set.evaluate(req({ namespace: " production" })).decision, "deny");
    assert.equal(set.evaluate(req({ namespace: "Production" })).decision, "deny");
    assert.equal(set.evaluate(req({ tags: { environment: "PRODUCTION " } })).decision, "deny");
    assert.equal(set.evaluate(req({ namespace: "", tags: { environment: "" } })).decision, "deny");
    assert.equal(set.evaluate(req({ namespace: "", tags: { environment: "staging" } })).decision, "allow");
  });
});

describe("generic checks", () => {
  const check = (op: string, value: string | undefined, field = "region") =>
    compileYaml(
      resourceLimit(
        `      resource: "*"\n      checks:\n        - {field: ${field}, op: ${op}${value === undefined ? "" : `, value: ${value}`}}\n`,
      ),
    );
  const cases: [string, string | undefined, string, unknown, unknown][] = [
    // op, value, field, passing value, failing value
    ["eq", "us-east-1", "region", "us-east-1", "eu-west-1"],
    ["ne", "us-east-1", "region", "eu-west-1", "us-east-1"],
    ["in", "[us-east-1, us-west-2]", "region", "us-west-2", "ap-south-1"],
    ["not-in", "[ap-south-1]", "region", "us-west-2", "ap-south-1"],
    ["regex", "'^us-'", "region", "us-west-2", "eu-west-1"],
    ["lt", "8", "specs.gpus", 7, 8],
    ["lte", "8", "specs.gpus", 8, 9],
    ["gt", "1", "specs.replicas", 2, 1],
    ["gte", "2", "specs.replicas", 2, 1],
  ];
  for (const [op, value, field, pass, fail] of cases) {
    test(`${op} on ${field}`, () => {
      const set = check(op, value, field);
      const put = (v: unknown) => {
        const [head, tail] = field.split(".");
        return tail ? { type: "a/b", [head!]: { [tail]: v } } : { type: "a/b", [head!]: v };
      };
      assert.equal(set.evaluate(put(pass)).decision, "allow");
      const d = set.evaluate(put(fail));
      assert.equal(d.decision, "deny");
      assert.equal(d.violations[0]?.field, field);
      assert.deepEqual(d.violations[0]?.actual, fail);
      const missing = set.evaluate({ type: "a/b" });
      assert.equal(missing.decision, "allow");
      assert.equal(missing.unverified[0]?.field, field);
    });
  }

  test("a check on a spec the request has at its top level says where it is", () => {
    const set = check("lte", "8", "specs.gpus");
    const d = set.evaluate({ type: "a/b", gpus: 16 });
    assert.equal(d.decision, "allow");
    assert.equal(
      d.unverified[0]?.message,
      "check lte not applied: request has no numeric specs.gpus; it has `gpus` at its top level, but specs belong under `specs`",
    );
  });

  test("a check on specs.type or specs.region is not told to move the request's own type or region", () => {
    for (const field of ["specs.type", "specs.region", "specs.name"]) {
      const d = check("eq", "x", field).evaluate({ type: "a/b", region: "eu-west-1", name: "web-1" });
      assert.equal(d.unverified[0]?.message, `check eq not applied: request has no ${field}`);
    }
  });

  test("present and absent", () => {
    const present = check("present", undefined, "tags.owner");
    assert.equal(present.evaluate({ type: "a/b", tags: { owner: "x" } }).decision, "allow");
    assert.equal(present.evaluate({ type: "a/b" }).decision, "deny");
    const absent = check("absent", undefined, "specs.public_ip");
    assert.equal(absent.evaluate({ type: "a/b" }).decision, "allow");
    assert.equal(absent.evaluate({ type: "a/b", specs: { public_ip: true } }).decision, "deny");
  });

  test("only a request's own keys are its fields: names of Object.prototype are not found on it", () => {
    for (const field of [
      "tags.constructor",
      "specs.constructor",
      "specs.hasOwnProperty",
      "__proto__",
      "constructor",
      "tags.__proto__",
      "specs.nested.toString",
    ]) {
      const present = check("present", undefined, field);
      const d = present.evaluate({ type: "a/b", tags: {}, specs: { nested: {} } });
      assert.equal(d.decision, "deny", `${field} must be missing`);
      assert.equal(
        check("absent", undefined, field).evaluate({ type: "a/b", tags: {}, specs: {} }).decision,
        "allow",
      );
    }
    const d = check("eq", "1", "specs.toString").evaluate({ type: "a/b", specs: {} });
    assert.equal(d.decision, "allow");
    assert.deepEqual(d.violations, []);
    assert.equal(d.unverified[0]?.message, "check eq not applied: request has no specs.toString");
    // Held as the request's own, such a key is read like any other.
    const own = JSON.parse('{"type": "a/b", "specs": {"constructor": 1}, "tags": {"__proto__": "x"}}');
    assert.equal(check("eq", "1", "specs.constructor").evaluate(own).decision, "allow");
    assert.equal(check("eq", "x", "tags.__proto__").evaluate(own).decision, "allow");
    assert.equal(check("eq", "2", "specs.constructor").evaluate(own).decision, "deny");
  });

  test("a custom message replaces the generated one; tag keys may contain dots", () => {
    const set = compileYaml(
      resourceLimit(
        '      resource: "*"\n      checks:\n        - {field: tags.kubernetes.io/team, op: present, message: "every workload needs a team label"}\n',
      ),
    );
    assert.equal(set.evaluate({ type: "a/b", tags: { "kubernetes.io/team": "web" } }).decision, "allow");
    assert.equal(
      set.evaluate({ type: "a/b", tags: {} }).violations[0]?.message,
      "every workload needs a team label",
    );
  });
});

describe("budgets before billing data", () => {
  test("a BudgetLimit rule whose selector matches is listed as not evaluated, never passed silently", () => {
    const set = compileYaml(`apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: budgets}
spec:
  type: BudgetLimit
  rules:
    - name: alpha
      selector: {tags: {project: alpha}}
      budget: {monthly: 100}
`);
    const d = set.evaluate({ type: "compute/instance", tags: { project: "alpha" } });
    assert.equal(d.decision, "allow");
    assert.deepEqual(
      d.not_evaluated.map((n) => [n.policy, n.rule]),
      [["budgets", "alpha"]],
    );
    assert.deepEqual(set.evaluate({ type: "compute/instance", tags: { project: "beta" } }).not_evaluated, []);
  });
});
