import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import Database from "better-sqlite3";
import { largeBillingWarning } from "../../src/cli/commands/sandbox.js";
import { outputClosed } from "../../src/cli/interrupt.js";
import { runCli } from "../../src/cli/main.js";
import { cli, costguard } from "../helpers/cli.js";
import { startFakeAws, useFakeAws } from "../inventory/aws-server.js";

const POLICIES = resolve("examples/policies");
const dir = mkdtempSync(join(tmpdir(), "costguard-cli-scan-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("costguard scan --inventory sandbox (embedded SQLite, no setup)", () => {
  const cwd = join(dir, "sandbox");
  before(() => {
    rmSync(cwd, { recursive: true, force: true });
    writeFileSync(join(dir, ".keep"), "");
  });

  test("one command: creates the store and the demo estate, scans, summarises the money", async () => {
    const { mkdirSync } = await import("node:fs");
    mkdirSync(cwd, { recursive: true });
    const run = await cli(
      ["scan", "--policies", POLICIES, "--inventory", "sandbox", "--at", "2026-06-01T00:00:00Z"],
      { cwd },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.ok(existsSync(join(cwd, ".costguard", "costguard.db")));
    assert.match(
      run.stderr,
      /creating the demo estate \(200 resources, seed demo\) and its FOCUS billing export \.costguard\/sandbox-focus-billing\.csv\n/,
    );
    assert.match(run.stdout, /^Scanned 200 resources from sandbox at 2026-06-01T00:00:00.000Z/);
    // The export docs/scan.md tells sandbox users to pass is there, and prices the resources it charged.
    const billed = await cli(
      [
        "scan",
        "-p",
        POLICIES,
        "-i",
        "sandbox",
        "--at",
        "2026-06-01T00:00:00Z",
        "--no-store",
        "--billing",
        ".costguard/sandbox-focus-billing.csv",
      ],
      { cwd },
    );
    assert.equal(billed.code, 0, billed.stderr);
    assert.match(billed.stdout, /Costs from billing: \d+ of 200 resources priced from their charges/);
    assert.match(run.stdout, /By policy\nPOLICY +FINDINGS\nmandatory-tags +\d+/);
    assert.match(run.stdout, /By severity: high \d+ · medium \d+/);
    assert.match(run.stdout, /Top findings by savings\nRESOURCE/);
    assert.match(run.stdout, /Total potential savings: [\d,]+\.\d\d USD per month/);
    assert.match(
      run.stdout,
      /\nRead back with `costguard findings list` .* and `costguard scans list` \(history\)\.\n$/,
    );
    assert.ok(!run.stdout.includes("\u001b["), "no colour when not a terminal");
    assert.doesNotMatch(run.stderr, /\r/, "no progress bar when not a terminal");
  });

  test("json and csv carry every finding; the second scan finds nothing new", async () => {
    const json = await cli(
      ["scan", "-p", POLICIES, "-i", "sandbox", "--format", "json", "--at", "2026-06-01T00:00:00Z"],
      { cwd },
    );
    assert.equal(json.code, 0, json.stderr);
    const doc = JSON.parse(json.stdout) as {
      findings: { savings_monthly: string; fingerprint: string }[];
      scan: { summary: { findings: number; new_findings: number; resources_scanned: number } };
    };
    assert.equal(doc.findings.length, doc.scan.summary.findings);
    assert.equal(doc.scan.summary.new_findings, 0);
    assert.equal(doc.scan.summary.resources_scanned, 200);
    assert.match(json.stderr, /Total potential savings/);

    const csv = await cli(
      [
        "scan",
        "-p",
        POLICIES,
        "-i",
        "sandbox",
        "--format",
        "csv",
        "--no-store",
        "--at",
        "2026-06-01T00:00:00Z",
      ],
      {
        cwd,
      },
    );
    assert.equal(csv.code, 0, csv.stderr);
    const lines = csv.stdout.trim().split("\n");
    assert.match(lines[0]!, /^fingerprint,resource_id,resource_type/);
    assert.equal(lines.length - 1, doc.findings.length);
    assert.match(csv.stderr, /\(not stored\)/);
  });

  test("sandbox act changes what the next scan sees", async () => {
    const show = await cli(["sandbox", "show", "--format", "json"], { cwd });
    assert.equal(JSON.parse(show.stdout).resources, 200);
    const before = JSON.parse(
      (
        await cli(
          [
            "scan",
            "-p",
            POLICIES,
            "-i",
            "sandbox",
            "--format",
            "json",
            "--no-store",
            "--at",
            "2026-06-03T00:00:00Z",
          ],
          { cwd },
        )
      ).stdout,
    ) as { findings: { resource_id: string; policy: string }[] };
    const idle = before.findings.find(
      (f) => f.policy === "idle-resource-detection" && f.resource_id.startsWith("i-"),
    )!;
    const stop = await cli(["sandbox", "act", "stop", idle.resource_id, "--at", "2026-06-03T01:00:00Z"], {
      cwd,
    });
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal(stop.stdout, `${idle.resource_id} stopped\n`);
    const again = await cli(["sandbox", "act", "stop", idle.resource_id], { cwd });
    assert.equal(again.stdout, `unchanged: ${idle.resource_id} is already stopped\n`);
    const after = await cli(["scan", "-p", POLICIES, "-i", "sandbox", "--at", "2026-06-03T02:00:00Z"], {
      cwd,
    });
    // Stopped: its idle finding is resolved (time passing may also add volumes crossing 7 days).
    assert.match(after.stdout, /\d+ new, [1-9]\d* resolved since earlier scans/);

    const resize = await cli(["sandbox", "act", "resize", idle.resource_id, "--to", "no.such"], { cwd });
    assert.equal(resize.code, 2);
    assert.match(resize.stderr, /^costguard: unknown instance type no\.such\n$/);
    // A size misspelt within a series the book knows names the closest of that series.
    const typo = await cli(["sandbox", "act", "resize", idle.resource_id, "--to", "m5.xlarg"], { cwd });
    assert.equal(typo.code, 2);
    assert.equal(typo.stderr, "costguard: unknown instance type m5.xlarg (did you mean m5.xlarge?)\n");
    const missing = await cli(["sandbox", "act", "stop", "i-does-not-exist"], { cwd });
    assert.equal(missing.code, 2);
    // Assigned, it would be dropped without a word (it sets the object's prototype).
    const proto = await cli(["sandbox", "act", "tag", idle.resource_id, "--tag", "__proto__=x"], { cwd });
    assert.equal(proto.code, 2);
    assert.equal(proto.stderr, "costguard: --tag: `__proto__` is not a tag key\n");
    // A tag given twice kept the later value in silence.
    const twice = await cli(["sandbox", "act", "tag", idle.resource_id, "--tag", "a=b", "--tag", "a="], {
      cwd,
    });
    assert.equal(twice.code, 2);
    assert.equal(twice.stderr, "costguard: --tag gives the tag a twice: say what it becomes once\n");
    // Options of another action are refused, not ignored; so is an actor with no name.
    const unused = [
      [["stop", idle.resource_id, "--to", "m5.large"], "costguard: --to applies to resize, not stop\n"],
      [["snapshot", idle.resource_id, "--tag", "a=b"], "costguard: --tag applies to tag, not snapshot\n"],
      [["start", idle.resource_id, "--actor", " "], "costguard: --actor needs a value\n"],
    ] as const;
    for (const [args, message] of unused) {
      const run = await cli(["sandbox", "act", ...args], { cwd });
      assert.equal(run.code, 2, run.stderr);
      assert.equal(run.stderr, message);
    }
  });

  test("--fail-on exits 1 when a finding is that severe", async () => {
    const run = await cli(["scan", "-p", POLICIES, "-i", "sandbox", "--no-store", "--fail-on", "high"], {
      cwd,
    });
    assert.equal(run.code, 1);
    const lenient = await cli(
      ["scan", "-p", POLICIES, "-i", "sandbox", "--no-store", "--fail-on", "critical"],
      { cwd },
    );
    assert.equal(lenient.code, 0);
  });

  test("on a terminal, sandbox init, run and scan draw progress on stderr and clear it; piped, nothing", async () => {
    // Each redraw starts with carriage return + erase line; shown here as "¦".
    const onTerminal = async (args: string[]) => {
      const stderr = Object.assign(new PassThrough(), { isTTY: true });
      let text = "";
      stderr.on("data", (c: Buffer) => {
        text += c.toString();
      });
      const code = await runCli(args, {
        stdout: new PassThrough().resume(),
        stderr,
        readStdin: () => "",
        cwd,
        env: {},
      });
      await new Promise((r) => setImmediate(r));
      return { code, text: text.replaceAll("\r\u001b[2K", "¦") };
    };
    const init = await onTerminal([
      "sandbox",
      "init",
      "--resources",
      "3000",
      "--seed",
      "bar",
      "--at",
      "2026-06-10",
    ]);
    assert.equal(init.code, 0, init.text);
    assert.match(init.text, /^¦writing billing \[[█░]+\] +\d+% {2}[\d,]+ resources/);
    assert.match(
      init.text,
      /¦storing the estate \[[█░]+\] +\d+% {2}[\d,]+ resources {2}[\d.]+s¦$/,
      "then the estate, cleared at the end",
    );
    // After the earlier tests' scans of the sandbox in this store (history moves forward).
    const run = await onTerminal(["run", "-p", POLICIES, "-i", "sandbox", "--at", "2026-06-10T00:00:00Z"]);
    assert.equal(run.code, 0, run.text);
    assert.match(run.text, /^¦scanning \[[█░]+\] +\d+% {2}[\d,]+ resources {2}[\d.]+s¦/);
    // Once every resource is judged, the line says the store is finishing (not a bar stuck at 99%).
    assert.match(run.text, /¦scanning [^¦]*¦storing [\d,]+ findings… {2}[\d.]+s¦/);
    const scan = await onTerminal(["scan", "-p", POLICIES, "-i", "sandbox", "--at", "2026-06-11T00:00:00Z"]);
    assert.equal(scan.code, 0, scan.text);
    // How many scanning frames come first depends on the machine's pace; storing follows the last.
    assert.match(scan.text, /^(¦scanning [^¦]*)+¦storing [\d,]+ findings… {2}[\d.]+s¦/);
    // Then the exceptions are applied (none approved here: excepted findings whose exception ended reopen).
    assert.match(scan.text, /¦storing [^¦]*¦applying exceptions \(0 findings covered\)… {2}[\d.]+s¦$/);
    const unstored = await onTerminal(["scan", "-p", POLICIES, "-i", "sandbox", "--no-store"]);
    assert.doesNotMatch(unstored.text, /storing/, "nothing stored, no storing line");
    const piped = await cli(
      ["sandbox", "init", "--resources", "300", "--seed", "bar", "--at", "2026-06-01"],
      { cwd },
    );
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(piped.stderr, "");
  });

  test("sandbox init: sizes it cannot build are refused; a billing file over a gigabyte is announced", async () => {
    for (const [args, message] of [
      [
        ["--resources", "2000001"],
        /--resources is at most 2,000,000, got 2000001: the sandbox is generated in memory/,
      ],
      [["--resources", "1e3"], /--resources must be a whole number, got 1e3/],
      [["--resources", ""], /^costguard: --resources needs a value$/m],
      [["--billing-days", "-1"], /--billing-days must be a whole number, got -1/],
      [["--seed", " "], /^costguard: --seed needs a value$/m],
      [
        ["--billing-days", "5", "--no-billing"],
        /^costguard: --billing-days applies to the billing file, and --no-billing writes none$/m,
      ],
      // A billing file's times must be ones a FOCUS timestamp writes.
      [["--at", "9999-12-31"], /--at 9999-12-31: the billing file's period would end in the year 10000/],
      [["--at", "1970-01-10"], /--at 1970-01-10: 30 days of billing before it reach before 1970/],
      // Whichever came last won in silence.
      [
        ["--no-billing", "--billing", "x.csv"],
        /^costguard: --billing PATH and --no-billing contradict each other/m,
      ],
      [
        ["--billing", "x.csv", "--no-billing"],
        /^costguard: --billing PATH and --no-billing contradict each other/m,
      ],
      [
        ["--billing", "x.csv", "--billing", "y.csv"],
        /^costguard: --billing names the one billing file init writes, given twice \(x\.csv and y\.csv\)/m,
      ],
    ] as const) {
      const run = await cli(["sandbox", "init", ...args], { cwd });
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, message);
    }
    // A billing file that cannot be written fails before the estate is replaced (it was replaced,
    // then the command failed).
    assert.equal((await cli(["sandbox", "init", "--resources", "7", "--seed", "keep"], { cwd })).code, 0);
    const folder = await cli(["sandbox", "init", "--resources", "3", "--billing", "."], { cwd });
    assert.equal(folder.code, 2);
    assert.match(folder.stderr, /cannot write the billing file \.: it is a folder/);
    assert.match((await cli(["sandbox", "show"], { cwd })).stdout, /^7 resources \(seed keep,/m);
    // 1,000,000 resources × 30 days, ~740 bytes a row: said before the hour it takes to write.
    assert.equal(
      largeBillingWarning(1_000_000, 30),
      "the billing file will have up to 30,000,000 rows (~22.2 GB, a row per resource and day); --billing-days or --no-billing write less",
    );
    assert.equal(largeBillingWarning(200, 30), undefined);
    assert.match(largeBillingWarning(1_000_000, 2) ?? "", /2,000,000 rows \(~1\.5 GB/);
    assert.equal(largeBillingWarning(1_000_000, 1), undefined);
  });

  test("sandbox init with a seed and reset", async () => {
    const init = await cli(["sandbox", "init", "--resources", "50", "--seed", "7", "--at", "2026-06-01"], {
      cwd,
    });
    assert.equal(init.code, 0, init.stderr);
    assert.match(init.stdout, /^sandbox: 50 resources \(seed 7, as of 2026-06-01T00:00:00.000Z\)/);
    assert.match(init.stdout, /billing: 1,650 FOCUS rows in .*sandbox-focus-billing\.csv/);
    assert.ok(
      readFileSync(join(cwd, ".costguard", "sandbox-focus-billing.csv"), "utf8").startsWith(
        '"AvailabilityZone"',
      ),
    );
    const reset = await cli(["sandbox", "reset"], { cwd });
    assert.equal(
      reset.stdout,
      `sandbox: removed 50 resources from ${join(cwd, ".costguard", "costguard.db")}\n`,
    );
    const scan = await cli(["scan", "-p", POLICIES, "-i", "sandbox", "--no-store"], { cwd });
    assert.match(
      scan.stdout,
      /^Scanned 0 resources/,
      "a reset sandbox is not re-created behind the user's back",
    );
    assert.doesNotMatch(scan.stdout, /Read back/, "nothing stored, nothing to read back");
  });
});

describe("costguard scan --inventory file:PATH", () => {
  test("csv and json open with the first finding: a scan refused before one writes nothing on stdout", async () => {
    const cwd = mkdtempSync(join(dir, "refused-output-"));
    writeFileSync(join(cwd, "bad.jsonl"), '{"id":"i-1","type":\n');
    writeFileSync(join(cwd, "clean.jsonl"), `${JSON.stringify({ id: "i-1", type: "queue/sqs" })}\n`);
    writeFileSync(join(cwd, "empty.csv"), "");
    for (const format of ["csv", "json"]) {
      for (const [file, message] of [
        ["bad.jsonl", /^costguard: bad\.jsonl:1: not valid JSON/m],
        ["empty.csv", /^costguard: empty\.csv: no CSV header line \(the file is empty\)/m],
      ] as const) {
        const run = await cli(
          ["scan", "-p", POLICIES, "-i", `file:${file}`, "--no-store", "--format", format],
          {
            cwd,
          },
        );
        assert.equal(run.code, 2, run.stderr);
        assert.match(run.stderr, message);
        assert.equal(run.stdout, "", `${format}: ${file}`);
      }
      // A scan that finds nothing still writes its (empty) output.
      const clean = await cli(
        ["scan", "-p", POLICIES, "-i", "file:clean.jsonl", "--no-store", "--format", format],
        {
          cwd,
        },
      );
      assert.equal(clean.code, 0, clean.stderr);
      if (format === "csv") assert.match(clean.stdout, /^fingerprint,resource_id,.*,excepted_by\n$/);
      else assert.deepEqual(JSON.parse(clean.stdout).findings, []);
    }
  });

  test("a file estate, not stored, leaves no database behind", async () => {
    const cwd = mkdtempSync(join(dir, "file-"));
    writeFileSync(
      join(cwd, "estate.jsonl"),
      `${JSON.stringify({ id: "i-1", type: "compute/instance", state: "running", hourly_cost: 0.5, metrics: { avg_cpu_percent: 0.4, avg_network_bytes: 10 } })}\n`,
    );
    const run = await cli(
      ["scan", "-p", POLICIES, "-i", "file:estate.jsonl", "--no-store", "--format", "json"],
      { cwd },
    );
    assert.equal(run.code, 0, run.stderr);
    const doc = JSON.parse(run.stdout);
    assert.equal(doc.scan.inventory, "file:estate.jsonl");
    assert.deepEqual(doc.findings.map((f: { policy: string }) => f.policy).sort(), [
      "idle-resource-detection",
      "mandatory-tags",
    ]);
    assert.equal(doc.scan.summary.savings_monthly, "365");
    assert.equal(existsSync(join(cwd, ".costguard")), false);
  });

  test("what a scan cannot judge is counted, not passed silently: idle without metrics, undated volumes, limits without the field", async () => {
    const cwd = mkdtempSync(join(dir, "unmeasured-"));
    const lines = [
      { id: "i-1", type: "compute/instance", state: "running" },
      { id: "db-1", type: "database/instance", state: "available", metrics: { avg_cpu_percent: 1 } },
      { id: "i-2", type: "compute/instance", state: "stopped" },
      {
        id: "i-3",
        type: "compute/instance",
        state: "running",
        metrics: { avg_cpu_percent: 60, avg_network_bytes: 5e9 },
      },
      // An instance type the price book does not know: no vCPUs or memory to hold to the limits.
      {
        id: "i-4",
        type: "compute/instance",
        state: "stopped",
        specs: { instance_type: "zz9.huge", instance_family: "general-purpose" },
      },
      // Attached to nothing since when? Neither detached_at nor created_at says.
      {
        id: "vol-1",
        type: "storage/volume",
        state: "available",
        specs: { size_gb: 100, volume_type: "ssd" },
      },
    ];
    writeFileSync(join(cwd, "estate.jsonl"), lines.map((l) => `${JSON.stringify(l)}\n`).join(""));
    const table = await cli(["scan", "-p", POLICIES, "-i", "file:estate.jsonl", "--no-store"], { cwd });
    assert.equal(table.code, 0, table.stderr);
    assert.match(
      table.stdout,
      /\nNot judged idle: 2 running resources have no CPU and network averages covering the idle window/,
    );
    const json = await cli(
      ["scan", "-p", POLICIES, "-i", "file:estate.jsonl", "--no-store", "--format", "json"],
      {
        cwd,
      },
    );
    // Four instances lack vCPUs and memory (three no specs at all, one an unknown type); the
    // database lacks its vCPUs and storage.
    assert.match(
      table.stdout,
      /\nNot checked, the field missing: resource-limits\/max-instance-size specs\.memory_gb \(4 resources\) · resource-limits\/max-instance-size specs\.vcpus \(4 resources\) · resource-limits\/max-instance-size specs\.instance_family \(3 resources\) · resource-limits\/max-database-size specs\.storage_gb \(1 resource\) · 1 more \(--format json lists them\)\n/,
    );
    const summary = JSON.parse(json.stdout).scan.summary;
    assert.equal(summary.idle_unmeasured, 2);
    assert.equal(summary.unattached_undated, 1);
    assert.match(
      table.stdout,
      /\nNot judged unattached: 1 unattached volume has neither detached_at nor created_at\n/,
    );
    assert.deepEqual(summary.unverified_checks, {
      "resource-limits/max-instance-size specs.memory_gb": 4,
      "resource-limits/max-instance-size specs.vcpus": 4,
      "resource-limits/max-instance-size specs.instance_family": 3,
      "resource-limits/max-database-size specs.storage_gb": 1,
      "resource-limits/max-database-size specs.vcpus": 1,
    });
    // Stored, the scan keeps them in its history.
    const stored = await cli(["scan", "-p", POLICIES, "-i", "file:estate.jsonl", "--format", "json"], {
      cwd,
    });
    assert.equal(stored.code, 0, stored.stderr);
    const shown = await cli(["scans", "show", JSON.parse(stored.stdout).scan.id], { cwd });
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /\n {2}not judged {4}idle \(no metrics\) 2 · unattached \(undated\) 1\n/);
    assert.match(
      shown.stdout,
      /\n {2}not checked {3}resource-limits\/max-instance-size specs\.memory_gb 4 · /,
    );
    // The compliance cycle says how much of its score rests on what could not be judged.
    const cycle = await cli(["run", "-p", POLICIES, "-i", "file:estate.jsonl"], { cwd });
    assert.equal(cycle.code, 0, cycle.stderr);
    assert.match(
      cycle.stdout,
      /\nNot judged +2 running resources without metrics for idleness, 1 undated unattached volume, 13 checks not made for want of a field \(costguard scans show scan-[^)]+\)\n/,
    );
  });

  test("resources of a type no rule or detector names, and rules that judged none, are said, not counted compliant", async () => {
    const cwd = mkdtempSync(join(dir, "uncovered-"));
    // An inventory that calls its instances `aws/ec2` where the policies say compute/instance: the
    // instance limits judged nothing and the instances were judged by nothing, in silence.
    const lines = [
      { id: "i-1", type: "aws/ec2", state: "running", specs: { vcpus: 64 } },
      { id: "i-2", type: "aws/ec2", state: "running", specs: { vcpus: 2 } },
      { id: "q-1", type: "queue/sqs" },
      { id: "vol-1", type: "storage/volume", state: "in-use", specs: { size_gb: 10, volume_type: "gp3" } },
      { id: "db-1", type: "database/instance", state: "stopped", specs: { vcpus: 2, storage_gb: 20 } },
    ];
    writeFileSync(join(cwd, "estate.jsonl"), lines.map((l) => `${JSON.stringify(l)}\n`).join(""));
    const scan = (more: string[]) =>
      cli(["scan", "-p", POLICIES, "-i", "file:estate.jsonl", ...more], { cwd });
    const table = await scan(["--no-store"]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(
      table.stdout,
      /\nNot judged by anything: 3 resources are of a type no policy rule or detector names: aws\/ec2 2 · queue\/sqs 1\n/,
    );
    assert.match(
      table.stdout,
      /\nJudged no resource: rule resource-limits\/max-instance-size: no resource scanned is of a type it names\n/,
    );
    const stored = await scan(["--format", "json"]);
    assert.equal(stored.code, 0, stored.stderr);
    const summary = JSON.parse(stored.stdout).scan.summary;
    assert.deepEqual(summary.unjudged_types, { "aws/ec2": 2, "queue/sqs": 1 });
    assert.deepEqual(summary.rules_judging_nothing, ["resource-limits/max-instance-size"]);
    const shown = await cli(["scans", "show"], { cwd });
    assert.match(
      shown.stdout,
      /\n {2}not judged {4}by anything \(aws\/ec2\) 2 · by anything \(queue\/sqs\) 1\n/,
    );
    assert.match(shown.stdout, /\n {2}judged none {3}resource-limits\/max-instance-size\n/);
    const cycle = await cli(["run", "-p", POLICIES, "-i", "file:estate.jsonl"], { cwd });
    assert.equal(cycle.code, 0, cycle.stderr);
    assert.match(
      cycle.stdout,
      /\nNot judged +3 resources of a type no rule or detector names \(costguard scans show /,
    );
    // Named in the policies, all of them: nothing said.
    const named: Record<string, string> = { "aws/ec2": "compute/instance", "queue/sqs": "network/queue" };
    const renamed = lines.map((l) => ({ ...l, type: named[l.type] ?? l.type }));
    writeFileSync(join(cwd, "estate.jsonl"), renamed.map((l) => `${JSON.stringify(l)}\n`).join(""));
    const covered = await scan(["--no-store"]);
    assert.doesNotMatch(covered.stdout, /Not judged by anything|Judged no resource/);
  });

  test("--fail-on honours approved exceptions in a stored scan, as every gate does, and says what it fails on", async () => {
    const cwd = mkdtempSync(join(dir, "fail-on-excepted-"));
    writeFileSync(
      join(cwd, "costguard.yaml"),
      `policies: [${POLICIES}]\nexceptions: {approvers: {teams: {security: [frank]}}}\n`,
    );
    const tags = {
      "cost-center": "CC-123456",
      environment: "production",
      owner: "a@company.com",
      project: "abc",
    };
    const lines = ["i-1", "i-2"].map((id) => ({
      id,
      type: "compute/instance",
      state: "stopped",
      specs: { vcpus: 64 },
      tags,
    }));
    writeFileSync(join(cwd, "estate.jsonl"), lines.map((l) => `${JSON.stringify(l)}\n`).join(""));
    const scan = (more: string[] = []) =>
      cli(["scan", "-i", "file:estate.jsonl", "--fail-on", "high", ...more], { cwd });
    assert.equal((await scan()).code, 1);
    const waive = async (resource: string) => {
      const asked = await cli(
        [
          "exceptions",
          "request",
          "--resource",
          resource,
          "--policy",
          "resource-limits",
          "--rule",
          "max-instance-size",
        ].concat(["--justification", "a batch box", "--duration", "30d", "--as", "alice"]),
        { cwd },
      );
      assert.equal(asked.code, 0, asked.stderr);
      assert.equal(
        (await cli(["exceptions", "approve", asked.stdout.trim(), "--as", "frank"], { cwd })).code,
        0,
      );
      return asked.stdout.trim();
    };
    // One of the two covered: it still fails, on the other, and says so.
    const covering = await waive("i-1");
    const one = await scan();
    assert.equal(one.code, 1, one.stderr);
    assert.equal(
      one.stderr,
      "costguard: --fail-on high: 1 finding at or above high (1 more covered by approved exceptions)\n",
    );
    assert.match(
      one.stdout,
      /\n2 findings: 0 new, 0 resolved since earlier scans; 1 covered by approved exceptions\n/,
    );
    // History keeps the count: scans show and list say it, the first scan (none covered) blank.
    const history = await cli(["scans", "list", "--format", "json"], { cwd });
    assert.deepEqual(
      (JSON.parse(history.stdout) as Record<string, unknown>[]).map((s) => s.excepted_findings ?? null),
      [1, null],
    );
    const table = (await cli(["scans", "list"], { cwd })).stdout.split("\n");
    const at = table[0]!.indexOf("EXCEPTED") + "EXCEPTED".length;
    assert.deepEqual(
      table.slice(1, 3).map((row) => row.slice(0, at).trimEnd().split(/ +/).pop()),
      ["1", "0"], // the first scan's last column before EXCEPTED: its RESOLVED count
    );
    assert.match(
      (await cli(["scans", "show"], { cwd })).stdout,
      /\n {2}findings +2: 0 new, 0 resolved; 1 covered by approved exceptions\n/,
    );
    // The same not stored: the exception waives the finding at its severity, wherever it was judged.
    for (const jobs of ["1", "2"]) {
      const unstored = await scan(["--no-store", "--jobs", jobs]);
      assert.equal(unstored.code, 1, unstored.stderr);
      assert.equal(unstored.stderr, one.stderr);
      const json = await scan(["--no-store", "--jobs", jobs, "--format", "json"]);
      assert.equal(JSON.parse(json.stdout).scan.summary.excepted_findings, 1);
    }
    // Stored with it: which findings the exception covers, and what covers a finding.
    const listed = await cli(["findings", "list", "--exception", covering, "--format", "json"], { cwd });
    assert.equal(listed.code, 0, listed.stderr);
    const coveredFindings = JSON.parse(listed.stdout).findings as Record<string, string>[];
    assert.deepEqual(
      coveredFindings.map((f) => [f.resource_id, f.rule, f.status, f.exception_id]),
      [["i-1", "max-instance-size", "excepted", covering]],
    );
    const shown = await cli(["findings", "show", coveredFindings[0]!.fingerprint!], { cwd });
    assert.match(
      shown.stdout,
      new RegExp(`status +excepted by ${covering} \\(costguard exceptions show ${covering}\\)`),
    );
    // The streamed findings say which are waived, by which exception, on one thread and on two.
    for (const jobs of ["1", "2"]) {
      const json = await cli(["scan", "-i", "file:estate.jsonl", "--format", "json", "--jobs", jobs], {
        cwd,
      });
      assert.equal(json.code, 0, json.stderr);
      const marks = (JSON.parse(json.stdout).findings as Record<string, string>[])
        .filter((f) => f.rule === "max-instance-size")
        .map((f) => [f.resource_id, f.excepted_by ?? null]);
      assert.deepEqual(marks.sort(), [
        ["i-1", covering],
        ["i-2", null],
      ]);
      const csv = await cli(["scan", "-i", "file:estate.jsonl", "--format", "csv", "--jobs", jobs], {
        cwd,
      });
      assert.equal(csv.code, 0, csv.stderr);
      const [header, ...rows] = csv.stdout
        .trim()
        .split("\n")
        .map((l) => l.split(","));
      const col = (name: string) => header!.indexOf(name);
      assert.equal(col("excepted_by"), header!.length - 1);
      assert.deepEqual(
        rows
          .filter((r) => r[col("rule")] === "max-instance-size")
          .map((r) => [r[col("resource_id")], r[col("excepted_by")]])
          .sort(),
        [
          ["i-1", covering],
          ["i-2", ""],
        ],
      );
    }
    // Both covered: it passes (it failed on findings stored as excepted).
    const second = await waive("i-2");
    const both = await scan();
    assert.equal(both.code, 0, both.stderr);
    assert.match(both.stdout, /; 2 covered by approved exceptions\n/);
    const stored = await scan(["--format", "json"]);
    assert.equal(JSON.parse(stored.stdout).scan.summary.excepted_findings, 2);
    // Not stored, the exceptions are read from the store all the same (as the gates read them), on
    // one thread and on two; --no-exceptions judges without them, and every finding counts.
    for (const jobs of ["1", "2"]) {
      const unstored = await scan(["--no-store", "--jobs", jobs]);
      assert.equal(unstored.code, 0, unstored.stderr);
      assert.match(unstored.stdout, /\(not stored\)\n2 findings: 2 covered by approved exceptions\n/);
      const json = await scan(["--no-store", "--jobs", jobs, "--format", "json"]);
      assert.deepEqual(
        (JSON.parse(json.stdout).findings as Record<string, string>[]).map((f) => f.excepted_by).sort(),
        [covering, second].sort(),
      );
    }
    const without = await scan(["--no-store", "--no-exceptions"]);
    assert.equal(without.code, 1);
    assert.equal(without.stderr, "costguard: --fail-on high: 2 findings at or above high\n");
    assert.doesNotMatch(without.stdout, /covered by approved exceptions/);
  });

  test("--fail-on --new-only fails on findings the scan saw first, not on those earlier scans reported", async () => {
    const cwd = mkdtempSync(join(dir, "new-only-"));
    const lines = readFileSync("examples/scan/estate.jsonl", "utf8").trim().split("\n");
    const scan = (kept: string[], at: string, more: string[] = ["--fail-on", "high", "--new-only"]) => {
      writeFileSync(join(cwd, "estate.jsonl"), `${kept.join("\n")}\n`);
      return cli(["scan", "-p", POLICIES, "-i", "file:estate.jsonl", "--at", at, ...more], { cwd });
    };
    // The first stored scan: every finding is new.
    const first = await scan(lines.slice(0, 30), "2026-06-01T00:00:00Z");
    assert.equal(first.code, 1, first.stderr);
    const firstNew = Number(
      /: (\d+) findings? at or above high new in this scan \(0 seen by earlier scans not counted\)\n$/.exec(
        first.stderr,
      )?.[1],
    );
    assert.ok(firstNew > 0, first.stderr);
    // The same estate a day later: the high findings are old, so it passes; without --new-only it fails.
    const again = await scan(lines.slice(0, 30), "2026-06-02T00:00:00Z");
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stderr, "");
    const plain = await scan(lines.slice(0, 30), "2026-06-02T12:00:00Z", ["--fail-on", "high"]);
    assert.equal(plain.code, 1);
    assert.match(
      plain.stderr,
      new RegExp(`^costguard: --fail-on high: ${firstNew} findings at or above high\n$`),
    );
    // Ten more resources: only their high findings count.
    const grown = await scan(lines, "2026-06-03T00:00:00Z");
    assert.equal(grown.code, 1);
    const added = await cli(
      ["findings", "list", "--new-in", "latest", "--severity", "critical,high", "--format", "json"],
      { cwd },
    );
    const fresh = (JSON.parse(added.stdout) as { findings: unknown[] }).findings.length;
    assert.ok(fresh > 0);
    assert.equal(
      grown.stderr,
      `costguard: --fail-on high --new-only: ${fresh} ${fresh === 1 ? "finding" : "findings"} at or above high new in this scan (${firstNew} seen by earlier scans not counted)\n`,
    );
    for (const [more, message] of [
      [
        ["--new-only"],
        "costguard: --new-only does nothing without --fail-on or --fail-on-savings: it narrows what they count\n",
      ],
      [
        ["--fail-on", "high", "--new-only", "--no-store"],
        "costguard: --new-only does nothing with --no-store: new means not seen by an earlier stored scan, which only a stored scan knows\n",
      ],
    ] as const) {
      const bad = await scan(lines, "2026-06-04T00:00:00Z", [...more]);
      assert.equal(bad.code, 2);
      assert.equal(bad.stderr, message);
    }
  });

  test("--fail-on-savings fails when the open findings stand for that much a month, stored or not; excepted ones and, with --new-only, old ones do not count", async () => {
    const cwd = mkdtempSync(join(dir, "fail-on-savings-"));
    writeFileSync(
      join(cwd, "costguard.yaml"),
      `policies: [${POLICIES}]\nexceptions: {approvers: {managers: {alice: carol}}}\n`,
    );
    const lines = readFileSync("examples/scan/estate.jsonl", "utf8").trim().split("\n");
    // The estate without its idle instance, which comes later: a new finding with a saving.
    const idle = "i-f47595b3e5a48b9b3";
    const base = lines.filter((l) => (JSON.parse(l) as { id: string }).id !== idle);
    assert.equal(base.length, lines.length - 1);
    const scan = (kept: string[], at: string, gate: string[]) => {
      writeFileSync(join(cwd, "estate.jsonl"), `${kept.join("\n")}\n`);
      return cli(["scan", "-i", "file:estate.jsonl", "--at", at, ...gate], { cwd });
    };
    const atStake = async (more: string[] = []) => {
      const r = await cli(["findings", "summary", "--format", "json", ...more], { cwd });
      const doc = JSON.parse(r.stdout) as { count: number; savings_monthly: Record<string, string> };
      return { count: doc.count, usd: Number(doc.savings_monthly.USD ?? "0") };
    };
    const money = (usd: number) =>
      `${usd.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })} USD`;
    // The open findings' savings, against a floor above and below them.
    assert.equal((await scan(base, "2026-06-01T00:00:00Z", [])).code, 0);
    const open = await atStake();
    assert.ok(open.usd > 100, String(open.usd));
    const below = await scan(base, "2026-06-01T00:00:01Z", [
      "--fail-on-savings",
      String(Math.floor(open.usd)),
    ]);
    assert.equal(below.code, 1);
    assert.equal(
      below.stderr,
      `costguard: --fail-on-savings ${Math.floor(open.usd)}: ${money(open.usd)} per month at stake in ${open.count} open findings (at least ${money(Math.floor(open.usd))})\n`,
    );
    const above = await scan(base, "2026-06-01T00:00:02Z", [
      "--fail-on-savings",
      String(Math.ceil(open.usd + 1)),
    ]);
    assert.equal(above.code, 0, above.stderr);
    // The costliest finding excepted: its saving no longer counts.
    const [top] = JSON.parse(
      (await cli(["findings", "list", "--format", "json", "--sort", "savings", "--limit", "1"], { cwd }))
        .stdout,
    ).findings as { fingerprint: string; savings_monthly: string }[];
    const asked = await cli(
      [
        "exceptions",
        "request",
        "--finding",
        top!.fingerprint,
        "--justification",
        "kept for a migration",
        "--duration",
        "30d",
        "--as",
        "alice",
        // Approved before the scans that honour it (an exception applies from its approval on).
        "--at",
        "2026-06-01T00:00:02Z",
      ],
      { cwd },
    );
    assert.equal(asked.code, 0, asked.stderr);
    assert.equal(
      (
        await cli(
          ["exceptions", "approve", asked.stdout.trim(), "--as", "carol", "--at", "2026-06-01T00:00:02Z"],
          {
            cwd,
          },
        )
      ).code,
      0,
    );
    const waived = await scan(base, "2026-06-01T00:00:03Z", [
      "--fail-on-savings",
      String(Math.floor(open.usd)),
    ]);
    assert.equal(waived.code, 0, waived.stderr);
    // What each exception waives: the excepted findings by the exception covering each.
    const byException = JSON.parse(
      (await cli(["findings", "summary", "--by", "exception", "--format", "json"], { cwd })).stdout,
    ) as { by: string; groups: { group: string; count: number; savings_monthly: { USD: string } }[] };
    assert.deepEqual(
      [byException.by, byException.groups.map((g) => [g.group, g.count, Number(g.savings_monthly.USD)])],
      ["exception", [[asked.stdout.trim(), 1, Number(top!.savings_monthly)]]],
    );
    // Not stored, on one thread and on two: the scan's own findings less what the exception covers,
    // the same total the store now holds; without the exceptions, every finding counts again.
    const left = await atStake();
    assert.ok(left.usd < open.usd && left.count === open.count - 1, JSON.stringify(left));
    // The history keeps what the exception took off (the scans before it none: left out, 0 in csv).
    const history = JSON.parse((await cli(["scans", "list", "--format", "json"], { cwd })).stdout) as {
      excepted_savings_monthly?: string;
    }[];
    assert.deepEqual(
      history.map((h) =>
        h.excepted_savings_monthly === undefined ? null : Number(h.excepted_savings_monthly),
      ),
      [Number((open.usd - left.usd).toFixed(2)), null, null, null],
    );
    assert.match(
      (await cli(["scans", "show"], { cwd })).stdout,
      new RegExp(
        `\n {2}savings +${money(open.usd)} per month; ${money(open.usd - left.usd)} of it covered by approved exceptions\n`,
      ),
    );
    const csv = (await cli(["scans", "list", "--format", "csv"], { cwd })).stdout.trimEnd().split("\n");
    const column = csv[0]!.split(",").indexOf("excepted_savings_monthly");
    assert.deepEqual(
      csv.slice(1).map((row) => Number(row.split(",")[column])),
      [Number((open.usd - left.usd).toFixed(2)), 0, 0, 0],
    );
    for (const jobs of ["1", "2"]) {
      const floor = Math.floor(left.usd);
      const unstored = await scan(base, "2026-06-01T00:00:03Z", [
        "--no-store",
        "--jobs",
        jobs,
        "--fail-on-savings",
        String(floor),
      ]);
      assert.equal(unstored.code, 1, unstored.stderr);
      assert.equal(
        unstored.stderr,
        `costguard: --fail-on-savings ${floor}: ${money(left.usd)} per month at stake in ${left.count} open findings (at least ${money(floor)})\n`,
      );
      assert.ok(
        unstored.stdout.includes(
          `Total potential savings: ${money(open.usd)} per month (monthly = hourly × 730; per resource the largest of its findings' savings)\nCovered by approved exceptions: ${money(open.usd - left.usd)} of it; ${money(left.usd)} per month open\n`,
        ),
        unstored.stdout,
      );
      const above = await scan(base, "2026-06-01T00:00:03Z", [
        "--no-store",
        "--jobs",
        jobs,
        "--fail-on-savings",
        String(Math.ceil(left.usd + 1)),
      ]);
      assert.equal(above.code, 0, above.stderr);
    }
    const unwaived = await scan(base, "2026-06-01T00:00:03Z", [
      "--no-store",
      "--no-exceptions",
      "--fail-on-savings",
      String(Math.ceil(left.usd + 1)),
    ]);
    assert.equal(unwaived.code, 1);
    assert.match(
      unwaived.stderr,
      new RegExp(`: ${money(open.usd)} per month at stake in ${open.count} open findings `),
    );
    assert.doesNotMatch(unwaived.stdout, /Covered by approved exceptions/);
    // With --new-only: only what this scan saw first. Ten more resources, and their findings' savings.
    const grown = await scan(lines, "2026-06-01T00:00:04Z", ["--fail-on-savings", "0.01", "--new-only"]);
    const added = await atStake(["--new-in", "latest"]);
    assert.ok(added.usd >= 560.64, String(added.usd)); // the idle instance's stop saves 560.64 USD a month
    assert.equal(grown.code, 1);
    assert.equal(
      grown.stderr,
      `costguard: --fail-on-savings 0.01 --new-only: ${money(added.usd)} per month at stake in ${added.count} ${added.count === 1 ? "finding" : "findings"} new in this scan (at least 0.01 USD)\n`,
    );
    const again = await scan(lines, "2026-06-01T00:00:05Z", ["--fail-on-savings", "0.01", "--new-only"]);
    assert.equal(again.code, 0, again.stderr);
    for (const [gate, message] of [
      [
        ["--fail-on-savings", "0"],
        "costguard: --fail-on-savings must be an amount above zero (e.g. 500 or 99.50), got 0\n",
      ],
      [
        ["--fail-on-savings", "lots"],
        "costguard: --fail-on-savings must be an amount above zero (e.g. 500 or 99.50), got lots\n",
      ],
    ] as const) {
      const bad = await scan(lines, "2026-06-01T00:00:06Z", [...gate]);
      assert.equal(bad.code, 2);
      assert.equal(bad.stderr, message);
    }
  });

  test("records sharing an id: a stored scan says how many findings came twice, and stores the last", async () => {
    const cwd = mkdtempSync(join(dir, "twice-"));
    const tags = { environment: "production", team: "web" };
    const lines = [
      { id: "i-1", type: "compute/instance", state: "stopped", tags, specs: { instance_type: "m5.8xlarge" } },
      { id: "i-2", type: "compute/instance", state: "stopped", tags, specs: { instance_type: "m5.large" } },
      { id: "i-1", type: "compute/instance", state: "stopped", tags: { ...tags, team: "ops" } },
    ];
    writeFileSync(join(cwd, "estate.jsonl"), lines.map((l) => `${JSON.stringify(l)}\n`).join(""));
    const run = await cli(["scan", "-p", POLICIES, "-i", "file:estate.jsonl"], { cwd });
    assert.equal(run.code, 0, run.stderr);
    // i-1's tag finding came twice (its first record also broke the size limit).
    assert.match(
      run.stdout,
      /\n4 findings: 3 new, 0 resolved since earlier scans\nListed twice: 1 finding was found again under a resource id already seen in this scan/,
    );
    const listed = await cli(["findings", "list", "--resource", "i-1", "--format", "json"], { cwd });
    const teams = (JSON.parse(listed.stdout).findings as { rule: string; team: string }[]).map(
      (f) => `${f.rule} ${f.team}`,
    );
    assert.deepEqual(teams.sort(), ["cost-center-required ops", "max-instance-size web"]);
    // Not stored, nothing is counted twice: the output lists what was found.
    const loose = await cli(["scan", "-p", POLICIES, "-i", "file:estate.jsonl", "--no-store"], { cwd });
    const scanId = /\(scan (scan-\S+), stored/.exec(run.stdout)![1]!;
    const shown = await cli(["scans", "show", scanId], { cwd });
    assert.match(shown.stdout, /\n {2}listed twice {2}1 finding \(records sharing a resource id\)\n/);
    assert.doesNotMatch(loose.stdout, /Listed twice/);
    // The compliance cycle says so too.
    const cycle = await cli(["run", "-p", POLICIES, "-i", "file:estate.jsonl"], { cwd });
    assert.equal(cycle.code, 0, cycle.stderr);
    assert.match(
      cycle.stdout,
      /\nViolations found +4\nListed twice +1 finding came again under a resource id already seen/,
    );
  });

  test("records sharing an id: a stored scan's savings count the resource once, as the store keeps it", async () => {
    const cwd = mkdtempSync(join(dir, "twice-saved-"));
    const idle = (team: string) => ({
      id: "i-9",
      type: "compute/instance",
      region: "us-east-1",
      state: "running",
      hourly_cost: "0.096",
      tags: { team, environment: "dev", "cost-center": "CC-1", owner: "a@example.com" },
      metrics: { avg_cpu_percent: 1, avg_network_bytes: 10, period_days: 14 },
    });
    const other = { ...idle("ops"), id: "i-10", hourly_cost: "0.2" };
    const lines = [idle("web"), other, idle("web"), idle("data")];
    writeFileSync(join(cwd, "estate.jsonl"), lines.map((l) => `${JSON.stringify(l)}\n`).join(""));
    const run = await cli(["scan", "-p", POLICIES, "-i", "file:estate.jsonl", "--format", "json"], { cwd });
    assert.equal(run.code, 0, run.stderr);
    const scan = JSON.parse(run.stdout).scan as {
      id: string;
      summary: {
        savings_monthly: string;
        savings_by_team: Record<string, string>;
        repeated_findings: number;
      };
    };
    assert.equal(scan.summary.repeated_findings, 4);
    // i-9 once (its last record, team data: 0.096 × 730) and i-10: not i-9 three times.
    assert.equal(scan.summary.savings_monthly, "216.08");
    assert.deepEqual(scan.summary.savings_by_team, { ops: "146", data: "70.08" });
    const shown = await cli(["scans", "show", scan.id, "--format", "json"], { cwd });
    assert.equal(JSON.parse(shown.stdout).savings_monthly, "216.08");
    assert.deepEqual(JSON.parse(shown.stdout).savings_by_team, { ops: "146", data: "70.08" });
    const summed = await cli(["findings", "summary", "--format", "json"], { cwd });
    assert.equal(JSON.parse(summed.stdout).savings_monthly.USD, "216.08");
  });

  test("one file spelt two ways is one inventory: its findings are not found twice", async () => {
    const cwd = mkdtempSync(join(dir, "spelt-"));
    writeFileSync(join(cwd, "estate.jsonl"), readFileSync(resolve("examples/scan/estate.jsonl")));
    const first = await cli(["scan", "-p", POLICIES, "-i", "file:estate.jsonl"], { cwd });
    assert.match(first.stdout, /\n26 findings: 26 new, 0 resolved/);
    for (const spelt of ["file:./estate.jsonl", "file:x/../estate.jsonl"]) {
      const again = await cli(["scan", "-p", POLICIES, "-i", spelt, "--jobs", "2"], { cwd });
      assert.equal(again.code, 0, again.stderr);
      assert.match(again.stdout, /^Scanned 40 resources from file:estate\.jsonl /);
      assert.match(again.stdout, /\n26 findings: 0 new, 0 resolved/);
    }
    // Read back by either spelling.
    const listed = await cli(["findings", "list", "--inventory", "file:./estate.jsonl", "--format", "json"], {
      cwd,
    });
    assert.equal(JSON.parse(listed.stdout).count, 26);
    const scans = await cli(["scans", "list", "--inventory", "file:./estate.jsonl", "--format", "json"], {
      cwd,
    });
    assert.equal(JSON.parse(scans.stdout).length, 3);
  });

  test("two inventories listing one resource keep a finding each: neither takes the other's or resolves it", async () => {
    const cwd = mkdtempSync(join(dir, "overlap-"));
    const estate = readFileSync(resolve("examples/scan/estate.jsonl"));
    writeFileSync(join(cwd, "a.jsonl"), estate);
    writeFileSync(join(cwd, "b.jsonl"), estate);
    const scan = (file: string, at: string, ...more: string[]) =>
      cli(["scan", "-p", POLICIES, "-i", `file:${file}`, "--at", at, ...more], { cwd });
    assert.match((await scan("a.jsonl", "2026-11-01")).stdout, /\n26 findings: 26 new, 0 resolved/);
    // The same resources, another inventory: new to it (--new-only counts them), on one thread or two.
    const b = await scan("b.jsonl", "2026-11-02", "--jobs", "2", "--fail-on", "low", "--new-only");
    assert.match(b.stdout, /\n26 findings: 26 new, 0 resolved/);
    assert.equal(b.code, 1, b.stderr);
    const count = async (inventory: string, status: string) => {
      const listed = await cli(
        ["findings", "list", "--inventory", inventory, "--status", status, "--format", "json"],
        { cwd },
      );
      return JSON.parse(listed.stdout).count as number;
    };
    assert.equal(await count("file:a.jsonl", "open"), 26);
    assert.equal(await count("file:b.jsonl", "open"), 26);
    // b's estate empties but for one resource: b's findings resolve, a's stay open and unchanged.
    writeFileSync(join(cwd, "b.jsonl"), `${estate.toString("utf8").split("\n")[0]}\n`);
    const shrunk = await scan("b.jsonl", "2026-11-03");
    assert.equal(shrunk.code, 0, shrunk.stderr);
    assert.equal(await count("file:a.jsonl", "open"), 26);
    assert.equal(await count("file:a.jsonl", "resolved"), 0);
    assert.ok((await count("file:b.jsonl", "resolved")) > 0);
    const again = await scan("a.jsonl", "2026-11-04");
    assert.match(again.stdout, /\n26 findings: 0 new, 0 resolved/);
  });

  test("a scan without a policy the scan before judged says its findings are resolved as no longer seen", async () => {
    const cwd = mkdtempSync(join(dir, "dropped-"));
    writeFileSync(join(cwd, "e.jsonl"), readFileSync(resolve("examples/scan/estate.jsonl")));
    const scan = (policies: string, at: string) =>
      cli(["scan", "-p", policies, "-i", "file:e.jsonl", "--at", at], { cwd });
    assert.equal((await scan(POLICIES, "2026-11-01")).code, 0);
    const partial = await scan(join(POLICIES, "tagging-policy.yaml"), "2026-11-02");
    assert.equal(partial.code, 0, partial.stderr);
    assert.match(
      partial.stderr,
      /costguard: warning: resource-limits was judged by this inventory's previous scan \(scan-20261101T000000Z-\w+\) and not by this one: its 8 findings are resolved as no longer seen; scan with it to keep them open\n/,
    );
    // Budgets give scans no findings: their absence is not worth a word.
    assert.doesNotMatch(partial.stderr, /team-budgets/);
    // With every policy again: nothing to say.
    const whole = await scan(POLICIES, "2026-11-03");
    assert.doesNotMatch(whole.stderr, /warning: .* was judged/);
  });

  test("--inventory-name keeps two estates piped to file:- apart", () => {
    const db = join(mkdtempSync(join(dir, "piped-")), "store.db");
    const lines = readFileSync("examples/scan/estate.jsonl", "utf8").trim().split("\n");
    const scan = (input: string, ...extra: string[]) =>
      costguard(["scan", "-p", POLICIES, "-i", "file:-", "--database", db, ...extra], {
        input: `${input}\n`,
      });
    const a = lines.slice(0, 20).join("\n");
    const b = lines.slice(20).join("\n");
    assert.match(
      scan(a, "--inventory-name", "team-a").stdout,
      /^Scanned 20 resources from team-a .*\n(\d+) findings: \1 new/,
    );
    const second = scan(b, "--inventory-name", "team-b");
    assert.match(second.stdout, /^Scanned 20 resources from team-b /);
    assert.match(second.stdout, /new, 0 resolved since earlier scans/, "team-a's findings are not team-b's");
    assert.match(scan(a, "--inventory-name", "team-a").stdout, /findings: 0 new, 0 resolved/);
    // Unnamed, both pipelines are file:-, and the second resolves what the first found.
    scan(a);
    assert.match(scan(b).stdout, /new, [1-9]\d* resolved since earlier scans/);
    for (const [args, message] of [
      [["--inventory-name", ""], /^costguard: --inventory-name needs a value$/m],
      [["--inventory-name", "a\tb"], /printable characters/],
      // A file's findings under the sandbox's name: each one's scans would resolve the other's.
      [["--inventory-name", "sandbox"], /--inventory-name sandbox is the simulated estate's own inventory/],
    ] as const) {
      const bad = scan(a, ...args);
      assert.equal(bad.status, 2, bad.stderr);
      assert.match(bad.stderr, message);
    }
    const sandbox = costguard([
      "scan",
      "-p",
      POLICIES,
      "-i",
      "sandbox",
      "--database",
      db,
      "--inventory-name",
      "x",
    ]);
    assert.equal(sandbox.status, 2);
    assert.match(sandbox.stderr, /does not apply to the sandbox/);
  });

  test("an inventory that comes out empty resolves nothing, unless --allow-empty says it is", async () => {
    const cwd = mkdtempSync(join(dir, "emptied-"));
    const idle = {
      state: "running",
      hourly_cost: 0.5,
      metrics: { avg_cpu_percent: 0.4, avg_network_bytes: 10 },
    };
    writeFileSync(
      join(cwd, "estate.jsonl"),
      `${JSON.stringify({ id: "i-1", type: "compute/instance", ...idle })}\n`,
    );
    const scan = (...extra: string[]) =>
      cli(["scan", "-p", POLICIES, "-i", "file:estate.jsonl", ...extra], { cwd });
    assert.equal((await scan()).code, 0);
    writeFileSync(join(cwd, "estate.jsonl"), "");
    for (const command of ["scan", "run"]) {
      const run = await cli([command, "-p", POLICIES, "-i", "file:estate.jsonl"], { cwd });
      assert.equal(run.code, 2, `${command}: ${run.stderr}`);
      assert.equal(
        run.stderr,
        "costguard: file:estate.jsonl gave no resources, and 2 findings of it are open: finishing this scan would resolve them all. Nothing was resolved. If the estate really is empty now, scan again with --allow-empty\n",
      );
    }
    const open = await cli(["findings", "list", "--format", "json"], { cwd });
    assert.equal(JSON.parse(open.stdout).count, 2);
    const allowed = await scan("--allow-empty");
    assert.equal(allowed.code, 0, allowed.stderr);
    assert.match(allowed.stdout, /\n0 findings: 0 new, 2 resolved since earlier scans\n/);
  });

  test("a resource terminated or deleted is judged on nothing: counted, and what was found on it resolves", async () => {
    const cwd = mkdtempSync(join(dir, "gone-"));
    const at = ["--at", "2026-06-01T00:00:00Z"];
    const tags = { environment: "production", team: "web" };
    const estate = (state: string) => [
      { id: "i-1", type: "compute/instance", state, tags, specs: { instance_type: "m5.8xlarge" } },
      { id: "i-2", type: "compute/instance", state: "stopped", tags, specs: { instance_type: "m5.large" } },
    ];
    const write = (state: string) =>
      writeFileSync(
        join(cwd, "estate.jsonl"),
        estate(state)
          .map((l) => `${JSON.stringify(l)}\n`)
          .join(""),
      );
    write("stopped");
    const first = await cli(["scan", "-p", POLICIES, "-i", "file:estate.jsonl", ...at], { cwd });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /\n3 findings: 3 new, 0 resolved/);
    write("terminated");
    const second = await cli(
      ["scan", "-p", POLICIES, "-i", "file:estate.jsonl", "--at", "2026-06-02T00:00:00Z"],
      {
        cwd,
      },
    );
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /^Scanned 2 resources /);
    assert.match(second.stdout, /\n1 finding: 0 new, 2 resolved since earlier scans\n/);
    assert.match(
      second.stdout,
      /\nNot judged: 1 resource is terminated or being deleted: nothing to act on\n/,
    );
    const secondId = /\(scan (scan-\S+), stored/.exec(second.stdout)![1]!;
    const shown = await cli(["scans", "show", secondId], { cwd });
    assert.match(shown.stdout, /\n {2}not judged {4}terminated or being deleted 1\n/);
    // The compliance cycle scores the estate that is there: i-2, missing tags, is 1 of 1.
    const cycle = await cli(
      ["run", "-p", POLICIES, "-i", "file:estate.jsonl", "--format", "json", "--at", "2026-06-03T00:00:00Z"],
      { cwd },
    );
    assert.equal(cycle.code, 0, cycle.stderr);
    const summary = JSON.parse(cycle.stdout);
    assert.deepEqual(
      [summary.resources_scanned, summary.non_compliant_resources, summary.compliance_score],
      [1, 1, 0],
    );
  });

  test("bad input is one clear line and exit 2", async () => {
    const cwd = mkdtempSync(join(dir, "bad-"));
    writeFileSync(join(cwd, "broken.jsonl"), '{"id": "a", "type": "compute/instance"}\n{"id": \n');
    // Compressions named by extension, their bytes the compression's (bzip2) or not (a stub).
    writeFileSync(join(cwd, "estate.jsonl.bz2"), "BZh91AY&SY");
    writeFileSync(join(cwd, "estate.jsonl.xz"), '{"id": "a", "type": "compute/instance"}\n');
    writeFileSync(join(cwd, "estate.csv.zst"), "");
    writeFileSync(join(cwd, "detectors.yaml"), "idle:\n  cpuPercnt: 3\n");
    writeFileSync(join(cwd, "broken-detectors.yaml"), "idle: [\n");
    const idle = { metrics: { avg_cpu_percent: 1, avg_network_bytes: 10, window_days: 7 } };
    const vm = { type: "compute/instance", state: "running", ...idle };
    writeFileSync(
      join(cwd, "negative.jsonl"),
      `${JSON.stringify({ id: "i-neg", ...vm, hourly_cost: -5 })}\n`,
    );
    writeFileSync(
      join(cwd, "negative-monthly.jsonl"),
      `${JSON.stringify({ id: "i-m", ...vm, monthly_cost: "-0.01" })}\n`,
    );
    writeFileSync(join(cwd, "wordy.jsonl"), `${JSON.stringify({ id: "i-w", ...vm, hourly_cost: "abc" })}\n`);
    writeFileSync(join(cwd, "twice-detectors.yaml"), "idle: {}\nidle: {}\n");
    const cases: [string[], RegExp][] = [
      [["scan", "-p", POLICIES], /--inventory is required/],
      [["scan", "-p", POLICIES, "-i", "gcp"], /--inventory must be file:PATH, sandbox or aws, got gcp$/m],
      // What may have been meant: a file without its file:, other letters, an inventory's name from scans list.
      [
        ["scan", "-p", POLICIES, "-i", "broken.jsonl"],
        /got broken\.jsonl; did you mean file:broken\.jsonl\?$/m,
      ],
      [["scan", "-p", POLICIES, "-i", "Sandbox"], /got Sandbox; did you mean sandbox\?$/m],
      [
        ["scan", "-p", POLICIES, "-i", "aws:us-east-1"],
        /aws:us-east-1 is how scans name an aws inventory: scan it with --inventory aws and a --region for each region/,
      ],
      [["scan", "-p", POLICIES, "-i", "file:broken.jsonl", "--no-store"], /broken\.jsonl:2: not valid JSON/],
      // The path as given, as every other message about the file names it (these named it resolved).
      [
        ["scan", "-p", POLICIES, "-i", "file:nope.jsonl", "--no-store"],
        /^costguard: nope\.jsonl: no such file or directory$/m,
      ],
      [
        ["scan", "-p", POLICIES, "-i", "file:estate.txt", "--no-store"],
        /^costguard: estate\.txt: no such file or directory$/m,
      ],
      // Refused by the compression's name, as the same bytes under a text name are (was "cannot tell the format").
      [
        ["scan", "-p", POLICIES, "-i", "file:./estate.jsonl.bz2", "--no-store"],
        /^costguard: \.\/estate\.jsonl\.bz2 is compressed with bzip2: costguard reads inventories as text or gzip; decompress it \(bunzip2 -k\), or gzip it instead$/m,
      ],
      [
        ["scan", "-p", POLICIES, "-i", "file:estate.jsonl.xz", "--no-store"],
        /^costguard: estate\.jsonl\.xz is compressed with xz: .*decompress it \(xz -dk\), or gzip it instead$/m,
      ],
      [
        ["scan", "-p", POLICIES, "-i", "file:estate.csv.zst", "--no-store"],
        /^costguard: estate\.csv\.zst is compressed with zstd: .*\(zstd -d\)/m,
      ],
      [["scan", "-p", POLICIES, "-i", "sandbox", "--format", "xml"], /--format must be table, json or csv/],
      // A negative running cost would be a negative saving: waste that looks like money to lose.
      [
        ["scan", "-p", POLICIES, "-i", "file:negative.jsonl", "--no-store"],
        /negative\.jsonl:1 is not valid: `hourly_cost` is `-5`: a running cost is an amount of zero or more/,
      ],
      [
        ["scan", "-p", POLICIES, "-i", "file:negative-monthly.jsonl", "--no-store"],
        /`monthly_cost` is `"-0\.01"`: a running cost/,
      ],
      [
        ["scan", "-p", POLICIES, "-i", "file:wordy.jsonl", "--no-store"],
        /wordy\.jsonl:1 is not valid: `hourly_cost` is `"abc"`: a running cost/,
      ],
      [["scan", "-p", POLICIES, "-i", "sandbox", "--at", "yesterday"], /--at must be an ISO 8601/],
      // Date.parse would take it as 2 March.
      [["scan", "-p", POLICIES, "-i", "sandbox", "--at", "2026-02-30T00:00:00Z"], /--at must be an ISO 8601/],
      [
        ["scan", "-p", POLICIES, "-i", "sandbox", "--at", "0001-01-01"],
        /--at must be 1970 or later, got 0001-01-01/,
      ],
      [
        ["scan", "-p", POLICIES, "-i", "sandbox", "--detectors", "broken-detectors.yaml"],
        /^costguard: broken-detectors\.yaml: not valid YAML\/JSON: .* at line 2, column 1$/m,
      ],
      [
        ["scan", "-p", POLICIES, "-i", "sandbox", "--detectors", "twice-detectors.yaml"],
        /twice-detectors\.yaml: not valid YAML\/JSON: Map keys must be unique at line 2/,
      ],
      [
        ["scan", "-p", POLICIES, "-i", "sandbox", "--idle-cpu", "-1"],
        /--idle-cpu must be a non-negative number/,
      ],
      [
        ["scan", "-p", POLICIES, "-i", "sandbox", "--idle-cpu", "150"],
        /--idle-cpu is a percentage, at most 100, got 150/,
      ],
      [
        ["scan", "-p", POLICIES, "-i", "sandbox", "--detectors", "detectors.yaml"],
        /unknown setting `idle\.cpuPercnt`/,
      ],
      [["scan", "-p", POLICIES, "-i", "sandbox", "--database", "mysql://x"], /not supported/],
      [
        ["scan", "-p", POLICIES, "-i", "sandbox", "--database", "."],
        /cannot open the database \S+: it is a folder, not a SQLite file$/m,
      ],
      [["scan", "-p", POLICIES, "-i", "aws", "--region", "mars-1"], /not an AWS region name/],
      // Two roles into one account: it would be scanned twice, its resources and savings counted twice.
      [
        [
          "scan",
          "-p",
          POLICIES,
          "-i",
          "aws",
          "--account",
          "arn:aws:iam::222222222222:role/a",
          "--account",
          "arn:aws:iam::222222222222:role/b",
        ],
        /^costguard: arn:aws:iam::222222222222:role\/a and arn:aws:iam::222222222222:role\/b are the same account 222222222222: give one role per account$/m,
      ],
      // Ignored before: a scan of the sandbox "in eu-west-1" said nothing of it.
      [
        ["scan", "-p", POLICIES, "-i", "sandbox", "--region", "eu-west-1"],
        /--region is for --inventory aws, not sandbox/,
      ],
      // Was "EISDIR: illegal operation on a directory" (or "cannot tell the format").
      [
        ["scan", "-p", POLICIES, "-i", "file:.", "--no-store"],
        /^costguard: \. is a folder: --inventory file:PATH names one file/m,
      ],
      [
        ["scan", "-p", POLICIES, "-i", "aws", "--endpoint", "not a url"],
        /--endpoint must be an http:\/\/ or https:\/\/ URL/,
      ],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args, { cwd });
      assert.equal(run.code, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, message, args.join(" "));
      assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
    }
  });
});

describe("costguard scan: a database that refuses the findings", () => {
  test("one clear line, exit 3, the scan kept in history as failed, the store writable", async () => {
    const cwd = mkdtempSync(join(dir, "refused-"));
    const line = (id: string) =>
      `${JSON.stringify({ id, type: "compute/instance", state: "running", hourly_cost: 0.5, metrics: { avg_cpu_percent: 0.4, avg_network_bytes: 10 } })}\n`;
    writeFileSync(join(cwd, "a.jsonl"), line("i-1"));
    writeFileSync(join(cwd, "b.jsonl"), line("i-2"));
    const first = await cli(["scan", "-p", POLICIES, "-i", "file:a.jsonl", "--format", "json"], { cwd });
    assert.equal(first.code, 0, first.stderr);
    // Refuse new findings of the second inventory, as a full disk or a broken constraint would.
    const db = new Database(join(cwd, ".costguard", "costguard.db"));
    db.exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON finding_rows WHEN NEW.inventory = 'file:b.jsonl' BEGIN SELECT RAISE(ABORT, 'disk quota exceeded (test)'); END",
    );
    db.close();
    const run = await cli(["scan", "-p", POLICIES, "-i", "file:b.jsonl", "--format", "json"], { cwd });
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.stderr, /^costguard: the database failed: disk quota exceeded \(test\)$/m);
    assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
    const reopened = new Database(join(cwd, ".costguard", "costguard.db"));
    const scans = reopened
      .prepare("SELECT inventory, status, error FROM scans ORDER BY inventory")
      .raw()
      .all();
    // The store takes writes again: nothing was left holding its write lock.
    reopened.exec("DROP TRIGGER refuse");
    reopened.close();
    assert.deepEqual(scans, [
      ["file:a.jsonl", "completed", null],
      ["file:b.jsonl", "failed", "disk quota exceeded (test)"],
    ]);
  });
});

