import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, test } from "node:test";
import { fileErrorText, reportError } from "../../src/cli/exit.js";
import { runCli } from "../../src/cli/main.js";
import { costguard } from "../helpers/cli.js";
import { resourceLimit, writeTemp } from "../helpers/policies.js";

const ESC = String.fromCharCode(27);
const GUIDE = ["--policies", "examples/guide-main"];
const noStack = (text: string) => assert.doesNotMatch(text, /\n\s+at .*\(.*:\d+:\d+\)/);

test("a file system error names its path first, then what went wrong", () => {
  const error = (path: string): NodeJS.ErrnoException => {
    try {
      statSync(path);
    } catch (err) {
      return err as NodeJS.ErrnoException;
    }
    throw new Error(`${path} exists`);
  };
  const missing = error(join(tmpdir(), "costguard-no-such-file, with 'quotes'.jsonl"));
  assert.equal(
    fileErrorText(missing),
    `${join(tmpdir(), "costguard-no-such-file, with 'quotes'.jsonl")}: no such file or directory`,
  );
  // Worded otherwise, or naming no path: as Node says it.
  assert.equal(fileErrorText({ message: "something else", path: "a.json" }), "something else");
  assert.equal(fileErrorText({ message: "EACCES: permission denied" }), "EACCES: permission denied");
  // A stream's error names no path in its message; the path set on it is put first all the same.
  assert.equal(
    fileErrorText({ message: "ENOSPC: no space left on device, write", path: "billing.csv" }),
    "billing.csv: no space left on device",
  );
});

test("a full disk, a quota or a read-only file system is said in a line with exit 3, never a stack trace", () => {
  const reported = (err: unknown) => {
    const out = new PassThrough();
    const code = reportError(err, out);
    return { text: String(out.read() ?? ""), code };
  };
  const full = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
  assert.deepEqual(reported(full), {
    text: "costguard: the file system failed: no space left on device\n",
    code: 3,
  });
  assert.deepEqual(reported(Object.assign(full, { path: "out/state.json" })), {
    text: "costguard: out/state.json: no space left on device\n",
    code: 3,
  });
});

describe("output that cannot be written (standard output on a full disk: /dev/full)", () => {
  const withOutputs = (args: string[], stdout: "full" | "pipe", stderr: "full" | "pipe", env = {}) => {
    const full = openSync("/dev/full", "w");
    try {
      return spawnSync(process.execPath, ["bin/costguard.js", ...args], {
        encoding: "utf8",
        stdio: ["ignore", stdout === "full" ? full : "pipe", stderr === "full" ? full : "pipe"],
        env: { ...process.env, ...env },
      });
    } finally {
      closeSync(full);
    }
  };
  const request = "examples/requests/non-compliant.json";

  test("fails the command with what went wrong, exit 3", () => {
    const run = withOutputs(["evaluate", ...GUIDE, request], "full", "pipe");
    assert.equal(run.status, 3, run.stderr);
    assert.equal(run.stderr, "costguard: cannot write the output: no space left on device\n");
  });

  test("a stored scan stops, is kept as failed with the reason, and its transaction ends", () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-full-"));
    try {
      const env = { COSTGUARD_DATABASE_URL: join(dir, "store.db") };
      const estate = join(dir, "estate.jsonl");
      writeFileSync(
        estate,
        `${JSON.stringify({ id: "i-1", type: "compute/instance", specs: { vcpus: 64 }, tags: {} })}\n`,
      );
      const scan = ["scan", "-p", "examples/policies", "-i", `file:${estate}`, "--format", "json"];
      const run = withOutputs(scan, "full", "pipe", env);
      assert.equal(run.status, 3, run.stderr);
      assert.match(run.stderr, /cannot write the output: no space left on device: stopped; what was stored/);
      noStack(run.stderr);
      const history = costguard(["scans", "list", "--format", "json"], { env });
      const [failed] = JSON.parse(history.stdout) as { status: string; error: string }[];
      assert.equal(failed!.status, "failed");
      assert.equal(failed!.error, "cannot write the output: no space left on device");
      // The table report is written once the scan has completed: the scan stays completed, and the
      // line says so and where to read it.
      const table = withOutputs(scan.slice(0, -2), "full", "pipe", env);
      assert.equal(table.status, 3, table.stderr);
      const id = /costguard scans show (scan-\S+)\n$/.exec(table.stderr)?.[1];
      assert.match(
        table.stderr,
        /^costguard: cannot write the output: no space left on device; the scan completed and is stored: costguard scans show scan-\S+\n$/,
      );
      const shown = costguard(["scans", "show", id!, "--format", "json"], { env });
      assert.equal(JSON.parse(shown.stdout).status, "completed");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("messages that cannot be shown do not stop the command: its output and exit code are as usual", () => {
    const shown = costguard(["evaluate", ...GUIDE, request]);
    const run = withOutputs(["evaluate", ...GUIDE, request], "pipe", "full");
    assert.equal(run.status, shown.status);
    assert.equal(run.stdout, shown.stdout);
    const bad = withOutputs(["evaluate", "--format", "xml", ...GUIDE, request], "pipe", "full");
    assert.equal(bad.status, 2);
  });
});

test("an empty argument (a shell variable left unset) is named as empty, whatever the command", () => {
  const cases: [string[], string][] = [
    [["findings", "show", ""], "findings show: the argument <fingerprint> is empty"],
    [["scans", "show", " "], "scans show: the argument <id> is empty"],
    [["evaluate", ...GUIDE, ""], "evaluate: the argument <request> is empty"],
    [["price", "m5.large", ""], "price: the argument <types> is empty"],
    [["sandbox", "act", "stop", ""], "sandbox act: the argument <id> is empty"],
  ];
  for (const [args, message] of cases) {
    const r = costguard(args);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr, `costguard: ${message}\n`);
  }
});

describe("costguard validate", () => {
  test("valid policies: exit 0 and a summary", () => {
    const run = costguard(["validate", "examples/policies"]);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, "3 policies (6 rules) in 3 files: valid\n");
  });

  test("problems: exit 2, one file:line:col line each", () => {
    const file = writeTemp(
      resourceLimit(
        '      resource: compute/instance\n      constraint:\n        maxVCPU: 16\n        maxMemoryGB: "lots"\n',
      ),
    );
    const run = costguard(["validate", file]);
    assert.equal(run.status, 2);
    const lines = run.stderr.trim().split("\n");
    assert.equal(lines.length, 3);
    assert.match(
      lines[0]!,
      /policy\.yaml:11:9: unknown key `maxVCPU` — did you mean `maxVCPUs`\? \(at \/spec\/rules\/0\/constraint\/maxVCPU\)$/,
    );
    assert.match(lines[1]!, /policy\.yaml:12:22: `maxMemoryGB` must be a number, got string "lots"/);
    assert.equal(lines[2], "2 problems found");
    noStack(run.stderr);
  });

  test("warnings do not fail validation", () => {
    const file = writeTemp(
      resourceLimit(
        "      resource: compute/instance\n      constraint: {allowedTypes: [ssd], deniedTypes: [ssd]}\n",
      ),
    );
    const run = costguard(["validate", file]);
    assert.equal(run.status, 0);
    assert.match(run.stdout, /warning: volume type "ssd" is both allowed and denied; denied wins/);
  });

  test("an unknown --format is refused, not taken for text", () => {
    const run = costguard(["validate", "examples/policies", "--format", "yaml"]);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /--format must be text or json, got yaml/);
  });

  test("a missing path is exit 2 with a clear message", () => {
    const run = costguard(["validate", "no/such/dir"]);
    assert.equal(run.status, 2);
    assert.match(run.stderr, /^no\/such\/dir: no such file or folder$/m);
  });
});

