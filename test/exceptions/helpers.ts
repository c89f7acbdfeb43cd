import type { ApproverConfig } from "../../src/exceptions/approvers.js";
import { DEFAULT_EXCEPTION_CONFIG, type ExceptionConfig } from "../../src/exceptions/config.js";
import type { ExceptionNotice, ExceptionNotifier } from "../../src/exceptions/service.js";

/** An organisation as the guide imagines it: managers, a FinOps team and a security team. */
export const APPROVERS: ApproverConfig = {
  ...DEFAULT_EXCEPTION_CONFIG.approvers,
  managers: { alice: "carol", bob: "carol", carol: "dana" },
  teams: { finops: ["erin", "alice"], security: ["frank"] },
};

export const CONFIG: ExceptionConfig = { ...DEFAULT_EXCEPTION_CONFIG, approvers: APPROVERS };

export function recordingNotifier(): ExceptionNotifier & { sent: ExceptionNotice[] } {
  const sent: ExceptionNotice[] = [];
  return {
    sent,
    async notify(n) {
      sent.push(n);
    },
  };
}

export function sequentialIds(prefix = "exc-"): () => string {
  let n = 0;
  return () => `${prefix}${String(++n).padStart(4, "0")}`;
}
