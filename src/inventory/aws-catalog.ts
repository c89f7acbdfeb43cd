/**
 * How AWS names map onto the request vocabulary the guide's policies use, and the few prices the
 * embedded EC2 table does not carry.
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
 * EBS storage per GB-month, USD, us-east-1: AWS's published list prices (gp3 0.08, gp2 0.10,
 * io1/io2 0.125, st1 0.045, sc1 0.015, magnetic 0.05; snapshots 0.05). No machine-readable source
 * ships with the project, so these are used where a resource carries no cost of its own, and are
 * labelled as list-price estimates (provisioned IOPS and throughput are not included).
 */
export const EBS_GB_MONTH_USD: Readonly<Record<string, string>> = {
  gp2: "0.10",
  gp3: "0.08",
  io1: "0.125",
  io2: "0.125",
  st1: "0.045",
  sc1: "0.015",
  standard: "0.05",
};
export const EBS_SNAPSHOT_GB_MONTH_USD = "0.05";

/**
 * The sandbox prices a database instance class at its EC2 shape's price times this factor (RDS
 * for PostgreSQL/MySQL on-demand list prices run at about 1.8–1.9× the same EC2 shape), plus
 * storage per GB-month. A simulation figure, not a price list.
 */
export const SANDBOX_RDS_FACTOR = "1.85";
export const SANDBOX_RDS_STORAGE_GB_MONTH_USD = "0.115";
export const SANDBOX_LOAD_BALANCER_HOURLY_USD = "0.0225";

/** `db.m5.large` → `m5.large`: the EC2 shape behind an RDS instance class. */
export function ec2ShapeOfDbClass(dbClass: string): string {
  return dbClass.startsWith("db.") ? dbClass.slice(3) : dbClass;
}
