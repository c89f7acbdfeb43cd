/**
 * FOCUS (FinOps Open Cost and Usage Specification) column sets, versions 1.0 to 1.2. A file's version is
 * recognised from the columns its header carries; ingest needs only a few of them.
 */
export const FOCUS_1_0_COLUMNS = [
  "AvailabilityZone",
  "BilledCost",
  "BillingAccountId",
  "BillingAccountName",
  "BillingCurrency",
  "BillingPeriodEnd",
  "BillingPeriodStart",
  "ChargeCategory",
  "ChargeClass",
  "ChargeDescription",
  "ChargeFrequency",
  "ChargePeriodEnd",
  "ChargePeriodStart",
  "CommitmentDiscountCategory",
  "CommitmentDiscountId",
  "CommitmentDiscountName",
  "CommitmentDiscountStatus",
  "CommitmentDiscountType",
  "ConsumedQuantity",
  "ConsumedUnit",
  "ContractedCost",
  "ContractedUnitPrice",
  "EffectiveCost",
  "InvoiceIssuerName",
  "ListCost",
  "ListUnitPrice",
  "PricingCategory",
  "PricingQuantity",
  "PricingUnit",
  "ProviderName",
  "PublisherName",
  "RegionId",
  "RegionName",
  "ResourceId",
  "ResourceName",
  "ResourceType",
  "ServiceCategory",
  "ServiceName",
  "SkuId",
  "SkuPriceId",
  "SubAccountId",
  "SubAccountName",
  "Tags",
] as const;

/** Columns FOCUS 1.1 added. */
export const FOCUS_1_1_ADDED = [
  "CapacityReservationId",
  "CapacityReservationStatus",
  "CommitmentDiscountQuantity",
  "CommitmentDiscountUnit",
  "ServiceSubcategory",
  "SkuMeter",
  "SkuPriceDetails",
] as const;

/** Columns FOCUS 1.2 added. */
export const FOCUS_1_2_ADDED = [
  "BillingAccountType",
  "InvoiceId",
  "PricingCurrency",
  "PricingCurrencyContractedUnitPrice",
  "PricingCurrencyEffectiveCost",
  "PricingCurrencyListUnitPrice",
  "SubAccountType",
] as const;

export type FocusVersion = "1.0" | "1.1" | "1.2";

export const COST_COLUMNS = ["EffectiveCost", "BilledCost", "ListCost"] as const;
export type CostColumn = (typeof COST_COLUMNS)[number];
export const DEFAULT_COST_COLUMN: CostColumn = "EffectiveCost";

/** The columns ingest reads; everything else (including `x_` custom columns) is skipped unread. */
export const REQUIRED_COLUMNS = ["ChargePeriodStart", "ChargePeriodEnd", "BillingCurrency"] as const;
export const DIMENSION_COLUMNS = [
  "ProviderName",
  "SubAccountId",
  "SubAccountName",
  "ServiceName",
  "RegionId",
  "RegionName",
  "Tags",
] as const;
/**
 * The resource a charge is for. Read only when a sink asks for it (a scan pricing resources from their
 * charges): budgets never match on it, and keying every row by it would defeat the interning of
 * dimension sets that makes budget ingest fast.
 */
export const RESOURCE_COLUMN = "ResourceId";
/** The unit a charge is priced in (`Hours`, `GB-Mo`): read, like ResourceId, only when asked for. */
export const PRICING_UNIT_COLUMN = "PricingUnit";
export type DimensionColumn =
  | (typeof DIMENSION_COLUMNS)[number]
  | typeof RESOURCE_COLUMN
  | typeof PRICING_UNIT_COLUMN;
/** Every column a reader can key a charge by, on request (`IngestOptions.dimensions`). */
export const KEYABLE_COLUMNS: readonly DimensionColumn[] = [
  ...DIMENSION_COLUMNS,
  RESOURCE_COLUMN,
  PRICING_UNIT_COLUMN,
];

/** The newest version whose added columns the header carries (1.0 when none). */
export function detectFocusVersion(header: readonly string[]): FocusVersion {
  const has = new Set(header);
  if (FOCUS_1_2_ADDED.some((c) => has.has(c))) return "1.2";
  if (FOCUS_1_1_ADDED.some((c) => has.has(c))) return "1.1";
  return "1.0";
}

/** `x_` columns are provider extensions the FOCUS spec reserves; they never affect budgets. */
export function isCustomColumn(name: string): boolean {
  return name.startsWith("x_");
}

/**
 * The columns ingest reads (`needed`, every dimension and Tags) that `names` holds twice, compared as
 * spelt (FOCUS names are case-sensitive): read from one place only, which copy holds the truth is unknown.
 */
export function columnsNamedTwice(names: readonly string[], needed: readonly string[]): string[] {
  return [...needed, ...KEYABLE_COLUMNS].filter(
    (c, i, all) => all.indexOf(c) === i && names.indexOf(c) !== names.lastIndexOf(c),
  );
}

/**
 * The error for a header that lacks columns ingest needs, with what the header seems to be instead:
 * UTF-16 or UTF-32 text (what Excel's "Unicode Text" and Windows PowerShell 5's `>` write), one
 * column holding another separator (a spreadsheet re-saved with `;` or tabs), or the names spelt
 * another way (`billed_cost`, `BILLEDCOST`: FOCUS names are case-sensitive PascalCase).
 */
export function missingColumnsMessage(
  file: string,
  names: readonly string[],
  missing: readonly string[],
): string {
  return `${file} is not a FOCUS export: missing column${missing.length > 1 ? "s" : ""} ${missing.join(", ")}${headerHint(names, missing)}`;
}

/** The error for a file without columns budget selectors match on (each group: any one would do). */
export function missingSelectorColumnsMessage(
  file: string,
  names: readonly string[],
  missing: readonly (readonly string[])[],
): string {
  const what = missing.map((group) => group.join(" or ")).join(", ");
  return `${file} has no ${what} column${missing.length > 1 ? "s" : ""}, which budget selectors match on: no charge could match them${headerHint(names, missing.flat())}`;
}

function headerHint(names: readonly string[], missing: readonly string[]): string {
  // Parquet inside gzip: the gzip was read, and its content is no CSV.
  if (names[0]?.startsWith("PAR1"))
    return ": it is a Parquet file compressed with gzip; decompress it (gunzip -k): costguard reads Parquet as it is";
  // UTF-16's byte-order mark read as UTF-8 is two replacement characters; its ASCII, NUL after each.
  if (names[0]?.startsWith("\uFFFD\uFFFD") || names.some((n) => n.includes("\u0000")))
    return ": it is UTF-16 or UTF-32 text (its header starts with that byte-order mark or holds NUL characters); FOCUS CSV is UTF-8: convert it (iconv -f UTF-16 -t UTF-8, or PowerShell's Out-File -Encoding utf8)";
  if (names.length === 1) {
    const sep = [";", "\t", "|"].find((c) => names[0]!.includes(c));
    if (sep !== undefined)
      return `: its header is one column holding ${sep === "\t" ? "tabs" : `"${sep}"`} (${JSON.stringify(names[0]!.slice(0, 60))}); costguard reads comma-separated values`;
  }
  const fold = (name: string) => name.toLowerCase().replace(/[_\s-]/g, "");
  const spelt = missing.flatMap((m) => {
    const other = names.find((n) => fold(n) === fold(m));
    return other === undefined ? [] : [`${other} for ${m}`];
  });
  if (spelt.length > 0)
    return `: found ${spelt.join(", ")}; FOCUS column names are case-sensitive, spelt as the specification spells them`;
  return "";
}
