import { CloudWatchClient } from "@aws-sdk/client-cloudwatch";
import {
  DescribeRegionsCommand,
  EC2Client,
  paginateDescribeInstances,
  paginateDescribeVolumes,
} from "@aws-sdk/client-ec2";
import { paginateDescribeDBInstances, RDSClient } from "@aws-sdk/client-rds";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { fromIni, fromTemporaryCredentials } from "@aws-sdk/credential-providers";
import { InputError } from "../../errors.js";
import type { PriceLookup } from "../../scan/prices.js";
import type { InventoryProvider, Resource } from "../types.js";
import { databaseResource, instanceResource, volumeResource } from "./map.js";
import { fetchUtilisation, lastVolumeActivity } from "./metrics.js";
import type { AwsAccount, AwsInventoryOptions } from "./options.js";
import { backoffRetryStrategy, type RetryStats } from "./retry.js";

const DAY_MS = 86_400_000;

/**
 * The inventory's name, which scopes its findings' lifecycle: a scan resolves only findings of the
 * inventory it read, so scans of other regions, accounts or profiles must not share it (a scan of
 * eu-west-1 would resolve every finding of us-east-1). `aws:us-east-1`, `aws:eu-west-1,us-east-1`
 * (regions sorted), `aws:111111111111,222222222222:us-east-1` with --account roles,
 * `aws:profile=prod:us-east-1` with --profile.
 */
export function awsInventoryName(
  options: Pick<AwsInventoryOptions, "regions" | "accounts" | "profile" | "allRegions">,
): string {
  // Every enabled region: one inventory, whichever regions that is today (a region enabled later
  // joins it, rather than starting another whose scans resolve nothing of this one's).
  const regions = options.allRegions ? "all" : [...new Set(options.regions)].sort().join(",");
  const accounts = [...new Set(options.accounts.map((a) => a.roleArn.split(":")[4] ?? a.roleArn))].sort();
  const who =
    accounts.length > 0
      ? `${accounts.join(",")}:`
      : options.profile !== undefined
        ? `profile=${options.profile}:`
        : "";
  return `aws:${who}${regions}`;
}

/**
 * The role each account is scanned through, by account id (from the ARN). The same ARN named twice is
 * one role; two roles into one account are refused: each would scan it, its resources counted twice
 * (their savings too, and the inventory twice its size under remediation's percentage cap).
 */
export function rolesByAccount(accounts: readonly AwsAccount[]): Map<string, string> {
  const roles = new Map<string, string>();
  for (const { roleArn } of accounts) {
    const account = roleArn.split(":")[4] ?? roleArn;
    const known = roles.get(account);
    if (known !== undefined && known !== roleArn)
      throw new InputError(
        `${known} and ${roleArn} are the same account ${account}: give one role per account`,
      );
    roles.set(account, roleArn);
  }
  return roles;
}

/**
 * `aws`: EC2 instances and volumes, RDS instances and their CloudWatch utilisation, in every
 * configured region of every configured account, through the AWS SDK v3 and its standard credential
 * chain (or a role per account). Every client retries throttling with exponential backoff.
 */
