import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { PlanReport, PlanResourceResult } from "../../src/gates/terraform/gate.js";
import { cli } from "../pricing/harness.js";

const FIX = "test/fixtures/terraform";
const POLICIES = `${FIX}/policies.yaml`;

async function planJson(file: string, extra: string[] = [], stdin = "") {
  const r = await cli(["plan", file, "--policies", POLICIES, "--format", "json", ...extra], stdin);
  assert.notEqual(r.code, 2, r.stderr);
  return { code: r.code, report: JSON.parse(r.stdout) as PlanReport };
}

function item(report: PlanReport, address: string): PlanResourceResult {
  const found = report.resources.find((r) => r.address === address);
  assert.ok(
    found,
    `${address} is in the report (have: ${report.resources.map((r) => r.address).join(", ")})`,
  );
  return found;
}

describe("costguard plan on the real infracost plans", () => {
  test("default-tags plan: tags from tags_all, region from the provider, exact m5.4xlarge cost", async () => {
    const { code, report } = await planJson(`${FIX}/infracost-default-tags-plan.json`);
    assert.equal(code, 1, "the instance lacks cost-center: denied");
    const web = item(report, "aws_instance.web_app");
    assert.deepEqual(web.request?.tags, {
      DefaultNotOverride: "defaultnotoverride",
      DefaultOverride: "defaultoverride",
      foo: "bar",
    });
    assert.equal(web.request?.region, "us-east-1");
    assert.equal(web.request?.specs?.vcpus, 16);
    assert.equal(web.monthly_cost_after?.monthly, "560.64");
    assert.deepEqual(web.monthly_cost_after?.assumptions, []);
    const ebs = item(report, "aws_instance.web_app.ebs_block_device[0]");
    assert.equal(ebs.monthly_cost_after?.monthly, "100", "1000 GB gp2 at 0.10");
    assert.equal(ebs.request?.specs?.volume_type, "ssd");
    const root = item(report, "aws_instance.web_app.root_block_device[0]");
    assert.equal(root.monthly_cost_after?.status, "unknown");
    assert.match(root.monthly_cost_after?.reason ?? "", /known only after apply/);
    assert.equal(report.summary.skipped, 3);
    assert.deepEqual(report.skipped.map((s) => s.type).sort(), [
      "aws_appautoscaling_target",
      "aws_appautoscaling_target",
      "aws_dynamodb_table",
    ]);
    assert.equal(report.summary.monthly_delta, "660.64");
    assert.equal(report.summary.unknown_cost, 1);
  });

  test("an ebs_block_device list known only after apply is one volume row of unknown cost, not nothing", async () => {
    const plan = JSON.parse(readFileSync(`${FIX}/infracost-default-tags-plan.json`, "utf8"));
    const web = plan.resource_changes.find(
      (rc: { address: string }) => rc.address === "aws_instance.web_app",
    );
    // What a dynamic block over a collection known only after apply plans as.
    web.change.after.ebs_block_device = null;
    web.change.after_unknown.ebs_block_device = true;
    const dir = mkdtempSync(join(tmpdir(), "costguard-plan-"));
    const file = join(dir, "plan.json");
    writeFileSync(file, JSON.stringify(plan));
    const { report } = await planJson(file);
    const volumes = item(report, "aws_instance.web_app.ebs_block_device[*]");
    assert.equal(volumes.monthly_cost_after?.status, "unknown");
    assert.match(volumes.monthly_cost_after?.reason ?? "", /known only after apply/);
    assert.equal(report.summary.unknown_cost, 2, "the root volume and these");
    assert.equal(report.summary.monthly_delta, "560.64", "the instance alone is counted");
  });

  test("format_version 0.2 (Terraform 0.12 to 1.0) is read; 2.0 is refused clearly with exit 2", async () => {
    const old = await cli([
      "plan",
      `${FIX}/infracost-example-plan.json`,
      "--policies",
      POLICIES,
      "--format",
      "json",
    ]);
    assert.equal(old.code, 1, old.stderr);
    const report = JSON.parse(old.stdout);
    assert.equal(report.plan.format_version, "0.2");
    const web = report.resources.find((r: { address: string }) => r.address === "aws_instance.web_app");
    assert.equal(web.monthly_cost_after.monthly, "560.64");
    assert.deepEqual(
      report.skipped.map((s: { address: string }) => s.address),
      ["aws_lambda_function.hello_world"],
    );

    const r = await cli(["plan", `${FIX}/format-2.json`, "--policies", POLICIES]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /format_version 2\.0 is not supported: costguard reads format_version 0\.1, 0\.2 and 1\.x/,
    );
    assert.equal(r.stdout, "");
  });

  test("a plan saved by Windows PowerShell 5 (UTF-16) or with a UTF-8 byte-order mark is read as it is", async () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-plan-enc-"));
    const text = readFileSync(`${FIX}/infracost-example-plan.json`, "utf8");
    const expected = await cli(["plan", `${FIX}/infracost-example-plan.json`, "--policies", POLICIES]);
    for (const [name, bytes] of [
      ["utf16.json", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")])],
      ["bom.json", Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])],
    ] as const) {
      writeFileSync(join(dir, name), bytes);
      const r = await cli(["plan", join(dir, name), "--policies", POLICIES]);
      assert.equal(r.code, expected.code, r.stderr);
      assert.equal(r.stdout, expected.stdout, name);
    }
  });

  test("input that is not a plan is bad input, never a pass", async () => {
    for (const [text, message] of [
      ["{not json", /not valid JSON/],
      // The binary plan file (a zip) and `terraform plan`'s text are named, with how to get the JSON.
      [
        "PK\u0003\u0004\u0014\u0000binary",
        /this is a binary plan file \(terraform plan -out\); costguard reads its JSON: terraform show -json PLANFILE > plan\.json/,
      ],
      [
        "\nTerraform used the selected providers to generate the following execution\nplan.\n",
        /this is terraform plan's text for people, not its JSON: save the plan with terraform plan -out=PLANFILE/,
      ],
      ["\u001b[0m\u001b[1mdata.aws_ami.ubuntu: Reading...\u001b[0m\n", /terraform plan's text for people/],
      ['{"resource_changes": []}', /no format_version/],
      [
        '{"format_version": 1.2, "resource_changes": []}',
        /format_version must be a string such as "1\.2", got 1\.2/,
      ],
      // A plan Terraform could not finish: its changes are a part of those the full plan would make.
      [
        '{"format_version": "1.2", "errored": true, "planned_values": {}, "resource_changes": []}',
        /the plan is marked errored: Terraform could not finish planning, so its changes are incomplete/,
      ],
      [
        '{"format_version": "1.2", "errored": "true", "planned_values": {}}',
        /errored must be true or false, got "true"/,
      ],
      ['{"format_version": "1.0", "resource_changes": {}}', /resource_changes must be an array/],
      // null is no list of changes: it passed as "no changes".
      [
        '{"format_version": "1.2", "resource_changes": null}',
        /no resource_changes or planned_values: this is not a plan;/,
      ],
      [
        '{"format_version": "1.2", "planned_values": {}, "resource_changes": null}',
        /resource_changes must be an array/,
      ],
      // Actions outside Terraform's set were skipped as "unrecognised", and a plan that creates passed.
      ...[["Create"], [], ["create", "update"]].map(
        (actions) =>
          [
            JSON.stringify({
              format_version: "1.2",
              resource_changes: [
                {
                  address: "aws_instance.x",
                  type: "aws_instance",
                  provider_name: "registry.terraform.io/hashicorp/aws",
                  change: { actions, before: null, after: { instance_type: "p3.8xlarge" } },
                },
              ],
            }),
            /resource_changes\[0\] \(aws_instance\.x\): actions .* are none Terraform writes/,
          ] as const,
      ),
      ['{"format_version": "1.0", "values": {"root_module": {}}}', /this is not a plan but a state/],
      ['{"format_version": "1.0"}', /no resource_changes or planned_values: this is not a plan;/],
      // A volume of -100 GB was priced at -8.00 USD a month and lowered the plan's total.
      [
        JSON.stringify({
          format_version: "1.2",
          resource_changes: [
            {
              address: "aws_ebs_volume.a",
              type: "aws_ebs_volume",
              provider_name: "registry.terraform.io/hashicorp/aws",
              change: { actions: ["create"], before: null, after: { size: -100, type: "gp3" } },
            },
          ],
        }),
        /aws_ebs_volume\.a is not valid: `specs\.size_gb` must be >= 0/,
      ],
      [
        '{"format_version": "1.0", "resource_changes": [{"address": "a.b", "type": "a", "provider_name": "p"}]}',
        /change\.actions/,
      ],
      // Without provider_name (Terraform always writes it) the region lookup was an internal error.
      [
        '{"format_version": "1.0", "resource_changes": [{"address": "aws_instance.a", "type": "aws_instance", "change": {"actions": ["create"], "after": {}}}]}',
        /resource_changes\[0\]: `provider_name` must be a string/,
      ],
    ] as const) {
      const r = await cli(["plan", "-", "--policies", POLICIES], text);
      assert.equal(r.code, 2, text);
      assert.match(r.stderr, message);
    }
    const missing = await cli(["plan", `${FIX}/nope.json`, "--policies", POLICIES]);
    assert.equal(missing.code, 2);
    const binary = join(mkdtempSync(join(tmpdir(), "costguard-plan-")), "tfplan");
    writeFileSync(binary, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x08, 0x00, 0xff, 0xfe]));
    const zip = await cli(["plan", binary, "--policies", POLICIES]);
    assert.equal(zip.code, 2);
    assert.ok(zip.stderr.includes(`terraform show -json ${binary} > plan.json`), zip.stderr);
    const format = await cli([
      "plan",
      `${FIX}/aws-all-types.json`,
      "--policies",
      POLICIES,
      "--format",
      "xml",
    ]);
    assert.equal(format.code, 2);
    assert.match(format.stderr, /--format must be one of/);
  });

  test("a list nested thousands deep where a plan holds a value, or modules nested as deep, is bad input", async () => {
    // Said as JSON in a message, or walked module by module: past a few thousand levels each ran out
    // of stack (exit 3).
    for (const levels of [3000, 100_000]) {
      const deep = `${"[".repeat(levels)}${"]".repeat(levels)}`;
      const modules = levels / 3; // module_calls, a call, its module: three levels a module
      const nested = `${'{"module_calls": {"m": {"module": '.repeat(modules)}{}${"}}}".repeat(modules)}`;
      const shown = levels === 3000 ? `${"[".repeat(59)}…` : "a list";
      for (const [text, message] of [
        [
          `{"format_version": ${deep}, "resource_changes": []}`,
          `format_version must be a string such as "1.2", got ${shown}: this is not`,
        ],
        [
          `{"format_version": "1.2", "errored": ${deep}, "planned_values": {}}`,
          `errored must be true or false, got ${shown}`,
        ],
        [
          `{"format_version": "1.2", "resource_changes": [], "configuration": {"root_module": ${nested}}}`,
          "stdin: configuration modules nest more than 256 deep (module_calls within module_calls): not a plan Terraform writes",
        ],
      ] as const) {
        const r = await cli(["plan", "-", "--policies", POLICIES], text);
        assert.equal(r.code, 2, r.stderr);
        assert.ok(r.stderr.includes(message), r.stderr.slice(0, 300));
      }
    }
  });
});

