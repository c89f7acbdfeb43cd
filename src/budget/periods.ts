import { parseInstant } from "../time/instant.js";

/** Calendar budget periods in UTC. */
export const BUDGET_PERIODS = ["monthly", "quarterly"] as const;
export type BudgetPeriodKind = (typeof BUDGET_PERIODS)[number];

export interface BudgetPeriod {
  kind: BudgetPeriodKind;
  /** Inclusive start and exclusive end, ms since the epoch. */
  start: number;
  end: number;
  /** `2024-09` or `2024-Q3`. */
  label: string;
}

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** How many days of recent spend the forecast's run-rate averages. */
export const RUN_RATE_DAYS = 7;

/** The period of `kind` that contains the instant `at`. */
export function periodAt(kind: BudgetPeriodKind, at: number): BudgetPeriod {
  const d = new Date(at);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth();
  if (kind === "monthly") {
    return {
      kind,
      start: Date.UTC(year, month, 1),
      end: Date.UTC(year, month + 1, 1),
      label: `${year}-${String(month + 1).padStart(2, "0")}`,
    };
  }
  const q = Math.floor(month / 3);
  return {
    kind,
    start: Date.UTC(year, q * 3, 1),
    end: Date.UTC(year, q * 3 + 3, 1),
    label: `${year}-Q${q + 1}`,
  };
}

/** Parses `--at`: an ISO date-time (UTC unless it says otherwise) or a date (its midnight UTC). */
export function parseAt(text: string): number {
  const ms = parseInstant(text);
  if (ms === undefined) {
    throw new RangeError(
      `not a date or time: ${JSON.stringify(text)} (use e.g. 2024-09-30 or 2024-09-30T23:00:00Z)`,
    );
  }
  if (ms < 0) throw new RangeError(`${JSON.stringify(text)} is before 1970: budgets have no periods there`);
  return ms;
}
