import {
  type CloudWatchClient,
  type MetricDataQuery,
  paginateGetMetricData,
} from "@aws-sdk/client-cloudwatch";
import type { ResourceMetrics } from "../types.js";

const MAX_QUERIES = 500; // GetMetricData's limit per request
const DAY_S = 86_400;

export interface UtilisationTarget {
  /** The resource id the metrics belong to. */
  id: string;
  kind: "ec2" | "rds";
  /** InstanceId for EC2, DBInstanceIdentifier for RDS. */
  dimension: string;
  /**
   * When it started running (EC2 LaunchTime, which a start after a stop resets; RDS
   * InstanceCreateTime): its metrics cover the time since, if that is less than the window.
   */
  since?: Date | string | undefined;
}

/**
 * Average CPU and network per day over the window, one GetMetricData query set per resource:
 * EC2 CPUUtilization (Average) with NetworkIn + NetworkOut (Sum, divided by the days);
 * RDS CPUUtilization with NetworkReceive/TransmitThroughput (Average bytes/second × 86,400).
 * A resource with no CPU datapoints gets no metrics (the idle detector then cannot judge it).
 * `window_days` is the days the metrics cover: the window, or less for a resource younger than it,
 * which the idle detector then does not judge (an hour of low CPU is not a week idle).
 */
export async function fetchUtilisation(
  cw: CloudWatchClient,
  targets: readonly UtilisationTarget[],
  at: Date,
  windowDays: number,
): Promise<Map<string, ResourceMetrics>> {
  const period = Math.max(60, Math.round((windowDays * DAY_S) / 60) * 60);
  const queries: MetricDataQuery[] = [];
  targets.forEach((t, i) => {
    const ns = t.kind === "ec2" ? "AWS/EC2" : "AWS/RDS";
    const dim = t.kind === "ec2" ? "InstanceId" : "DBInstanceIdentifier";
    const q = (id: string, metric: string, stat: string): MetricDataQuery => ({
      Id: `m${i}_${id}`,
      MetricStat: {
        Metric: { Namespace: ns, MetricName: metric, Dimensions: [{ Name: dim, Value: t.dimension }] },
        Period: period,
        Stat: stat,
      },
      ReturnData: true,
    });
    queries.push(q("cpu", "CPUUtilization", "Average"));
    if (t.kind === "ec2") {
      queries.push(q("netin", "NetworkIn", "Sum"), q("netout", "NetworkOut", "Sum"));
    } else {
      queries.push(
        q("netin", "NetworkReceiveThroughput", "Average"),
        q("netout", "NetworkTransmitThroughput", "Average"),
      );
    }
  });
  const values = await runQueries(cw, queries, new Date(at.getTime() - windowDays * DAY_S * 1000), at);
  const out = new Map<string, ResourceMetrics>();
  targets.forEach((t, i) => {
    const cpu = values.get(`m${i}_cpu`);
    if (!cpu || cpu.length === 0) return;
    const days = coveredDays(t.since, at, windowDays);
    if (days <= 0) return;
    const netIn = values.get(`m${i}_netin`) ?? [];
    const netOut = values.get(`m${i}_netout`) ?? [];
    // Bytes per day of the days it ran, not spread over a window it was not there for.
    const network =
      t.kind === "ec2" ? (sum(netIn) + sum(netOut)) / days : (mean(netIn) + mean(netOut)) * DAY_S;
    out.set(t.id, {
      avg_cpu_percent: Math.round(mean(cpu) * 100) / 100,
      avg_network_bytes: Math.round(network),
      // Rounded down: 6.999 days must not read as the 7 the detector asks for.
      window_days: Math.floor(days * 100) / 100,
    });
  });
  return out;
}

/** The days of the window up to `at` since `since` (all of it when unknown; 0 when not yet there). */
function coveredDays(since: Date | string | undefined, at: Date, windowDays: number): number {
  const start = since === undefined ? Number.NaN : new Date(since).getTime();
  if (Number.isNaN(start)) return windowDays;
  return Math.min(windowDays, Math.max(0, (at.getTime() - start) / (DAY_S * 1000)));
}

/**
 * When each detached volume was last in use: the newest hour with a VolumeIdleTime datapoint
 * (EBS publishes it only while attached), within `lookbackDays`. Absent when none was found.
 */
export async function lastVolumeActivity(
  cw: CloudWatchClient,
  volumeIds: readonly string[],
  at: Date,
  lookbackDays: number,
): Promise<Map<string, Date>> {
  const queries: MetricDataQuery[] = volumeIds.map((id, i) => ({
    Id: `v${i}`,
    MetricStat: {
      Metric: {
        Namespace: "AWS/EBS",
        MetricName: "VolumeIdleTime",
        Dimensions: [{ Name: "VolumeId", Value: id }],
      },
      Period: 3600,
      Stat: "Sum",
    },
    ReturnData: true,
  }));
  const stamps = await runQueries(
    cw,
    queries,
    new Date(at.getTime() - lookbackDays * DAY_S * 1000),
    at,
    true,
  );
  const out = new Map<string, Date>();
  volumeIds.forEach((id, i) => {
    const latest = stamps.get(`v${i}`);
    if (latest && latest.length > 0) out.set(id, new Date(Math.max(...latest) + 3600_000));
  });
  return out;
}

/** Runs queries in requests of 500, following NextToken; returns values (or timestamps) by query id. */
async function runQueries(
  cw: CloudWatchClient,
  queries: readonly MetricDataQuery[],
  start: Date,
  end: Date,
  timestamps = false,
): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  for (let i = 0; i < queries.length; i += MAX_QUERIES) {
    const pages = paginateGetMetricData(
      { client: cw },
      {
        MetricDataQueries: queries.slice(i, i + MAX_QUERIES),
        StartTime: start,
        EndTime: end,
        ScanBy: "TimestampDescending",
      },
    );
    for await (const page of pages) {
      for (const r of page.MetricDataResults ?? []) {
        if (!r.Id) continue;
        const list = out.get(r.Id) ?? [];
        if (timestamps) for (const t of r.Timestamps ?? []) list.push(new Date(t).getTime());
        else list.push(...(r.Values ?? []));
        out.set(r.Id, list);
      }
    }
  }
  return out;
}

function sum(xs: readonly number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : sum(xs) / xs.length;
}
