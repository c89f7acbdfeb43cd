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
}

/**
 * Average CPU and network per day over the window, one GetMetricData query set per resource:
 * EC2 CPUUtilization (Average) with NetworkIn + NetworkOut (Sum, divided by the days);
 * RDS CPUUtilization with NetworkReceive/TransmitThroughput (Average bytes/second × 86,400).
 * A resource with no CPU datapoints gets no metrics (the idle detector then cannot judge it).
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
    const netIn = values.get(`m${i}_netin`) ?? [];
    const netOut = values.get(`m${i}_netout`) ?? [];
    const network =
      t.kind === "ec2" ? (sum(netIn) + sum(netOut)) / windowDays : (mean(netIn) + mean(netOut)) * DAY_S;
    out.set(t.id, {
      avg_cpu_percent: Math.round(mean(cpu) * 100) / 100,
      avg_network_bytes: Math.round(network),
      window_days: windowDays,
    });
  });
  return out;
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
