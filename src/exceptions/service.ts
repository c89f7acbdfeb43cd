import { randomBytes } from "node:crypto";
import { NotFoundError } from "../errors.js";
import type { Clock } from "../time/clock.js";
import { eligibleApprovers, sameUser } from "./approvers.js";
import { checkSelectorType, type PolicyCatalog, resolvePolicy } from "./catalog.js";
import type { ExceptionConfig } from "./config.js";
import {
  approveException,
  createException,
  expireException,
  markReviewRequested,
  rejectException,
  renewException,
  reviewReminderDue,
  revokeException,
} from "./lifecycle.js";
import { buildExceptionIndex, type ExceptionIndex } from "./match.js";
import { buildExceptionsReport, describeTarget, type ExceptionsReport } from "./report.js";
import type { ExceptionFilter, ExceptionStore } from "./store.js";
import type { ExceptionRequest, PolicyException } from "./types.js";

export type ExceptionNoticeKind =
  | "requested"
  | "approved"
  | "rejected"
  | "revoked"
  | "renewed"
  | "expired"
  | "review-overdue";

/** A message about an exception for people (approvers, the requester); `key` makes resending harmless. */
export interface ExceptionNotice {
  kind: ExceptionNoticeKind;
  key: string;
  exception: PolicyException;
  recipients: string[];
  subject: string;
  text: string;
}

/** The port notifications leave through; the edge connects it to the outbox. */
export interface ExceptionNotifier {
  notify(notice: ExceptionNotice): Promise<void>;
}

/** Where every change is recorded (the store's append-only audit log). */
export interface AuditSink {
  append(entry: {
    at: string;
    actor: string;
    action: string;
    subject_type: string;
    subject_id: string;
    details: Record<string, unknown>;
  }): Promise<unknown>;
}

export interface ExceptionServiceDeps {
  store: ExceptionStore;
  audit?: AuditSink;
  clock: Clock;
  config: ExceptionConfig;
  /** The loaded policies; when given, requests must name a policy and rule that exist. */
  catalog?: PolicyCatalog;
  notifier?: ExceptionNotifier;
  newId?: () => string;
}

export interface SweepResult {
  expired: PolicyException[];
  reviewRequested: PolicyException[];
}

export interface ExceptionService {
  request(req: ExceptionRequest): Promise<PolicyException>;
  approve(id: string, actor: string, comment?: string): Promise<PolicyException>;
  reject(id: string, actor: string, reason: string): Promise<PolicyException>;
  revoke(id: string, actor: string, reason?: string): Promise<PolicyException>;
  renew(id: string, actor: string, durationMs?: number): Promise<PolicyException>;
  get(id: string): Promise<PolicyException>;
  list(filter?: ExceptionFilter): Promise<PolicyException[]>;
  report(): Promise<ExceptionsReport>;
  /**
   * Stores expiries that are due and sends each overdue-review reminder once. `dryRun`: says what it
   * would do, storing and sending nothing.
   */
  sweep(options?: { dryRun?: boolean }): Promise<SweepResult>;
  /** The approved exceptions, indexed for the engine, the scanner and remediation. */
  activeIndex(): Promise<ExceptionIndex>;
}

export function newExceptionId(): string {
  return `exc-${randomBytes(5).toString("hex")}`;
}

