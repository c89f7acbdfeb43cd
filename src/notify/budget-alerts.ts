import { reachedThresholds, type ThresholdAlert } from "../budget/alerts.js";
import { decimal, formatMoney } from "../budget/decimal.js";
import type { BudgetState } from "../budget/state.js";
import type { NotificationData, OutboxMessage, OutboxStore, ThresholdLedger } from "./types.js";

export interface FiredAlerts {
  /** Ledger keys of thresholds that fired in this run (reached and not fired before this period). */
  fired: string[];
  /** Outbox messages written for them. */
  enqueued: number;
}

/**
 * Turns newly reached thresholds into notifications through the outbox. Messages are written first
 * (idempotently: a repeated run writes nothing new), then the thresholds are recorded as fired, so a
 * crash between the two neither loses an alert nor sends one twice.
 */
export async function fireBudgetAlerts(
  state: BudgetState,
  deps: { outbox: OutboxStore; ledger: ThresholdLedger; now: number; defaultChannels?: readonly string[] },
): Promise<FiredAlerts> {
  const reached = reachedThresholds(state);
  const already = await deps.ledger.fired(reached.map((a) => a.key));
  const fresh = reached.filter((a) => !already.has(a.key));
  const messages = fresh.flatMap((a) =>
    alertMessages(
      a,
      a.threshold.channels?.length ? a.threshold.channels : (deps.defaultChannels ?? []),
      deps.now,
    ),
  );
  const enqueued = await deps.outbox.enqueue(messages);
  const fired = await deps.ledger.markFired(
    fresh.map((a) => a.key),
    deps.now,
  );
  return { fired, enqueued };
}

const money = (text: string, currency: string) => `${formatMoney(decimal(text))} ${currency}`;

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
