import { formatAmount, monthlyFromHourly, parseAmount, times } from "../../money/exact.js";
import type { InstanceShape, PriceLookup } from "../../scan/prices.js";
import {
  EBS_VOLUME_CLASS,
  SANDBOX_LOAD_BALANCER_HOURLY_USD,
  SANDBOX_SNAPSHOT_GB_MONTH_USD,
} from "../aws-catalog.js";
import type { Resource, ResourceMetrics } from "../types.js";
import { type Random, seededRandom } from "./random.js";

/**
 * The sandbox estate: a deterministic, realistic simulated AWS estate built from a seed. Real EC2
 * instance types and prices; volumes attached and detached; databases; load balancers; snapshots;
 * tags complete, missing and malformed; utilisation with a share of idle machines.
 */
export interface EstateOptions {
  resources: number;
  seed: string | number;
  /** The estate's "now": creation times, detach times and metrics windows are relative to it. */
  at: Date;
}

interface Team {
  team: string;
  costCenter: string;
  owner: string;
  projects: readonly string[];
}

export const SANDBOX_TEAMS: readonly Team[] = [
  { team: "payments", costCenter: "CC-104233", owner: "maria@company.com", projects: ["ledger", "checkout"] },
  { team: "search", costCenter: "CC-220871", owner: "kenji@company.com", projects: ["indexer", "query"] },
  {
    team: "data-platform",
    costCenter: "CC-318540",
    owner: "olu@company.com",
    projects: ["lakehouse", "ingest"],
  },
  {
    team: "ml-research",
    costCenter: "CC-402916",
    owner: "priya@company.com",
    projects: ["training", "notebooks"],
  },
  { team: "web", costCenter: "CC-517302", owner: "lucas@company.com", projects: ["storefront", "cms"] },
  { team: "identity", costCenter: "CC-623884", owner: "sofia@company.com", projects: ["auth", "directory"] },
];

const ACCOUNTS = [
  { id: "210987654321", environment: "production", weight: 5 },
  { id: "345678901234", environment: "staging", weight: 3 },
  { id: "456789012345", environment: "development", weight: 2 },
] as const;
const REGIONS = [
  ["us-east-1", 6],
  ["us-west-2", 3],
  ["eu-west-1", 2],
] as const;

/** Instance series and how common they are (real EC2 families from the embedded table). */
const INSTANCE_SERIES = [
  ["m5", 10],
  ["m6i", 10],
  ["m7g", 6],
  ["t3", 10],
  ["t3a", 5],
  ["c5", 6],
  ["c6i", 6],
  ["c7g", 3],
  ["r5", 5],
  ["r6i", 5],
  ["g4dn", 2],
  ["g5", 2],
  ["x1e", 1],
  ["x2iedn", 1],
  ["i3", 2],
] as const;
const DB_SERIES = [
  ["m5", 4],
  ["m6g", 3],
  ["r5", 3],
  ["r6g", 2],
  ["t3", 4],
] as const;
const VOLUME_TYPES = [
  ["gp3", 10],
  ["gp2", 5],
  ["io1", 2],
  ["io2", 1],
  ["st1", 1],
  ["sc1", 1],
  ["standard", 1],
] as const;
const ROLES = ["api", "worker", "batch", "web", "cache", "etl", "jobs"];
const DAY = 86_400_000;

