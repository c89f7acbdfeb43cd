import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
import { cli } from "../helpers/cli.js";
import { ec2World, type WorldDatabase, type WorldInstance, type WorldVolume } from "./aws-ec2-world.js";
import { useFakeAws } from "./aws-server.js";

const dir = mkdtempSync(join(tmpdir(), "costguard-aws-actions-"));
const AT = "2026-06-01T00:00:00Z";
const tags = (more: Record<string, string>) => ({
  "cost-center": "CC-104233",
  owner: "maria@company.com",
  project: "ledger",
  ...more,
});
const instances: WorldInstance[] = [
  // Too big for resource-limits in production: resized (snapshot, stop, type, start).
  {
    id: "i-0aaa0000000000001",
    type: "m5.8xlarge",
    state: "running",
    tags: tags({ Name: "ledger-batch", environment: "production" }),
    launched: "2025-03-04T10:15:00.000Z",
  },
  // Idle (CloudWatch: 1.2% CPU): stopped, after a snapshot of its volume.
  {
    id: "i-0aaa0000000000002",
    type: "t3.large",
    state: "running",
    tags: tags({ Name: "cms-api", environment: "staging" }),
    launched: "2024-11-20T08:00:00.000Z",
  },
];
const volumes: WorldVolume[] = [
  {
    id: "vol-0bbb0000000000001",
    size: 100,
    volumeType: "gp3",
    state: "in-use",
    attachedTo: "i-0aaa0000000000001",
    created: "2025-03-04T10:15:05.000Z",
    tags: tags({ environment: "production" }),
  },
  // Unattached for 20 days (its last VolumeIdleTime): deleted after a snapshot.
  {
    id: "vol-0bbb0000000000002",
    size: 500,
    volumeType: "gp3",
    state: "available",
    created: "2025-06-01T00:00:00.000Z",
    tags: tags({ environment: "staging" }),
  },
  {
    id: "vol-0bbb0000000000005",
    size: 20,
    volumeType: "gp3",
    state: "in-use",
    attachedTo: "i-0aaa0000000000002",
    created: "2024-11-20T08:00:05.000Z",
    tags: tags({ environment: "staging" }),
  },
];

const databases: WorldDatabase[] = [
  // Too big for resource-limits: RDS resizing is not acted on yet, so its owner is told.
  {
    id: "db-ABCDEFGHIJKLMNOPQRSTUV0001",
    name: "payments-ledger-db",
    dbClass: "db.m5.4xlarge",
    engine: "postgres",
    state: "available",
    storageGb: 800,
    created: "2024-07-15T09:00:00.000Z",
    tags: tags({ environment: "production" }),
  },
  // Idle (CloudWatch: 0.8% CPU) and missing its tags: tagged, then stopped after a DB snapshot.
  {
    id: "db-ABCDEFGHIJKLMNOPQRSTUV0002",
    name: "search-query-db",
    dbClass: "db.t3.medium",
    engine: "mysql",
    state: "available",
    storageGb: 50,
    created: "2025-12-01T00:00:00.000Z",
    tags: { team: "search", environment: "staging" },
  },
];
const world = ec2World(instances, volumes, databases);
const fake = useFakeAws({ at: new Date(AT), world });
after(() => rmSync(dir, { recursive: true, force: true }));