describe("costguard evaluate", () => {
  test("one JSON request: one decision; allow exits 0", () => {
    const run = costguard(["evaluate", ...GUIDE, "examples/requests/compliant.json"]);
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), {
      decision: "allow",
      violations: [],
      unverified: [],
      not_evaluated: [],
      // The request names specs but no instance type: the price book cannot price it, and says why.
      estimated_monthly_cost: {
        status: "unknown",
        hours_per_month: 730,
        method: "unknown",
        components: [],
        assumptions: [],
        reason: "the request has no instance type (specs.instance_type)",
      },
    });
  });

  test("a spec at the request's top level: the notes and the estimate say it belongs under specs", () => {
    const run = costguard(["evaluate", ...GUIDE, "-"], {
      input: JSON.stringify([
        { type: "compute/instance", instance_type: "p3.8xlarge", namespace: "production" },
        { type: "storage/volume", specs: { size_gb: 100 }, volume_type: "gp2" },
      ]),
    });
    assert.equal(run.status, 1, run.stderr);
    const [instance, volume] = JSON.parse(run.stdout);
    const hint = "; it has `instance_type` at its top level, but specs belong under `specs`";
    assert.equal(
      instance.estimated_monthly_cost.reason,
      `the request has no instance type (specs.instance_type)${hint}`,
    );
    const notes: string[] = instance.unverified.map((u: { message: string }) => u.message);
    assert.ok(notes.length > 0);
    for (const note of notes) assert.ok(note.endsWith(hint), note);
    assert.equal(
      volume.estimated_monthly_cost.reason,
      "the request has no volume type (specs.volume_sku or specs.volume_type); it has `volume_type` at its top level, but specs belong under `specs`",
    );
  });

  test("deny exits 1 with the guide's five violations", () => {
    const run = costguard(["evaluate", ...GUIDE, "examples/requests/non-compliant.json"]);
    assert.equal(run.status, 1);
    const decision = JSON.parse(run.stdout);
    assert.equal(decision.decision, "deny");
    assert.deepEqual(
      decision.violations.map((v: { message: string }) => v.message),
      [
        "Requested 32 vCPUs exceeds limit of 16",
        "Requested 128GB memory exceeds limit of 64GB",
        "Instance family 'gpu' is not allowed",
        "Tag 'cost-center' value 'INVALID' does not match required pattern",
        "Tag 'environment' value 'test' is not in allowed values: ['production', 'staging', 'development']",
      ],
    );
    for (const v of decision.violations) {
      assert.deepEqual(Object.keys(v).sort(), [
        "actual",
        "enforcement",
        "field",
        "limit",
        "message",
        "policy",
        "resource_type",
        "rule",
        "severity",
      ]);
    }
  });

  test("an array gives an array; JSON lines give JSON lines; stdin and YAML work", () => {
    const array = costguard(["evaluate", ...GUIDE, "examples/requests/guide-examples.json"]);
    assert.equal(array.status, 1);
    assert.deepEqual(
      JSON.parse(array.stdout).map((d: { decision: string }) => d.decision),
      ["allow", "deny"],
    );

    const lines =
      '{"type":"compute/instance","specs":{"vcpus":4},"tags":{"cost-center":"CC-000001","environment":"staging"}}\n{"type":"storage/volume","tags":{}}\n';
    const jsonl = costguard(["evaluate", ...GUIDE, "-"], { input: lines });
    assert.equal(jsonl.status, 1);
    const out = jsonl.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l).decision);
    assert.deepEqual(out, ["allow", "deny"]);

    const yaml = costguard(["evaluate", ...GUIDE], { input: "type: database/instance\nspecs: {vcpus: 2}\n" });
    assert.equal(yaml.status, 0, yaml.stderr);
    assert.equal(JSON.parse(yaml.stdout).decision, "allow");
  });

  test("the table is aligned and plain when piped, coloured when forced", () => {
    const plain = costguard([
      "evaluate",
      ...GUIDE,
      "--format",
      "table",
      "examples/requests/guide-examples.json",
    ]);
    assert.equal(plain.status, 1);
    assert.ok(!plain.stdout.includes(ESC), "no ANSI escapes when piped");
    const lines = plain.stdout.trim().split("\n");
    assert.match(lines[0]!, /^REQUEST\s+DECISION\s+POLICY\s+RULE\s+SEVERITY\s+ENFORCEMENT\s+MESSAGE$/);
    const column = lines[0]!.indexOf("POLICY");
    for (const line of lines.slice(1, -1)) assert.equal(line.slice(column - 2, column), "  ", line);
    assert.equal(lines.at(-1), "2 requests: 1 allowed, 0 warned, 1 denied");
    const coloured = costguard(
      ["evaluate", ...GUIDE, "--format", "table", "examples/requests/non-compliant.json"],
      { env: { FORCE_COLOR: "1" } },
    );
    assert.ok(coloured.stdout.includes(`${ESC}[31mDENY`), coloured.stdout);
  });

  test("a request with a misspelt spec the policies read exits 2 naming the one meant; a misspelt type warns", () => {
    const lim = writeTemp(
      resourceLimit("      resource: compute/instance\n      constraint: {maxVCPUs: 16}\n"),
    );
    for (const key of ["vcpu", "vCPUs"]) {
      const run = costguard(["evaluate", "-p", lim, "--format", "table"], {
        input: `{"type":"compute/instance","specs":{"${key}":64}}`,
      });
      assert.equal(run.status, 2, run.stdout);
      assert.equal(run.stdout, "");
      assert.equal(
        run.stderr,
        `costguard: request is not valid: it has \`specs.${key}\`, no spec the policies or the price book read (did you mean \`specs.vcpus\`?): what it holds would go unchecked\n`,
      );
    }
    // One the price book reads to fill vcpus in: refused too.
    const priced = costguard(["evaluate", "-p", lim], {
      input: '{"type":"compute/instance","specs":{"instanc_type":"m5.24xlarge"}}',
    });
    assert.equal(priced.status, 2);
    assert.match(priced.stderr, /did you mean `specs\.instance_type`/);
    // A spec of the caller's own is decided as before.
    const own = costguard(["evaluate", "-p", lim], {
      input: '{"type":"compute/instance","specs":{"my_setting":64}}',
    });
    assert.equal(own.status, 0, own.stderr);
    const typo = costguard(["evaluate", "-p", lim], {
      input: '[{"type":"compute/instnace","specs":{"vcpus":64}},{"type":"compute/instnace"}]',
    });
    assert.equal(typo.status, 0);
    assert.equal(
      typo.stderr,
      "costguard: warning: request type `compute/instnace` is no type costguard produces or a policy names — did you mean `compute/instance`? (rules for `compute/instance` did not apply to it)\n",
    );
  });

  test("bad input exits 2 with a clear message and no stack trace", () => {
    const cases: [string[], string | undefined, RegExp][] = [
      [
        ["evaluate", ...GUIDE, "-"],
        '{"type": "compute/instance", "specs": {"vcpus": "32"}}',
        /`specs\.vcpus` must be number/,
      ],
      [["evaluate", ...GUIDE, "-"], '{"tags": {}}', /missing `type`/],
      // Other inputs costguard reads, given where a request belongs, are named with where they go.
      [
        ["evaluate", ...GUIDE, "-"],
        '{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}}',
        /^costguard: stdin is not valid: this is a Kubernetes object \(kind Deployment\), not a request: the admission webhook decides workloads \(costguard serve, POST \/v1\/admission/,
      ],
      [
        ["evaluate", ...GUIDE, "-"],
        '{"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {}}',
        /this is a Kubernetes AdmissionReview, not a request: costguard serve decides those at POST \/v1\/admission/,
      ],
      [
        ["evaluate", ...GUIDE, "examples/policies/tagging-policy.yaml"],
        undefined,
        /tagging-policy\.yaml is not valid: this is a policy \(kind CostPolicy\), not a request: policies are given with --policies/,
      ],
      [
        ["evaluate", ...GUIDE, "test/fixtures/terraform/aws-all-types.json"],
        undefined,
        /this is a Terraform plan, not a request: check it with costguard plan PLAN\.json/,
      ],
      [["evaluate", ...GUIDE, "-"], '{"type": "compute/instance",', /not valid JSON/],
      // Refused as the server refuses them, whatever the form: one object, JSON lines, YAML.
      [
        ["evaluate", ...GUIDE, "-"],
        '{"type": "compute/instance", "__proto__": {"x": 1}}',
        /^costguard: stdin holds a __proto__ key or constructor\.prototype, which costguard refuses: no request field has those names$/m,
      ],
      [
        ["evaluate", ...GUIDE, "-"],
        '{"type": "compute/instance"}\n{"type": "compute/instance", "tags": {"constructor": {"prototype": {}}}}\n',
        /^costguard: stdin:2: holds a __proto__ key or constructor\.prototype/m,
      ],
      [
        ["evaluate", ...GUIDE, "-"],
        "type: compute/instance\n__proto__: {x: 1}\n",
        /^costguard: stdin holds a __proto__ key/m,
      ],
      [["evaluate", ...GUIDE, "-"], "", /stdin is empty/],
      [["evaluate", ...GUIDE, "nope.json"], undefined, /^costguard: nope\.json: no such file or directory$/m],
      [["evaluate", "examples/requests/compliant.json"], undefined, /--policies PATH is required/],
      [
        ["evaluate", ...GUIDE, "--format", "xml", "examples/requests/compliant.json"],
        undefined,
        /--format must be json or table/,
      ],
      [["frobnicate"], undefined, /unknown command 'frobnicate'/],
    ];
    for (const [args, input, message] of cases) {
      const run = costguard(args, input === undefined ? {} : { input });
      assert.equal(run.status, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.equal(run.stdout, "");
      noStack(run.stderr);
    }
  });

  test("a reader that closes the pipe early ends the command quietly", () => {
    // Far more output than a pipe buffers, so the writer is still writing when the reader goes away.
    const lines = '{"type":"compute/instance","specs":{"vcpus":64},"tags":{}}\n'.repeat(5000);
    const script =
      "set -o pipefail; node bin/costguard.js evaluate --policies examples/guide-main - | head -c 1";
    const run = spawnSync("bash", ["-c", script], { encoding: "utf8", input: lines });
    assert.equal(run.stdout, "{");
    assert.equal(run.stderr, "");
    assert.ok(run.status === 0 || run.status === 1, `exit ${run.status}`);
  });

  test("a request file over 64 MiB is decided as a stream, with the answers it gets read whole", async () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-evaluate-"));
    try {
      // 70 requests of 1 MiB each (a long tag no policy looks at): few to decide, too big to read whole.
      const kinds = [
        {
          type: "compute/instance",
          specs: { vcpus: 4 },
          tags: { "cost-center": "CC-000001", environment: "staging" },
        },
        { type: "compute/instance", specs: { vcpus: 64 }, tags: { environment: "test" } },
        { type: "storage/volume", tags: {} },
      ];
      const requests = (note?: string) =>
        Array.from({ length: 70 }, (_, i) => {
          const r = kinds[i % kinds.length]!;
          return note === undefined ? r : { ...r, tags: { ...r.tags, note } };
        });
      const note = "x".repeat(1 << 20);
      const write = (name: string, text: string) => {
        writeFileSync(join(dir, name), text);
        return join(dir, name);
      };
      const lines = (rs: unknown[]) => rs.map((r) => `${JSON.stringify(r)}\n`).join("");
      const small = {
        lines: write("small.jsonl", lines(requests())),
        array: write("small.json", JSON.stringify(requests())),
      };
      const big = {
        lines: write("big.jsonl", lines(requests(note))),
        array: write("big.json", JSON.stringify(requests(note))),
      };
      for (const shape of ["lines", "array"] as const) {
        for (const format of ["json", "table"]) {
          const whole = costguard(["evaluate", ...GUIDE, "--format", format, small[shape]]);
          const streamed = costguard(["evaluate", ...GUIDE, "--format", format, big[shape]]);
          assert.equal(streamed.status, 1, `${shape} ${format}: ${streamed.stderr}`);
          assert.equal(whole.status, 1);
          assert.equal(streamed.stdout, whole.stdout, `${shape} ${format}`);
        }
      }
      assert.equal(
        costguard(["evaluate", ...GUIDE, big.lines])
          .stdout.trim()
          .split("\n").length,
        70,
      );
      // On a terminal the long read draws a progress bar on stderr and clears it; piped (above), nothing.
      const stderr = Object.assign(new PassThrough(), { isTTY: true });
      let drawn = "";
      stderr.on("data", (c: Buffer) => {
        drawn += c.toString();
      });
      const code = await runCli(["evaluate", ...GUIDE, big.lines], {
        stdout: new PassThrough().resume(),
        stderr,
        readStdin: () => "",
        cwd: process.cwd(),
        env: {},
      });
      assert.equal(code, 1, drawn);
      assert.match(
        drawn.replaceAll("\r\u001b[2K", "¦"),
        /^¦deciding \[[█░]+\] +\d+% {2}[\d,]+ requests {2}[\d.]+s(¦deciding .*)*¦$/,
      );

      const broken = write("broken.jsonl", `${lines(requests(note).slice(0, 69))}{"type":\n`);
      const stopped = costguard(["evaluate", ...GUIDE, broken]);
      assert.equal(stopped.status, 2);
      assert.match(stopped.stderr, /broken\.jsonl:70: not valid JSON/);
      noStack(stopped.stderr);
      const yaml = write("big.yaml", `type: storage/volume\ntags:\n  note: ${note.repeat(65)}\n`);
      const refused = costguard(["evaluate", ...GUIDE, yaml]);
      assert.equal(refused.status, 2);
      assert.match(
        refused.stderr,
        /big\.yaml is 68 MB: inputs over 64 MiB are read as a stream, so they must be JSON lines or a JSON array/,
      );
      assert.equal(refused.stdout, "");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the second bad line of JSON lines is named by its line number", () => {
    const run = costguard(["evaluate", ...GUIDE, "-"], {
      input: '{"type":"compute/instance"}\n{"type":"compute/instance","tags":{"a":1}}\n',
    });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /stdin:2 is not valid: `tags\.a` must be string/);
  });
});