export function generateEstate(options: EstateOptions, prices: PriceLookup): Resource[] {
  const rnd = seededRandom(options.seed);
  const now = options.at.getTime();
  const n = Math.max(0, Math.floor(options.resources));
  const counts = split(n, [0.42, 0.33, 0.12, 0.06, 0.07]);
  const instances: Resource[] = [];
  const volumes: Resource[] = [];
  const out: Resource[] = [];
  let serial = 0;
  const name = (team: Team, project: string, role: string) =>
    `${team.team}-${project}-${role}-${String(++serial).padStart(3, "0")}`;

  for (let i = 0; i < counts[0]!; i++) {
    const ctx = placement(rnd);
    const shape = pickShape(rnd, prices, INSTANCE_SERIES);
    const running = rnd.chance(0.9);
    const created = createdAt(rnd, now);
    const r: Resource = {
      id: `i-${rnd.hex(17)}`,
      type: "compute/instance",
      name: name(ctx.team, ctx.project, rnd.pick(ROLES)),
      provider: "aws",
      account: ctx.account,
      region: ctx.region,
      state: running ? "running" : "stopped",
      created_at: new Date(created).toISOString(),
      tags: tags(rnd, ctx),
      specs: instanceSpecs(shape),
      hourly_cost: shape.hourly_text,
      monthly_cost: formatAmount(monthlyFromHourly(shape.hourly)),
      currency: "USD",
    };
    if (running) r.metrics = utilisation(rnd, 0.16);
    instances.push(r);
  }

  for (let i = 0; i < counts[1]!; i++) {
    const attachTo = instances.length > 0 && rnd.chance(0.78) ? rnd.pick(instances) : undefined;
    const ctx = placement(rnd);
    const apiType = rnd.weighted(VOLUME_TYPES);
    const root = attachTo !== undefined && rnd.chance(0.5);
    const size = root
      ? rnd.pick([8, 20, 30, 50, 100])
      : rnd.pick([50, 100, 200, 500, 750, 1000, 1500, 2000, 4000]);
    const base = attachTo ? Date.parse(attachTo.created_at!) : createdAt(rnd, now);
    const specs: Record<string, unknown> = {
      size_gb: size,
      volume_type: EBS_VOLUME_CLASS[apiType]!,
      volume_sku: apiType,
      ...(apiType === "io1" || apiType === "io2" ? { iops: rnd.pick([3000, 6000, 10000]) } : {}),
    };
    const monthly = priced(prices, { id: "vol", type: "storage/volume", provider: "aws", specs });
    const v: Resource = {
      id: `vol-${rnd.hex(17)}`,
      type: "storage/volume",
      name: attachTo ? `${attachTo.name}-${root ? "root" : "data"}` : name(ctx.team, ctx.project, "data"),
      provider: "aws",
      account: attachTo?.account ?? ctx.account,
      region: attachTo?.region ?? ctx.region,
      created_at: new Date(base).toISOString(),
      tags: attachTo && rnd.chance(0.85) ? { ...attachTo.tags } : tags(rnd, ctx),
      specs,
      hourly_cost: formatAmount(hourlyOf(monthly)),
      monthly_cost: formatAmount(monthly),
      currency: "USD",
    };
    if (attachTo) {
      v.state = "in-use";
      v.attached_to = attachTo.id;
      v.specs!.delete_on_termination = root;
    } else {
      v.state = "available";
      v.attached_to = null;
      const age = (now - base) / DAY;
      // Three in ten detached within the last week (under the default threshold), the rest longer ago.
      const detachedDays = rnd.chance(0.3) ? rnd.between(0.1, 6.9) : rnd.between(7.5, 120);
      v.detached_at = new Date(now - Math.min(age, detachedDays) * DAY).toISOString();
    }
    volumes.push(v);
  }

  for (let i = 0; i < counts[2]!; i++) {
    const ctx = placement(rnd);
    const engine = rnd.pick(["postgres", "mysql"]);
    const shape = pickShape(
      rnd,
      prices,
      DB_SERIES,
      (s) => prices.databaseHourly(`db.${s.instance_type}`, engine) !== undefined,
    );
    const hourly = prices.databaseHourly(`db.${shape.instance_type}`, engine)!;
    const storage = rnd.pick([20, 100, 250, 500, 1000, 2000]);
    const dbSpecs = {
      ...instanceSpecs(shape),
      instance_type: `db.${shape.instance_type}`,
      storage_gb: storage,
      storage_type: "gp3",
      engine,
    };
    const monthly = priced(prices, { id: "db", type: "database/instance", provider: "aws", specs: dbSpecs });
    const running = rnd.chance(0.95);
    const d: Resource = {
      id: `db-${rnd.hex(20).toUpperCase()}`,
      type: "database/instance",
      name: name(ctx.team, ctx.project, "db"),
      provider: "aws",
      account: ctx.account,
      region: ctx.region,
      state: running ? "available" : "stopped",
      created_at: new Date(createdAt(rnd, now)).toISOString(),
      tags: tags(rnd, ctx),
      specs: dbSpecs,
      hourly_cost: formatAmount(hourly),
      monthly_cost: formatAmount(monthly),
      currency: "USD",
    };
    if (running) d.metrics = utilisation(rnd, 0.1);
    out.push(d);
  }

  for (let i = 0; i < counts[3]!; i++) {
    const ctx = placement(rnd);
    const hourly = parseAmount(SANDBOX_LOAD_BALANCER_HOURLY_USD);
    out.push({
      id: `lb-${rnd.hex(16)}`,
      type: "network/load-balancer",
      name: name(ctx.team, ctx.project, "alb"),
      provider: "aws",
      account: ctx.account,
      region: ctx.region,
      state: "active",
      created_at: new Date(createdAt(rnd, now)).toISOString(),
      tags: tags(rnd, ctx),
      specs: { lb_type: "application" },
      hourly_cost: formatAmount(hourly),
      monthly_cost: formatAmount(monthlyFromHourly(hourly)),
      currency: "USD",
    });
  }

  for (let i = 0; i < counts[4]!; i++) {
    const source = volumes.length > 0 ? rnd.pick(volumes) : undefined;
    const ctx = placement(rnd);
    const size = (source?.specs?.size_gb as number | undefined) ?? 100;
    const monthly = times(parseAmount(SANDBOX_SNAPSHOT_GB_MONTH_USD), size);
    out.push({
      id: `snap-${rnd.hex(17)}`,
      type: "storage/snapshot",
      name: `${source?.name ?? name(ctx.team, ctx.project, "backup")}-snap`,
      provider: "aws",
      account: source?.account ?? ctx.account,
      region: source?.region ?? ctx.region,
      state: "completed",
      created_at: new Date(now - rnd.between(1, 400) * DAY).toISOString(),
      tags: source && rnd.chance(0.7) ? { ...source.tags } : tags(rnd, ctx),
      specs: { size_gb: size, source_volume: source?.id ?? null },
      hourly_cost: formatAmount(hourlyOf(monthly)),
      monthly_cost: formatAmount(monthly),
      currency: "USD",
    });
  }
  return [...instances, ...volumes, ...out];
}

