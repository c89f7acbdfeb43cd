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
export type DimensionColumn = (typeof DIMENSION_COLUMNS)[number];

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
