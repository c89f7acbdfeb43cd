import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import type { PlanReport } from "../../src/gates/terraform/gate.js";
import { cli } from "../pricing/harness.js";

const FIX = "test/fixtures/terraform";
const args = (format: string) => [
  "plan",
  `${FIX}/aws-all-types.json`,
  "--policies",
  `${FIX}/policies.yaml`,
  "--format",
  format,
];

async function report(): Promise<PlanReport> {
  return JSON.parse((await cli(args("json"))).stdout) as PlanReport;
}

describe("plan output formats", () => {
  test("markdown: verdict, delta, one table row per address, violations, skipped", async () => {
    const r = await cli(args("markdown"));
    assert.equal(r.code, 1);
    const md = r.stdout;
    assert.match(md, /^## ❌ costguard: Terraform plan denied$/m);
    assert.match(
      md,
      /\*\*Monthly cost delta: \+10,384\.94 USD\*\* \(169\.44 USD → 10,554\.38 USD; monthly = hourly × 730\)/,
    );
    const rows = md.split("\n").filter((l) => l.startsWith("| `"));
    const rep = await report();
    assert.equal(rows.length, rep.resources.length);
    for (const row of rows) assert.equal(row.split(" | ").length, 6, row);
    assert.ok(rows.some((l) => l.includes("`aws_ebs_volume.old` | delete | — | 20.00 USD | - | -20.00 USD")));
    assert.match(
      md,
      /- \*\*deny\*\* `aws_instance\.trainer` — limits\/instances \(high\): Instance family 'gpu' is not allowed/,
    );
    assert.match(md, /<summary>Skipped \(2\)<\/summary>/);
    assert.match(md, /`aws_s3_bucket\.logs` \(aws_s3_bucket, create\)/);
  });

  test("markdown: a backtick, pipe or tag in an address or message cannot break out of its cell or span", async () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-md-"));
    const file = join(dir, "plan.json");
    const address = 'aws_ebs_volume.a["x|y`z*_<b>"]';
    writeFileSync(
      file,
      JSON.stringify({
        format_version: "1.2",
        resource_changes: [
          {
            address,
            type: "aws_ebs_volume",
            provider_name: "registry.terraform.io/hashicorp/aws",
            change: {
              actions: ["create"],
              before: null,
              after: { size: 100, type: "gp3", tags_all: { "cost-center": "<img src=x>|*" } },
            },
          },
        ],
      }),
    );
    const r = await cli(["plan", file, "--policies", "examples/guide-main", "--format", "markdown"]);
    assert.equal(r.code, 1, r.stderr);
    // A longer fence around a key holding a backtick; in the table the pipe escaped, not in lists.
    assert.match(r.stdout, /^\| ``aws_ebs_volume\.a\["x\\\|y`z\*_<b>"\]`` \| create \| /m);
    assert.match(r.stdout, /^- \*\*deny\*\* ``aws_ebs_volume\.a\["x\|y`z\*_<b>"\]`` — /m);
    assert.match(r.stdout, /value '\\<img src=x\\>\\\|\\\*' does not match/);
    assert.match(r.stdout, /^1 resource checked: /m);
  });

  test("SARIF 2.1.0: structure, rules referenced by index, one result per violation", async () => {
    const r = await cli(args("sarif"));
    assert.equal(r.code, 1);
    const sarif = JSON.parse(r.stdout) as {
      version: string;
      $schema: string;
      runs: {
        tool: { driver: { name: string; version: string; rules: { id: string }[] } };
        results: {
          ruleId: string;
          ruleIndex: number;
          level: string;
          message: { text: string };
          locations: {
            physicalLocation: { artifactLocation: { uri: string }; region: { startLine: number } };
            logicalLocations: { fullyQualifiedName: string }[];
          }[];
        }[];
      }[];
    };
    assert.equal(sarif.version, "2.1.0");
    assert.match(sarif.$schema, /sarif-2\.1\.0/);
    assert.equal(sarif.runs.length, 1);
    const run = sarif.runs[0]!;
    assert.equal(run.tool.driver.name, "costguard");
    assert.match(run.tool.driver.version, /^\d+\.\d+\.\d+/);
    const rep = await report();
    const violations = rep.resources.flatMap((x) => x.violations.map((v) => ({ address: x.address, v })));
    assert.equal(run.results.length, violations.length);
    assert.equal(
      new Set(run.tool.driver.rules.map((x) => x.id)).size,
      run.tool.driver.rules.length,
      "rule ids unique",
    );
    for (const res of run.results) {
      assert.equal(run.tool.driver.rules[res.ruleIndex]?.id, res.ruleId);
      assert.ok(["error", "warning", "note"].includes(res.level));
      assert.equal(res.locations[0]!.physicalLocation.artifactLocation.uri, `${FIX}/aws-all-types.json`);
      assert.equal(res.locations[0]!.physicalLocation.region.startLine, 1);
      assert.ok(
        res.message.text.startsWith(`${res.locations[0]!.logicalLocations[0]!.fullyQualifiedName}: `),
      );
    }
    const warn = run.results.find((x) => x.ruleId === "limits/instance-cost");
    assert.equal(warn?.level, "warning");
    assert.equal(
      run.results.filter((x) => x.level === "error").length,
      violations.filter((x) => x.v.enforcement === "deny").length,
    );
  });

  test("JUnit XML: well-formed, a failure per denied address, skipped cases for skipped resources", async () => {
    const r = await cli(args("junit"));
    assert.equal(r.code, 1);
    assert.equal(XMLValidator.validate(r.stdout), true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(r.stdout) as {
      testsuites: {
        tests: string;
        failures: string;
        testsuite: {
          tests: string;
          failures: string;
          skipped: string;
          testcase: {
            name: string;
            classname: string;
            failure?: { message: string; type: string };
            skipped?: unknown;
          }[];
        };
      };
    };
    const suite = doc.testsuites.testsuite;
    const rep = await report();
    const denied = rep.resources.filter((x) => x.decision === "deny").map((x) => x.address);
    assert.equal(Number(suite.failures), denied.length);
    assert.equal(Number(doc.testsuites.failures), denied.length);
    assert.equal(Number(suite.tests), rep.resources.length + rep.skipped.length);
    assert.equal(suite.testcase.length, Number(suite.tests));
    const failed = suite.testcase.filter((c) => c.failure !== undefined);
    assert.deepEqual(failed.map((c) => c.name.replace(/ \(.*\)$/, "")).sort(), [...denied].sort());
    const trainer = failed.find((c) => c.name.startsWith("aws_instance.trainer"))!;
    assert.equal(trainer.failure!.type, "deny");
    assert.match(trainer.failure!.message, /limits\/instances: Instance family 'gpu' is not allowed/);
    assert.equal(suite.testcase.filter((c) => c.skipped !== undefined).length, rep.skipped.length);
    assert.equal(Number(suite.skipped), 2);
    // The suite's money properties read as the text report's do: rounded to cents, the delta signed.
    const props = Object.fromEntries(
      (
        suite as unknown as { properties: { property: { name: string; value: string }[] } }
      ).properties.property.map((p) => [p.name, p.value]),
    );
    for (const name of ["monthly_before", "monthly_after"])
      assert.match(props[name]!, /^[\d,]+\.\d\d USD$/, `${name}: ${props[name]}`);
    assert.match(props.monthly_delta!, /^[+-][\d,]+\.\d\d USD$/, `monthly_delta: ${props.monthly_delta}`);
  });

  test("JUnit escapes markup in names and messages", async () => {
    const plan = {
      format_version: "1.0",
      resource_changes: [
        {
          address: 'aws_ebs_volume.v["<a&b>"]',
          mode: "managed",
          type: "aws_ebs_volume",
          name: "v",
          provider_name: "registry.terraform.io/hashicorp/aws",
          change: {
            actions: ["create"],
            before: null,
            after: { type: "gp3", size: 5000, tags: {} },
            after_unknown: {},
          },
        },
      ],
    };
    const r = await cli(
      ["plan", "-", "--policies", `${FIX}/policies.yaml`, "--format", "junit"],
      JSON.stringify(plan),
    );
    assert.equal(r.code, 1);
    assert.equal(XMLValidator.validate(r.stdout), true);
    assert.match(r.stdout, /&lt;a&amp;b&gt;/);
  });

  test("--output writes the report to a file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-out-"));
    const file = join(dir, "comment.md");
    const r = await cli([...args("markdown"), "--output", file]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    assert.match(readFileSync(file, "utf8"), /costguard: Terraform plan denied/);
  });

  test("--output - is stdout, not a file named -", async () => {
    const r = await cli([...args("markdown"), "--output", "-"]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /costguard: Terraform plan denied/);
  });

  test("table: rows, violations, skipped and totals", async () => {
    const r = await cli(args("table"));
    assert.equal(r.code, 1);
    assert.match(
      r.stdout,
      /^aws_ebs_volume\.data\s+update\s+allow\s+8\.00 USD\s+40\.00 USD\s+\+32\.00 USD$/m,
    );
    assert.match(r.stdout, /^\[skipped\] aws_s3_bucket\.logs/m);
    assert.match(r.stdout, /10 resources: 7 allowed, 0 warned, 2 denied, 1 deleted; 2 skipped, 1 unchanged/);
  });
});