describe("AWS resource mappings", () => {
  test("every AWS type, every action, unknown values and skipped types", async () => {
    const { code, report } = await planJson(`${FIX}/aws-all-types.json`);
    assert.equal(code, 1);

    const api = item(report, "aws_instance.api");
    assert.equal(api.decision, "allow");
    assert.equal(api.request?.type, "compute/instance");
    assert.deepEqual(api.request?.tags, {
      "cost-center": "CC-001234",
      environment: "production",
      team: "payments",
    });
    assert.equal(api.monthly_cost_after?.monthly, "70.08");
    const root = item(report, "aws_instance.api.root_block_device[0]");
    assert.equal(root.request?.type, "storage/volume");
    assert.equal(
      root.monthly_cost_after?.monthly,
      "1.6",
      "20 GB gp3, IOPS and throughput within the included baseline",
    );
    assert.equal(root.request?.tags?.["cost-center"], "CC-001234", "volume_tags apply to inline devices");

    const trainer = item(report, "aws_instance.trainer");
    assert.equal(trainer.decision, "deny");
    assert.deepEqual(trainer.violations.map((v) => `${v.enforcement}:${v.field}`).sort(), [
      "deny:specs.instance_family",
      "deny:specs.vcpus",
      "warn:cost.monthly",
    ]);

    const mystery = item(report, "aws_instance.mystery");
    assert.equal(mystery.decision, "allow", "nothing decided on values known only after apply");
    // tags_all is unknown, tags is known: keys the resource lacks may come from default_tags.
    assert.deepEqual(mystery.unknown_after_apply.sort(), ["specs.instance_type", "tags.*"]);
    assert.ok(
      mystery.unverified.some(
        (u) =>
          u.message ===
          "Required tag 'cost-center' is missing — not decided: tags.cost-center is known only after apply (the resource does not set it; the provider's defaults may)",
      ),
    );
    assert.ok(mystery.unverified.some((u) => u.field === "specs.vcpus"));
    assert.equal(mystery.monthly_cost_after?.status, "unknown");
    assert.equal(mystery.monthly_delta, null);

    const lt = item(report, "aws_launch_template.workers");
    assert.equal(
      lt.request?.tags?.team,
      "payments",
      "instance tags come from the instance tag specification",
    );
    assert.equal(lt.monthly_cost_after?.monthly, "60.736");
    assert.equal(
      item(report, "aws_launch_template.workers.block_device_mappings[0]").monthly_cost_after?.monthly,
      "4",
    );

    const data = item(report, "aws_ebs_volume.data");
    assert.equal(data.action, "update");
    assert.equal(data.request?.region, "us-east-1", "region from the availability zone");
    assert.equal(data.monthly_cost_before?.monthly, "8");
    assert.equal(data.monthly_cost_after?.monthly, "40");
    assert.equal(data.monthly_delta, "32");

    const old = item(report, "aws_ebs_volume.old");
    assert.equal(old.action, "delete");
    assert.equal(old.decision, null);
    assert.equal(old.monthly_cost_after, null);
    assert.equal(old.monthly_delta, "-20", "a delete lowers the cost by its before cost");

    const huge = item(report, "aws_ebs_volume.huge");
    assert.equal(huge.decision, "deny");
    assert.equal(huge.monthly_cost_after?.monthly, "900", "2000 GB × 0.125 + 10000 IOPS × 0.065");

    const db = item(report, "aws_db_instance.main");
    assert.equal(db.action, "replace");
    assert.equal(db.request?.type, "database/instance");
    assert.equal(db.monthly_cost_before?.monthly, "141.44");
    assert.equal(db.monthly_cost_after?.monthly, "542.76");
    assert.equal(db.monthly_delta, "401.32");

    assert.deepEqual(
      report.skipped.map((s) => [s.address, s.reason]),
      [
        ["aws_s3_bucket.logs", "resource type not supported by the plan gate"],
        ["data.aws_ami.ubuntu", "data source (reads, creates nothing)"],
      ],
    );
    assert.equal(
      report.resources.some((r) => r.address === "aws_instance.same"),
      false,
    );
    const s = report.summary;
    assert.deepEqual([s.skipped, s.unchanged, s.deleted, s.deny, s.unknown_cost], [2, 1, 1, 2, 1]);
    assert.equal(s.monthly_before, "169.44");
    assert.equal(s.monthly_after, "10554.376");
    assert.equal(s.monthly_delta, "10384.936");
  });

  test("with tags_all known only after apply, a tag the resource sets is decided; one it lacks is unverified", async () => {
    // The provider's default_tags may add keys to tags_all, never change the resource's own tags.
    const plan = {
      format_version: "1.2",
      resource_changes: [
        {
          address: "aws_instance.typo",
          mode: "managed",
          type: "aws_instance",
          name: "typo",
          provider_name: "registry.terraform.io/hashicorp/aws",
          change: {
            actions: ["create"],
            before: null,
            after: { instance_type: "m5.large", tags: { "cost-center": "cc-12" } },
            after_unknown: { id: true, tags_all: true },
          },
        },
      ],
    };
    const r = await cli(["plan", "-", "--policies", POLICIES, "--format", "json"], JSON.stringify(plan));
    assert.equal(r.code, 1, r.stderr);
    const typo = item(JSON.parse(r.stdout) as PlanReport, "aws_instance.typo");
    assert.equal(typo.decision, "deny");
    assert.deepEqual(
      typo.violations.map((v) => v.field),
      ["tags.cost-center"],
    );
    assert.deepEqual(
      typo.unverified.map((u) => u.field),
      ["tags.environment"],
    );
  });

  test("a replacement that keeps the old object (create and forget) is gated and priced as a create", async () => {
    const plan = {
      format_version: "1.2",
      resource_changes: [
        {
          address: "aws_instance.x",
          mode: "managed",
          type: "aws_instance",
          name: "x",
          provider_name: "registry.terraform.io/hashicorp/aws",
          change: {
            actions: ["create", "forget"],
            before: { instance_type: "m5.large" },
            after: { instance_type: "m5.4xlarge" },
            after_unknown: {},
          },
        },
      ],
    };
    const r = await cli(["plan", "-", "--policies", POLICIES, "--format", "json"], JSON.stringify(plan));
    const report = JSON.parse(r.stdout) as PlanReport;
    const x = item(report, "aws_instance.x");
    assert.equal(x.action, "create");
    assert.notEqual(x.decision, null);
    // The old object stays (only dropped from the state): nothing of its cost is taken off.
    assert.equal(x.monthly_cost_before, null);
    assert.equal(x.monthly_delta, x.monthly_cost_after?.monthly);
    assert.deepEqual(report.skipped, []);
  });

  test("a provider's region set from a root variable (region = var.region) is the variable's value", async () => {
    const plan = (expr: object, key = "aws") => ({
      format_version: "1.2",
      variables: { region: { value: "eu-west-1" } },
      configuration: {
        provider_config: { [key]: { name: "aws", expressions: { region: expr } } },
        root_module: { resources: [{ address: "aws_instance.a", provider_config_key: key }] },
      },
      resource_changes: [
        {
          address: "aws_instance.a",
          mode: "managed",
          type: "aws_instance",
          name: "a",
          provider_name: "registry.terraform.io/hashicorp/aws",
          change: {
            actions: ["create"],
            before: null,
            after: { instance_type: "m5.xlarge" },
            after_unknown: {},
          },
        },
      ],
    });
    const regionOf = async (p: object) => {
      const r = await cli(["plan", "-", "--policies", POLICIES, "--format", "json"], JSON.stringify(p));
      return item(JSON.parse(r.stdout) as PlanReport, "aws_instance.a").request?.region;
    };
    assert.equal(await regionOf(plan({ references: ["var.region"] })), "eu-west-1");
    assert.equal(await regionOf(plan({ constant_value: "ap-south-1" })), "ap-south-1");
    // An expression of more than the variable, or a variable the plan does not hold: not guessed.
    assert.notEqual(await regionOf(plan({ references: ["var.region", "local.x"] })), "eu-west-1");
    assert.notEqual(await regionOf(plan({ references: ["var.other"] })), "eu-west-1");
  });

  test("costs in several currencies are not added up, and are not counted as unknown", async () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-plan-"));
    writeFileSync(join(dir, "eur.yaml"), "entries:\n  - {sku: m5.large, price: 0.10, currency: EUR}\n");
    const instance = (name: string, type: string) => ({
      address: `aws_instance.${name}`,
      mode: "managed",
      type: "aws_instance",
      name,
      provider_name: "registry.terraform.io/hashicorp/aws",
      change: { actions: ["create"], before: null, after: { instance_type: type }, after_unknown: {} },
    });
    const plan = JSON.stringify({
      format_version: "1.2",
      resource_changes: [instance("eur", "m5.large"), instance("usd", "t3.micro")],
    });
    const args = ["plan", "-", "--policies", POLICIES, "--price-book", join(dir, "eur.yaml")];
    const json = await cli([...args, "--format", "json"], plan);
    const s = (JSON.parse(json.stdout) as PlanReport).summary;
    assert.deepEqual([s.currency, s.currencies, s.unknown_cost], ["mixed", ["EUR", "USD"], 0]);
    // They were "0", as if everything cost nothing: no total is no amount.
    assert.deepEqual([s.monthly_before, s.monthly_after, s.monthly_delta], [null, null, null]);
    const sarif = await cli([...args, "--format", "sarif"], plan);
    const run = (JSON.parse(sarif.stdout) as { runs: { properties: { summary: PlanReport["summary"] } }[] })
      .runs[0]!;
    assert.equal(run.properties.summary.monthly_delta, null);
    const table = await cli(args, plan);
    assert.match(
      table.stdout,
      /^monthly cost: in EUR and USD, not added up \(the price book prices in several currencies\); monthly = hourly × 730$/m,
    );
    const markdown = await cli([...args, "--format", "markdown"], plan);
    assert.match(markdown.stdout, /\*\*Monthly cost: in EUR and USD, not added up\*\*/);
  });

  test("a plan with only allowed changes exits 0; warnings do not fail it", async () => {
    const plan = JSON.parse(readFileSync(`${FIX}/aws-all-types.json`, "utf8")) as {
      resource_changes: { address: string }[];
    };
    plan.resource_changes = plan.resource_changes.filter((r) =>
      ["aws_instance.api", "aws_ebs_volume.old"].includes(r.address),
    );
    const ok = await cli(["plan", "-", "--policies", POLICIES], JSON.stringify(plan));
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /delta \+51\.68 USD/);
    const dir = mkdtempSync(join(tmpdir(), "costguard-plan-"));
    writeFileSync(join(dir, "rates.csv"), "sku,region,price\nm5.large,us-east-1,0.05\n");
    const priced = await cli(
      ["plan", "-", "--policies", POLICIES, "--price-book", join(dir, "rates.csv")],
      JSON.stringify(plan),
    );
    assert.match(priced.stdout, /delta \+18\.10 USD/, "36.50 + 1.60 − 20.00 with the user's m5.large rate");
  });
});

