/**
 * How AWS names map onto the request vocabulary the guide's policies use, and the few figures the
 * price book does not carry.
 */

/** EBS volume type → the guide's volume class (`allowedTypes` / `deniedTypes` read `specs.volume_type`). */
export const EBS_VOLUME_CLASS: Readonly<Record<string, string>> = {
  gp2: "ssd",
  gp3: "ssd",
  io1: "provisioned-iops",
  io2: "provisioned-iops",
  st1: "hdd",
  sc1: "hdd",
  standard: "standard",
};

/**
 * Sandbox-only simulation figures for what the price book does not price: EBS snapshots per GB-month
 * and an application load balancer per hour (AWS's published us-east-1 list prices as the author
 * knows them, 2024; not re-verified). The scanner never uses them for real estates.
 */
export const SANDBOX_SNAPSHOT_GB_MONTH_USD = "0.05";
export const SANDBOX_LOAD_BALANCER_HOURLY_USD = "0.0225";

/** `db.m5.large` → `m5.large`: the EC2 shape behind an RDS instance class. */
export function ec2ShapeOfDbClass(dbClass: string): string {
  return dbClass.startsWith("db.") ? dbClass.slice(3) : dbClass;
}
