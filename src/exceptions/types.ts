import type { PolicyType } from "../policy/types.js";

/** The states stored for an exception; `expired` is also derived from the clock (see effectiveStatus). */
export const EXCEPTION_STATUSES = ["pending", "approved", "rejected", "expired", "revoked"] as const;
export type ExceptionStatus = (typeof EXCEPTION_STATUSES)[number];

/**
 * `temporary` ends at a fixed time; `permanent` never ends but must be reviewed every interval;
 * `conditional` applies to whatever matches a selector (tags, type, account) and is reviewed like a
 * permanent one (it may also be given a duration).
 */
export const EXCEPTION_TYPES = ["temporary", "permanent", "conditional"] as const;
export type ExceptionType = (typeof EXCEPTION_TYPES)[number];

/** What a conditional exception matches: every given part must hold. */
export interface ExceptionSelector {
  tags?: Record<string, string>;
  /** Resource type: exact (`compute/instance`), by category (`compute/*`) or `*`. */
  type?: string;
  account?: string;
}

export type ExceptionAction =
  | "requested"
  | "approved"
  | "rejected"
  | "revoked"
  | "renewed"
  | "expired"
  | "review-requested";

/** One entry of an exception's append-only history. */
export interface ExceptionEvent {
  at: string;
  by: string;
  action: ExceptionAction;
  note?: string;
}

/** A policy exception as stored and as printed (snake_case, ISO-8601 UTC timestamps). */
export interface PolicyException {
  id: string;
  /** Exactly one of resource_id and selector is set. */
  resource_id: string | null;
  selector: ExceptionSelector | null;
  policy: string;
  /** null waives every rule of the policy. */
  rule: string | null;
  /** The policy's type when it was requested; decides the default approvers. */
  policy_type: PolicyType | null;
  type: ExceptionType;
  justification: string;
  requested_by: string;
  requested_at: string;
  status: ExceptionStatus;
  /** Requested length of a time-limited exception; the expiry counts from approval (or renewal). */
  duration_ms: number | null;
  expires_at: string | null;
  /** Permanent and conditional exceptions: how often they must be reviewed. */
  review_interval_days: number | null;
  last_reviewed_at: string | null;
  decided_by: string | null;
  decided_at: string | null;
  reason: string | null;
  /** When the owners were last told the review is overdue (so they are told once per overdue period). */
  review_notified_at: string | null;
  /** Bumped by every change; stores refuse a write whose version is stale. */
  version: number;
  history: ExceptionEvent[];
}

/** What a caller asks for; the service fills in the rest. */
export interface ExceptionRequest {
  resource_id?: string | undefined;
  selector?: ExceptionSelector | undefined;
  policy: string;
  rule?: string | undefined;
  type?: ExceptionType | undefined;
  justification: string;
  requested_by: string;
  duration_ms?: number | undefined;
  review_interval_days?: number | undefined;
}

/** Where an exception is checked: a resource (or request) and the violated policy and rule. */
export interface ExceptionSubject {
  id?: string | undefined;
  type: string;
  tags?: Record<string, string> | undefined;
  account?: string | undefined;
}
