export { type CompiledPolicySet, type CompiledRule, compilePolicySet } from "./engine/compile.js";
export { parseRequest } from "./engine/request.js";
export type {
  Decision,
  DecisionKind,
  NotEvaluated,
  ResourceRequest,
  ResourceSpecs,
  Unverified,
  Violation,
} from "./engine/types.js";
export {
  ConflictError,
  formatProblem,
  InputError,
  NotFoundError,
  PermissionDeniedError,
  type PolicyProblem,
  PolicyValidationError,
} from "./errors.js";
export { listPolicyFiles, loadPolicies, readPolicies } from "./policy/load.js";
export { compilePattern } from "./policy/pattern.js";
export { loadPolicySchema } from "./policy/schema.js";
export type * from "./policy/types.js";

import { compilePolicySet } from "./engine/compile.js";
import type { Decision, ResourceRequest } from "./engine/types.js";
import type { LoadedPolicy } from "./policy/types.js";

/** One-shot convenience: compile and evaluate. Compile once with compilePolicySet when evaluating many. */
export function evaluate(policies: readonly LoadedPolicy[], request: ResourceRequest): Decision {
  return compilePolicySet(policies).evaluate(request);
}
