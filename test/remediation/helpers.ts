import { DEFAULT_REMEDIATION_CONFIG, type RemediationConfig } from "../../src/remediation/config.js";
import { type PlanInput, planRemediation, type RemediationPlan } from "../../src/remediation/planner.js";
import type { PlannableFinding, RemediationTask } from "../../src/remediation/types.js";

export function finding(overrides: Partial<PlannableFinding> = {}): PlannableFinding {
  return {
    id: "f-1",
    resource_id: "i-0001",
    resource_type: "compute/instance",
    tags: { owner: "maria@company.com" },
    policy: "idle-resource-detection",
    rule: "low-utilization",
    severity: "high",
    message: "Instance appears idle",
    action: "stop",
    status: "open",
    estimated_monthly_savings: "70.08",
    currency: "USD",
    ...overrides,
  };
}

/** Keeps the stored tasks between planning runs, as the store would. */
export function taskBook() {
  const tasks = new Map<string, RemediationTask>();
  return {
    tasks,
    all: () => [...tasks.values()],
    plan(input: Omit<PlanInput, "tasks" | "config"> & { config?: RemediationConfig }): RemediationPlan {
      const plan = planRemediation({
        config: DEFAULT_REMEDIATION_CONFIG,
        ...input,
        tasks: [...tasks.values()],
      });
      for (const t of [...plan.created, ...plan.updated]) tasks.set(t.id, t);
      return plan;
    },
  };
}
