import { duplicateKey, duplicateKeyMessage } from "../json-duplicates.js";
import { CostValue } from "./decimal-sums.js";
import type { CostColumn, DimensionColumn, FocusVersion } from "./focus-columns.js";

/** The attributes a budget selector matches a charge on. */
export interface ChargeDimensions {
  provider: string | null;
  subAccountId: string | null;
  subAccountName: string | null;
  service: string | null;
  regionId: string | null;
  regionName: string | null;
  tags: Readonly<Record<string, string>>;
  /** ResourceId, when the reader was asked for it (`IngestOptions.dimensions`); null otherwise. */
  resourceId: string | null;
  /** PricingUnit, when the reader was asked for it; null otherwise. */
  pricingUnit: string | null;
}

/**
 * One billing row as a reader hands it to a sink. Readers reuse one instance for every row (ingest makes
 * no object per row): a sink must copy what it keeps before returning.
 */
export class ChargeRecord {
  /** Line number (CSV) or 1-based row number (Parquet). */
  line = 0;
  /** ChargePeriodStart / ChargePeriodEnd in ms since the epoch (end NaN when null). */
  start = 0;
  end = Number.NaN;
  currency = "";
  /** Parsed costs, indexed like the `costColumns` the reader was asked for. */
  readonly costs: CostValue[];
  /**
   * An exact key of the dimension values (equal keys mean equal dimensions while `keyEpoch` is
   * unchanged), so sinks can cache what they derive from them. Readers number distinct dimension sets
   * 0, 1, 2, ... within an epoch (a bounded count), so a key can index an array. `dimensions()` decodes them, and may
   * only be called during the sink call.
   */
  dimensionKey = 0;
  /** Changes when the reader forgets its keys (bounded memory): sinks then drop their caches. */
  keyEpoch = 0;
  dimensions: () => ChargeDimensions = () => EMPTY_DIMENSIONS;

  constructor(costColumns: number) {
    this.costs = Array.from({ length: costColumns }, () => new CostValue());
  }
}

export const EMPTY_DIMENSIONS: ChargeDimensions = Object.freeze({
  provider: null,
  subAccountId: null,
  subAccountName: null,
  service: null,
  regionId: null,
  regionName: null,
  tags: Object.freeze({}),
  resourceId: null,
  pricingUnit: null,
});

/** A row that could not be read: where, which column, and why. */
export interface MalformedRow {
  line: number;
  column: string;
  message: string;
  /** The offending value, cut to 80 characters. */
  value?: string;
}

export interface IngestOptions {
  /** Which cost columns to parse (the budgets in use decide). */
  costColumns: readonly CostColumn[];
  /**
   * Dimension columns the sink matches on (default: every budget dimension, not ResourceId): only these
   * make up the dimension key.
   */
  dimensions?: readonly DimensionColumn[];
  /**
   * Dimension columns the caller cannot do without (those budget selectors match on), each as the
   * columns any one of which will do (`RegionId` or `RegionName`): a file with none of a group is bad
   * input, not a file where no charge matches.
   */
  requiredDimensions?: readonly (readonly DimensionColumn[])[];
  /** Fail on the first malformed row instead of counting it. */
  strict?: boolean;
  /** How many malformed rows to keep in detail (all are counted). Default 100. */
  maxReportedProblems?: number;
}

export interface IngestReport {
  file: string;
  format: "csv" | "csv.gz" | "parquet";
  focusVersion: FocusVersion;
  rows: number;
  /** Rows handed to the sink (rows − malformed). */
  charges: number;
  malformed: number;
  problems: MalformedRow[];
  ignoredColumns: string[];
  bytes: number;
}

export type ChargeSink = (charge: ChargeRecord) => void;

/** A malformed row as one line for people: `FILE:LINE: column C: why (value "...")`. */
export function malformedRowLine(file: string, p: MalformedRow): string {
  return `${file}:${p.line}: column ${p.column}: ${p.message}${p.value === undefined ? "" : ` (value ${JSON.stringify(p.value)})`}`;
}

export function cut(value: string): string {
  return value.length > 80 ? `${value.slice(0, 77)}...` : value;
}

/** Tags holding a key twice: which value a budget's selector should see is unknown. */
export class DuplicateTagError extends SyntaxError {}

/**
 * Parses the FOCUS `Tags` column: a JSON object; values that are not strings become their JSON text.
 * A key written twice (`{"team":"a","team":"b"}`) is refused: JSON.parse kept the last, and a budget
 * for team a would miss the charge while the row shows it (parsed once per distinct Tags text).
 */
export function parseTags(text: string): Record<string, string> {
  const value: unknown = JSON.parse(text);
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new SyntaxError("Tags must be a JSON object");
  }
  const dup = duplicateKey(text);
  if (dup !== undefined) throw new DuplicateTagError(duplicateKeyMessage(dup.key));
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (v === null || v === undefined) continue;
    out[k] = typeof v === "string" ? v : JSON.stringify(v);
  }
  return out;
}
