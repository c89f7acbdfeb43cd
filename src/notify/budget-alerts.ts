import { reachedThresholds, type ThresholdAlert } from "../budget/alerts.js";
import { decimal, formatMoney } from "../budget/decimal.js";
import type { BudgetState } from "../budget/state.js";
import type { NotificationData, OutboxMessage, OutboxStore, ThresholdLedger } from "./types.js";

export interface FiredAlerts {
  /** Ledger keys of thresholds that fired in this run (reached and not fired before this period). */
  fired: string[];
  /** Outbox messages written for them (and for stale data). */
  enqueued: number;
  /** Stale billing data was reported in this run (once per place the data ends). */
  staleReported: boolean;
}

/**
 * Turns newly reached thresholds into notifications through the outbox. Messages are written first
 * (idempotently: a repeated run writes nothing new), then the thresholds are recorded as fired, so a
 * crash between the two neither loses an alert nor sends one twice.
 */
export async function fireBudgetAlerts(
  state: BudgetState,
  deps: {
    outbox: OutboxStore;
    ledger: ThresholdLedger;
    now: number;
    defaultChannels?: readonly string[];
    /** Why the billing data is too old to judge budgets by (see staleBillingData), if it is. */
    stale?: string | undefined;
  },
): Promise<FiredAlerts> {
  const reached = reachedThresholds(state);
  const channelsOf = (a: ThresholdAlert) =>
    a.threshold.channels?.length ? a.threshold.channels : (deps.defaultChannels ?? []);
  const staleKey = deps.stale === undefined ? undefined : `budget-data-stale:${state.dataThrough ?? "none"}`;
  const keys = [...reached.map((a) => a.key), ...(staleKey ? [staleKey] : [])];
  const already = await deps.ledger.fired(keys);
  const fresh = reached.filter((a) => !already.has(a.key));
  const messages = fresh.flatMap((a) => alertMessages(a, channelsOf(a), deps.now));
  const staleNews = staleKey !== undefined && !already.has(staleKey);
  if (staleNews) {
    // Whoever hears about budgets hears that they are no longer judged: the default channels, else
    // every threshold's.
    const channels = deps.defaultChannels?.length
      ? deps.defaultChannels
      : [...new Set(state.budgets.flatMap((b) => b.thresholds.flatMap((t) => t.channels ?? [])))];
    messages.push(...staleDataMessages(staleKey, deps.stale!, state, channels, deps.now));
  }
  const enqueued = await deps.outbox.enqueue(messages);
  const marked = await deps.ledger.markFired(
    [...fresh.map((a) => a.key), ...(staleNews ? [staleKey] : [])],
    deps.now,
  );
  return {
    fired: marked.filter((k) => k !== staleKey),
    enqueued,
    staleReported: staleKey !== undefined && marked.includes(staleKey),
  };
}

/** The messages saying billing data is too old to judge budgets by: once per place the data ends. */
function staleDataMessages(
  key: string,
  reason: string,
  state: BudgetState,
  channels: readonly string[],
  now: number,
): OutboxMessage[] {
  const subject = `Budgets are not judged: billing data ends ${state.dataThrough ?? "nowhere (no charges)"}`;
  const text =
    `${reason.charAt(0).toUpperCase()}${reason.slice(1)}. Gates list budget rules under not_evaluated ` +
    "instead of passing them (a block the data already shows stands). Check that the billing export " +
    `still arrives${state.source ? ` (${state.source.file})` : ""}.`;
  const data: NotificationData = {
    title: subject,
    severity: "warning",
    fields: [
      { label: "Billing data through", value: state.dataThrough ?? "none" },
      { label: "Evaluated at", value: state.at },
      { label: "Budgets", value: String(new Set(state.budgets.map((b) => `${b.policy}/${b.rule}`)).size) },
    ],
    dataThrough: state.dataThrough,
  };
  return channels.map((channel) => ({
    id: `${key}:${channel}`,
    channel,
    kind: "budget.stale",
    subject,
    text,
    data,
    createdAt: now,
  }));
}

const money = (text: string, currency: string) => `${formatMoney(decimal(text), currency)} ${currency}`;

/** The messages of one alert: one per channel, each with its own idempotency key. */
export function alertMessages(
  alert: ThresholdAlert,
  channels: readonly string[],
  now: number,
): OutboxMessage[] {
  const { budget: b, threshold: t } = alert;
  const name = `${b.policy}/${b.rule}`;
  const onForecast = t.reached === "forecast";
  const block = t.action === "block-new-resources";
  const subject = onForecast
    ? `Budget ${name} is forecast to reach ${t.percent}% of its ${b.period} limit (${b.periodLabel})`
    : `Budget ${name} reached ${t.percent}% of its ${b.period} limit (${b.periodLabel})`;
  const text =
    `${name} has spent ${money(b.spend, b.currency)} of ${money(b.limit, b.currency)} (${b.percent}%) in ${b.periodLabel}; ` +
    `forecast ${money(b.forecast, b.currency)} (${b.forecastPercent}%).` +
    (block && !onForecast ? " New resources matching this budget are now blocked." : "") +
    (block && onForecast ? " New resources will be blocked when actual spend reaches it." : "");
  const data: NotificationData = {
    title: subject,
    severity: block && !onForecast ? "critical" : t.percent >= 100 || onForecast ? "warning" : "info",
    fields: [
      { label: "Budget", value: name },
      { label: "Period", value: `${b.period} ${b.periodLabel}` },
      { label: "Spend", value: `${money(b.spend, b.currency)} (${b.percent}%)` },
      { label: "Limit", value: money(b.limit, b.currency) },
      { label: "Forecast", value: `${money(b.forecast, b.currency)} (${b.forecastPercent}%)` },
      { label: "Threshold", value: `${t.percent}% (${t.action}), reached on ${t.reached}` },
    ],
    budget: {
      policy: b.policy,
      rule: b.rule,
      period: b.period,
      periodLabel: b.periodLabel,
      currency: b.currency,
    },
    spend: b.spend,
    limit: b.limit,
    forecast: b.forecast,
    threshold: { percent: t.percent, action: t.action, reached: t.reached },
  };
  return channels.map((channel) => ({
    id: `${alert.key}:${channel}`,
    channel,
    kind: "budget.threshold",
    subject,
    text,
    data,
    createdAt: now,
  }));
}