describe("costguard scan: interrupted", () => {
  for (const command of ["scan", "run"] as const)
    test(`${command}: Ctrl-C stops a stored scan cleanly: exit 130, kept as failed, the store usable`, async (t) => {
      const cwd = mkdtempSync(join(dir, "interrupted-"));
      // The inventory is a named pipe this test writes: the scan is mid-way for as long as the test likes.
      const fifo = join(cwd, "estate.jsonl");
      if (spawnSync("mkfifo", [fifo]).status !== 0) return t.skip("mkfifo is not available");
      const line = (i: number) =>
        `${JSON.stringify({ id: `i-${i}`, type: "compute/instance", state: "running", hourly_cost: 0.5, metrics: { avg_cpu_percent: 0.4, avg_network_bytes: 10 } })}\n`;
      const child = spawn(
        process.execPath,
        [resolve("bin/costguard.js"), command, "-p", POLICIES, "-i", `file:${fifo}`],
        {
          cwd,
          env: { ...process.env, NO_COLOR: "1" },
          stdio: ["ignore", "ignore", "pipe"],
        },
      );
      let stderr = "";
      child.stderr.on("data", (d) => {
        stderr += d;
      });
      const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
      // Opened for reading and writing, so neither the open nor a write waits for (or loses) the reader.
      const writer = await open(fifo, "r+");
      let closed = false;
      try {
        await writer.write(Array.from({ length: 600 }, (_, i) => line(i)).join(""));
        const dbPath = join(cwd, ".costguard", "costguard.db");
        const status = () => {
          if (!existsSync(dbPath)) return undefined;
          const db = new Database(dbPath, { readonly: true, fileMustExist: true });
          try {
            return db.prepare("SELECT status FROM scans").pluck().get() as string | undefined;
          } catch {
            return undefined; // not migrated yet
          } finally {
            db.close();
          }
        };
        for (let i = 0; i < 200 && status() !== "running"; i++) await new Promise((r) => setTimeout(r, 50));
        assert.equal(status(), "running");
        child.kill("SIGINT");
        // Once the scan has taken the interrupt (it says so), the input ends (the last writer closes the
        // pipe): the scan, interrupted, stops there and does not finish.
        for (let i = 0; i < 200 && !stderr.includes("stopping after the current batch"); i++)
          await new Promise((r) => setTimeout(r, 25));
        await writer.close();
        closed = true;
        assert.equal(
          await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000, "still running"))]),
          130,
          stderr,
        );
        assert.match(stderr, /costguard: SIGINT: stopping after the current batch \(again to stop at once\)/);
        assert.match(stderr, /costguard: interrupted by SIGINT: stopped; what was stored so far is kept/);
        const db = new Database(dbPath, { readonly: true });
        const scans = db.prepare("SELECT status, error FROM scans").raw().all();
        const indexes = db
          .prepare("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'finding_rows'")
          .pluck()
          .get();
        db.close();
        assert.deepEqual(scans, [["failed", "interrupted by SIGINT"]]);
        assert.equal(indexes, 3, "the findings' indexes are in place");
      } finally {
        child.kill("SIGKILL");
        if (!closed) await writer.close();
      }
      // The store takes the next scan.
      writeFileSync(join(cwd, "again.jsonl"), line(1));
      const again = await cli(["scan", "-p", POLICIES, "-i", "file:again.jsonl", "--format", "json"], {
        cwd,
      });
      assert.equal(again.code, 0, again.stderr);
    });
});

