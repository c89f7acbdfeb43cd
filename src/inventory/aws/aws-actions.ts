import { setTimeout as sleep } from "node:timers/promises";
import {
  CreateSnapshotCommand,
  CreateSnapshotsCommand,
  CreateTagsCommand,
  DeleteVolumeCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceRunning,
  waitUntilInstanceStopped,
} from "@aws-sdk/client-ec2";
import {
  AddTagsToResourceCommand,
  CreateDBSnapshotCommand,
  type DBInstance,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  StartDBInstanceCommand,
  StopDBInstanceCommand,
} from "@aws-sdk/client-rds";
import { formatAmount, HOURS_PER_MONTH } from "../../money/exact.js";
import {
  type ActionableResource,
  type ResourceActions,
  SAFETY_SNAPSHOT_TAG,
} from "../../remediation/actions.js";
import type { RemediationAction } from "../../remediation/types.js";
import type { PriceLookup } from "../../scan/prices.js";
import { resourceCost } from "../../scan/resource-cost.js";
import type { InventoryProvider, Resource } from "../types.js";
import { type AwsClientConfig, clientConfig, rolesByAccount } from "./aws-provider.js";
import { databaseResource, instanceResource, volumeResource } from "./map.js";
import type { AwsInventoryOptions } from "./options.js";
import type { RetryStats } from "./retry.js";

/** Where a resource the scan read lives: the region, and the role its account is reached through. */
export interface AwsLocation {
  region: string;
  roleArn?: string | undefined;
}

/** Waits for an instance to reach a state: the executor's next step needs it there. */
export interface AwsWaits {
  /** Longest wait for an instance to stop or start, in seconds (default 600). */
  maxWaitSeconds?: number;
  /** Shortest and longest pause between looks, in seconds (defaults 5 and 30). */
  minDelaySeconds?: number;
  maxDelaySeconds?: number;
}

/**
 * What costguard cannot do in AWS yet, by resource type: EC2 instances take every action, EBS volumes
 * tags and deletion, RDS databases stopping, resizing and tags.
 */
export function awsCannot(action: RemediationAction, resourceType: string): string | undefined {
  if (action === "notify") return undefined;
  if (resourceType === "compute/instance")
    return action === "delete" ? "not an action on instances" : undefined;
  if (resourceType === "storage/volume")
    return action === "tag" || action === "delete"
      ? undefined
      : `a volume cannot be ${action === "stop" ? "stopped" : `${action}d`}`;
  if (resourceType === "database/instance")
    return action === "stop" || action === "tag" || action === "resize"
      ? undefined
      : `costguard does not ${action} RDS databases`;
  return `costguard does not act on ${resourceType} in AWS`;
}

/** States EC2 gives an instance that is not running and will not run again. */
const ENDED = new Set(["shutting-down", "terminated"]);

/** Error codes AWS answers for an id it does not know (gone, or never there). */
const NOT_FOUND = new Set(["InvalidInstanceID.NotFound", "InvalidVolume.NotFound"]);

/** The provider wrapped so that it remembers where each resource it reads lives, for acting later. */
export function rememberLocations(
  provider: InventoryProvider,
  options: Pick<AwsInventoryOptions, "accounts">,
): { provider: InventoryProvider; locate: (id: string) => AwsLocation | undefined } {
  // By account, one role each (two into one account are refused): a resource is acted on through the
  // role it was read through.
  const roles = rolesByAccount(options.accounts);
  const where = new Map<string, AwsLocation>();
  return {
    locate: (id) => where.get(id),
    provider: {
      name: provider.name,
      async *read(readOptions) {
        for await (const page of provider.read(readOptions)) {
          for (const r of page)
            if (r.region)
              where.set(r.id, { region: r.region, roleArn: r.account ? roles.get(r.account) : undefined });
          yield page;
        }
      },
    },
  };
}

/**
 * Remediation on AWS: EC2 instances (stop, start, resize, tag, snapshot every volume, terminate) and
 * EBS volumes (tag, snapshot, delete), through the same credentials, roles, endpoint and retries as
 * the aws inventory, in the region the scan found each resource in. Each call is one change AWS
 * applies; stop and start wait until the instance is there (a resize needs it stopped). RDS databases
 * are stopped, started, resized in place (ModifyDBInstance, applied at once), tagged and snapshotted
 * (a DB snapshot named for the task).
 */
