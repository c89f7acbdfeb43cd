import { RESOURCE_SCOPE } from "../engine/scope.js";
import { ConflictError, InputError, PermissionDeniedError } from "../errors.js";
import type { PolicyType } from "../policy/types.js";
import { keyTooLong, oversizedKey } from "../store/limits.js";
import { DAY_MS, formatDuration, HOUR_MS, MAX_DURATION_DAYS } from "../time/duration.js";
import { checkUserName } from "../users.js";
import { type Approver, describeApprovers, sameUser } from "./approvers.js";
import type {
  ExceptionAction,
  ExceptionRequest,
  ExceptionStatus,
  ExceptionType,
  PolicyException,
} from "./types.js";

/** Every transition is a pure function: an exception, an actor and the time in, a new exception out. */

export const DEFAULT_REVIEW_INTERVAL_DAYS = 90;
/**
 * The longest duration, renewal or review interval an exception takes (a hundred years): longer is a
 * permanent exception or a typo, and far enough out no date at all (a JavaScript date ends in the year
 * 275760; stored times must keep four-digit years to sort as times).
 */
export const MAX_EXCEPTION_DAYS = MAX_DURATION_DAYS;
const MAX_EXCEPTION_MS = MAX_EXCEPTION_DAYS * DAY_MS;
/** The last expiry an exception can have: repeated renewals stop here. */
const LAST_EXPIRY_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * The shortest duration or renewal an exception takes: an hour. Shorter is surely a slip (`1m` meant
 * as a month is a minute's exception, over before anyone could act on it).
 */
export const MIN_EXCEPTION_MS = HOUR_MS;

/** Why `text` (a duration or renewal under an hour) is refused, naming it as `what`. */
export function tooShortForAnException(what: string, text: string): string {
  return (
    `${what} must be at least an hour (1h), got '${text}'` +
    (/m/.test(text) ? ": m is minutes; a month is e.g. 30d" : "")
  );
}

function checkDuration(ms: number | undefined, what: string): void {
  if (ms === undefined) return;
  if (!(ms > 0)) throw new InputError(`${what} must be longer than zero`);
  if (ms < MIN_EXCEPTION_MS) throw new InputError(tooShortForAnException(what, formatDuration(ms)));
  if (ms > MAX_EXCEPTION_MS)
    throw new InputError(
      `${what} must be at most ${MAX_EXCEPTION_DAYS}d (a hundred years); an exception with no end is a permanent one (--type permanent), reviewed instead`,
    );
}

/** The expiry `duration` after `from`, as stored. */
function expiryAfter(from: number, duration: number): string {
  const end = from + duration;
  if (end > LAST_EXPIRY_MS)
    throw new InputError(
      `that would make the exception expire after the year 9999; make it permanent instead (--type permanent)`,
    );
  return new Date(end).toISOString();
}
/** Who the history names when costguard itself changes an exception (expiry, review reminders). */
export const SYSTEM_ACTOR = "costguard";

export interface NewExceptionContext {
  id: string;
  now: Date;
  policyType: PolicyType | null;
  defaultReviewIntervalDays?: number;
}

export function createException(req: ExceptionRequest, ctx: NewExceptionContext): PolicyException {
  const requester = req.requested_by.trim();
  if (requester === "") throw new InputError("an exception needs a requester (--as USER)");
  checkUserName(requester, "the requester");
  if (req.justification.trim() === "") throw new InputError("an exception needs a justification");
  if (req.policy.trim() === "") throw new InputError("an exception needs a policy");
  const hasResource = req.resource_id !== undefined && req.resource_id !== "";
  const hasSelector = req.selector !== undefined;
  if (hasResource && hasSelector)
    throw new InputError("an exception names a resource id or a selector (tags, type, account), not both");
  if (!hasResource && !hasSelector)
    throw new InputError(
      "an exception needs a resource id (--resource) or a selector (--match-tag, --match-type, --match-account)",
    );
  const idBytes = hasResource ? oversizedKey(req.resource_id!) : undefined;
  if (idBytes !== undefined)
    throw new InputError(
      `an exception's resource id is ${keyTooLong(idBytes, "a resource id")} (an ARN's longest)`,
    );
  if (hasSelector) {
    const s = req.selector!;
    if (!s.type && !s.account && Object.keys(s.tags ?? {}).length === 0)
      throw new InputError("a selector needs at least one of tags, type or account");
    // `compute` or `compute/**` matches no resource type: the exception would never apply.
    if (s.type && !RESOURCE_SCOPE.test(s.type))
      throw new InputError(
        `a selector's type is a resource type (compute/instance), a category (compute/*) or *, got '${s.type}'`,
      );
  }
  const type = req.type ?? inferType(hasSelector, req.duration_ms);
  if (type === "conditional" && !hasSelector)
    throw new InputError(
      "a conditional exception is defined by a selector (tags, type, account), not a resource id",
    );
  if (type !== "conditional" && hasSelector)
    throw new InputError(`a selector makes a conditional exception, not a ${type} one`);
  checkDuration(req.duration_ms, "an exception's duration");
  if (type === "temporary" && req.duration_ms === undefined)
    throw new InputError("a temporary exception needs a duration (e.g. --duration 30d)");
  if (type === "permanent" && req.duration_ms !== undefined)
    throw new InputError(
      "a permanent exception has no duration; it is reviewed every review interval instead",
    );
  const reviewed = type !== "temporary";
  if (req.review_interval_days !== undefined) {
    if (!reviewed) throw new InputError("a temporary exception has no review interval; it expires instead");
    if (
      !Number.isInteger(req.review_interval_days) ||
      req.review_interval_days <= 0 ||
      req.review_interval_days > MAX_EXCEPTION_DAYS
    )
      throw new InputError(
        `the review interval must be a whole number of days above zero, at most ${MAX_EXCEPTION_DAYS}`,
      );
  }
  const at = ctx.now.toISOString();
  return {
    id: ctx.id,
    resource_id: hasResource ? req.resource_id! : null,
    selector: hasSelector ? cleanSelector(req.selector!) : null,
    policy: req.policy,
    rule: req.rule ?? null,
    policy_type: ctx.policyType,
    type,
    justification: req.justification.trim(),
    requested_by: requester,
    requested_at: at,
    status: "pending",
    duration_ms: req.duration_ms ?? null,
    expires_at: null,
    review_interval_days: reviewed
      ? (req.review_interval_days ?? ctx.defaultReviewIntervalDays ?? DEFAULT_REVIEW_INTERVAL_DAYS)
      : null,
    last_reviewed_at: null,
    decided_by: null,
    decided_at: null,
    reason: null,
    review_notified_at: null,
    version: 1,
    history: [{ at, by: requester, action: "requested", note: req.justification.trim() }],
  };
}

function inferType(hasSelector: boolean, duration: number | undefined): ExceptionType {
  if (hasSelector) return "conditional";
  return duration === undefined ? "permanent" : "temporary";
}

function cleanSelector(
  s: NonNullable<ExceptionRequest["selector"]>,
): NonNullable<PolicyException["selector"]> {
  const out: NonNullable<PolicyException["selector"]> = {};
  if (s.tags && Object.keys(s.tags).length > 0) out.tags = { ...s.tags };
  if (s.type) out.type = s.type;
  if (s.account) out.account = s.account;
  return out;
}

/** The status as of `now`: an approved exception past its expiry is expired even before a sweep stores it. */
export function effectiveStatus(exc: PolicyException, now: Date): ExceptionStatus {
  if (exc.status === "approved" && exc.expires_at !== null && Date.parse(exc.expires_at) <= now.getTime())
    return "expired";
  return exc.status;
}

/** When a permanent or conditional exception must next be reviewed (null for the others). */
export function reviewDueAt(exc: PolicyException): Date | null {
  if (exc.review_interval_days === null) return null;
  const from = exc.last_reviewed_at ?? exc.decided_at;
  if (from === null) return null;
  return new Date(Date.parse(from) + exc.review_interval_days * DAY_MS);
}

export function isReviewOverdue(exc: PolicyException, now: Date): boolean {
  if (effectiveStatus(exc, now) !== "approved") return false;
  const due = reviewDueAt(exc);
  return due !== null && due.getTime() <= now.getTime();
}

function step(
  exc: PolicyException,
  now: Date,
  by: string,
  action: ExceptionAction,
  changes: Partial<PolicyException>,
  note?: string,
): PolicyException {
  const at = now.toISOString();
  // An exception's history moves forward (--at replays in order): approved before it was requested,
  // it would apply before it existed. An expiry is recorded at its own time, already past.
  const last = exc.history[exc.history.length - 1];
  if (action !== "expired" && last !== undefined && last.at > at)
    throw new InputError(
      `cannot record '${action}' on exception ${exc.id} as of ${at}: its latest change ('${last.action}') is as of ${last.at}; act as of that time or later`,
    );
  const event = note === undefined ? { at, by, action } : { at, by, action, note };
  return { ...exc, ...changes, version: exc.version + 1, history: [...exc.history, event] };
}

function requireStatus(
  exc: PolicyException,
  now: Date,
  allowed: readonly ExceptionStatus[],
  verb: string,
): void {
  const status = effectiveStatus(exc, now);
  if (!allowed.includes(status))
    throw new ConflictError(
      `exception ${exc.id} is ${status}; only ${allowed.join(" or ")} exceptions can be ${verb}`,
    );
}

function requireApprover(
  exc: PolicyException,
  actor: string,
  approvers: readonly Approver[],
  verb: string,
): void {
  checkUserName(actor, "the acting user");
  if (sameUser(actor, exc.requested_by))
    throw new PermissionDeniedError(
      `${actor} requested exception ${exc.id} and cannot ${verb} it; eligible approvers: ${
        approvers.length > 0
          ? describeApprovers(approvers)
          : "no one but the requester (exceptions.approvers in costguard.yaml names who approves; see docs/exceptions.md)"
      }`,
    );
  if (!approvers.some((a) => sameUser(a.user, actor)))
    throw new PermissionDeniedError(
      `${actor} is not an eligible approver of exception ${exc.id} (policy ${exc.policy}); eligible: ${describeApprovers(approvers)}`,
    );
}

export function approveException(
  exc: PolicyException,
  actor: string,
  now: Date,
  approvers: readonly Approver[],
  comment?: string,
): PolicyException {
  requireStatus(exc, now, ["pending"], "approved");
  requireApprover(exc, actor, approvers, "approve");
  const at = now.toISOString();
  return step(
    exc,
    now,
    actor,
    "approved",
    {
      status: "approved",
      decided_by: actor,
      decided_at: at,
      expires_at: exc.duration_ms === null ? null : expiryAfter(now.getTime(), exc.duration_ms),
      last_reviewed_at: exc.review_interval_days === null ? null : at,
    },
    comment,
  );
}

export function rejectException(
  exc: PolicyException,
  actor: string,
  reason: string,
  now: Date,
  approvers: readonly Approver[],
): PolicyException {
  if (reason.trim() === "") throw new InputError("a rejection needs a reason (--reason TEXT)");
  requireStatus(exc, now, ["pending"], "rejected");
  requireApprover(exc, actor, approvers, "reject");
  return step(
    exc,
    now,
    actor,
    "rejected",
    { status: "rejected", decided_by: actor, decided_at: now.toISOString(), reason: reason.trim() },
    reason.trim(),
  );
}

/** An approver, or the requester withdrawing their own, may revoke a pending or approved exception. */
export function revokeException(
  exc: PolicyException,
  actor: string,
  reason: string | undefined,
  now: Date,
  approvers: readonly Approver[],
): PolicyException {
  requireStatus(exc, now, ["pending", "approved"], "revoked");
  checkUserName(actor, "the acting user");
  if (!sameUser(actor, exc.requested_by) && !approvers.some((a) => sameUser(a.user, actor)))
    throw new PermissionDeniedError(
      `${actor} may not revoke exception ${exc.id}: only its requester (${exc.requested_by}) or an eligible approver may; eligible: ${describeApprovers(approvers)}`,
    );
  const r = reason?.trim() || null;
  return step(exc, now, actor, "revoked", { status: "revoked", reason: r }, r ?? undefined);
}

/**
 * Renewal extends a time-limited exception (from its current expiry, or from now once expired) and
 * counts as the review of a permanent or conditional one. Only an eligible approver, not the requester.
 */
export function renewException(
  exc: PolicyException,
  actor: string,
  now: Date,
  approvers: readonly Approver[],
  durationMs?: number,
): PolicyException {
  requireStatus(exc, now, ["approved", "expired"], "renewed");
  requireApprover(exc, actor, approvers, "renew");
  checkDuration(durationMs, "a renewal's duration");
  if (exc.type === "permanent" && durationMs !== undefined)
    throw new InputError("a permanent exception has no duration; renewing it records a review");
  const duration = durationMs ?? exc.duration_ms;
  const at = now.toISOString();
  const changes: Partial<PolicyException> = { status: "approved", review_notified_at: null };
  if (exc.review_interval_days !== null) changes.last_reviewed_at = at;
  let note = "reviewed";
  if (duration !== null) {
    const current = exc.expires_at === null ? now.getTime() : Date.parse(exc.expires_at);
    const from = Math.max(current, now.getTime());
    changes.expires_at = expiryAfter(from, duration);
    changes.duration_ms = duration;
    note = `extended by ${formatDuration(duration)} to ${changes.expires_at}`;
  }
  return step(exc, now, actor, "renewed", changes, note);
}

/** Stores the expiry of an approved exception whose time is up (it already stopped applying). */
export function expireException(exc: PolicyException, now: Date): PolicyException | null {
  if (exc.status !== "approved" || effectiveStatus(exc, now) !== "expired") return null;
  return step(exc, new Date(Date.parse(exc.expires_at!)), SYSTEM_ACTOR, "expired", { status: "expired" });
}

/** Records that the owners were asked to review an overdue exception. */
export function markReviewRequested(exc: PolicyException, now: Date): PolicyException {
  return step(exc, now, SYSTEM_ACTOR, "review-requested", { review_notified_at: now.toISOString() });
}

/** Whether the overdue-review reminder is still to be sent for the current review period. */
export function reviewReminderDue(exc: PolicyException, now: Date): boolean {
  if (!isReviewOverdue(exc, now)) return false;
  const due = reviewDueAt(exc)!;
  return exc.review_notified_at === null || Date.parse(exc.review_notified_at) < due.getTime();
}