describe("costguard scan: a named pipe (FIFO) as the inventory", () => {
  const line = (i: number) =>
    `${JSON.stringify({ id: `i-${i}`, type: "compute/instance", state: "running", hourly_cost: 0.5 })}\n`;
  /** A stored scan of `file:estate.jsonl`, a FIFO nobody writes yet. */
  function scanOfFifo(t: { skip(message: string): void }) {
    const cwd = mkdtempSync(join(dir, "fifo-"));
    const fifo = join(cwd, "estate.jsonl");
    if (spawnSync("mkfifo", [fifo]).status !== 0) {
      t.skip("mkfifo is not available");
      return undefined;
    }
    const child = spawn(
      process.execPath,
      [resolve("bin/costguard.js"), "scan", "-p", POLICIES, "-i", "file:estate.jsonl", "--format", "json"],
      { cwd, env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    const out = { stdout: "", stderr: "" };
    child.stdout.on("data", (d) => {
      out.stdout += d;
    });
    child.stderr.on("data", (d) => {
      out.stderr += d;
    });
    const exited = new Promise<number | string | null>((r) =>
      child.on("exit", (code, signal) => r(code ?? signal)),
    );
    const within = (ms: number) =>
      Promise.race([exited, new Promise((r) => setTimeout(r, ms, "still running"))]);
    return { fifo, child, out, within };
  }

  test("read once, as it comes: a writer that opens it once the scan waits loses nothing", async (t) => {
    const scan = scanOfFifo(t);
    if (!scan) return;
    try {
      await new Promise((r) => setTimeout(r, 500)); // the scan is waiting for its input
      // Opened for writing only, as `cat estate.jsonl > fifo` does: the first reader to open it gets it all.
      const writer = await open(scan.fifo, "w");
      // EPIPE: the scan opened the pipe, took its writer, and closed it unread.
      const lost = await writer.write(Array.from({ length: 300 }, (_, i) => line(i)).join("")).then(
        () => false,
        (err: NodeJS.ErrnoException) => err.code === "EPIPE" || Promise.reject(err),
      );
      await writer.close();
      const code = await scan.within(10_000);
      if (code === "still running") {
        // Waiting for a writer in a blocking open on its main thread, its signal handlers never run.
        scan.child.kill("SIGTERM");
        await new Promise((r) => setTimeout(r, 200));
        scan.child.kill("SIGTERM");
        const stopped = (await scan.within(3_000)) !== "still running";
        assert.fail(
          `the scan hung waiting for its input (its data ${lost ? "lost" : "read"}); SIGTERM twice ${stopped ? "stopped" : "did not stop"} it`,
        );
      }
      assert.equal(lost, false, "the writer lost its data");
      assert.equal(code, 0, scan.out.stderr);
      const doc = JSON.parse(scan.out.stdout) as { scan: { summary: { resources_scanned: number } } };
      assert.equal(doc.scan.summary.resources_scanned, 300);
    } finally {
      scan.child.kill("SIGKILL");
    }
  });

  // A shell's `< estate.jsonl` makes /dev/stdin a regular file, which was refused for its lack of an extension.
  test("file:/dev/stdin redirected from a file (gzipped or not) reads as when piped", () => {
    const cwd = mkdtempSync(join(dir, "redirect-"));
    const text = readFileSync(resolve("examples/scan/estate.jsonl"));
    for (const [file, bytes] of [
      ["estate.jsonl", text],
      ["estate.jsonl.gz", gzipSync(text)],
    ] as const) {
      writeFileSync(join(cwd, file), bytes);
      const fd = openSync(join(cwd, file), "r");
      try {
        const run = spawnSync(
          process.execPath,
          [resolve("bin/costguard.js"), "scan", "-p", POLICIES, "-i", "file:/dev/stdin", "--no-store"],
          { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, stdio: [fd, "pipe", "pipe"] },
        );
        assert.equal(run.status, 0, `${file}: ${run.stderr}`);
        assert.match(run.stdout, /^Scanned 40 resources from file:\/dev\/stdin /);
      } finally {
        closeSync(fd);
      }
    }
  });

  // Opening the pipe waits on the thread pool, not the main thread: the scan still hears signals.
  test("a scan waiting for a writer that never comes stops on SIGTERM", async (t) => {
    const scan = scanOfFifo(t);
    if (!scan) return;
    try {
      await new Promise((r) => setTimeout(r, 500));
      scan.child.kill("SIGTERM");
      const code = await scan.within(5_000);
      assert.notEqual(code, "still running", "SIGTERM was not taken");
    } finally {
      scan.child.kill("SIGKILL");
    }
  });
});

/** Standard output whose reader takes nothing until released: what a scan writes waits in it. */
class HeldOutput extends Writable {
  readonly chunks: Buffer[] = [];
  private readonly held: (() => void)[] = [];
  private holding = true;
  /** The most this stream held at once (written to it and not yet taken by the reader). */
  peak = 0;
  /** The largest single write. */
  largest = 0;
  constructor() {
    super({ highWaterMark: 16 * 1024 });
  }
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.chunks.push(chunk);
    if (this.holding) this.held.push(done);
    else done();
  }
  override write(chunk: string | Uint8Array, ...rest: never[]): boolean {
    const ok = super.write(chunk, ...rest);
    this.peak = Math.max(this.peak, this.writableLength);
    this.largest = Math.max(this.largest, chunk.length);
    return ok;
  }
  release(): void {
    this.holding = false;
    for (const done of this.held.splice(0)) done();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

describe("costguard scan: a slow reader of its output", () => {
  const cwd = mkdtempSync(join(dir, "slow-reader-"));
  // 6,000 untagged instances: a finding each, 1.8 MB of csv, more of json — far more than the output holds.
  const estate = join(cwd, "estate.jsonl");
  writeFileSync(
    estate,
    Array.from(
      { length: 6000 },
      (_, i) =>
        `${JSON.stringify({ id: `i-${i}`, type: "compute/instance", state: "running", hourly_cost: 0.1 })}\n`,
    ).join(""),
  );
  const run = (args: string[], stdout: NodeJS.WritableStream) =>
    runCli(["scan", "-p", POLICIES, "-i", "file:estate.jsonl", "--at", "2026-06-01T00:00:00Z", ...args], {
      stdout,
      stderr: new PassThrough().resume(),
      readStdin: () => "",
      cwd,
      env: {},
    });
  const settled = (p: Promise<unknown>, ms: number) =>
    Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(r, ms, false))]);

  for (const format of ["csv", "json"] as const)
    test(`--format ${format}: the scan waits for its reader instead of holding the output in memory`, async () => {
      const full = await cli(
        [
          "scan",
          "-p",
          POLICIES,
          "-i",
          "file:estate.jsonl",
          "--at",
          "2026-06-01T00:00:00Z",
          "--format",
          format,
          "--no-store",
        ],
        { cwd },
      );
      assert.equal(full.code, 0, full.stderr);
      assert.ok(full.stdout.length > 1_500_000, `the output is large: ${full.stdout.length} bytes`);

      const out = new HeldOutput();
      const done = run(["--format", format, "--no-store"], out);
      // Given time to run ahead, the scan still waits: the output holds a batch (one write) or so.
      assert.equal(await settled(done, 500), false, "the scan finished without its reader");
      const bound = 16 * 1024 + out.largest;
      assert.ok(out.peak <= bound, `the output held ${out.peak} bytes at once (bound ${bound})`);
      out.release();
      assert.equal(await done, 0);
      const text = out.text();
      if (format === "csv") assert.equal(text, full.stdout);
      else
        assert.deepEqual(
          (JSON.parse(text) as { findings: unknown[] }).findings,
          (JSON.parse(full.stdout) as { findings: unknown[] }).findings,
        );
      assert.ok(out.peak <= 16 * 1024 + out.largest, `the output held ${out.peak} bytes at once`);
      assert.ok(out.largest < text.length / 10, `one write of ${out.largest} bytes held much of the output`);
    });

  // Its reader going away (`| head`) left it to the binary, which exited 0: a --fail-on gate passed
  // with high findings already printed.
  for (const format of ["csv", "json"] as const)
    test(`--no-store --format ${format}: its reader closing the output stops it, exit 141, said, never 0`, async () => {
      const out = new HeldOutput();
      let stderr = "";
      const done = runCli(
        [
          "scan",
          "-p",
          POLICIES,
          "-i",
          "file:estate.jsonl",
          "--at",
          "2026-06-01T00:00:00Z",
          "--no-store",
          "--fail-on",
          "high",
          "--format",
          format,
        ],
        {
          stdout: out,
          stderr: new PassThrough().on("data", (c: Buffer) => {
            stderr += c.toString();
          }),
          readStdin: () => "",
          cwd,
          env: {},
        },
      );
      assert.equal(await settled(done, 500), false, "the scan finished without its reader");
      // What bin/costguard.js does at EPIPE: a command that took it stops; otherwise the process exits 0.
      assert.equal(outputClosed(), true, "nothing took the closed output: the binary would exit 0");
      assert.equal(await settled(done, 10_000), true, "the scan still waits for its reader");
      assert.equal(await done, 141);
      assert.equal(stderr, "costguard: the output was closed: stopped; nothing was stored or acted on\n");
      assert.equal(existsSync(join(cwd, ".costguard")), false, "a scan not stored made a store");
    });

  test("a stored scan waiting for its reader stops at the first Ctrl-C, kept as failed", async () => {
    const out = new HeldOutput();
    const done = run(["--format", "csv"], out);
    assert.equal(await settled(done, 500), false, "the scan finished without its reader");
    process.emit("SIGINT");
    assert.equal(await settled(done, 10_000), true, "the scan still waits for its reader");
    assert.equal(await done, 130);
    const db = new Database(join(cwd, ".costguard", "costguard.db"), { readonly: true });
    const scans = db.prepare("SELECT status, error FROM scans").raw().all();
    db.close();
    assert.deepEqual(scans, [["failed", "interrupted by SIGINT"]]);
  });
});