describe("costguard test", () => {
  test("the bundled examples pass", () => {
    const run = costguard(["test", "examples"]);
    assert.equal(run.status, 0, run.stdout);
    assert.match(run.stdout, /^11 passed, 0 failed$/m);
  });

  test("a failing case shows expected against actual and exits 1", () => {
    const suite = writeTemp(
      `policies: [${JSON.stringify(`${process.cwd()}/examples/guide-main`)}]
cases:
  - name: wrong on purpose
    request: {type: compute/instance, specs: {vcpus: 64}, tags: {cost-center: CC-000001, environment: staging}}
    expect:
      decision: allow
      violations: [{policy: mandatory-tags, rule: cost-center-required}]
  - name: right
    request: {type: database/instance}
    expect: {decision: allow}
`,
      "mine.test.yaml",
    );
    const run = costguard(["test", suite]);
    assert.equal(run.status, 1);
    assert.match(
      run.stdout,
      /FAIL wrong on purpose\n\s+decision: expected allow, got deny\n\s+violations: expected \[mandatory-tags\/cost-center-required\], got \[resource-limits\/max-instance-size\]/,
    );
    assert.match(run.stdout, /missing:\s+mandatory-tags\/cost-center-required/);
    assert.match(run.stdout, /unexpected: resource-limits\/max-instance-size/);
    assert.match(run.stdout, /^1 passed, 1 failed$/m);
  });

  test("a failing case lists what it got: each violation, and the rules unverified or not evaluated", () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-suite-"));
    try {
      writeFileSync(
        join(dir, "pol.yaml"),
        resourceLimit("      resource: compute/instance\n      constraint: {maxMonthlyCost: 100}\n"),
      );
      writeFileSync(
        join(dir, "why.test.yaml"),
        `policies: [pol.yaml]
cases:
  - name: m5.24xlarge in eu-west-9 is over the cap
    request: {type: compute/instance, region: eu-west-9, specs: {instance_type: m5.24xlarge}}
    expect: {decision: deny}
  - name: priced in us-east-1
    request: {type: compute/instance, specs: {instance_type: m5.24xlarge}}
    expect: {decision: allow}
  - name: nothing to say
    request: {type: database/instance}
    expect: {decision: deny}
`,
      );
      const run = costguard(["test", join(dir, "why.test.yaml")]);
      assert.equal(run.status, 1, run.stdout + run.stderr);
      const noPrice =
        "maxMonthlyCost not checked: no cost estimate: no price for `m5.24xlarge` in eu-west-9 (the book has: us-east-1); add one with --price-book";
      assert.ok(
        run.stdout.includes(`  FAIL m5.24xlarge in eu-west-9 is over the cap
         decision: expected deny, got allow
         got:
           unverified     limits/r: ${noPrice}
`),
        run.stdout,
      );
      assert.match(
        run.stdout,
        /FAIL nothing to say\n {9}decision: expected deny, got allow\n {9}got: no violations\n/,
      );
      assert.match(
        run.stdout,
        /FAIL priced in us-east-1\n {9}decision: expected allow, got deny\n {9}got:\n {11}deny {11}limits\/r: Estimated monthly cost .+\n {2}FAIL/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("cases are decided as evaluate decides them: specs and cost from the price book, --price-book too", () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-suite-"));
    try {
      writeFileSync(
        join(dir, "limits.yaml"),
        resourceLimit(`      resource: compute/instance
      constraint: {maxVCPUs: 16, deniedInstanceFamilies: [gpu]}
    - name: money
      resource: compute/instance
      constraint: {maxMonthlyCost: 1000}
`),
      );
      writeFileSync(
        join(dir, "limits.test.yaml"),
        `policies: [./limits.yaml]
cases:
  - name: a p3.8xlarge is 32 vCPUs of the gpu family, 8935.2 USD a month
    request: {type: compute/instance, specs: {instance_type: p3.8xlarge}}
    expect: {decision: deny, count: 3, violations: [{policy: limits, rule: r}, {policy: limits, rule: money}]}
  - name: our own type is priced by our book
    request: {type: compute/instance, specs: {instance_type: my.custom}}
    expect: {decision: deny, violations: [{policy: limits, rule: money}]}
`,
      );
      writeFileSync(join(dir, "mine.csv"), "sku,price\nmy.custom,1.5\n");
      const request = JSON.stringify({ type: "compute/instance", specs: { instance_type: "p3.8xlarge" } });
      const evaluated = costguard(["evaluate", "--policies", join(dir, "limits.yaml"), "-"], {
        input: request,
      });
      assert.equal(evaluated.status, 1, evaluated.stderr);
      assert.equal((JSON.parse(evaluated.stdout) as { violations: unknown[] }).violations.length, 3);
      const run = costguard(["test", dir, "--price-book", join(dir, "mine.csv")]);
      assert.equal(run.status, 0, run.stdout);
      assert.match(run.stdout, /^2 passed, 0 failed$/m);
      // Without the book that knows my.custom its cost is unknown: that case fails, the other passes.
      const unpriced = costguard(["test", dir]);
      assert.equal(unpriced.status, 1, unpriced.stdout);
      assert.match(unpriced.stdout, /FAIL our own type is priced by our book/);
      assert.match(unpriced.stdout, /^1 passed, 1 failed$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("suites in a linked folder are found, and a link that loops is said, not followed", () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-suite-"));
    try {
      mkdirSync(join(dir, "real"));
      mkdirSync(join(dir, "top"));
      writeFileSync(
        join(dir, "real", "linked.test.yaml"),
        `policies: [${JSON.stringify(`${process.cwd()}/examples/guide-main`)}]
cases:
  - name: through the link
    request: {type: database/instance}
    expect: {decision: allow}
`,
      );
      symlinkSync(join("..", "real"), join(dir, "top", "linked"));
      symlinkSync("..", join(dir, "real", "up"));
      const run = costguard(["test", join(dir, "top")]);
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /ok {3}through the link\n1 passed, 0 failed\n$/);
      assert.match(
        run.stderr,
        /^costguard: warning: .*top\/linked\/up\/real: leads back to .*real, a folder it is inside of/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a malformed suite in a folder is said and not run; the others run, the summary is written, exit 2", () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-suite-"));
    try {
      writeFileSync(join(dir, "a-bad.test.yaml"), "policies: [x]\ncases: []\n");
      writeFileSync(
        join(dir, "b-good.test.yaml"),
        `policies: [${JSON.stringify(`${process.cwd()}/examples/guide-main`)}]
cases:
  - name: after the bad one
    request: {type: database/instance}
    expect: {decision: allow}
`,
      );
      const run = costguard(["test", dir]);
      assert.equal(run.status, 2, run.stdout + run.stderr);
      noStack(run.stderr);
      assert.match(run.stderr, /a-bad\.test\.yaml:2:8: `cases` must not be empty/);
      assert.match(
        run.stdout,
        /a-bad\.test\.yaml\n {2}BAD {2}not run: the suite is malformed \(standard error says why\)\n/,
      );
      assert.match(run.stdout, /ok {3}after the bad one\n1 passed, 0 failed, 1 malformed suite not run\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a suite named twice (its folder and itself) runs once", () => {
    const run = costguard(["test", "examples/guide-main", "examples/guide-main/guide-main.test.yaml"]);
    assert.equal(run.status, 0, run.stdout);
    assert.equal(run.stdout.match(/guide-main\.test\.yaml\n/g)?.length, 1, run.stdout);
    assert.match(run.stdout, /^5 passed, 0 failed$/m);
  });

  /** `costguard test` on a suite that must be refused: exit 2, no stack trace; its file and stderr. */
  const refusedSuite = (text: string, name: string) => {
    const file = writeTemp(text, name);
    const run = costguard(["test", file]);
    assert.equal(run.status, 2, run.stdout);
    noStack(run.stderr);
    return { file, stderr: run.stderr };
  };

  test("a malformed suite exits 2 naming the problem", () => {
    const { stderr } = refusedSuite(
      "policies: [x]\ncases:\n  - name: no expectation\n    request: {type: a/b}\n",
      "bad.test.yaml",
    );
    assert.match(
      stderr,
      /bad\.test\.yaml:3:5: missing required key `expect` in `cases\[0\]` \(at \/cases\/0\)/,
    );
  });

  test("a suite's problems are said as the policies' are, and cases need one request and a name of their own", () => {
    const typo = refusedSuite(
      "policies: [x]\ncases:\n  - name: n\n    request: {type: a/b}\n    expect: {decision: dney}\n",
      "typo.test.yaml",
    );
    assert.match(
      typo.stderr,
      /typo\.test\.yaml:5:\d+: `decision` must be one of allow, warn, deny; got string "dney" — did you mean `deny`\?/,
    );
    const cases = refusedSuite(
      `policies: [x]
cases:
  - name: same
    request: {type: a/b}
    expect: {decision: allow}
  - name: same
    request: {type: a/b}
    requestFile: r.json
    expect: {decision: allow}
  - name: none
    expect: {decision: allow}
`,
      "cases.test.yaml",
    );
    assert.deepEqual(cases.stderr.split("\n").slice(1, 4), [
      `${cases.file}:6:5: case "same" has both a request and a requestFile: keep one (at /cases/1)`,
      `${cases.file}:6:11: case name "same" is used twice (cases 0 and 1): a failure would not say which (at /cases/1/name)`,
      `${cases.file}:10:5: case "none" needs a request (inline) or a requestFile (at /cases/2)`,
    ]);
  });

  test("a case whose request is not one (a typo, a requestFile holding a list) makes the suite malformed, not a failure", () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-suite-"));
    try {
      writeFileSync(join(dir, "list.json"), '[{"type": "compute/instance"}]');
      writeFileSync(join(dir, "lines.json"), '{"type": "a/b"}\n{"type": "a/b"}\n');
      writeFileSync(join(dir, "two.yaml"), "type: a/b\n---\ntype: a/b\n");
      const { stderr } = refusedSuite(
        `policies: [${JSON.stringify(`${process.cwd()}/examples/guide-main`)}]
cases:
  - name: list
    requestFile: ${join(dir, "list.json")}
    expect: {decision: allow}
  - name: lines
    requestFile: ${join(dir, "lines.json")}
    expect: {decision: allow}
  - name: two documents
    requestFile: ${join(dir, "two.yaml")}
    expect: {decision: allow}
  - name: missing
    requestFile: ${join(dir, "nope.json")}
    expect: {decision: allow}
  - name: typo
    request: {type: compute/instance, spec: {vcpus: 2}}
    expect: {decision: allow}
  - name: fine
    request: {type: database/instance}
    expect: {decision: allow}
`,
        "requests.test.yaml",
      );
      const several = "a case decides one request (each case its own)";
      assert.deepEqual(
        stderr
          .split("\n")
          .slice(1, 6)
          .map((line) => line.replace(/^.*requests\.test\.yaml:/, "")),
        [
          `4:18: case "list": requestFile ${join(dir, "list.json")} holds a list of 1 request: ${several} (at /cases/0/requestFile)`,
          `7:18: case "lines": requestFile ${join(dir, "lines.json")} holds JSON lines, 2 requests: ${several} (at /cases/1/requestFile)`,
          `10:18: case "two documents": requestFile ${join(dir, "two.yaml")} holds several YAML documents: ${several} (at /cases/2/requestFile)`,
          `13:18: case "missing": requestFile ${join(dir, "nope.json")}: no such file or directory (at /cases/3/requestFile)`,
          '16:14: case "typo": request is not valid: it has `spec`, no key of a request (did you mean `specs`?): what it holds would go unchecked (at /cases/4/request)',
        ],
      );
      // Alone, such a case was counted as failed (exit 1), the suite run as sound.
      refusedSuite(
        `policies: [${JSON.stringify(`${process.cwd()}/examples/guide-main`)}]
cases:
  - name: list
    requestFile: ${join(dir, "list.json")}
    expect: {decision: allow}
`,
        "list.test.yaml",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a requestFile is read as evaluate reads a request: empty documents around it do not count", () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-suite-"));
    try {
      writeFileSync(join(dir, "r1.yaml"), "---\ntype: database/instance\n---\n");
      writeFileSync(join(dir, "r3.yaml"), "type: database/instance\n---\n# nothing\n");
      for (const r of ["r1.yaml", "r3.yaml"]) {
        const evaluated = costguard(["evaluate", ...GUIDE, join(dir, r)]);
        assert.equal(evaluated.status, 0, evaluated.stderr);
      }
      writeFileSync(
        join(dir, "r.test.yaml"),
        `policies: [${JSON.stringify(`${process.cwd()}/examples/guide-main`)}]
cases:
  - {name: trailing ---, requestFile: r1.yaml, expect: {decision: allow}}
  - {name: a comment after ---, requestFile: r3.yaml, expect: {decision: allow}}
`,
      );
      const run = costguard(["test", join(dir, "r.test.yaml")]);
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /^2 passed, 0 failed$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a case whose request has a spec misspelt for one the policies read makes the suite malformed, each such case named where it is", () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-suite-"));
    try {
      writeFileSync(join(dir, "r.json"), '{"type": "compute/instance", "specs": {"vcpu": 8}}');
      const { file, stderr } = refusedSuite(
        `policies: [${JSON.stringify(`${process.cwd()}/examples/guide-main`)}]
cases:
  - name: fine
    request: {type: database/instance}
    expect: {decision: allow}
  - name: inline
    request: {type: compute/instance, specs: {vcpu: 64}}
    expect: {decision: allow}
  - name: from a file
    requestFile: ${join(dir, "r.json")}
    expect: {decision: allow}
`,
        "specs.test.yaml",
      );
      const why = `is not valid: it has \`specs.vcpu\`, no spec the policies or the price book read (did you mean \`specs.vcpus\`?): what it holds would go unchecked`;
      assert.deepEqual(stderr.split("\n"), [
        `costguard: test suite ${file} is not valid:`,
        `${file}:7:14: case "inline": request ${why} (at /cases/1/request)`,
        `${file}:10:18: case "from a file": requestFile ${join(dir, "r.json")} ${why} (at /cases/2/requestFile)`,
        "",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the warnings evaluate and validate print are printed by test: a policy's, and a case's near-miss type with its suite and case", () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-suite-"));
    try {
      writeFileSync(
        join(dir, "typo.yml"),
        resourceLimit("      resource: compute/instnace\n      constraint: {maxVCPUs: 16}\n"),
      );
      writeFileSync(
        join(dir, "limits.yaml"),
        resourceLimit("      resource: compute/instance\n      constraint: {maxVCPUs: 16}\n"),
      );
      writeFileSync(
        join(dir, "w.test.yaml"),
        `policies: [limits.yaml]
cases:
  - name: a type misspelt
    request: {type: compute/instnace, specs: {vcpus: 64}}
    expect: {decision: allow}
`,
      );
      writeFileSync(
        join(dir, "p.test.yaml"),
        "policies: [typo.yml]\ncases:\n  - {name: p, request: {type: database/instance}, expect: {decision: allow}}\n",
      );
      const run = costguard(["test", join(dir, "p.test.yaml"), join(dir, "w.test.yaml")]);
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /^2 passed, 0 failed$/m);
      assert.deepEqual(run.stderr.split("\n"), [
        `${join(dir, "typo.yml")}:9:17: warning: \`compute/instnace\` matches no resource type costguard's gates, scans or sandbox produce — did you mean \`compute/instance\`? (requests of your own types still match it) (at /spec/rules/0/resource)`,
        `${join(dir, "w.test.yaml")}:4:14: warning: case "a type misspelt": request type \`compute/instnace\` is no type costguard produces or a policy names — did you mean \`compute/instance\`? (rules for \`compute/instance\` did not apply to it) (at /cases/0/request)`,
        "",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a policy file named as a suite is said to be one, not in the yaml library's words", () => {
    const policies = readFileSync("examples/guide-main/policies.yaml", "utf8");
    const several = refusedSuite(policies, "policies.yaml");
    assert.equal(
      several.stderr,
      `costguard: ${several.file} is not a test suite (it has several documents; a suite is one document with policies: and cases:)\n`,
    );
    const one = refusedSuite(policies.slice(0, policies.indexOf("\n---")), "limits.yaml");
    assert.equal(
      one.stderr,
      `costguard: ${one.file} is not a test suite (it is a policy document, kind: CostPolicy; a suite is one document with policies: and cases:)\n`,
    );
  });

  test("case names are shown escaped, so none forges a line or reaches the terminal; an empty one is malformed", () => {
    const guide = JSON.stringify(`${process.cwd()}/examples/guide-main`);
    const file = writeTemp(
      `policies: [${guide}]
cases:
  - name: "line1\\nok   fake passing case"
    request: {type: compute/instance, specs: {vcpus: 64}}
    expect: {decision: allow}
  - name: "red \\e[31mtext"
    request: {type: database/instance}
    expect: {decision: allow}
`,
      "names.test.yaml",
    );
    const run = costguard(["test", file]);
    assert.equal(run.status, 1, run.stdout + run.stderr);
    assert.doesNotMatch(run.stdout, /^ok/m);
    assert.match(run.stdout, /^ {2}FAIL line1 ok {3}fake passing case$/m);
    assert.match(run.stdout, /^ {2}ok {3}red \\x1b\[31mtext$/m);
    assert.ok(!run.stdout.includes(ESC), run.stdout);
    const empty = refusedSuite(
      `policies: [${guide}]\ncases:\n  - name: ""\n    request: {type: a/b}\n    expect: {decision: allow}\n`,
      "empty.test.yaml",
    );
    assert.match(
      empty.stderr,
      /empty\.test\.yaml:3:11: case 0 has an empty name: a failure would not say which case it is \(at \/cases\/0\/name\)/,
    );
    // In a malformed suite's messages too.
    const bad = refusedSuite(
      `policies: [${guide}]\ncases:\n  - name: "x\\e]0;owned\\a"\n    request: {type: a/b, spec: {}}\n    expect: {decision: allow}\n`,
      "esc.test.yaml",
    );
    assert.ok(!bad.stderr.includes(ESC), bad.stderr);
    assert.match(bad.stderr, /case "x\\x1b\]0;owned\\x07": request is not valid/);
  });

  test("a suite's policies: [.] in the folder of the configuration in use reads the folder without that file", () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-suite-"));
    try {
      writeFileSync(join(dir, "policies.yaml"), readFileSync("examples/guide-main/policies.yaml"));
      writeFileSync(join(dir, "costguard.yaml"), "policies: [policies.yaml]\n");
      writeFileSync(
        join(dir, "dot.test.yaml"),
        "policies: [.]\ncases:\n  - {name: x, request: {type: database/instance}, expect: {decision: allow}}\n",
      );
      const run = spawnSync(process.execPath, [join(process.cwd(), "bin/costguard.js"), "test", "."], {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, NO_COLOR: "" },
      });
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /^1 passed, 0 failed$/m);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a suite's messages say each thing once, in a suite's terms: a key twice, a policy or a folder as requestFile", () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-suite-"));
    try {
      const twice = refusedSuite(
        "policies: [x]\ncases:\n  - name: n\n    request: {type: a/b}\n    expect: {decision: allow, decision: deny}\n",
        "twice.test.yaml",
      );
      assert.equal(twice.stderr, `costguard: ${twice.file}:5:31: not valid YAML: Map keys must be unique\n`);
      mkdirSync(join(dir, "adir"));
      writeFileSync(
        join(dir, "pol.yaml"),
        resourceLimit("      resource: compute/instance\n      constraint: {maxVCPUs: 16}\n"),
      );
      const requests = refusedSuite(
        `policies: [x]
cases:
  - {name: policy, requestFile: ${join(dir, "pol.yaml")}, expect: {decision: allow}}
  - {name: folder, requestFile: ${join(dir, "adir")}, expect: {decision: allow}}
`,
        "files.test.yaml",
      );
      const lines = requests.stderr.split("\n");
      assert.match(
        lines[1]!,
        /case "policy": requestFile .*pol\.yaml is not valid: this is a policy \(kind CostPolicy\), not a request: a suite names its policies in policies: \(at/,
      );
      assert.match(
        lines[2]!,
        new RegExp(`case "folder": requestFile ${join(dir, "adir")} is a folder, not a file \\(at`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a --price-book that is not there is said as a missing file is, on test as on evaluate", () => {
    const missing = join(tmpdir(), "costguard-no-such-book.csv");
    const suite = costguard(["test", "examples/guide-main", "--price-book", missing]);
    const evaluated = costguard(["evaluate", ...GUIDE, "--price-book", missing, "-"], {
      input: "{type: a/b}",
    });
    for (const run of [suite, evaluated]) {
      assert.equal(run.status, 2, run.stderr);
      assert.equal(run.stderr, `costguard: cannot read price book ${missing}: no such file or directory\n`);
    }
  });

  test("a folder's *.test.json suites are run, as the help says", () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-suite-"));
    try {
      writeFileSync(
        join(dir, "s.test.json"),
        JSON.stringify({
          policies: [`${process.cwd()}/examples/guide-main`],
          cases: [{ name: "json", request: { type: "database/instance" }, expect: { decision: "allow" } }],
        }),
      );
      const run = costguard(["test", dir]);
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.match(run.stdout, /^1 passed, 0 failed$/m);
      assert.match(
        costguard(["test", "--help"]).stdout,
        /\*\.test\.yaml,\s+\*\.test\.yml and\s+\*\.test\.json/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("an expected count of .inf is a malformed suite, not a case that cannot pass", () => {
    // JSON Schema's integer takes Infinity (Infinity % 1 is NaN, not 0).
    const { stderr } = refusedSuite(
      "policies: [x]\ncases:\n  - name: n\n    request: {type: a/b}\n    expect: {decision: allow, count: .inf}\n",
      "inf.test.yaml",
    );
    assert.match(stderr, /inf\.test\.yaml:5:\d+: `count` is too big to be a number \(it reads as Infinity\)/);
  });
});
