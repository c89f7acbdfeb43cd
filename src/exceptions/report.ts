import { ownValue, setOwn } from "../objects.js";
import { DAY_MS } from "../time/duration.js";
import { effectiveStatus, isReviewOverdue, reviewDueAt } from "./lifecycle.js";
import type { ExceptionStatus, ExceptionType, PolicyException } from "./types.js";

export interface ExceptionSummary {
  id: string;
  target: string;
  policy: string;
  rule: string | null;
  type: ExceptionType;
  status: ExceptionStatus;
  requested_by: string;
  approved_by: string | null;
  expires_at: string | null;
  review_due_at: string | null;
}

export interface ExceptionsReport {
  generated_at: string;
  total: number;
  by_status: Record<string, number>;
  by_policy: Record<string, number>;
  by_type: Record<string, number>;
  expiring_within_days: number;
  /** Approved exceptions that end within the window (default 7 days). */
  expiring_soon: ExceptionSummary[];
  /** Approved permanent and conditional exceptions whose review is overdue. */
  needing_review: ExceptionSummary[];
}

/** How an exception's target reads in tables: the resource id, or the selector's parts. */
export function describeTarget(exc: PolicyException): string {
  if (exc.resource_id !== null) return exc.resource_id;
  const s = exc.selector ?? {};
  const parts: string[] = [];
  if (s.type) parts.push(`type=${s.type}`);
  if (s.account) parts.push(`account=${s.account}`);
  for (const [k, v] of Object.entries(s.tags ?? {})) parts.push(`tag:${k}=${v}`);
  return parts.join(",");
}

export function summarizeException(exc: PolicyException, now: Date): ExceptionSummary {
  const status = effectiveStatus(exc, now);
  // Only an exception in force is reviewed: a rejected, revoked or expired one has no review due.
  const due = status === "approved" ? reviewDueAt(exc) : null;
  return {
    id: exc.id,
    target: describeTarget(exc),
    policy: exc.policy,
    rule: exc.rule,
    type: exc.type,
    status,
    requested_by: exc.requested_by,
    approved_by: exc.status === "approved" || exc.status === "expired" ? exc.decided_by : null,
    expires_at: exc.expires_at,
    review_due_at: due === null ? null : due.toISOString(),
  };
}

export function buildExceptionsReport(
  exceptions: readonly PolicyException[],
  now: Date,
  expiringWithinDays = 7,
): ExceptionsReport {
  const byStatus: Record<string, number> = {};
  const byPolicy: Record<string, number> = {};
  const byType: Record<string, number> = {};
  const expiringSoon: ExceptionSummary[] = [];
  const needingReview: ExceptionSummary[] = [];
  const horizon = now.getTime() + expiringWithinDays * DAY_MS;
  for (const exc of exceptions) {
    const status = effectiveStatus(exc, now);
    byStatus[status] = (byStatus[status] ?? 0) + 1;
    // A policy may be named `constructor` or `__proto__`: counted under its own key, from 0.
    setOwn(byPolicy, exc.policy, (ownValue(byPolicy, exc.policy) ?? 0) + 1);
    byType[exc.type] = (byType[exc.type] ?? 0) + 1;
    if (status === "approved" && exc.expires_at !== null && Date.parse(exc.expires_at) <= horizon)
      expiringSoon.push(summarizeException(exc, now));
    if (isReviewOverdue(exc, now)) needingReview.push(summarizeException(exc, now));
  }
  expiringSoon.sort((a, b) => Date.parse(a.expires_at!) - Date.parse(b.expires_at!));
  needingReview.sort((a, b) => Date.parse(a.review_due_at!) - Date.parse(b.review_due_at!));
  return {
    generated_at: now.toISOString(),
    total: exceptions.length,
    by_status: byStatus,
    by_policy: byPolicy,
    by_type: byType,
    expiring_within_days: expiringWithinDays,
    expiring_soon: expiringSoon,
    needing_review: needingReview,
  };
}
