import { readFileSync } from "node:fs";
import { type Amount, formatAmount, parseAmount } from "../money/exact.js";

/** One instance type as a price table knows it. */
export interface InstanceShape {
  instance_type: string;
  /** The family series the type belongs to (`m5` for `m5.xlarge`): resize targets stay in it. */
  series: string;
  /** The guide's instance family vocabulary: general-purpose, compute-optimized, gpu, ... */
  category: string;
  vcpus: number;
  memory_gb: number;
  gpus: number;
  /** Exact hourly on-demand price in `currency`. */
  hourly: Amount;
  hourly_text: string;
}

/**
 * What the scanner and the sandbox need from a price book. The embedded EC2 table implements it
 * now; the price book (src/pricing) can implement the same interface and plug in unchanged.
 */
export interface PriceLookup {
  readonly currency: string;
  instanceType(type: string): InstanceShape | undefined;
  /** Every type of a series, cheapest first. */
  seriesTypes(series: string): readonly InstanceShape[];
}

export function ec2PriceTableFromCsv(text: string, where: string): PriceLookup {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== "");
  const header = (lines.shift() ?? "").split(",");
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`${where}: no column ${name}`);
    return i;
  };
  const c = {
    type: col("instance_type"),
    family: col("family"),
    category: col("category"),
    vcpus: col("vcpus"),
    memory: col("memory_gib"),
    gpus: col("gpus"),
    hourly: col("hourly_usd"),
  };
  const byType = new Map<string, InstanceShape>();
  const bySeries = new Map<string, InstanceShape[]>();
  for (const line of lines) {
    const f = line.split(",");
    const hourlyText = f[c.hourly] ?? "";
    if (hourlyText === "") continue;
    const hourly = parseAmount(hourlyText, `${where}: hourly_usd`);
    const shape: InstanceShape = {
      instance_type: f[c.type]!,
      series: f[c.family]!,
      category: f[c.category]!,
      vcpus: Number(f[c.vcpus]),
      memory_gb: Number(f[c.memory]),
      gpus: Number(f[c.gpus] ?? 0),
      hourly,
      hourly_text: formatAmount(hourly),
    };
    byType.set(shape.instance_type, shape);
    let list = bySeries.get(shape.series);
    if (!list) {
      list = [];
      bySeries.set(shape.series, list);
    }
    list.push(shape);
  }
  for (const list of bySeries.values())
    list.sort((a, b) => (a.hourly < b.hourly ? -1 : a.hourly > b.hourly ? 1 : a.vcpus - b.vcpus));
  return {
    currency: "USD",
    instanceType: (type) => byType.get(type),
    seriesTypes: (series) => bySeries.get(series) ?? [],
  };
}

/** The EC2 us-east-1 on-demand table shipped in data/scan (see its README for provenance). */
export function loadEmbeddedEc2Prices(): PriceLookup {
  for (const rel of ["../../data/scan/aws-ec2-us-east-1.csv", "../../../data/scan/aws-ec2-us-east-1.csv"]) {
    const url = new URL(rel, import.meta.url);
    let text: string;
    try {
      text = readFileSync(url, "utf8");
    } catch {
      continue; // the other layout (source or dist)
    }
    return ec2PriceTableFromCsv(text, "data/scan/aws-ec2-us-east-1.csv");
  }
  throw new Error("the embedded price table data/scan/aws-ec2-us-east-1.csv is missing");
}
