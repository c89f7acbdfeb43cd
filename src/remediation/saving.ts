import { formatAmount, formatMoney, parseAmount } from "../money/exact.js";

/** Exact `before − after` of two monthly costs given as decimal text (or numbers as JSON wrote them). */
export function monthlySaving(before: string | number, after: string | number): string {
  return formatAmount(parseAmount(before, "cost before") - parseAmount(after, "cost after"));
}

/** Exact sum of decimal amounts. */
export function sumAmounts(values: readonly (string | number)[]): string {
  let total = 0n;
  for (const v of values) total += parseAmount(v, "amount");
  return formatAmount(total);
}

/** Rounded half-up to cents for people, e.g. `1,070.08 USD`. */
export function formatMonthly(amount: string, currency: string): string {
  return formatMoney(parseAmount(amount, "amount"), currency);
}
