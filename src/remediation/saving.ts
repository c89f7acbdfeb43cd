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

/**
 * A cycle's realised savings for people: the gross saving when its actions kept no snapshot; else
 * net of what the safety snapshots it kept cost (`6,307.50 USD/month net (7,219.40 saved, less 911.90
 * for the safety snapshots kept)`), saying how many snapshots' cost is not known.
 */
export function realisedSavingsText(s: {
  realised_monthly_savings: string;
  safety_snapshots_monthly_cost: string;
  safety_snapshots_unpriced: number;
  net_realised_monthly_savings: string;
  currency: string;
}): string {
  const kept = parseAmount(s.safety_snapshots_monthly_cost, "amount") !== 0n;
  const unpriced = s.safety_snapshots_unpriced;
  const plain = (amount: string) => formatMonthly(amount, "").trimEnd();
  const said: string[] = [];
  if (kept)
    said.push(
      `${plain(s.realised_monthly_savings)} saved, less ${plain(s.safety_snapshots_monthly_cost)} for the safety snapshots kept`,
    );
  if (unpriced > 0)
    said.push(
      `the cost of ${unpriced} safety ${unpriced === 1 ? "snapshot" : "snapshots"} kept is not known, not taken off`,
    );
  const head = kept
    ? `${formatMonthly(s.net_realised_monthly_savings, s.currency)}/month net`
    : `${formatMonthly(s.realised_monthly_savings, s.currency)}/month`;
  return said.length > 0 ? `${head} (${said.join("; ")})` : head;
}

/** Rounded half-up to cents for people, e.g. `1,070.08 USD`. */
export function formatMonthly(amount: string, currency: string): string {
  return formatMoney(parseAmount(amount, "amount"), currency);
}
