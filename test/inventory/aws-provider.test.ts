import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { awsOptionsFromCli, explainAwsError } from "../../src/cli/commands/scan-aws.js";
import { rememberLocations } from "../../src/inventory/aws/aws-actions.js";
import { awsInventoryName, awsProvider } from "../../src/inventory/aws/aws-provider.js";
import type { AwsInventoryOptions } from "../../src/inventory/aws/options.js";
import type { Resource } from "../../src/inventory/types.js";
import { runScan } from "../../src/scan/run-scan.js";
import { createTestDatabase } from "../helpers/databases.js";
import { PRICES, scanContext } from "../helpers/scan-context.js";
import { ec2World } from "./aws-ec2-world.js";
import { type FakeAws, startFakeAws, useTestCredentials } from "./aws-server.js";

/**
 * The aws provider against recorded responses: no AWS account is reachable here, so a local server
 * answers the real SDK v3 clients (signed requests, real wire formats, pagination, throttling).
 */
const AT = new Date("2026-06-01T00:00:00Z");
const DAY = 86_400_000;

// The standard credential chain, taken from the environment as in CI or on a laptop.
useTestCredentials();

function options(server: FakeAws, extra: Partial<AwsInventoryOptions> = {}): AwsInventoryOptions {
  return {
    regions: ["us-east-1"],
    accounts: [],
    endpoint: server.url,
    metricsWindowDays: 7,
    detachLookbackDays: 30,
    backoff: { maxAttempts: 5, baseDelayMs: 5, maxDelayMs: 40 },
    pageSize: 5,
    ...extra,
  };
}

async function readAll(provider: ReturnType<typeof awsProvider>): Promise<Resource[]> {
  const out: Resource[] = [];
  for await (const batch of provider.read()) out.push(...batch);
  return out;
}

