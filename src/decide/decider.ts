import type { CompiledPolicySet } from "../engine/compile.js";
import type { Decision, ResourceRequest } from "../engine/types.js";
import { InputError } from "../errors.js";
import type { RequestGuard } from "./request-guard.js";

/**
 * The one path every gate (CLI evaluate, Terraform plan, HTTP server, admission, scanner) takes from a
 * request to a decision: enrich the request (price book), evaluate it with the compiled policy set,
 * then attach what the gate's context knows (estimated cost; later budgets and exceptions).
 *
 * Each stage is a plain function so features plug in here without touching the engine or the gates.
 */
export interface RequestEnricher {
  /** Returns the request with derived fields filled in (never mutates its input). */
  enrich(request: ResourceRequest): ResourceRequest;
}

export interface DecisionAnnotator {
  annotate(request: ResourceRequest, decision: Decision): Decision;
}

export interface DeciderParts {
  policySet: CompiledPolicySet;
  /** Refuses a caller's request holding a misspelt spec (gates deciding requests, not scans). */
  guard?: RequestGuard;
  enrichers?: readonly RequestEnricher[];
  annotators?: readonly DecisionAnnotator[];
}

export interface Decider {
  readonly policySet: CompiledPolicySet;
  readonly guard?: RequestGuard;
  /** Throws an InputError for a request the guard refuses. */
  decide(request: ResourceRequest): Decision;
}

export function createDecider(parts: DeciderParts): Decider {
  const { policySet } = parts;
  const enrichers = parts.enrichers ?? [];
  const annotators = parts.annotators ?? [];
  const { guard } = parts;
  if (guard === undefined && enrichers.length === 0 && annotators.length === 0) {
    return { policySet, decide: (request) => policySet.evaluate(request) };
  }
  return {
    policySet,
    ...(guard === undefined ? {} : { guard }),
    decide(request) {
      if (guard !== undefined) refuse(guard, request);
      let r = request;
      for (const e of enrichers) r = e.enrich(r);
      let d = policySet.evaluate(r);
      for (const a of annotators) d = a.annotate(r, d);
      return d;
    },
  };
}

/**
 * Refuses a request the guard finds a misspelt spec in, as parseRequest refuses a misspelt key. Where
 * the request came from (file, item) is the gate's to say; here it is named by its id or name.
 */
function refuse(guard: RequestGuard, request: ResourceRequest): void {
  const why = guard.refusal(request);
  if (why === undefined) return;
  const label = request.id ?? request.name;
  throw new InputError(
    `request${label === undefined ? "" : ` ${JSON.stringify(label)}`} is not valid: ${why}`,
  );
}
