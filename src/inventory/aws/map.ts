import type { Instance, Volume } from "@aws-sdk/client-ec2";
import type { DBInstance } from "@aws-sdk/client-rds";
import type { PriceLookup } from "../../scan/prices.js";
import { EBS_VOLUME_CLASS, ec2ShapeOfDbClass } from "../aws-catalog.js";
import type { Resource } from "../types.js";

/** Pure translations from AWS API shapes to costguard resources. */

type Tag = { Key?: string | undefined; Value?: string | undefined };

export function tagMap(tags: readonly Tag[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? "";
  return out;
}

function iso(d: Date | string | undefined): string | undefined {
  if (d === undefined) return undefined;
  return (d instanceof Date ? d : new Date(d)).toISOString();
}

/**
 * An EC2 instance. Its shape (vCPUs, memory, family) comes from the price book by instance type; it
 * carries no cost of its own: the scanner prices it from the book for its region.
 */
export function instanceResource(
  i: Instance,
  ctx: { account: string | undefined; region: string },
  prices: PriceLookup,
): Resource {
  const tags = tagMap(i.Tags);
  const type = i.InstanceType ?? "";
  const shape = prices.instanceType(type);
  const r: Resource = {
    id: i.InstanceId ?? "",
    type: "compute/instance",
    provider: "aws",
    region: ctx.region,
    state: i.State?.Name ?? "unknown",
    tags,
    specs: shape
      ? {
          vcpus: shape.vcpus,
          memory_gb: shape.memory_gb,
          instance_family: shape.category,
          instance_type: type,
          ...(shape.gpus > 0 ? { gpus: shape.gpus } : {}),
        }
      : { instance_type: type },
    currency: "USD",
  };
  if (tags.Name) r.name = tags.Name;
  if (ctx.account) r.account = ctx.account;
  const launched = iso(i.LaunchTime);
  if (launched) r.created_at = launched;
  return r;
}

/** An EBS volume: size, type (`volume_sku`) and provisioned IOPS/throughput, for the price book. */
export function volumeResource(v: Volume, ctx: { account: string | undefined; region: string }): Resource {
  const tags = tagMap(v.Tags);
  const apiType = v.VolumeType ?? "gp2";
  const attachment = (v.Attachments ?? []).find((a) => a.State === "attached" || a.State === "attaching");
  const r: Resource = {
    id: v.VolumeId ?? "",
    type: "storage/volume",
    provider: "aws",
    region: ctx.region,
    state: v.State ?? "unknown",
    tags,
    specs: {
      size_gb: v.Size ?? 0,
      volume_type: EBS_VOLUME_CLASS[apiType] ?? apiType,
      volume_sku: apiType,
      ...(v.Iops !== undefined ? { iops: v.Iops } : {}),
      ...(v.Throughput !== undefined ? { throughput_mibps: v.Throughput } : {}),
      ...(attachment ? { delete_on_termination: attachment.DeleteOnTermination === true } : {}),
    },
    attached_to: attachment?.InstanceId ?? null,
    currency: "USD",
  };
  if (tags.Name) r.name = tags.Name;
  if (ctx.account) r.account = ctx.account;
  const created = iso(v.CreateTime);
  if (created) r.created_at = created;
  return r;
}

/**
 * An RDS instance: class, engine and storage for the price book; its shape is the EC2 type behind its
 * class. Its account is its ARN's, else `account` (the one it was read in).
 */
export function databaseResource(
  d: DBInstance,
  region: string,
  prices: PriceLookup,
  account?: string,
): Resource {
  const tags = tagMap(d.TagList);
  const dbClass = d.DBInstanceClass ?? "";
  const shape = prices.instanceType(ec2ShapeOfDbClass(dbClass));
  const owner = d.DBInstanceArn?.split(":")[4] || account;
  const r: Resource = {
    id: d.DbiResourceId ?? d.DBInstanceIdentifier ?? "",
    type: "database/instance",
    name: d.DBInstanceIdentifier ?? "",
    provider: "aws",
    region,
    state: d.DBInstanceStatus ?? "unknown",
    tags,
    specs: {
      ...(shape ? { vcpus: shape.vcpus, memory_gb: shape.memory_gb, instance_family: shape.category } : {}),
      instance_type: dbClass,
      ...(d.AllocatedStorage !== undefined ? { storage_gb: d.AllocatedStorage } : {}),
      ...(d.StorageType ? { storage_type: d.StorageType } : {}),
      ...(d.Engine ? { engine: d.Engine } : {}),
      ...(d.MultiAZ ? { multi_az: true } : {}),
    },
    currency: "USD",
  };
  if (owner) r.account = owner;
  const created = iso(d.InstanceCreateTime);
  if (created) r.created_at = created;
  return r;
}
