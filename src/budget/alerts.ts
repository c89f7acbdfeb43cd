import type { BudgetState, BudgetStatus, ThresholdStatus } from "./state.js";

/** A threshold reached in a period: fires once per period, whatever the number of runs. */
export interface ThresholdAlert {
  /** `budget:<policy>/<rule>:<period>:<label>:<percent>` — the ledger key. */
  key: string;
  budget: BudgetStatus;
  threshold: ThresholdStatus;
}

export function thresholdKey(b: BudgetStatus, t: ThresholdStatus): string {
  return `budget:${b.policy}/${b.rule}:${b.period}:${b.periodLabel}:${t.percent}`;
}

/** Every threshold reached (on actual spend or forecast) in the state's periods. */
export function reachedThresholds(state: BudgetState): ThresholdAlert[] {
  const out: ThresholdAlert[] = [];
  for (const budget of state.budgets) {
    for (const threshold of budget.thresholds) {
      if (threshold.reached !== null) out.push({ key: thresholdKey(budget, threshold), budget, threshold });
    }
  }
  return out;
}
