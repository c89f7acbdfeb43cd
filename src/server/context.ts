import type { Decision } from "../engine/types.js";
import type { EncodedDecision } from "./decision-json.js";
import type { DecisionLog } from "./decision-log.js";
import type { ServerMetrics } from "./metrics.js";
import type { PolicyReloader } from "./policy-reloader.js";

/** What the routes share, wired once in buildServer. */
export interface ServerContext {
  reloader: PolicyReloader;
  metrics: ServerMetrics;
  decisionLog: DecisionLog;
  limits: { maxBatch: number; bodyLimit: number };
  admission: { daemonSetNodes: number; evaluateOwned: boolean };
  /** Serialises a decision once for the answer and the decision log. */
  encode: (decision: Decision) => EncodedDecision;
  now: () => Date;
  newId: () => string;
  /** True once shutdown has begun. */
  closing: () => boolean;
}
