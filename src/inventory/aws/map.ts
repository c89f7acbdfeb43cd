import type { Instance, Volume } from "@aws-sdk/client-ec2";
import type { DBInstance } from "@aws-sdk/client-rds";
import { formatAmount, HOURS_PER_MONTH, parseAmount, times } from "../../money/exact.js";
import type { PriceLookup } from "../../scan/prices.js";
import { EBS_GB_MONTH_USD, EBS_VOLUME_CLASS, ec2ShapeOfDbClass } from "../aws-catalog.js";
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
 * An EC2 instance. Specs and the hourly rate come from the price table by instance type (on-demand
 * Linux, us-east-1: for other regions an estimate); the resource carries no cost when the type is unknown.
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
  if (shape) {
    r.hourly_cost = shape.hourly_text;
    r.monthly_cost = formatAmount(shape.hourly * HOURS_PER_MONTH);
  }
  return r;
}

/** An EBS volume, priced at the list price of its type per GB-month (see aws-catalog). */
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
      volume_api_type: apiType,
      ...(v.Iops !== undefined ? { iops: v.Iops } : {}),
      ...(attachment ? { delete_on_termination: attachment.DeleteOnTermination === true } : {}),
    },
    attached_to: attachment?.InstanceId ?? null,
    currency: "USD",
  };
  if (tags.Name) r.name = tags.Name;
  if (ctx.account) r.account = ctx.account;
  const created = iso(v.CreateTime);
  if (created) r.created_at = created;
  const perGb = EBS_GB_MONTH_USD[apiType];
  if (perGb !== undefined) {
    const monthly = times(parseAmount(perGb), v.Size ?? 0);
    r.monthly_cost = formatAmount(monthly);
    r.hourly_cost = formatAmount((monthly + 365n) / 730n);
  }
  return r;
}

/**
 * An RDS instance. Its shape (vCPUs, memory) is the EC2 type behind its class; no RDS price table
 * ships with costguard, so it carries no cost (its findings save "unknown", shown as 0).
 */
export function databaseResource(d: DBInstance, region: string, prices: PriceLookup): Resource {
  const tags = tagMap(d.TagList);
  const dbClass = d.DBInstanceClass ?? "";
  const shape = prices.instanceType(ec2ShapeOfDbClass(dbClass));
  const account = d.DBInstanceArn?.split(":")[4];
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
      ...(d.Engine ? { engine: d.Engine } : {}),
    },
    currency: "USD",
  };
  if (account) r.account = account;
  const created = iso(d.InstanceCreateTime);
  if (created) r.created_at = created;
  return r;
}
