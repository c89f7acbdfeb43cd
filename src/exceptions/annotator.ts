import type { DecisionAnnotator } from "../decide/decider.js";
import type {
  Decision,
  DecisionKind,
  ExceptedViolation,
  ResourceRequest,
  Violation,
} from "../engine/types.js";
import { withField } from "../objects.js";
import type { Clock } from "../time/clock.js";
import type { ExceptionIndex } from "./match.js";
import type { ExceptionSubject } from "./types.js";

export function subjectOf(request: ResourceRequest): ExceptionSubject {
  return {
    id: request.id,
    type: request.type,
    tags: request.tags,
    account: typeof request.account === "string" ? request.account : undefined,
  };
}

/** allow / warn / deny from what is left after exceptions: the engine's own rule, applied again. */
export function decisionOf(violations: readonly Violation[]): DecisionKind {
  let warn = false;
  for (const v of violations) {
    if (v.enforcement === "deny") return "deny";
    if (v.enforcement === "warn") warn = true;
  }
  return warn ? "warn" : "allow";
}

/**
 * The engine path of exceptions: every violation an approved, unexpired exception covers moves to
 * `excepted` (with the exception's id) and the decision is made again from the rest. Put it after
 * every other annotator that adds violations (budgets), so their violations can be excepted too.
 */
export function createExceptionAnnotator(index: ExceptionIndex, clock: Clock): DecisionAnnotator {
  return {
    annotate(request, decision): Decision {
      if (index.size === 0 || decision.violations.length === 0) return decision;
      const now = clock();
      const subject = subjectOf(request);
      let kept: Violation[] | undefined;
      let excepted: ExceptedViolation[] | undefined;
      decision.violations.forEach((v, i) => {
        const exc = index.find(subject, v.policy, v.rule, now);
        if (exc === undefined) {
          kept?.push(v);
          return;
        }
        kept ??= decision.violations.slice(0, i);
        excepted ??= [...(decision.excepted ?? [])];
        excepted.push(withField(v, "exception_id", exc.id));
      });
      if (kept === undefined || excepted === undefined) return decision;
      const out = withField(decision, "excepted", excepted);
      out.decision = decisionOf(kept);
      out.violations = kept;
      return out;
    },
  };
}