describe("aws inventory on recorded responses", () => {
  let server: FakeAws;
  before(async () => {
    server = await startFakeAws({
      at: AT,
      throttle: { DescribeVolumes: 2, DescribeDBInstances: 1, GetMetricData: 1 },
    });
  });
  after(() => server.close());

  test("instances, volumes and databases across pages, with CloudWatch utilisation, through throttling", async () => {
    const provider = awsProvider(options(server), PRICES, AT);
    const resources = await readAll(provider);
    const byId = new Map(resources.map((r) => [r.id, r]));
    assert.deepEqual(
      resources.map((r) => r.id),
      [
        "i-0aaa0000000000001",
        "i-0aaa0000000000002",
        "i-0aaa0000000000003",
        "i-0aaa0000000000004",
        "vol-0bbb0000000000001",
        "vol-0bbb0000000000002",
        "vol-0bbb0000000000003",
        "db-ABCDEFGHIJKLMNOPQRSTUV0001",
        "db-ABCDEFGHIJKLMNOPQRSTUV0002",
      ],
    );

    const big = byId.get("i-0aaa0000000000001")!;
    assert.equal(big.type, "compute/instance");
    assert.equal(big.name, "payments-ledger-batch-01");
    assert.equal(big.account, "111111111111");
    assert.equal(big.region, "us-east-1");
    assert.equal(big.state, "running");
    assert.equal(big.created_at, "2025-03-04T10:15:00.000Z");
    assert.deepEqual(big.specs, {
      vcpus: 32,
      memory_gb: 128,
      instance_family: "general-purpose",
      instance_type: "m5.8xlarge",
    });
    assert.equal(big.hourly_cost, undefined, "priced by the scanner from the price book");
    assert.equal(big.tags!.environment, "production");
    // CPU average 10%; (21 GB + 14 GB) over 7 days = 5 GB a day.
    assert.deepEqual(big.metrics, { avg_cpu_percent: 10, avg_network_bytes: 5_000_000_000, window_days: 7 });

    assert.deepEqual(byId.get("i-0aaa0000000000002")!.metrics, {
      avg_cpu_percent: 1.2,
      avg_network_bytes: 500_000,
      window_days: 7,
    });
    const stopped = byId.get("i-0aaa0000000000004")!;
    assert.equal(stopped.state, "stopped");
    assert.equal(stopped.metrics, undefined);

    const root = byId.get("vol-0bbb0000000000001")!;
    assert.equal(root.attached_to, "i-0aaa0000000000001");
    assert.deepEqual(root.specs, {
      size_gb: 100,
      volume_type: "ssd",
      volume_sku: "gp3",
      iops: 3000,
      delete_on_termination: true,
    });
    assert.equal(root.account, "111111111111");
    // Last VolumeIdleTime datapoint 1,735,200 s before the scan: detached an hour after it.
    const recent = byId.get("vol-0bbb0000000000002")!;
    assert.equal(recent.attached_to, null);
    assert.equal(recent.detached_at, new Date(AT.getTime() - 1_735_200_000 + 3_600_000).toISOString());
    // No datapoint in the 30-day look-back: detached at least since its start.
    assert.equal(
      byId.get("vol-0bbb0000000000003")!.detached_at,
      new Date(AT.getTime() - 30 * DAY).toISOString(),
    );
    assert.equal(byId.get("vol-0bbb0000000000003")!.specs!.volume_type, "hdd");

    const db = byId.get("db-ABCDEFGHIJKLMNOPQRSTUV0001")!;
    assert.equal(db.name, "payments-ledger-db");
    assert.equal(db.account, "111111111111");
    assert.deepEqual(db.specs, {
      vcpus: 16,
      memory_gb: 64,
      instance_family: "general-purpose",
      instance_type: "db.m5.4xlarge",
      storage_gb: 800,
      storage_type: "gp3",
      engine: "postgres",
    });
    // (250,000 + 150,000) bytes/s × 86,400 s
    assert.deepEqual(db.metrics, { avg_cpu_percent: 20, avg_network_bytes: 34_560_000_000, window_days: 7 });
    assert.equal(db.hourly_cost, undefined);

    const count = (action: string, status?: number) =>
      server.calls.filter((c) => c.action === action && (status === undefined || c.status === status)).length;
    assert.equal(count("DescribeInstances"), 2, "two pages");
    assert.equal(count("DescribeVolumes", 503), 2, "throttled twice");
    assert.equal(count("DescribeVolumes", 200), 2, "then two pages");
    assert.equal(count("DescribeDBInstances", 400), 1);
    assert.equal(count("DescribeDBInstances", 200), 2);
    assert.ok(count("GetMetricData", 200) >= 4, "metric requests page through NextToken");
    assert.equal(provider.stats.throttled, 4);
    for (const c of server.calls) {
      assert.equal(c.accessKey, "AKIDCOSTGUARDTEST", "credentials from the standard chain (environment)");
      assert.equal(c.region, "us-east-1");
    }
    assert.deepEqual(
      new Set(server.calls.map((c) => c.service)),
      new Set(["sts", "ec2", "rds", "monitoring"]),
    );
  });

  test("a scan over the aws inventory finds the idle, the orphaned and the oversized", async () => {
    const result = await runScan({
      provider: awsProvider(options(server), PRICES, AT),
      context: scanContext({ at: AT }),
    });
    const s = result.summary;
    assert.equal(s.resources_scanned, 9);
    assert.equal(s.by_policy["idle-resource-detection"], 2);
    assert.equal(s.by_policy["orphaned-resource-detection"], 2);
    const actions = result.top_findings.map((f) => [
      f.resource_id,
      f.recommendation.action,
      f.savings_monthly,
    ]);
    // Priced from the price book: m5.8xlarge → m5.2xlarge (1.536 − 0.384) × 730; db.m5.4xlarge →
    // db.m5.2xlarge postgres (1.424 − 0.712) × 730; 2,000 GB st1 at 0.045; t3.medium mysql idle 0.068 × 730.
    assert.deepEqual(actions.slice(0, 3), [
      ["i-0aaa0000000000001", "resize", "840.96"],
      ["db-ABCDEFGHIJKLMNOPQRSTUV0001", "resize", "519.76"],
      ["vol-0bbb0000000000003", "delete", "90"],
    ]);
    assert.ok(actions.some((a) => a.join() === "db-ABCDEFGHIJKLMNOPQRSTUV0002,stop,49.64"));
  });
});

