import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { parquetWriteBuffer } from "hyparquet-writer";
import {
  FOCUS_1_0_COLUMNS,
  FOCUS_1_1_ADDED,
  FOCUS_1_2_ADDED,
  type FocusVersion,
} from "../../src/budget/focus-columns.js";
import { loadPolicies } from "../../src/policy/load.js";

/** Test helpers: FOCUS billing files of each version, written from a few charges. */
export interface TestCharge {
  start: string;
  end?: string | null;
  cost: string;
  billed?: string;
  list?: string;
  currency?: string;
  provider?: string;
  service?: string;
  region?: string;
  subAccount?: string;
  tags?: Record<string, string> | null | string;
  description?: string;
  [column: string]: unknown;
}

export function columnsFor(version: FocusVersion, custom: string[] = []): string[] {
  const cols: string[] = [...FOCUS_1_0_COLUMNS];
  if (version !== "1.0") cols.push(...FOCUS_1_1_ADDED);
  if (version === "1.2") cols.push(...FOCUS_1_2_ADDED);
  return [...cols, ...custom];
}

function columnValue(c: TestCharge, column: string): string | null {
  switch (column) {
    case "ChargePeriodStart":
      return c.start;
    case "ChargePeriodEnd":
      return c.end === undefined ? null : c.end;
    case "EffectiveCost":
      return c.cost;
    case "BilledCost":
      return c.billed ?? c.cost;
    case "ListCost":
      return c.list ?? c.cost;
    case "BillingCurrency":
      return c.currency ?? "USD";
    case "ProviderName":
      return c.provider ?? "AWS";
    case "ServiceName":
      return c.service ?? "Amazon Elastic Compute Cloud";
    case "RegionId":
      return c.region ?? "us-east-1";
    case "SubAccountId":
      return c.subAccount ?? "111111111111";
    case "Tags":
      return c.tags === undefined || c.tags === null
        ? null
        : typeof c.tags === "string"
          ? c.tags
          : JSON.stringify(c.tags);
    case "ChargeDescription":
      return c.description ?? "test charge";
    default:
      return typeof c[column] === "string" ? (c[column] as string) : null;
  }
}

const quote = (v: string | null) => (v === null ? "NULL" : `"${v.replaceAll('"', '""')}"`);

export function focusCsv(
  charges: readonly TestCharge[],
  version: FocusVersion = "1.0",
  custom: string[] = [],
): string {
  const cols = columnsFor(version, custom);
  const lines = [cols.map((c) => `"${c}"`).join(",")];
  for (const c of charges) lines.push(cols.map((col) => quote(columnValue(c, col))).join(","));
  return `${lines.join("\n")}\n`;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "costguard-budget-"));
}

export function writeFocusCsv(
  dir: string,
  name: string,
  charges: readonly TestCharge[],
  version: FocusVersion = "1.0",
  custom: string[] = [],
): string {
  const file = join(dir, name);
  const text = focusCsv(charges, version, custom);
  writeFileSync(file, name.endsWith(".gz") ? gzipSync(text) : text);
  return file;
}

/** A Parquet file written by a real Parquet writer (hyparquet-writer): timestamps as TIMESTAMP, costs as DOUBLE. */
export function writeFocusParquet(
  dir: string,
  name: string,
  charges: readonly TestCharge[],
  version: FocusVersion = "1.2",
  rowGroupSize = 2,
): string {
  const cols = columnsFor(version, ["x_Custom"]);
  const toDate = (t: string | null) =>
    t === null ? null : new Date(t.includes("T") ? t : `${t.replace(" ", "T")}Z`);
  const columnData = cols.map((name) => {
    if (name === "ChargePeriodStart" || name === "ChargePeriodEnd") {
      return {
        name,
        data: charges.map((c) => toDate(columnValue(c, name))),
        type: "TIMESTAMP" as const,
        nullable: true,
      };
    }
    if (name === "EffectiveCost" || name === "BilledCost" || name === "ListCost") {
      return {
        name,
        data: charges.map((c) => Number(columnValue(c, name))),
        type: "DOUBLE" as const,
        nullable: true,
      };
    }
    return { name, data: charges.map((c) => columnValue(c, name)), type: "STRING" as const, nullable: true };
  });
  const file = join(dir, name);
  writeFileSync(file, Buffer.from(parquetWriteBuffer({ columnData, rowGroupSize })));
  return file;
}

/** A Parquet file of the columns given, as they are given (physical types, DECIMAL overrides and all). */
export function writeParquetColumns(
  dir: string,
  name: string,
  options: Parameters<typeof parquetWriteBuffer>[0],
): string {
  const file = join(dir, name);
  writeFileSync(file, Buffer.from(parquetWriteBuffer(options)));
  return file;
}

/**
 * The smallest FOCUS Parquet budgets read, `rows` hourly charges of 1 USD each (the tester's layout:
 * timestamps as text, EffectiveCost INT64, Tags JSON text) in row groups of `rowGroupSize`; `writer`
 * adds options (a codec and its compressor).
 */
export function writeHourlyParquet(
  dir: string,
  name: string,
  rows: number,
  rowGroupSize: number,
  writer: Partial<Parameters<typeof parquetWriteBuffer>[0]> = {},
): string {
  const hour = (i: number, minutes: string) =>
    new Date(Date.parse("2024-09-01T00:00:00Z") + i * 3_600_000).toISOString().replace(":00:00.000", minutes);
  return writeParquetColumns(dir, name, {
    columnData: [
      {
        name: "ChargePeriodStart",
        data: Array.from({ length: rows }, (_, i) => hour(i, ":00:00")),
        type: "STRING",
      },
      {
        name: "ChargePeriodEnd",
        data: Array.from({ length: rows }, (_, i) => hour(i, ":30:00")),
        type: "STRING",
      },
      { name: "BillingCurrency", data: Array.from({ length: rows }, () => "USD"), type: "STRING" },
      { name: "EffectiveCost", data: BigInt64Array.from({ length: rows }, () => 1n), type: "INT64" },
      {
        name: "Tags",
        data: Array.from({ length: rows }, (_, i) => JSON.stringify({ team: `t${i % 7}` })),
        type: "STRING",
      },
    ],
    rowGroupSize,
    ...writer,
  });
}

/** Writes `yaml` as budgets.yaml in `dir` and loads it. */
export function policiesFrom(dir: string, yaml: string) {
  const file = join(dir, "budgets.yaml");
  writeFileSync(file, yaml);
  return loadPolicies([file]).policies;
}

/** A BudgetLimit policy named `name` with `rules` (YAML list items, indented four spaces), loaded. */
export function budgetPolicy(dir: string, name: string, rules: string) {
  return policiesFrom(
    dir,
    `apiVersion: costguard.dev/v1\nkind: CostPolicy\nmetadata: {name: ${name}}\nspec:\n  type: BudgetLimit\n  rules:\n${rules}`,
  );
}