export function awsProvider(
  options: AwsInventoryOptions,
  prices: PriceLookup,
  at: Date,
  stats: RetryStats = { throttled: 0, retried: 0 },
): InventoryProvider & { stats: RetryStats } {
  const roles = rolesByAccount(options.accounts);
  return {
    name: awsInventoryName(options),
    stats,
    async *read(readOptions = {}) {
      let resources = 0;
      // A region or role named twice (`--region us-east-1 --region us-east-1`) is read once: twice,
      // every resource in it would be listed twice.
      const targets = roles.size > 0 ? [...roles.values()] : [undefined];
      for (const roleArn of targets) {
        // Every resource carries the account it is in, whatever a region holds: exceptions and
        // remediation scope by it, and findings are fingerprinted with it.
        const account = roleArn?.split(":")[4] ?? (await callerAccount(options, stats));
        const regions = options.allRegions
          ? await enabledRegions(options, roleArn, stats)
          : [...new Set(options.regions)];
        for (const region of regions) {
          const base = clientConfig(options, region, roleArn, stats);
          const ec2 = new EC2Client(base);
          const rds = new RDSClient(base);
          const cw = new CloudWatchClient(base);
          try {
            for await (const page of paginateDescribeInstances(
              { client: ec2, pageSize: options.pageSize },
              {},
            )) {
              readOptions.signal?.throwIfAborted();
              const batch: Resource[] = [];
              for (const reservation of answered(
                page.Reservations,
                "EC2 DescribeInstances",
                "reservationSet",
                region,
              )) {
                const owner = reservation.OwnerId ?? account;
                for (const i of reservation.Instances ?? [])
                  batch.push(instanceResource(i, { account: owner, region }, prices));
              }
              const running = batch.filter((r) => r.state === "running");
              const metrics = await fetchUtilisation(
                cw,
                running.map((r) => ({
                  id: r.id,
                  kind: "ec2" as const,
                  dimension: r.id,
                  since: r.created_at ?? undefined,
                })),
                at,
                options.metricsWindowDays,
              );
              for (const r of batch) {
                const m = metrics.get(r.id);
                if (m) r.metrics = m;
              }
              resources += batch.length;
              if (batch.length > 0) yield batch;
              readOptions.onProgress?.({ resources, done: resources, total: undefined });
            }
            for await (const page of paginateDescribeVolumes(
              { client: ec2, pageSize: options.pageSize },
              {},
            )) {
              readOptions.signal?.throwIfAborted();
              const volumes = answered(page.Volumes, "EC2 DescribeVolumes", "volumeSet", region);
              const batch = volumes.map((v) => volumeResource(v, { account, region }));
              await dateDetachments(cw, batch, at, options.detachLookbackDays);
              resources += batch.length;
              if (batch.length > 0) yield batch;
              readOptions.onProgress?.({ resources, done: resources, total: undefined });
            }
            const rdsPage = Math.min(100, Math.max(20, options.pageSize));
            for await (const page of paginateDescribeDBInstances({ client: rds, pageSize: rdsPage }, {})) {
              readOptions.signal?.throwIfAborted();
              const databases = answered(page.DBInstances, "RDS DescribeDBInstances", "DBInstances", region);
              const batch = databases.map((d) => databaseResource(d, region, prices, account));
              const live = databases.filter((d) => d.DBInstanceStatus === "available");
              const byName = new Map(batch.map((r) => [r.name, r]));
              const metrics = await fetchUtilisation(
                cw,
                live.map((d) => ({
                  id: d.DBInstanceIdentifier!,
                  kind: "rds" as const,
                  dimension: d.DBInstanceIdentifier!,
                  since: d.InstanceCreateTime,
                })),
                at,
                options.metricsWindowDays,
              );
              for (const [name, m] of metrics) {
                const r = byName.get(name);
                if (r) r.metrics = m;
              }
              resources += batch.length;
              if (batch.length > 0) yield batch;
              readOptions.onProgress?.({ resources, done: resources, total: undefined });
            }
          } finally {
            ec2.destroy();
            rds.destroy();
            cw.destroy();
          }
        }
      }
    },
  };
}

/**
 * The regions enabled for the account the credentials (or `roleArn`) reach, sorted: those that need no
 * opt-in and those opted in to, as EC2 DescribeRegions lists them, asked in the first configured region.
 */
async function enabledRegions(
  options: AwsInventoryOptions,
  roleArn: string | undefined,
  stats: RetryStats,
): Promise<string[]> {
  const home = options.regions[0] ?? "us-east-1";
  const ec2 = new EC2Client(clientConfig(options, home, roleArn, stats));
  try {
    const answer = await ec2.send(new DescribeRegionsCommand({ AllRegions: false }));
    const regions = answered(answer.Regions, "EC2 DescribeRegions", "regionInfo", home);
    return regions
      .filter((r) => r.RegionName && r.OptInStatus !== "not-opted-in")
      .map((r) => r.RegionName!)
      .sort();
  } finally {
    ec2.destroy();
  }
}

