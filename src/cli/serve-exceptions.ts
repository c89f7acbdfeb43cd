import type { DecisionAnnotator } from "../decide/decider.js";
import type { Clock } from "../time/clock.js";
import type { CliContext } from "./context.js";
import { type ExceptionGateOptions, exceptionAnnotatorFromCli } from "./exception-options.js";

/** Approved exceptions for a long-running gate, kept current while it runs. */
export interface LiveExceptions {
  /** Delegates to the latest approved exceptions; put it last among a decider's annotators. */
  readonly annotator: DecisionAnnotator;
  /** Reads the approved exceptions from the store again; the previous ones stay on failure. */
  refresh(): Promise<void>;
}

/**
 * Approvals, revocations and expiries happen while the server runs. The decider holds this one
 * annotator for good; a refresh swaps the index behind it in one assignment, so the policies are not
 * reloaded and a decision sees either the old exceptions or the new ones. Expiry needs no refresh:
 * the annotator checks each exception's dates against the clock on every decision.
 */
export function liveExceptions(opts: ExceptionGateOptions, ctx: CliContext, clock: Clock): LiveExceptions {
  let current: DecisionAnnotator | undefined;
  return {
    annotator: {
      annotate: (request, decision) =>
        current === undefined ? decision : current.annotate(request, decision),
    },
    async refresh() {
      current = await exceptionAnnotatorFromCli(opts, ctx, clock);
    },
  };
}