describe("GCP and Azure resource mappings", () => {
  test("machine types, zones, labels, GPUs, Windows, disk tiers", async () => {
    const { code, report } = await planJson(`${FIX}/gcp-azure-types.json`);
    assert.equal(code, 1);
    const web = item(report, "google_compute_instance.web");
    assert.equal(web.request?.region, "us-central1");
    assert.deepEqual(web.request?.tags, {
      "cost-center": "CC-004242",
      environment: "staging",
      team: "search",
    });
    assert.equal(web.monthly_cost_after?.hourly, "0.13402284");
    assert.equal(web.monthly_cost_after?.monthly, "97.8366732");
    assert.equal(item(report, "google_compute_instance.web.boot_disk[0]").monthly_cost_after?.monthly, "5");

    const gpu = item(report, "google_compute_instance.gpu");
    assert.equal(gpu.decision, "deny");
    assert.equal(
      gpu.request?.specs?.instance_family,
      "gpu",
      "an attached accelerator makes it a GPU machine",
    );
    assert.equal(gpu.monthly_cost_after?.status, "unknown");
    assert.ok(gpu.unknown_after_apply.includes("tags.*"), "terraform_labels unknown, labels known");

    assert.equal(item(report, "google_compute_disk.scratch").monthly_cost_after?.monthly, "34");

    const app = item(report, "azurerm_linux_virtual_machine.app");
    assert.equal(app.request?.region, "eastus", "`East US` is normalised");
    assert.equal(app.monthly_cost_after?.monthly, "70.08");
    assert.equal(
      item(report, "azurerm_linux_virtual_machine.app.os_disk[0]").monthly_cost_after?.monthly,
      "10.21",
    );

    const desk = item(report, "azurerm_windows_virtual_machine.desk");
    assert.equal(desk.request?.specs?.os, "windows");
    assert.equal(desk.monthly_cost_after?.monthly, "274.48", "the Windows rate, not the Linux one");
    assert.equal(
      item(report, "azurerm_windows_virtual_machine.desk.os_disk[0]").monthly_cost_after?.status,
      "unknown",
    );

    const disk = item(report, "azurerm_managed_disk.data");
    assert.deepEqual(
      [disk.monthly_cost_before?.monthly, disk.monthly_cost_after?.monthly, disk.monthly_delta],
      ["9.6", "19.2", "9.6"],
    );
    assert.equal(item(report, "azurerm_managed_disk.legacy").monthly_delta, "-40.96");
  });
});