export function instanceSpecs(shape: InstanceShape): Record<string, unknown> {
  return {
    vcpus: shape.vcpus,
    memory_gb: shape.memory_gb,
    instance_family: shape.category,
    instance_type: shape.instance_type,
    ...(shape.gpus > 0 ? { gpus: shape.gpus } : {}),
  };
}

/** The price book's monthly figure for a sandbox resource, at the reference region's list prices. */
function priced(prices: PriceLookup, r: Resource): bigint {
  const e = prices.estimate({ ...r, region: "us-east-1" });
  if (!e) throw new Error(`the price book cannot price the sandbox's ${r.type} ${JSON.stringify(r.specs)}`);
  return e.monthly;
}

function hourlyOf(monthly: bigint): bigint {
  return (monthly + 365n) / 730n;
}

function split(n: number, shares: readonly number[]): number[] {
  const counts = shares.map((s) => Math.floor(n * s));
  let rest = n - counts.reduce((a, b) => a + b, 0);
  for (let i = 0; rest > 0; i = (i + 1) % counts.length, rest--) counts[i]!++;
  return counts;
}

interface Placement {
  team: Team;
  project: string;
  account: string;
  environment: string;
  region: string;
}

function placement(rnd: Random): Placement {
  const team = rnd.pick(SANDBOX_TEAMS);
  const account = rnd.weighted(ACCOUNTS.map((a) => [a, a.weight] as const));
  return {
    team,
    project: rnd.pick(team.projects),
    account: account.id,
    environment: account.environment,
    region: rnd.weighted(REGIONS),
  };
}

function pickShape(
  rnd: Random,
  prices: PriceLookup,
  series: readonly (readonly [string, number])[],
  usable: (s: InstanceShape) => boolean = () => true,
): InstanceShape {
  const chosen = rnd.weighted(series);
  const sizes = prices
    .seriesTypes(chosen)
    .filter((s) => !s.instance_type.endsWith(".metal") && usable(s))
    .sort((a, b) => a.vcpus - b.vcpus);
  if (sizes.length === 0) throw new Error(`the price table has no ${chosen} instance types`);
  // Smaller sizes are far more common than the largest ones.
  return rnd.weighted(sizes.map((s, i) => [s, 1 / (i + 1)] as const));
}

function createdAt(rnd: Random, now: number): number {
  return Math.floor(now - rnd.between(1, 900) * DAY);
}

function utilisation(rnd: Random, idleShare: number): ResourceMetrics {
  const round2 = (x: number) => Math.round(x * 100) / 100;
  const p = rnd.next();
  if (p < idleShare)
    return {
      avg_cpu_percent: round2(rnd.between(0.1, 4.9)),
      avg_network_bytes: Math.round(rnd.between(10_000, 950_000)),
      window_days: 7,
    };
  if (p < idleShare + 0.05)
    // Close to the idle thresholds without crossing both.
    return rnd.chance(0.5)
      ? {
          avg_cpu_percent: round2(rnd.between(5, 9)),
          avg_network_bytes: Math.round(rnd.between(100_000, 900_000)),
          window_days: 7,
        }
      : {
          avg_cpu_percent: round2(rnd.between(1, 4.9)),
          avg_network_bytes: Math.round(rnd.between(1_000_001, 3_000_000)),
          window_days: 7,
        };
  if (p < idleShare + 0.35)
    return {
      avg_cpu_percent: round2(rnd.between(8, 25)),
      avg_network_bytes: Math.round(rnd.between(5e7, 5e9)),
      window_days: 7,
    };
  return {
    avg_cpu_percent: round2(rnd.between(25, 85)),
    avg_network_bytes: Math.round(rnd.between(1e9, 1e11)),
    window_days: 7,
  };
}

/** Six in ten complete, a quarter missing some, the rest malformed. */
function tags(rnd: Random, p: Placement): Record<string, string> {
  const t: Record<string, string> = {
    team: p.team.team,
    "cost-center": p.team.costCenter,
    environment: p.environment,
    owner: p.team.owner,
    project: p.project,
  };
  const quality = rnd.next();
  if (quality < 0.6) return t;
  if (quality < 0.85) {
    const keys = ["cost-center", "owner", "project", "environment", "team"];
    const drop = rnd.int(1, 3);
    for (let i = 0; i < drop; i++) delete t[rnd.pick(keys)];
    return t;
  }
  switch (rnd.int(0, 4)) {
    case 0:
      t["cost-center"] = `cc-${p.team.costCenter.slice(3)}`;
      break;
    case 1:
      t["cost-center"] = p.team.costCenter.slice(0, 7);
      break;
    case 2:
      t.owner = `${p.team.owner.split("@")[0]}.admin@Company.com`;
      break;
    case 3:
      t.environment = p.environment === "production" ? "prod" : "dev";
      break;
    default:
      t.project = p.project.slice(0, 2);
  }
  return t;
}
