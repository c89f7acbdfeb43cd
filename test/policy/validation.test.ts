import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { formatProblem } from "../../src/errors.js";
import { loadPolicies, readPolicies } from "../../src/policy/load.js";
import { problemsOf, resourceLimit, writeTemp } from "../helpers/policies.js";

const errorsOf = (text: string) => problemsOf(text).filter((p) => p.severity === "error");
const warningsOf = (text: string) => problemsOf(text).filter((p) => p.severity === "warning");

describe("policy validation", () => {
  test("the guide's three YAML policies load unchanged and without problems", () => {
    const result = readPolicies(["examples/policies"]);
    assert.deepEqual(result.problems, []);
    assert.deepEqual(result.policies.map((p) => p.document.metadata.name).sort(), [
      "mandatory-tags",
      "resource-limits",
      "team-budgets",
    ]);
  });

  test("an unknown key is an error at its line and column, with the closest known key", () => {
    const text = resourceLimit("      resource: compute/instance\n      constraint:\n        maxVCPU: 16\n");
    const [p, ...rest] = errorsOf(text);
    assert.equal(rest.length, 0);
    assert.equal(p?.message, "unknown key `maxVCPU` — did you mean `maxVCPUs`?");
    assert.equal(p?.suggestion, "maxVCPUs");
    assert.equal(p?.line, 11);
    assert.equal(p?.column, 9);
    assert.equal(p?.path, "/spec/rules/0/constraint/maxVCPU");
    assert.match(formatProblem(p!), /policy\.yaml:11:9: unknown key `maxVCPU`/);
  });

  test("an unknown key far from every known one gets no suggestion", () => {
    const [p] = errorsOf(
      resourceLimit("      resource: compute/instance\n      constraint:\n        frobnicate: 1\n"),
    );
    assert.equal(p?.message, "unknown key `frobnicate`");
    assert.equal(p?.suggestion, undefined);
  });

  test("unknown keys are caught at every level: spec, rule, required tag", () => {
    const text = `apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: tags}
spec:
  type: TagRequirement
  enforcment: warn
  rules:
    - name: t
      scopes: ["*"]
      requiredTags:
        - key: owner
          patern: "^x$"
`;
    const messages = errorsOf(text).map((p) => p.message);
    assert.deepEqual(messages, [
      "unknown key `enforcment` — did you mean `enforcement`?",
      "unknown key `scopes` — did you mean `scope`?",
      "unknown key `patern` — did you mean `pattern`?",
    ]);
  });

  test("a wrong type names the key, the expected type and what was given", () => {
    const [p] = errorsOf(
      resourceLimit('      resource: compute/instance\n      constraint:\n        maxVCPUs: "sixteen"\n'),
    );
    assert.equal(p?.message, '`maxVCPUs` must be a number, got string "sixteen"');
    assert.equal(p?.line, 11);
    assert.equal(p?.column, 19);
  });

  test("a negative limit is an error", () => {
    const [p] = errorsOf(
      resourceLimit("      resource: compute/instance\n      constraint:\n        maxMemoryGB: -4\n"),
    );
    assert.equal(p?.message, "`maxMemoryGB` must not be negative, got number -4");
  });

  test("a budget is at least a cent and at most ten trillion: its percentages and sums stay numbers, exact to the cent", () => {
    const budget = (amount: string) => `apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: budgets}
spec:
  type: BudgetLimit
  rules:
    - name: team-a
      selector: {tags: {team: a}}
      budget: {monthly: ${amount}}
`;
    assert.deepEqual(errorsOf(budget("0.01")), []);
    assert.deepEqual(errorsOf(budget("10000000000000")), []);
    assert.deepEqual(
      errorsOf(budget("5e-324")).map((p) => p.message),
      ["`monthly` must be at least 0.01, got number 5e-324"],
    );
    assert.deepEqual(
      errorsOf(budget("123456789012345678901234567890")).map((p) => p.message),
      ["`monthly` must be at most 10000000000000, got number 1.2345678901234568e+29"],
    );
  });

  test("a currency is an ISO 4217 code, in a budget or a cost limit, with the closest one when near", () => {
    const budget = (currency: string) => `apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: budgets}
spec:
  type: BudgetLimit
  rules:
    - name: team-a
      selector: {tags: {team: a}}
      budget: {monthly: 40, currency: ${currency}}
`;
    for (const ok of ["USD", "EUR", "JPY", "GBP"]) assert.deepEqual(errorsOf(budget(ok)), [], ok);
    const [typo, ...none] = errorsOf(budget("UDS"));
    assert.deepEqual(none, []);
    assert.equal(typo?.message, "`UDS` is not an ISO 4217 currency code — did you mean `USD`?");
    assert.deepEqual([typo?.path, typo?.line], ["/spec/rules/0/budget/currency", 9]);
    assert.deepEqual(
      errorsOf(budget("XYZ")).map((p) => p.message),
      ["`XYZ` is not an ISO 4217 currency code"],
    );
    const limit = (currency: string) =>
      resourceLimit(
        `      resource: compute/instance\n      constraint:\n        maxMonthlyCost: 500\n        currency: ${currency}\n`,
      );
    assert.deepEqual(errorsOf(limit("EUR")), []);
    assert.deepEqual(
      errorsOf(limit("EUD")).map((p) => [p.path, p.message]),
      [["/spec/rules/0/constraint/currency", "`EUD` is not an ISO 4217 currency code — did you mean `EUR`?"]],
    );
  });

  test("a limit too big to be a number (YAML reads 1e999 and .inf as Infinity) is an error", () => {
    const [p] = errorsOf(
      resourceLimit("      resource: compute/instance\n      constraint:\n        maxVCPUs: .inf\n"),
    );
    assert.equal(p?.message, "`maxVCPUs` is too big to be a number (it reads as Infinity)");
    assert.equal(p?.line, 11);
  });

  test("a limit of .nan is one error saying so (NaN fails every bound: it was 'too big' and 'negative')", () => {
    const problems = errorsOf(
      resourceLimit("      resource: compute/instance\n      constraint:\n        maxVCPUs: .nan\n"),
    );
    assert.deepEqual(
      problems.map((p) => p.message),
      ["`maxVCPUs` must be a number, got NaN"],
    );
  });

  test("a tag length of .inf is an error, not a bound no tag meets", () => {
    const text = `apiVersion: policy.oneuptime.com/v1
kind: CostPolicy
metadata: {name: tags}
spec:
  type: TagRequirement
  rules:
    - name: project
      requiredTags:
        - key: project
          minLength: .inf
`;
    const [p] = errorsOf(text);
    assert.equal(p?.message, "`minLength` is too big to be a number (it reads as Infinity)");
  });

  test("a misspelt enum value gets a suggestion", () => {
    const [p] = errorsOf(
      resourceLimit(
        "      resource: compute/instance\n      enforcement: wran\n      constraint: {maxVCPUs: 2}\n",
      ),
    );
    assert.equal(
      p?.message,
      '`enforcement` must be one of deny, warn, audit; got string "wran" — did you mean `warn`?',
    );
  });

  test("a resource scope must be category/kind, category/* or *", () => {
    const [p, ...rest] = errorsOf(
      resourceLimit("      resource: compute\n      constraint: {maxVCPUs: 2}\n"),
    );
    assert.equal(rest.length, 0);
    assert.match(p?.message ?? "", /^`resource` string "compute" is not valid: A resource type/);
  });

  test("a rule with neither constraint nor checks is an error", () => {
    const [p] = errorsOf(resourceLimit("      resource: compute/instance\n"));
    assert.equal(p?.message, "`rules[0]` needs `constraint` or `checks`");
  });

  test("names say what they may be; names and channels have a length, each over it one message", () => {
    // Rule names and channels make the keys of budget alerts, which the store indexes: PostgreSQL
    // failed a 3,000-character rule name's alert as a database error.
    const budget = (rule: string, channel: string) => `apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: budgets}
spec:
  type: BudgetLimit
  rules:
    - name: ${rule}
      selector: {provider: AWS}
      budget:
        monthly: 100
        alertThresholds:
          - {percent: 80, action: notify, channels: ["${channel}"]}
`;
    const ok = `${"a".repeat(253)}`;
    const address = `email:${"f".repeat(200)}@${"e".repeat(53)}`;
    assert.equal(address.length, 260);
    assert.deepEqual(errorsOf(budget(ok, address)), []);
    assert.deepEqual(
      errorsOf(budget(`${ok}b`, `${address}x`)).map((p) => p.message),
      ["`name` is 254 characters long: at most 253", "`channels[0]` is 261 characters long: at most 260"],
    );
    assert.deepEqual(
      errorsOf(budget("dev env", "slack:#fin ops")).map((p) => p.message),
      [
        "`name` string \"dev env\" is not valid: letters, digits, '.', '_' and '-', beginning and ending with a letter or digit, at most 253 characters",
        "`channels[0]` string \"slack:#fin ops\" is not valid: slack:#channel, email:address or webhook:NAME (a Slack channel or webhook name of letters, digits, '.', '_' and '-'; one plain ASCII address, name@example.com, without a display name, quotes, commas, colons, semicolons or angle brackets), at most 260 characters",
      ],
    );
    // What nodemailer would send elsewhere than the outbox says (a list, a group), or raw (non-ASCII).
    for (const twisted of ["email:x,attacker@evil.com", "email:Victim:x@evil.com;", "email:jörg@example.com"])
      assert.match(
        errorsOf(budget("dev", twisted))[0]?.message ?? "",
        /is not valid: slack:#channel/,
        twisted,
      );
    assert.deepEqual(errorsOf(budget("dev", "email:a.b+tag@mail-1.example.com")), []);
    const policyName = errorsOf(budget("dev", "slack:#finops").replace("name: budgets", "name: Budgets"));
    assert.match(
      policyName[0]?.message ?? "",
      /^`name` string "Budgets" is not valid: lowercase letters, digits/,
    );
  });

  test("missing required keys are named", () => {
    const messages = errorsOf("apiVersion: costguard.dev/v1\nkind: CostPolicy\nmetadata: {}\n").map(
      (p) => p.message,
    );
    assert.deepEqual(messages.sort(), [
      "missing required key `name` in `metadata`",
      "missing required key `spec`",
    ]);
  });

  test("the apiVersion must be costguard.dev/v1 or the guide's alias", () => {
    const text = resourceLimit("      resource: compute/instance\n      constraint: {maxVCPUs: 2}\n").replace(
      "costguard.dev/v1",
      "costguard.dev/v2",
    );
    const [p] = errorsOf(text);
    assert.match(
      p?.message ?? "",
      /^`apiVersion` must be one of costguard\.dev\/v1, policy\.oneuptime\.com\/v1/,
    );
  });

  test("a pattern that is not RE2 syntax is an error (backreferences, lookahead)", () => {
    const tagPolicy = (pattern: string) => `apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: tags}
spec:
  type: TagRequirement
  rules:
    - name: t
      requiredTags:
        - key: owner
          pattern: '${pattern}'
`;
    const [backref] = errorsOf(tagPolicy("(a)\\1"));
    assert.match(backref?.message ?? "", /^`pattern` is not valid RE2 syntax: invalid escape sequence/);
    assert.equal(backref?.line, 10);
    const [lookahead] = errorsOf(tagPolicy("a(?=b)"));
    assert.match(
      lookahead?.message ?? "",
      /^`pattern` is not valid RE2 syntax: invalid or unsupported Perl syntax/,
    );
    assert.deepEqual(errorsOf(tagPolicy("^[[:alpha:]]+$")), []);
  });

  test("minLength above maxLength is an error; an allowed value failing the pattern is a warning", () => {
    const text = `apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: tags}
spec:
  type: TagRequirement
  rules:
    - name: t
      requiredTags:
        - key: env
          minLength: 5
          maxLength: 2
        - key: team
          pattern: "^[a-z]+$"
          allowedValues: [web, Data]
`;
    const problems = problemsOf(text);
    assert.deepEqual(
      problems.map((p) => [p.severity, p.message]),
      [
        ["error", "`minLength` 5 is above `maxLength` 2: no value can satisfy both"],
        ["warning", 'allowed value "Data" does not match `pattern`: it can never pass'],
      ],
    );
  });

  test("an empty allowed list is an error (it fails every request); a tag key with blanks around it warns", () => {
    const tags = `apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: tags}
spec:
  type: TagRequirement
  rules:
    - name: t
      requiredTags:
        - key: env
          allowedValues: []
        - key: " team "
        - key: owner
`;
    assert.deepEqual(
      problemsOf(tags).map((p) => [p.severity, p.line, p.column, p.message]),
      [
        [
          "error",
          10,
          26,
          "an empty allowed list lets no tag `env` pass: every request with one fails the rule — leave the list out to allow any",
        ],
        [
          "warning",
          11,
          16,
          'tag key " team " has blanks around it: only a tag whose key has the same blanks matches (did you mean `team`?)',
        ],
      ],
    );
    const limits = resourceLimit(
      "      resource: '*'\n      constraint:\n        allowedInstanceFamilies: []\n        allowedTypes: []\n        deniedTypes: []\n      checks:\n        - {field: region, op: in, value: []}\n        - {field: region, op: not-in, value: []}\n",
    );
    assert.deepEqual(
      problemsOf(limits).map((p) => [p.severity, p.path, p.message]),
      [
        [
          "error",
          "/spec/rules/0/constraint/allowedInstanceFamilies",
          "an empty allowed list lets no `specs.instance_family` pass: every request with one fails the rule — leave the list out to allow any",
        ],
        [
          "error",
          "/spec/rules/0/constraint/allowedTypes",
          "an empty allowed list lets no `specs.volume_type` pass: every request with one fails the rule — leave the list out to allow any",
        ],
        [
          "error",
          "/spec/rules/0/checks/0/value",
          "`in` with an empty list lets no `region` pass: every request with one fails the check",
        ],
      ],
    );
  });

  test("a scope that misspells a type costguard produces warns with the type; a type of the user's own does not", () => {
    const text = `apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: tags}
spec:
  type: TagRequirement
  rules:
    - name: t
      requiredTags: [{key: team}]
      scope: [compte/*, storage/*, compute/k8s-pods, serverless/function, "*"]
    - name: u
      requiredTags: [{key: team}]
      scope: database/instances
`;
    assert.deepEqual(
      problemsOf(text).map((p) => [p.severity, p.line, p.column, p.message]),
      [
        [
          "warning",
          9,
          15,
          "`compte/*` matches no resource type costguard's gates, scans or sandbox produce — did you mean `compute/*`? (requests of your own types still match it)",
        ],
        [
          "warning",
          9,
          36,
          "`compute/k8s-pods` matches no resource type costguard's gates, scans or sandbox produce — did you mean `compute/k8s-pod`? (requests of your own types still match it)",
        ],
        [
          "warning",
          12,
          14,
          "`database/instances` matches no resource type costguard's gates, scans or sandbox produce — did you mean `database/instance`? (requests of your own types still match it)",
        ],
      ],
    );
    const limit = resourceLimit(
      "      resource: [compute/instnace, network/load-balancer]\n      constraint: {maxVCPUs: 4}\n",
    );
    assert.deepEqual(
      warningsOf(limit).map((p) => p.path),
      ["/spec/rules/0/resource/0"],
    );
  });

  test("a check field that misspells one costguard sets warns with the field; fields of the user's own do not", () => {
    const text = resourceLimit(
      [
        "      resource: compute/instance",
        "      checks:",
        "        - {field: specs.vcpu, op: lte, value: 4}",
        "        - {field: tag.team, op: present}",
        "        - {field: spec.vcpu, op: lte, value: 4}",
        "        - {field: specs.vcpus, op: lte, value: 4}",
        "        - {field: specs.my_own_setting, op: eq, value: x}",
        "        - {field: tags.kubernetes.io/team, op: present}",
        "        - {field: metrics.avg_cpu_percent, op: lt, value: 5}",
        "        - {field: owner, op: absent}",
        "",
      ].join("\n"),
    );
    assert.deepEqual(
      warningsOf(text).map((p) => [p.line, p.message]),
      [
        [
          11,
          "`specs.vcpu` is no field costguard's gates, inventories or price book set — did you mean `specs.vcpus`? (a field of your own requests still works; where it is missing, the check is unverified)",
        ],
        [
          12,
          "`tag.team` is no field costguard's gates, inventories or price book set — did you mean `tags.team`? (a field of your own requests still works; where it is missing, `present` fails)",
        ],
        [
          13,
          "`spec.vcpu` is no field costguard's gates, inventories or price book set — did you mean `specs.vcpus`? (a field of your own requests still works; where it is missing, the check is unverified)",
        ],
      ],
    );
    assert.deepEqual(errorsOf(text), []);
  });

  test("a family both allowed and denied warns", () => {
    const text = resourceLimit(
      "      resource: compute/instance\n      constraint:\n        allowedInstanceFamilies: [gpu, general-purpose]\n        deniedInstanceFamilies: [gpu]\n",
    );
    const [w, ...rest] = warningsOf(text);
    assert.equal(rest.length, 0);
    assert.equal(w?.message, 'instance family "gpu" is both allowed and denied; denied wins');
    assert.deepEqual(errorsOf(text), []);
  });

  test("a file named twice (its folder and itself, or through a link) is read once", () => {
    const result = readPolicies([
      "examples/policies",
      "examples/policies/tagging-policy.yaml",
      "./examples/policies",
    ]);
    assert.deepEqual(result.problems, []);
    assert.equal(result.files.length, 3);
    assert.deepEqual(result.policies.map((p) => p.document.metadata.name).sort(), [
      "mandatory-tags",
      "resource-limits",
      "team-budgets",
    ]);
  });

  test("a linked folder is read as a real one; a link back to a folder it is in is a warning, not a loop", () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-links-"));
    const policy = (name: string) =>
      resourceLimit("      resource: compute/instance\n      constraint: {maxVCPUs: 2}\n").replace(
        "name: limits",
        `name: ${name}`,
      );
    mkdirSync(join(dir, "real", "x"), { recursive: true });
    mkdirSync(join(dir, "top"));
    writeFileSync(join(dir, "real", "x", "only.yaml"), policy("linked"));
    writeFileSync(join(dir, "top", "top.yaml"), policy("top"));
    symlinkSync(join("..", "real", "x"), join(dir, "top", "linked"));
    const linked = readPolicies([join(dir, "top")]);
    assert.deepEqual(linked.problems, []);
    assert.deepEqual(linked.policies.map((p) => p.document.metadata.name).sort(), ["linked", "top"]);

    // A link to the folder above it: everything there is read once, and said.
    symlinkSync("..", join(dir, "real", "x", "up"));
    const looped = readPolicies([join(dir, "top")]);
    assert.deepEqual(looped.policies.map((p) => p.document.metadata.name).sort(), ["linked", "top"]);
    assert.deepEqual(
      looped.problems.map((p) => [p.severity, p.file.endsWith(join("top", "linked", "up", "x")), p.message]),
      [
        [
          "warning",
          true,
          `leads back to ${realpathSync(join(dir, "real", "x"))}, a folder it is inside of (a link loops): not followed, what is there is read once already`,
        ],
      ],
    );
  });

  test("duplicate policy names across files are errors that point at the first definition", () => {
    const one = writeTemp(
      resourceLimit("      resource: compute/instance\n      constraint: {maxVCPUs: 2}\n"),
      "a.yaml",
    );
    const two = writeTemp(
      resourceLimit("      resource: compute/instance\n      constraint: {maxVCPUs: 4}\n"),
      "b.yaml",
    );
    const result = readPolicies([one, two]);
    const [p] = result.problems;
    assert.match(p?.message ?? "", /^duplicate policy name `limits` \(first defined at .*a\.yaml:4:9\)$/);
    assert.equal(p?.file.endsWith("b.yaml"), true);
  });

  test("duplicate rule names inside a policy are errors", () => {
    const text = resourceLimit(
      "      resource: compute/instance\n      constraint: {maxVCPUs: 2}\n    - name: r\n      resource: storage/volume\n      constraint: {maxSizeGB: 2}\n",
    );
    assert.deepEqual(
      errorsOf(text).map((p) => p.message),
      ["duplicate rule name `r` in policy"],
    );
  });

  test("generic checks: the value must fit the operator", () => {
    const text = resourceLimit(
      "      resource: compute/instance\n      checks:\n        - {field: specs.vcpus, op: lt, value: ten}\n        - {field: region, op: in, value: us-east-1}\n        - {field: region, op: present, value: x}\n        - {field: name, op: regex, value: '(?<=a)b'}\n",
    );
    assert.deepEqual(
      errorsOf(text).map((p) => p.message),
      [
        "`lt` needs a number `value`",
        "`in` needs a list of values",
        "`present` takes no `value`",
        "`value` is not valid RE2 syntax: invalid named capture: `(?<=a)b`",
      ],
    );
  });

  test("a check on a tag with an unquoted number or boolean value is an error naming the quoted value", () => {
    const text = resourceLimit(
      "      resource: compute/instance\n      checks:\n        - {field: tags.tier, op: eq, value: 1}\n        - {field: tags.public, op: ne, value: true}\n        - {field: tags.tier, op: in, value: ['1', 2]}\n        - {field: tags.tier, op: not-in, value: [false]}\n        - {field: tags.tier, op: lt, value: 3}\n        - {field: tags.tier, op: eq, value: '1'}\n        - {field: specs.tier, op: eq, value: 1}\n",
    );
    const errors = errorsOf(text);
    assert.deepEqual(
      errors.map((p) => [p.line, p.column, p.path, p.message]),
      [
        [
          11,
          45,
          "/spec/rules/0/checks/0/value",
          '`value` 1 is a number and tags are strings: no tag\'s value ever equals it — quote it: "1"',
        ],
        [
          12,
          47,
          "/spec/rules/0/checks/1/value",
          '`value` true is a boolean and tags are strings: no tag\'s value ever equals it — quote it: "true"',
        ],
        [
          13,
          51,
          "/spec/rules/0/checks/2/value/1",
          '`value` item 2 is a number and tags are strings: no tag\'s value ever equals it — quote it: "2"',
        ],
        [
          14,
          50,
          "/spec/rules/0/checks/3/value/0",
          '`value` item false is a boolean and tags are strings: no tag\'s value ever equals it — quote it: "false"',
        ],
        [
          15,
          34,
          "/spec/rules/0/checks/4/op",
          "`lt` compares numbers and tags are strings: the check is never applied (`tags.tier` is unverified on every request) — compare it with `eq`, `in` or `regex`",
        ],
      ],
    );
    assert.match(formatProblem(errors[0]!), /policy\.yaml:11:45: `value` 1 is a number/);
  });

  test("YAML syntax errors and duplicate keys are reported with positions", () => {
    const [syntax] = errorsOf("apiVersion: costguard.dev/v1\nkind: CostPolicy: x\n");
    assert.match(syntax?.message ?? "", /^not valid YAML\/JSON: Nested mappings are not allowed/);
    assert.equal(syntax?.line, 2);
    assert.equal(syntax?.column, 7);
    const [dup] = errorsOf("apiVersion: costguard.dev/v1\napiVersion: costguard.dev/v1\n");
    assert.match(dup?.message ?? "", /Map keys must be unique/);
    assert.equal(dup?.line, 2);
  });

  test("multi-document YAML, JSON files and JSON arrays all load, with positions per document", () => {
    const doc = (name: string) =>
      resourceLimit("      resource: compute/instance\n      constraint: {maxVCPUs: 2}\n").replace(
        "name: limits",
        `name: ${name}`,
      );
    const multi = writeTemp(`${doc("one")}---\n${doc("two")}\n---\n`, "multi.yaml");
    assert.equal(readPolicies([multi]).policies.length, 2);
    const broken = writeTemp(
      `${doc("one")}---\n${doc("two").replace("maxVCPUs", "maxVCPUz")}`,
      "broken.yaml",
    );
    const [p] = readPolicies([broken]).problems;
    assert.equal(p?.line, 21);
    const json = writeTemp(
      JSON.stringify([
        {
          apiVersion: "costguard.dev/v1",
          kind: "CostPolicy",
          metadata: { name: "a" },
          spec: { type: "ResourceLimit", rules: [{ name: "r", resource: "*", constraint: { maxVCPUs: 1 } }] },
        },
        {
          apiVersion: "costguard.dev/v1",
          kind: "CostPolicy",
          metadata: { name: "b" },
          spec: { type: "ResourceLimit", rules: [{ name: "r", resource: "*", constraint: { maxVCPU: 1 } }] },
        },
      ]),
      "set.json",
    );
    const jsonResult = readPolicies([json]);
    assert.equal(jsonResult.policies.length, 1);
    assert.equal(jsonResult.problems[0]?.message, "unknown key `maxVCPU` — did you mean `maxVCPUs`?");
    assert.equal(jsonResult.problems[0]?.path, "/spec/rules/0/constraint/maxVCPU");
    assert.equal(jsonResult.problems[0]?.column, 336); // the second document's "maxVCPU" key
  });

  test("folders load recursively and skip *.test.yaml suites", () => {
    const result = readPolicies(["examples"]);
    assert.ok(result.files.every((f) => !f.endsWith(".test.yaml")));
    assert.ok(result.files.some((f) => f.endsWith("budget-policy.yaml")));
  });

  test("a folder's policy files are found in any case of extension; suites in any case are left out", () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-ext-"));
    copyFileSync("examples/policies/resource-limits-policy.yaml", join(dir, "limits.YAML"));
    copyFileSync("examples/policies/tagging-policy.yaml", join(dir, "tags.Yml"));
    copyFileSync("examples/policies/guide-policies.test.yaml", join(dir, "guide.TEST.yaml"));
    const result = readPolicies([dir]);
    assert.deepEqual(result.files.map((f) => f.slice(dir.length + 1)).sort(), ["limits.YAML", "tags.Yml"]);
    assert.deepEqual(result.problems, []);
  });

  test("loadPolicies throws every error at once and fails on an empty folder or missing path", () => {
    const bad = writeTemp(
      resourceLimit("      resource: compute/instance\n      constraint: {maxVCPU: 1, maxSizeGB: x}\n"),
    );
    assert.throws(
      () => loadPolicies([bad]),
      (err: Error & { problems?: unknown[] }) => err.problems?.length === 2,
    );
    assert.throws(() => loadPolicies(["does/not/exist"]), /no such file or folder/);
    assert.throws(
      () => loadPolicies([writeTemp("notes", "readme.txt").replace("readme.txt", "")]),
      /no policy files/,
    );
  });

  test("YAML merge keys (<<: *anchor) share settings between rules, as in inventories", () => {
    const text = `apiVersion: costguard.dev/v1
kind: CostPolicy
metadata: {name: merged}
spec:
  type: ResourceLimit
  rules:
    - &base
      name: a
      resource: compute/instance
      constraint: {maxVCPUs: 4}
    - <<: *base
      name: b
      constraint: {maxVCPUz: 8}
`;
    // The second rule takes resource from the first; a mistake in its own keys is still placed.
    const problems = problemsOf(text).filter((p) => p.severity === "error");
    assert.deepEqual(
      problems.map((p) => [p.line, p.message.split(" — ")[0]]),
      [[13, "unknown key `maxVCPUz`"]],
    );
    const fixed = loadPolicies([writeTemp(text.replace("maxVCPUz", "maxVCPUs"))]).policies[0]!;
    assert.deepEqual(
      fixed.document.spec.rules.map((r) => [r.name, (r as { resource: string }).resource]),
      [
        ["a", "compute/instance"],
        ["b", "compute/instance"],
      ],
    );
  });

  test("files that hold no policy: an error when none does (nothing would be enforced), else a warning", () => {
    const empty = writeTemp("");
    const comments = writeTemp("---\n# only a comment\n", "notes.yaml");
    // Alone they were "0 policies: valid", and every request was then allowed.
    assert.throws(
      () => loadPolicies([empty]),
      /no policy in it \(empty, only comments or only other kinds of documents\): nothing would be enforced/,
    );
    assert.throws(() => loadPolicies([empty, comments]), /no policy in any of them/);
    const real = writeTemp(
      resourceLimit("      resource: compute/instance\n      constraint: {maxVCPUs: 4}\n"),
    );
    const { policies, warnings } = loadPolicies([real, comments]);
    assert.equal(policies.length, 1);
    assert.deepEqual(
      warnings.map((w) => [w.severity, w.message]),
      [["warning", "holds no policy (it is empty, only comments or only other kinds of documents)"]],
    );
  });

  test("another API's documents beside policies (a Kubernetes bundle) are skipped, each with a warning", () => {
    const policy = resourceLimit("      resource: compute/instance\n      constraint: {maxVCPUs: 4}\n");
    const bundle = [
      "apiVersion: v1\nkind: Namespace\nmetadata: {name: costguard}\n",
      policy,
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: costguard}\nspec: {replicas: 2}\n",
    ].join("---\n");
    const { policies, warnings } = loadPolicies([writeTemp(bundle)]);
    assert.equal(policies.length, 1);
    assert.deepEqual(
      warnings.map((w) => [w.severity, w.line, w.message]),
      [
        ["warning", 1, "not a costguard policy (apiVersion: v1, kind: Namespace): skipped"],
        ["warning", 16, "not a costguard policy (apiVersion: apps/v1, kind: Deployment): skipped"],
      ],
    );
    // Only other documents: nothing would be enforced, an error as for an empty file.
    assert.throws(
      () => loadPolicies([writeTemp("apiVersion: v1\nkind: ConfigMap\ndata: {}\n")]),
      /no policy in it \(empty, only comments or only other kinds of documents\)/,
    );
    // What may be meant as a policy is checked, not skipped: costguard's group, the kind CostPolicy,
    // or no apiVersion or kind at all.
    const meant = [
      policy.replace("costguard.dev/v1", "costguard.dev/v2"),
      policy.replace("kind: CostPolicy", "kind: CostPolicies"),
      policy.replace("costguard.dev/v1", "apps/v1"),
      policy.replace("apiVersion: costguard.dev/v1\n", ""),
    ];
    for (const text of meant)
      assert.ok(
        errorsOf(text).some((p) => /apiVersion|kind/.test(p.message)),
        `an error for:\n${text}`,
      );
  });
});