test("run --execute -i aws acts through EC2: resize, stop and delete after snapshots; a second run finds nothing to do", async () => {
  const cwd = mkdtempSync(join(dir, "cycle-"));
  writeFileSync(
    join(cwd, "costguard.yaml"),
    `policies: [${resolve("examples/policies")}]
remediation:
  grace: {critical: 0, high: 0, medium: 0, low: 0}
  finalWarning: {critical: 0, high: 0, medium: 0, low: 0}
  safety: {allowDeleteVolumes: true, maxActions: 50, maxActionsPercent: 100}
`,
  );
  const run = (more: string[] = []) =>
    cli(
      [
        "run",
        "-i",
        "aws",
        "--endpoint",
        fake().url,
        "--region",
        "us-east-1",
        "--at",
        AT,
        "--format",
        "json",
        ...more,
      ],
      {
        cwd,
        env: { COSTGUARD_AWS_POLL_SECONDS: "1" },
      },
    );
  // A dry run changes nothing in EC2.
  const dry = await run();
  assert.equal(dry.code, 0, dry.stderr);
  assert.equal(world.changes.length, 0);

  const acted = await run(["--execute"]);
  assert.equal(acted.code, 0, acted.stdout + acted.stderr);
  const summary = JSON.parse(acted.stdout) as { remediations_completed: number; remediations_failed: number };
  assert.equal(summary.remediations_failed, 0, acted.stdout);
  const calls = (id: string) =>
    world.changes.filter((c) => Object.values(c.params).includes(id)).map((c) => c.action);
  const big = world.instances.get("i-0aaa0000000000001")!;
  assert.deepEqual(calls("i-0aaa0000000000001"), [
    "CreateSnapshots",
    "StopInstances",
    "ModifyInstanceAttribute",
    "StartInstances",
  ]);
  assert.notEqual(big.type, "m5.8xlarge");
  assert.match(big.type, /^m5\./);
  assert.equal(big.state, "running");
  assert.deepEqual(calls("i-0aaa0000000000002"), ["CreateSnapshots", "StopInstances"]);
  assert.equal(world.instances.get("i-0aaa0000000000002")!.state, "stopped");
  assert.deepEqual(calls("vol-0bbb0000000000002"), ["CreateSnapshot", "DeleteVolume"]);
  assert.equal(world.volumes.get("vol-0bbb0000000000002")!.state, "deleted");
  // Every snapshot is named for its task and its source, so a crashed step finds it again.
  assert.deepEqual(world.snapshots.map((s) => s.volumeId).sort(), [
    "vol-0bbb0000000000001",
    "vol-0bbb0000000000002",
    "vol-0bbb0000000000005",
  ]);
  assert.ok(
    world.snapshots.every((s) => /^costguard-task-/.test(s.tags.Name ?? "") && s.tags["costguard:source"]),
  );
  // RDS: the idle database tagged, snapshotted (named for its task) and stopped.
  const query = world.databases!.get("db-ABCDEFGHIJKLMNOPQRSTUV0002")!;
  assert.deepEqual(calls("search-query-db"), ["CreateDBSnapshot", "StopDBInstance"]);
  assert.equal(query.state, "stopped");
  assert.equal(query.tags["cost-center"], "unassigned");
  assert.match(world.dbSnapshots[0]?.id ?? "", /^costguard-task-/);
  assert.ok(
    world.changes.some(
      (c) =>
        c.action === "AddTagsToResource" &&
        c.params.ResourceName === "arn:aws:rds:us-east-1:111111111111:db:search-query-db",
    ),
  );
  // The big database resized in place, after its snapshot: RDS neither stops nor starts it.
  const ledger = world.databases!.get("db-ABCDEFGHIJKLMNOPQRSTUV0001")!;
  assert.deepEqual(calls("payments-ledger-db"), ["CreateDBSnapshot", "ModifyDBInstance"]);
  assert.notEqual(ledger.dbClass, "db.m5.4xlarge");
  assert.match(ledger.dbClass, /^db\.m5\./);
  assert.equal(ledger.state, "available");
  // The next day's run sees the estate as it is now: nothing left to do, nothing done twice.
  const before = world.changes.length;
  const again = await run(["--execute"]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(world.changes.length, before, JSON.stringify(world.changes.slice(before)));
});

test("acting on AWS refuses what it cannot do, and a file still cannot act", async () => {
  const cwd = mkdtempSync(join(dir, "refused-"));
  writeFileSync(join(cwd, "estate.jsonl"), `${JSON.stringify({ id: "i-1", type: "compute/instance" })}\n`);
  const file = await cli(
    ["run", "-p", resolve("examples/policies"), "-i", "file:estate.jsonl", "--execute"],
    { cwd },
  );
  assert.equal(file.code, 2);
  assert.match(file.stderr, /the sandbox and aws can act, a file cannot/);
  const badWait = await cli(
    ["run", "-p", resolve("examples/policies"), "-i", "aws", "--endpoint", fake().url, "--execute"],
    { cwd, env: { COSTGUARD_AWS_WAIT_SECONDS: "soon" } },
  );
  assert.equal(badWait.code, 2);
  assert.match(badWait.stderr, /COSTGUARD_AWS_WAIT_SECONDS must be a number of seconds, got soon/);
});