export function createExceptionService(deps: ExceptionServiceDeps): ExceptionService {
  const { store, clock, config, catalog, notifier, audit } = deps;
  const newId = deps.newId ?? newExceptionId;
  const approversOf = (exc: PolicyException) => eligibleApprovers(exc, config.approvers);

  const load = async (id: string) => {
    const exc = await store.get(id);
    if (!exc) throw new NotFoundError(`no exception with id ${id}`);
    return exc;
  };

  const send = async (
    kind: ExceptionNoticeKind,
    exc: PolicyException,
    recipients: string[],
    text: string,
  ) => {
    if (!notifier) return;
    const unique = [...new Set(recipients)].filter((r) => r !== "" && r !== undefined);
    await notifier.notify({
      kind,
      key: `exception:${exc.id}:${kind}:${exc.version}`,
      exception: exc,
      recipients: unique,
      subject: `Exception ${exc.id} ${kind} (${exc.policy}${exc.rule ? `/${exc.rule}` : ""} on ${describeTarget(exc)})`,
      text,
    });
  };

  /** Writes the newest history entry of an exception to the audit log. */
  const record = async (exc: PolicyException) => {
    const last = exc.history.at(-1);
    if (!audit || !last) return;
    await audit.append({
      at: last.at,
      actor: last.by,
      action: `exception.${last.action}`,
      subject_type: "exception",
      subject_id: exc.id,
      details: {
        policy: exc.policy,
        rule: exc.rule,
        target: describeTarget(exc),
        status: exc.status,
        ...(last.note ? { note: last.note } : {}),
      },
    });
  };

  const change = async (
    id: string,
    apply: (exc: PolicyException, now: Date) => PolicyException,
  ): Promise<PolicyException> => {
    const exc = await load(id);
    const next = apply(exc, clock());
    await store.update(next, exc.version);
    await record(next);
    return next;
  };

  return {
    async request(req) {
      const policyType = catalog ? resolvePolicy(catalog, req.policy, req.rule) : null;
      if (catalog && req.selector?.type !== undefined)
        checkSelectorType(catalog, req.policy, req.rule, req.selector.type);
      const exc = createException(req, {
        id: newId(),
        now: clock(),
        policyType,
        defaultReviewIntervalDays: config.reviewIntervalDays,
      });
      await store.insert(exc);
      await record(exc);
      await send(
        "requested",
        exc,
        approversOf(exc).map((a) => a.user),
        `${exc.requested_by} asks for a ${exc.type} exception to ${exc.policy}${exc.rule ? `/${exc.rule}` : ""} on ${describeTarget(exc)}: ${exc.justification}`,
      );
      return exc;
    },
    async approve(id, actor, comment) {
      const exc = await change(id, (e, now) => approveException(e, actor, now, approversOf(e), comment));
      const until = exc.expires_at ? ` until ${exc.expires_at}` : "";
      await send("approved", exc, [exc.requested_by], `${actor} approved exception ${exc.id}${until}.`);
      return exc;
    },
    async reject(id, actor, reason) {
      const exc = await change(id, (e, now) => rejectException(e, actor, reason, now, approversOf(e)));
      await send("rejected", exc, [exc.requested_by], `${actor} rejected exception ${exc.id}: ${exc.reason}`);
      return exc;
    },
    async revoke(id, actor, reason) {
      const exc = await change(id, (e, now) => revokeException(e, actor, reason, now, approversOf(e)));
      const others = [exc.requested_by, ...(exc.decided_by ? [exc.decided_by] : [])].filter(
        (u) => !sameUser(u, actor),
      );
      await send(
        "revoked",
        exc,
        others,
        `${actor} revoked exception ${exc.id}${exc.reason ? `: ${exc.reason}` : ""}.`,
      );
      return exc;
    },
    async renew(id, actor, durationMs) {
      const exc = await change(id, (e, now) => renewException(e, actor, now, approversOf(e), durationMs));
      await send("renewed", exc, [exc.requested_by], `${actor} renewed exception ${exc.id}.`);
      return exc;
    },
    get: load,
    list: (filter) => store.list(filter),
    async report() {
      return buildExceptionsReport(await store.list(), clock(), config.expiringWithinDays);
    },
    async sweep(options = {}) {
      const now = clock();
      const result: SweepResult = { expired: [], reviewRequested: [] };
      for (const exc of await store.list({ status: "approved" })) {
        const expired = expireException(exc, now);
        if (expired && options.dryRun) {
          result.expired.push(expired);
          continue;
        }
        if (expired) {
          await store.update(expired, exc.version);
          await record(expired);
          result.expired.push(expired);
          await send(
            "expired",
            expired,
            [expired.requested_by],
            `Exception ${exc.id} expired at ${exc.expires_at}.`,
          );
          continue;
        }
        if (reviewReminderDue(exc, now)) {
          const marked = markReviewRequested(exc, now);
          if (options.dryRun) {
            result.reviewRequested.push(marked);
            continue;
          }
          await store.update(marked, exc.version);
          await record(marked);
          result.reviewRequested.push(marked);
          await send(
            "review-overdue",
            marked,
            [...(exc.decided_by ? [exc.decided_by] : []), exc.requested_by],
            `The review of exception ${exc.id} is overdue: renew it (costguard exceptions renew ${exc.id}) or revoke it.`,
          );
        }
      }
      return result;
    },
    async activeIndex() {
      return buildExceptionIndex(await store.list({ status: "approved" }));
    },
  };
}
