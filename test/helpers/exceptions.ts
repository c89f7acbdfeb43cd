import type { PolicyException } from "../../src/exceptions/types.js";

/**
 * An approved exception as a store holds it: conditional, of mandatory-tags, reviewed; `fields` say
 * what differs (a resource_id or selector, the policy, an expiry, a status).
 */
export function approvedException(id: string, fields: Partial<PolicyException> = {}): PolicyException {
  return {
    id,
    resource_id: null,
    selector: null,
    policy: "mandatory-tags",
    rule: null,
    policy_type: "TagRequirement",
    type: "conditional",
    justification: "for the test",
    requested_by: "alice",
    requested_at: "2026-05-01T00:00:00Z",
    status: "approved",
    duration_ms: null,
    expires_at: null,
    review_interval_days: 90,
    last_reviewed_at: "2026-05-02T00:00:00Z",
    decided_by: "carol",
    decided_at: "2026-05-02T00:00:00Z",
    reason: null,
    review_notified_at: null,
    version: 1,
    history: [],
    ...fields,
  };
}