test("an instance or database younger than the idle window is not judged idle on the hour it has run", async () => {
  const HOUR_S = 3600;
  const launched = (secondsAgo: number) => new Date(AT.getTime() - secondsAgo * 1000).toISOString();
  const instance = (id: string, secondsAgo: number) => ({
    id,
    type: "t3.large",
    state: "running" as const,
    tags: { team: "search" },
    launched: launched(secondsAgo),
  });
  const database = (id: string, name: string, secondsAgo: number) => ({
    id,
    name,
    dbClass: "db.t3.medium",
    engine: "mysql",
    state: "available" as const,
    storageGb: 20,
    created: launched(secondsAgo),
    tags: { team: "search" },
  });
  // The same low CPU and network on each, in what the hour (or the week) has of them.
  const quiet = (dimension: string, kind: "ec2" | "rds", ago: number[]) =>
    Object.fromEntries(
      (kind === "ec2"
        ? [
            ["CPUUtilization", 0.5],
            ["NetworkIn", 1000],
            ["NetworkOut", 1000],
          ]
        : [
            ["CPUUtilization", 0.5],
            ["NetworkReceiveThroughput", 0.001],
            ["NetworkTransmitThroughput", 0.001],
          ]
      ).map(([metric, value]) => [`${metric}|${dimension}`, { values: ago.map(() => value as number), ago }]),
    );
  const week = [HOUR_S, 3 * 86_400, 6 * 86_400];
  const fake = await startFakeAws({
    at: AT,
    world: ec2World(
      [instance("i-0ddd0000000000001", HOUR_S), instance("i-0ddd0000000000002", 30 * 86_400)],
      [],
      [
        database("db-ABCDEFGHIJKLMNOPQRSTUV0011", "fresh-db", HOUR_S),
        database("db-ABCDEFGHIJKLMNOPQRSTUV0012", "settled-db", 30 * 86_400),
      ],
    ),
    metrics: {
      ...quiet("i-0ddd0000000000001", "ec2", [HOUR_S / 2]),
      ...quiet("i-0ddd0000000000002", "ec2", week),
      ...quiet("fresh-db", "rds", [HOUR_S / 2]),
      ...quiet("settled-db", "rds", week),
    },
  });
  try {
    const resources = await readAll(awsProvider(options(fake), PRICES, AT));
    const windows = Object.fromEntries(resources.map((r) => [r.name ?? r.id, r.metrics?.window_days]));
    // An hour is 0.0416 days, rounded down.
    assert.deepEqual(windows, {
      "i-0ddd0000000000001": 0.04,
      "i-0ddd0000000000002": 7,
      "fresh-db": 0.04,
      "settled-db": 7,
    });
    // Its 2,000 bytes are of the hour it ran: 48,000 a day, not 2,000 spread over seven.
    assert.equal(resources.find((r) => r.id === "i-0ddd0000000000001")!.metrics!.avg_network_bytes, 48_000);

    const result = await runScan({
      provider: awsProvider(options(fake), PRICES, AT),
      context: scanContext({ at: AT }),
    });
    const idle = result.top_findings
      .filter((f) => f.policy === "idle-resource-detection")
      .map((f) => f.resource_id)
      .sort();
    assert.deepEqual(idle, ["db-ABCDEFGHIJKLMNOPQRSTUV0012", "i-0ddd0000000000002"]);
    assert.equal(result.summary.idle_unmeasured, 2, "the young two are counted as not judged");
  } finally {
    await fake.close();
  }
});