describe("costguard scan --inventory aws (recorded responses)", () => {
  const fake = useFakeAws({ at: new Date("2026-06-01T00:00:00Z") });

  test("scans through the endpoint with the standard credential chain", async () => {
    const cwd = mkdtempSync(join(dir, "aws-"));
    const run = await cli(
      [
        "scan",
        "-p",
        POLICIES,
        "-i",
        "aws",
        "--endpoint",
        fake().url,
        "--region",
        "us-east-1",
        "--at",
        "2026-06-01T00:00:00Z",
        "--format",
        "csv",
      ],
      { cwd },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /Scanned 9 resources from aws:us-east-1 /);
    assert.match(
      run.stdout,
      /i-0aaa0000000000001,compute\/instance,payments-ledger-batch-01,aws,111111111111,us-east-1,.*,resize,m5\.2xlarge,840\.96,USD/,
    );
  });

  test("run and remediate plan over AWS as a dry run, and AWS flags elsewhere are refused", async () => {
    const cwd = mkdtempSync(join(dir, "aws-cycle-"));
    const aws = ["-i", "aws", "--endpoint", fake().url, "--region", "us-east-1"];
    const at = ["--at", "2026-06-01T00:00:00Z"];
    const cycle = await cli(["run", "-p", POLICIES, ...aws, ...at, "--format", "json"], { cwd });
    assert.equal(cycle.code, 0, cycle.stderr);
    const summary = JSON.parse(cycle.stdout) as Record<string, unknown>;
    assert.equal(summary.inventory, "aws:us-east-1");
    assert.equal(summary.mode, "dry-run");
    assert.equal(summary.violations_found, 13);
    // The scan was stored under the inventory's name, as `costguard scan -i aws` keeps it.
    const scans = await cli(["scans", "list", "--format", "json"], { cwd });
    assert.match(scans.stdout, /"inventory": "aws:us-east-1"/);
    const plan = await cli(["remediate", "-p", POLICIES, ...aws, ...at], { cwd });
    assert.equal(plan.code, 0, plan.stderr);
    assert.match(plan.stdout, /\nresize +i-0aaa0000000000001 +high .* 840\.96 USD +would warn the owner/);
    // Databases are resized in place on AWS: planned as a resize, in a dry run too.
    assert.match(plan.stdout, /\nresize +db-ABCDEFGHIJKLMNOPQRSTUV0001 +high /);
    const elsewhere = await cli(["run", "-p", POLICIES, "-i", "sandbox", "--profile", "prod"], { cwd });
    assert.equal(elsewhere.code, 2);
    assert.equal(elsewhere.stderr, "costguard: --profile is for --inventory aws, not sandbox\n");
  });

  test("--region all scans every region the account has enabled, as one inventory", async () => {
    const cwd = mkdtempSync(join(dir, "aws-all-"));
    const from = fake().calls.length;
    const run = await cli(
      ["scan", "-p", POLICIES, "-i", "aws", "--endpoint", fake().url, "--region", "all"].concat([
        "--at",
        "2026-06-01T00:00:00Z",
      ]),
      { cwd, env: { AWS_REGION: "eu-west-1" } },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^Scanned 9 resources from aws:all /);
    const calls = fake().calls.slice(from);
    // Asked where the default region says, then each enabled region read (not one never opted in to).
    assert.deepEqual(
      calls.filter((c) => c.action === "DescribeRegions").map((c) => c.region),
      ["eu-west-1"],
    );
    assert.deepEqual(
      calls.filter((c) => c.action === "DescribeInstances").map((c) => c.region),
      ["ap-east-1", "eu-west-1", "us-east-1", "us-east-1"],
    );
    const mixed = await cli(
      ["scan", "-p", POLICIES, "-i", "aws", "--region", "all", "--region", "us-east-1"],
      {
        cwd,
      },
    );
    assert.equal(mixed.code, 2);
    assert.match(
      mixed.stderr,
      /--region all scans every region enabled for the account: it takes no other --region/,
    );
  });

  test("no credentials anywhere: says where the standard chain looks", async () => {
    const cwd = mkdtempSync(join(dir, "aws-no-credentials-"));
    const before = { ...process.env };
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    delete process.env.AWS_PROFILE;
    // No shared files, no container or instance role: the chain has nowhere left to look.
    process.env.AWS_SHARED_CREDENTIALS_FILE = join(cwd, "no-credentials");
    process.env.AWS_CONFIG_FILE = join(cwd, "no-config");
    delete process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
    delete process.env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
    delete process.env.AWS_WEB_IDENTITY_TOKEN_FILE;
    try {
      const run = await cli(["scan", "-p", POLICIES, "-i", "aws", "--endpoint", fake().url, "--no-store"], {
        cwd,
      });
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, /^costguard: aws: CredentialsProviderError: /);
      assert.match(run.stderr, /AWS_PROFILE or --profile/);
      assert.doesNotMatch(run.stderr, /\n\s+at /, "no stack trace");
    } finally {
      process.env = before;
    }
  });

  test("AWS refusing the credentials is a readable error, not a stack trace", async () => {
    const refusing = await startFakeAws({
      at: new Date("2026-06-01T00:00:00Z"),
      refuse: { DescribeInstances: "AuthFailure" },
    });
    try {
      const cwd = mkdtempSync(join(dir, "aws-refused-"));
      const run = await cli(["scan", "-p", POLICIES, "-i", "aws", "--endpoint", refusing.url, "--no-store"], {
        cwd,
      });
      assert.equal(run.code, 2);
      assert.match(run.stderr, /^costguard: aws: AuthFailure: /);
    } finally {
      await refusing.close();
    }
  });
});