export function awsResourceActions(
  options: AwsInventoryOptions,
  locate: (id: string) => AwsLocation | undefined,
  prices: PriceLookup,
  waits: AwsWaits = {},
  stats: RetryStats = { throttled: 0, retried: 0 },
): ResourceActions & { close(): void } {
  // One client per service, region and role, made on first use.
  const clients = new Map<string, { destroy(): void }>();
  const clientOf = <C extends { destroy(): void }>(
    id: string,
    service: string,
    make: (config: AwsClientConfig) => C,
  ): C => {
    const where = locate(id);
    if (!where)
      throw new Error(
        `${id} was not in this run's scan of AWS: costguard acts only on resources it has just read`,
      );
    const key = `${service}\u0000${where.region}\u0000${where.roleArn ?? ""}`;
    let client = clients.get(key) as C | undefined;
    if (!client) {
      client = make(clientConfig(options, where.region, where.roleArn, stats));
      namesFailedCalls(client as unknown as Stackable, where.region);
      clients.set(key, client);
    }
    return client;
  };
  const ec2 = (id: string) => clientOf(id, "ec2", (config) => new EC2Client(config));
  const rds = (id: string) => clientOf(id, "rds", (config) => new RDSClient(config));
  const kind = (id: string): "instance" | "volume" | "database" => {
    if (id.startsWith("i-")) return "instance";
    if (id.startsWith("vol-")) return "volume";
    if (id.startsWith("db-")) return "database";
    throw new Error(
      `costguard does not act on ${id} in AWS: EC2 instances (i-...), EBS volumes (vol-...) and RDS databases (db-...) only`,
    );
  };
  /** An RDS instance by the DbiResourceId the scan names it by; its API calls take its identifier. */
  const database = async (id: string): Promise<DBInstance | undefined> => {
    const answer = await rds(id).send(
      new DescribeDBInstancesCommand({ Filters: [{ Name: "dbi-resource-id", Values: [id] }] }),
    );
    return answer.DBInstances?.find((d) => d.DbiResourceId === id);
  };
  const databaseName = async (id: string): Promise<string> => {
    const d = await database(id);
    if (!d?.DBInstanceIdentifier) throw new Error(`RDS has no database ${id} (DbiResourceId) any more`);
    return d.DBInstanceIdentifier;
  };
  /** Waits until RDS says the database is in `status` (RDS has no waiter for `stopped`). */
  const databaseReaches = async (
    id: string,
    status: string,
    and: (d: DBInstance) => boolean = () => true,
  ): Promise<void> => {
    const deadline = Date.now() + (waits.maxWaitSeconds ?? 600) * 1000;
    let pause = waits.minDelaySeconds ?? 5;
    for (;;) {
      const d = await database(id);
      if (d?.DBInstanceStatus === status && and(d)) return;
      if (Date.now() + pause * 1000 > deadline)
        throw new Error(
          `RDS database ${id} is ${d?.DBInstanceStatus ?? "gone"}, not ${status}, after waiting`,
        );
      await sleep(pause * 1000);
      pause = Math.min(pause * 2, waits.maxDelaySeconds ?? 30);
    }
  };
  const waiter = (id: string) => ({
    client: ec2(id),
    maxWaitTime: waits.maxWaitSeconds ?? 600,
    minDelay: waits.minDelaySeconds ?? 5,
    maxDelay: waits.maxDelaySeconds ?? 30,
  });
  const priced = (r: Resource): ActionableResource => {
    // What it costs now: a running instance its running cost, a stopped one nothing (its volumes are
    // resources of their own), a volume its storage while it exists.
    // A stopped database its storage (its monthly cost less the running hours).
    const cost = resourceCost(r, prices);
    let monthly = 0n;
    if (cost && (r.type === "storage/volume" || r.state === "running" || r.state === "available"))
      monthly = cost.monthly;
    else if (cost && r.type === "database/instance" && r.state === "stopped") {
      const storage = cost.monthly - cost.hourly * HOURS_PER_MONTH;
      monthly = storage > 0n ? storage : 0n;
    }
    return {
      id: r.id,
      type: r.type,
      state: r.state,
      tags: r.tags,
      specs: r.specs,
      monthly_cost: formatAmount(monthly),
      currency: "USD",
    };
  };
  const tagsOf = (name: string, source: string) => [
    {
      ResourceType: "snapshot" as const,
      Tags: [
        { Key: "Name", Value: name },
        { Key: SAFETY_SNAPSHOT_TAG, Value: source },
      ],
    },
  ];
  return {
    async describe(id) {
      if (!locate(id)) return undefined;
      const where = locate(id)!;
      if (kind(id) === "database") {
        const db = await database(id);
        return db ? priced(databaseResource(db, where.region, prices)) : undefined;
      }
      try {
        if (kind(id) === "instance") {
          const answer = await ec2(id).send(new DescribeInstancesCommand({ InstanceIds: [id] }));
          const reservation = answer.Reservations?.find((r) => r.Instances?.some((i) => i.InstanceId === id));
          const instance = reservation?.Instances?.find((i) => i.InstanceId === id);
          if (!instance) return undefined;
          return priced(
            instanceResource(instance, { account: reservation?.OwnerId, region: where.region }, prices),
          );
        }
        const answer = await ec2(id).send(new DescribeVolumesCommand({ VolumeIds: [id] }));
        const volume = answer.Volumes?.find((v) => v.VolumeId === id);
        if (!volume) return undefined;
        return priced(volumeResource(volume, { account: undefined, region: where.region }));
      } catch (err) {
        if (NOT_FOUND.has((err as { name?: string }).name ?? "")) return undefined;
        throw err;
      }
    },
    async findSnapshot(resourceId, { name }) {
      if (kind(resourceId) === "database") {
        try {
          const answer = await rds(resourceId).send(
            new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: name }),
          );
          return answer.DBSnapshots?.[0]?.DBSnapshotIdentifier;
        } catch (err) {
          if ((err as { name?: string }).name === "DBSnapshotNotFoundFault") return undefined;
          throw err;
        }
      }
      const answer = await ec2(resourceId).send(
        new DescribeSnapshotsCommand({
          OwnerIds: ["self"],
          Filters: [
            { Name: "tag:Name", Values: [name] },
            { Name: `tag:${SAFETY_SNAPSHOT_TAG}`, Values: [resourceId] },
          ],
        }),
      );
      const ids = (answer.Snapshots ?? []).map((s) => s.SnapshotId).filter((s): s is string => !!s);
      return ids.length > 0 ? ids.sort().join(",") : undefined;
    },
    async snapshot(resourceId, name) {
      const description = `costguard remediation ${name} of ${resourceId}`;
      if (kind(resourceId) === "database") {
        // RDS names a snapshot by its identifier: the task's name, so a step cut short finds it again.
        const answer = await rds(resourceId).send(
          new CreateDBSnapshotCommand({
            DBSnapshotIdentifier: name,
            DBInstanceIdentifier: await databaseName(resourceId),
            Tags: [{ Key: SAFETY_SNAPSHOT_TAG, Value: resourceId }],
          }),
        );
        return answer.DBSnapshot?.DBSnapshotIdentifier ?? name;
      }
      if (kind(resourceId) === "volume") {
        const answer = await ec2(resourceId).send(
          new CreateSnapshotCommand({
            VolumeId: resourceId,
            Description: description,
            TagSpecifications: tagsOf(name, resourceId),
          }),
        );
        if (!answer.SnapshotId)
          throw new Error(`EC2 CreateSnapshot of ${resourceId} answered without a snapshot id`);
        return answer.SnapshotId;
      }
      const answer = await ec2(resourceId).send(
        new CreateSnapshotsCommand({
          InstanceSpecification: { InstanceId: resourceId },
          Description: description,
          TagSpecifications: tagsOf(name, resourceId),
        }),
      );
      const ids = (answer.Snapshots ?? []).map((s) => s.SnapshotId).filter((s): s is string => !!s);
      // An instance on instance-store volumes only has nothing EBS can snapshot.
      return ids.length > 0 ? ids.sort().join(",") : "none (the instance has no EBS volume)";
    },
    async stop(id) {
      if (kind(id) === "database") {
        // A snapshot just taken leaves it backing up, and RDS stops only an available database.
        await databaseReaches(id, "available");
        await rds(id).send(new StopDBInstanceCommand({ DBInstanceIdentifier: await databaseName(id) }));
        await databaseReaches(id, "stopped");
        return;
      }
      if (kind(id) !== "instance") throw new Error(`${id} is not an instance: only instances stop`);
      await ec2(id).send(new StopInstancesCommand({ InstanceIds: [id] }));
      await waitUntilInstanceStopped(waiter(id), { InstanceIds: [id] });
    },
    async start(id) {
      if (kind(id) === "database") {
        await rds(id).send(new StartDBInstanceCommand({ DBInstanceIdentifier: await databaseName(id) }));
        await databaseReaches(id, "available");
        return;
      }
      if (kind(id) !== "instance") throw new Error(`${id} is not an instance: only instances start`);
      await ec2(id).send(new StartInstancesCommand({ InstanceIds: [id] }));
      await waitUntilInstanceRunning(waiter(id), { InstanceIds: [id] });
    },
    resizesInPlace: (resourceType) => resourceType === "database/instance",
    async resize(id, targetType) {
      if (kind(id) === "database") {
        // Applied at once, by RDS, while it runs (it cannot change a stopped database).
        await databaseReaches(id, "available");
        await rds(id).send(
          new ModifyDBInstanceCommand({
            DBInstanceIdentifier: await databaseName(id),
            DBInstanceClass: targetType,
            ApplyImmediately: true,
          }),
        );
        await databaseReaches(id, "available", (d) => d.DBInstanceClass === targetType);
        return;
      }
      if (kind(id) !== "instance") throw new Error(`${id} is not an instance: only instances are resized`);
      await ec2(id).send(
        new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceType: { Value: targetType } }),
      );
    },
    async addTags(id, tags) {
      if (kind(id) === "database") {
        const d = await database(id);
        if (!d?.DBInstanceArn) throw new Error(`RDS has no database ${id} (DbiResourceId) any more`);
        await rds(id).send(
          new AddTagsToResourceCommand({
            ResourceName: d.DBInstanceArn,
            Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
          }),
        );
        return;
      }
      await ec2(id).send(
        new CreateTagsCommand({
          Resources: [id],
          Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      );
    },
    async terminate(id) {
      if (kind(id) !== "instance") throw new Error(`${id} is not an instance: only instances terminate`);
      const answer = await ec2(id).send(new TerminateInstancesCommand({ InstanceIds: [id] }));
      const state = answer.TerminatingInstances?.find((i) => i.InstanceId === id)?.CurrentState?.Name;
      if (state !== undefined && !ENDED.has(state))
        throw new Error(`EC2 TerminateInstances left ${id} ${state}`);
    },
    async deleteVolume(id) {
      if (kind(id) !== "volume") throw new Error(`${id} is not a volume: only volumes are deleted`);
      await ec2(id).send(new DeleteVolumeCommand({ VolumeId: id }));
    },
    close() {
      for (const c of clients.values()) c.destroy();
      clients.clear();
    },
  };
}

/** The part of an SDK v3 client the middleware below needs. */
interface Stackable {
  middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      options: { step: "initialize"; name: string },
    ): void;
  };
}

/**
 * An AWS error from acting says which call failed, where, and AWS's code (`EC2 StopInstances in
 * us-east-1: UnauthorizedOperation: You are not authorized ...`): the task's failure, the owner's
 * notice and the audit entry carried AWS's message alone, without the code or the call to grant.
 * The error's name (its code) is kept, so what is told apart by it still is.
 */
function namesFailedCalls(client: Stackable, region: string): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        const e = err as { name?: unknown; message?: unknown; $metadata?: unknown };
        if (
          e !== null &&
          typeof e === "object" &&
          e.$metadata !== undefined &&
          typeof e.message === "string"
        ) {
          const call = (context.commandName ?? "call").replace(/Command$/, "");
          e.message = `${call} in ${region}: ${typeof e.name === "string" ? `${e.name}: ` : ""}${e.message}`;
        }
        throw err;
      }
    },
    { step: "initialize", name: "costguardNamesFailedCalls" },
  );
}