/**
 * The account the credentials (the standard chain, or --profile) are of, as STS GetCallerIdentity says
 * (a call every identity may make, with no IAM permission). Nothing else tells it for sure: EC2 gives an
 * owner only with a reservation, so a region without instances would leave every volume of no account.
 */
async function callerAccount(options: AwsInventoryOptions, stats: RetryStats): Promise<string> {
  const home = options.regions[0] ?? "us-east-1";
  const sts = new STSClient(clientConfig(options, home, undefined, stats));
  try {
    const answer = await sts.send(new GetCallerIdentityCommand({}));
    return answered(answer.Account, "STS GetCallerIdentity", "Account", home);
  } finally {
    sts.destroy();
  }
}

/**
 * The list a page of a Describe call holds (or the field an answer holds). EC2 and RDS always send its
 * element, empty when there is nothing (`<reservationSet/>`), and STS always says the account, so an
 * answer without it is not theirs: a proxy's or captive portal's page, or --endpoint naming some other
 * web server. The SDK reads such a body as a page of nothing; taken as such, the scan would report an
 * empty estate and exit 0.
 */
function answered<T>(value: T | undefined, call: string, element: string, region: string): T {
  if (value !== undefined) return value;
  throw new InputError(
    `aws: ${call} in ${region} answered without ${element}: the answer did not come from AWS (a proxy or captive portal in between, or --endpoint naming another server?)`,
  );
}

/** What every AWS client of a scan, or of acting on what it found, is configured with. */
export interface AwsClientConfig {
  region: string;
  retryStrategy: ReturnType<typeof backoffRetryStrategy>;
  maxAttempts: number;
  endpoint?: string;
  credentials?: ReturnType<typeof fromIni>;
}

export function clientConfig(
  options: AwsInventoryOptions,
  region: string,
  roleArn: string | undefined,
  stats: RetryStats,
): AwsClientConfig {
  const retryStrategy = backoffRetryStrategy(options.backoff, stats);
  const endpoint = options.endpoint ? { endpoint: options.endpoint } : {};
  // --profile is the profile's credentials (keys, a role, SSO, a process), as the AWS CLI's --profile:
  // the whole chain given a profile printed the SDK's warning of both when keys were in the
  // environment too, and said of a profile the files do not hold only that no provider had credentials.
  const profile = options.profile ? fromIni({ profile: options.profile }) : undefined;
  let credentials: ReturnType<typeof fromIni> | undefined;
  if (roleArn) {
    credentials = fromTemporaryCredentials({
      params: { RoleArn: roleArn, RoleSessionName: "costguard-scan" },
      clientConfig: { region, retryStrategy, ...endpoint },
      ...(profile ? { masterCredentials: profile } : {}),
    });
  } else if (profile) {
    credentials = profile;
  }
  return {
    region,
    retryStrategy,
    maxAttempts: options.backoff.maxAttempts,
    ...endpoint,
    ...(credentials ? { credentials } : {}),
  };
}

/**
 * AWS does not say when a volume was detached. Its last VolumeIdleTime datapoint does (EBS reports
 * it only while attached); with none in the look-back window the volume has been detached at least
 * since the window began (or since it was created, if later).
 */
async function dateDetachments(
  cw: CloudWatchClient,
  volumes: Resource[],
  at: Date,
  lookbackDays: number,
): Promise<void> {
  const detached = volumes.filter((v) => !v.attached_to && v.state === "available");
  if (detached.length === 0) return;
  const activity = await lastVolumeActivity(
    cw,
    detached.map((v) => v.id),
    at,
    lookbackDays,
  );
  const windowStart = at.getTime() - lookbackDays * DAY_MS;
  for (const v of detached) {
    const last = activity.get(v.id);
    const created = v.created_at ? Date.parse(v.created_at) : windowStart;
    v.detached_at = new Date(last ? last.getTime() : Math.max(created, windowStart)).toISOString();
  }
}
