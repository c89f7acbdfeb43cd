import type { Decision } from "../engine/types.js";
import type { KubeApi } from "../gates/kubernetes/kube-api.js";
import type { EncodedDecision } from "./decision-json.js";
import type { DecisionLog } from "./decision-log.js";
import type { ServerMetrics } from "./metrics.js";
import type { PolicyReloader } from "./policy-reloader.js";

/** Where the budgets a server enforces stand: how fresh their billing data is. */
export interface BudgetDataView {
  /** The instant the budget state was computed for. */
  at: string;
  /** The latest ChargePeriodEnd in the billing data (null: no charges before `at`). */
  data_through: string | null;
  max_billing_lag_hours: number;
  /** Why the data is too old to judge budgets by, or null when it is recent enough. */
  stale: string | null;
}

/** What the routes share, wired once in buildServer. */
export interface ServerContext {
  reloader: PolicyReloader;
  metrics: ServerMetrics;
  decisionLog: DecisionLog;
  limits: { maxBatch: number; bodyLimit: number };
  admission: { daemonSetNodes: number; evaluateOwned: boolean };
  /** Reads workloads for reviews of their `scale` subresource (undefined: --kube-api off). */
  kubeApi?: KubeApi | undefined;
  /** Serialises a decision once for the answer and the decision log. */
  encode: (decision: Decision) => EncodedDecision;
  now: () => Date;
  newId: () => string;
  /** True once shutdown has begun. */
  closing: () => boolean;
  /** The served budgets' billing data, when the server enforces budgets. */
  budgets?: (() => BudgetDataView) | undefined;
}
