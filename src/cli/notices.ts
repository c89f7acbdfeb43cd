import type { ExceptionNotice, ExceptionNotifier } from "../exceptions/service.js";
import type { OwnerNotifier } from "../remediation/executor.js";
import type { OwnerNotice } from "../remediation/types.js";
import type { Store } from "../store/store.js";
import type { Clock } from "../time/clock.js";

/**
 * Where the CLI sends exception and remediation notices. Until the notification outbox is wired in,
 * each notice is recorded once (by its key) in the audit log as `notice.queued`, with its recipients
 * and text, so nothing is lost and nothing is told twice.
 */
export function storeNoticeSink(store: Store, clock: Clock): ExceptionNotifier & OwnerNotifier {
  const queue = async (key: string, recipients: string[], subject: string, text: string, kind: string) => {
    const seen = await store.audit.list({ subjectType: "notice", subjectId: key, limit: 1 });
    if (seen.length > 0) return;
    await store.audit.append({
      at: clock().toISOString(),
      actor: "costguard:notify",
      action: "notice.queued",
      subject_type: "notice",
      subject_id: key,
      details: { kind, recipients, subject, text },
    });
  };
  return {
    async notify(notice: ExceptionNotice | OwnerNotice) {
      if ("exception" in notice) {
        await queue(notice.key, notice.recipients, notice.subject, notice.text, notice.kind);
      } else {
        await queue(
          notice.key,
          notice.owner ? [notice.owner] : [],
          `costguard: ${notice.kind} for ${notice.resource_id}`,
          notice.text,
          notice.kind,
        );
      }
    },
  };
}
