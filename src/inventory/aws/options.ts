import type { BackoffOptions } from "./retry.js";

export interface AwsAccount {
  /** Scan this account through this role (sts:AssumeRole); the account id is read from the ARN. */
  roleArn: string;
}

export interface AwsInventoryOptions {
  /**
   * Regions to scan, e.g. ["us-east-1", "eu-west-1"]. With `allRegions`, the one region asked which
   * regions each account has enabled.
   */
  regions: string[];
  /** Scan every region enabled for each account (EC2 DescribeRegions), as `--region all` asks. */
  allRegions?: boolean;
  /** Other accounts to scan through a role; empty means the account of the default credentials. */
  accounts: AwsAccount[];
  /** A named profile for the standard credential chain (otherwise its usual order: env, files, SSO, IMDS...). */
  profile?: string;
  /** Send every API call here instead of the AWS endpoints (tests, LocalStack). */
  endpoint?: string;
  /** Days of CloudWatch history behind avg_cpu_percent and avg_network_bytes. */
  metricsWindowDays: number;
  /** Days of EBS metrics looked back through to date a volume's detachment. */
  detachLookbackDays: number;
  backoff: BackoffOptions;
  /** Page size for Describe* calls. */
  pageSize: number;
}