describe("aws inventory across regions and accounts", () => {
  let server: FakeAws;
  before(async () => {
    server = await startFakeAws({ at: AT });
  });
  after(() => server.close());

  test("the inventory is named by its scope: a scan of one region resolves nothing of another", async () => {
    const role = (id: string) => ({ roleArn: `arn:aws:iam::${id}:role/costguard-scan` });
    assert.equal(awsInventoryName({ regions: ["us-east-1"], accounts: [] }), "aws:us-east-1");
    assert.equal(
      awsInventoryName({ regions: ["us-east-1", "eu-west-1", "us-east-1"], accounts: [] }),
      "aws:eu-west-1,us-east-1",
    );
    assert.equal(
      awsInventoryName({ regions: ["us-east-1"], accounts: [role("222222222222"), role("111111111111")] }),
      "aws:111111111111,222222222222:us-east-1",
    );
    assert.equal(
      awsInventoryName({ regions: ["us-east-1"], accounts: [], profile: "prod" }),
      "aws:profile=prod:us-east-1",
    );

    const own = await startFakeAws({ at: AT });
    const db = await createTestDatabase("sqlite");
    const store = await db.open();
    try {
      const scan = (regions: string[], day: number) =>
        runScan({
          provider: awsProvider(options(own, { regions }), PRICES, AT),
          context: scanContext({ at: new Date(AT.getTime() + day * DAY) }),
          store,
        });
      const east = await scan(["us-east-1"], 0);
      assert.ok(east.summary.findings > 0);
      // The recorded eu-west-1 is empty: a scan of it alone is its own (empty) inventory.
      const west = await scan(["eu-west-1"], 1);
      assert.equal(west.inventory, "aws:eu-west-1");
      assert.equal(west.summary.resolved_findings, 0);
      assert.equal(
        await store.findings.count({ inventory: "aws:us-east-1", status: "open" }),
        east.summary.findings,
      );
    } finally {
      await store.close();
      await db.drop();
      await own.close();
    }
  });

  test("each account through its role, each region with its own signed requests", async () => {
    const provider = awsProvider(
      options(server, {
        regions: ["us-east-1", "eu-west-1"],
        accounts: [{ roleArn: "arn:aws:iam::222222222222:role/costguard-scan" }],
      }),
      PRICES,
      AT,
    );
    const resources = await readAll(provider);
    assert.equal(resources.length, 9, "eu-west-1 is empty");
    assert.ok(resources.every((r) => r.account === "222222222222"));
    const assume = server.calls.filter((c) => c.action === "AssumeRole");
    assert.ok(assume.length >= 1);
    assert.ok(assume.every((c) => c.accessKey === "AKIDCOSTGUARDTEST" && c.service === "sts"));
    const work = server.calls.filter((c) => c.action !== "AssumeRole");
    assert.ok(
      work.every((c) => c.accessKey === "ASIA222222222222"),
      "calls signed with the role's credentials",
    );
    assert.deepEqual(new Set(work.map((c) => c.region)), new Set(["us-east-1", "eu-west-1"]));
  });

  test("--profile signs with the profile's credentials, even with keys in the environment (as the AWS CLI)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "costguard-aws-profile-"));
    const files = { credentials: join(dir, "credentials"), config: join(dir, "config") };
    writeFileSync(
      files.credentials,
      "[prod]\naws_access_key_id = AKIDPROFILEPROD\naws_secret_access_key = prod/secret\n",
    );
    writeFileSync(files.config, "[profile prod]\nregion = us-east-1\n");
    const before = {
      credentials: process.env.AWS_SHARED_CREDENTIALS_FILE,
      config: process.env.AWS_CONFIG_FILE,
    };
    process.env.AWS_SHARED_CREDENTIALS_FILE = files.credentials;
    process.env.AWS_CONFIG_FILE = files.config;
    const fresh = await startFakeAws({ at: AT });
    try {
      const resources = await readAll(awsProvider(options(fresh, { profile: "prod" }), PRICES, AT));
      assert.equal(resources.length, 9);
      assert.deepEqual(new Set(fresh.calls.map((c) => c.accessKey)), new Set(["AKIDPROFILEPROD"]));
      // A profile the files do not hold: the read fails naming it.
      await assert.rejects(readAll(awsProvider(options(fresh, { profile: "nope" }), PRICES, AT)), /nope/);
    } finally {
      await fresh.close();
      for (const [key, value] of [
        ["AWS_SHARED_CREDENTIALS_FILE", before.credentials],
        ["AWS_CONFIG_FILE", before.config],
      ] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a region without instances: its volumes are of the caller's account all the same (STS, asked once)", async () => {
    // EC2 names an owner only with a reservation: here there is none, in either region.
    const world = ec2World(
      [],
      [
        {
          id: "vol-0ccc0000000000001",
          size: 50,
          volumeType: "gp3",
          state: "available",
          created: "2026-01-01T00:00:00.000Z",
          tags: {},
        },
      ],
      [],
    );
    const fresh = await startFakeAws({ at: AT, world });
    try {
      const resources = await readAll(
        awsProvider(options(fresh, { regions: ["us-east-1", "eu-west-1"] }), PRICES, AT),
      );
      assert.deepEqual(
        resources.map((r) => [r.id, r.account]),
        [["vol-0ccc0000000000001", "111111111111"]],
      );
      assert.equal(fresh.calls.filter((c) => c.action === "GetCallerIdentity").length, 1);
    } finally {
      await fresh.close();
    }
  });

  test("a region or account named twice is read once", async () => {
    const fresh = await startFakeAws({ at: AT });
    try {
      const role = "arn:aws:iam::222222222222:role/costguard-scan";
      const twice = awsProvider(
        options(fresh, {
          regions: ["us-east-1", "us-east-1"],
          accounts: [{ roleArn: role }, { roleArn: role }],
        }),
        PRICES,
        AT,
      );
      const resources = await readAll(twice);
      assert.equal(resources.length, 9);
      assert.equal(new Set(resources.map((r) => r.id)).size, 9);
      assert.equal(fresh.calls.filter((c) => c.action === "DescribeInstances").length, 2, "two pages of 5");
    } finally {
      await fresh.close();
    }
  });

  test("two roles into one account are refused, naming both and the account: it would be scanned twice", async () => {
    const fresh = await startFakeAws({ at: AT });
    try {
      const accounts = [
        { roleArn: "arn:aws:iam::222222222222:role/costguard-scan" },
        { roleArn: "arn:aws:iam::111111111111:role/costguard-scan" },
        { roleArn: "arn:aws:iam::222222222222:role/audit" },
      ];
      const refused = (err: Error) => {
        assert.equal(err.name, "InputError");
        assert.equal(
          err.message,
          "arn:aws:iam::222222222222:role/costguard-scan and arn:aws:iam::222222222222:role/audit are the same account 222222222222: give one role per account",
        );
        return true;
      };
      assert.throws(() => awsProvider(options(fresh, { accounts }), PRICES, AT), refused);
      // Acting locates a resource's role by its account: it must not pick one of the two.
      const inventory = { name: "aws", read: async function* () {} };
      assert.throws(() => rememberLocations(inventory, { accounts }), refused);
      assert.equal(fresh.calls.length, 0, "refused before asking AWS anything");
    } finally {
      await fresh.close();
    }
  });

  test("a refusal (a client error) is not retried: the read fails with AWS's error", async () => {
    const refusing = await startFakeAws({ at: AT, refuse: { DescribeInstances: "UnauthorizedOperation" } });
    try {
      await assert.rejects(readAll(awsProvider(options(refusing), PRICES, AT)), (err: Error) => {
        assert.equal(err.name, "UnauthorizedOperation");
        return true;
      });
      assert.equal(refusing.calls.filter((c) => c.action === "DescribeInstances").length, 1);
    } finally {
      await refusing.close();
    }
  });

  test("an answer that is not AWS's (a proxy's page, 200) fails the read instead of reading as nothing", async () => {
    for (const [action, call] of [
      ["GetCallerIdentity", "STS GetCallerIdentity in us-east-1 answered without Account"],
      ["DescribeInstances", "EC2 DescribeInstances in us-east-1 answered without reservationSet"],
      ["DescribeVolumes", "EC2 DescribeVolumes in us-east-1 answered without volumeSet"],
      ["DescribeDBInstances", "RDS DescribeDBInstances in us-east-1 answered without DBInstances"],
    ] as const) {
      const proxy = await startFakeAws({ at: AT, foreign: [action] });
      try {
        await assert.rejects(readAll(awsProvider(options(proxy), PRICES, AT)), (err: Error) => {
          assert.equal(err.name, "InputError");
          assert.ok(err.message.startsWith(`aws: ${call}: the answer did not come from AWS`), err.message);
          return true;
        });
      } finally {
        await proxy.close();
      }
    }
  });

  test("an endpoint nobody answers: retried, then one line naming the host and the socket error", async () => {
    // A port that was free a moment ago: connections to it are refused.
    const probe = createServer();
    await new Promise<void>((done) => probe.listen(0, "127.0.0.1", done));
    const port = (probe.address() as { port: number }).port;
    await new Promise((done) => probe.close(done));
    const closed = { url: `http://127.0.0.1:${port}` } as FakeAws;
    const backoff = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5 };
    await assert.rejects(readAll(awsProvider(options(closed, { backoff }), PRICES, AT)), (err: unknown) => {
      const explained = explainAwsError(err) as Error;
      assert.equal(explained.name, "InputError");
      assert.equal(
        explained.message,
        `aws: cannot reach 127.0.0.1:${port} (ECONNREFUSED) after 3 attempts: check the network, a proxy, --region and --endpoint`,
      );
      return true;
    });
  });
});

test("region names: two to four letters of partition, words, a number (eusc-de-east-1, us-gov-west-1)", () => {
  const ctx = { env: {} } as unknown as Parameters<typeof awsOptionsFromCli>[1];
  for (const region of ["us-east-1", "us-gov-west-1", "cn-northwest-1", "eusc-de-east-1", "ap-southeast-5"])
    assert.deepEqual(awsOptionsFromCli({ region: [region] }, ctx).regions, [region]);
  for (const region of ["us-east1", "useast-1", "u-east-1", "europe-west1", "us-east-1a"])
    assert.throws(() => awsOptionsFromCli({ region: [region] }, ctx), /is not an AWS region name/, region);
});
