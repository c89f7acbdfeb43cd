export { reachedThresholds, type ThresholdAlert, thresholdKey } from "./budget/alerts.js";
export {
  type BuildBudgetStateOptions,
  type BuiltBudgetState,
  buildBudgetStateFromFile,
  readBudgetStateFile,
} from "./budget/build-state.js";
export type { ChargeDimensions, IngestOptions, IngestReport, MalformedRow } from "./budget/charge.js";
export { type BudgetDefinition, budgetDefinitions } from "./budget/definitions.js";
export {
  type BudgetGateOptions,
  type MonthlyCostEstimator,
  requestMonthlyCost,
} from "./budget/gate.js";
export { parseAt, periodAt } from "./budget/periods.js";
export { readFocusFile } from "./budget/read-focus.js";
export type { BudgetCondition, BudgetState, BudgetStatus, ThresholdStatus } from "./budget/state.js";
export { type BudgetStateWatch, type BudgetStateWatchOptions, watchBudgetState } from "./budget/watch.js";
export { type CostguardConfig, loadConfig } from "./config/load.js";
export {
  type CycleResult,
  type CycleSummary,
  runComplianceCycle,
} from "./cycle/compliance-cycle.js";
export {
  createDecider,
  type Decider,
  type DecisionAnnotator,
  type RequestEnricher,
} from "./decide/decider.js";
export { createUnknownFieldsAnnotator, UNKNOWN_FIELDS } from "./decide/unknown-fields.js";
export {
  type CompiledPolicySet,
  type CompiledRule,
  type CompileOptions,
  compilePolicySet,
} from "./engine/compile.js";
export { parseRequest } from "./engine/request.js";
export type {
  CostComponent,
  CostEstimate,
  Decision,
  DecisionKind,
  ExceptedViolation,
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
export { createExceptionAnnotator } from "./exceptions/annotator.js";
export { type ApproverConfig, eligibleApprovers } from "./exceptions/approvers.js";
export { policyCatalog } from "./exceptions/catalog.js";
export { type ExceptionConfig, parseExceptionConfig } from "./exceptions/config.js";
export { effectiveStatus, isReviewOverdue } from "./exceptions/lifecycle.js";
export { buildExceptionIndex, type ExceptionIndex } from "./exceptions/match.js";
export { buildExceptionsReport, type ExceptionsReport } from "./exceptions/report.js";
export { createExceptionService, type ExceptionService } from "./exceptions/service.js";
export { createMemoryExceptionStore, type ExceptionStore } from "./exceptions/store.js";
export type { ExceptionRequest, ExceptionSelector, PolicyException } from "./exceptions/types.js";
export {
  type AdmissionRequest,
  type AdmissionResponse,
  decisionResponse as admissionDecisionResponse,
  planAdmission,
  readAdmissionReview,
} from "./gates/kubernetes/admission.js";
export { parseQuantity, type Quantity, toBytes, toMillicores } from "./gates/kubernetes/quantity.js";
export {
  WORKLOAD_KINDS,
  type WorkloadKind,
  workloadKind,
  workloadRequest,
} from "./gates/kubernetes/workload.js";
export { evaluatePlan, type PlanReport, type PlanResourceResult } from "./gates/terraform/gate.js";
export { parsePlan, type TerraformPlan } from "./gates/terraform/plan.js";
export { renderPlanJunit } from "./gates/terraform/render-junit.js";
export { renderPlanSarif } from "./gates/terraform/render-sarif.js";
export { renderPlanMarkdown, renderPlanTable } from "./gates/terraform/render-text.js";
export { SUPPORTED_TYPES as TERRAFORM_SUPPORTED_TYPES } from "./gates/terraform/resources.js";
export { awsProvider } from "./inventory/aws/aws-provider.js";
export { fileProvider } from "./inventory/file/file-provider.js";
export { sandboxResourceActions } from "./inventory/sandbox/resource-actions.js";
export { actOnSandbox, initSandbox, resetSandbox, sandboxProvider } from "./inventory/sandbox/sandbox.js";
export type { InventoryProvider, Resource, ResourceMetrics } from "./inventory/types.js";
export { fireBudgetAlerts } from "./notify/budget-alerts.js";
export { loadNotifyConfig, type NotifyConfig } from "./notify/config.js";
export { type DeliveryResult, deliverDue } from "./notify/deliver.js";
export { openOutbox } from "./notify/open-outbox.js";
export { type Outbox, sqlOutbox } from "./notify/sql-outbox.js";
export type {
  NotificationData,
  OutboxEntry,
  OutboxMessage,
  OutboxStore,
  ThresholdLedger,
} from "./notify/types.js";
export { listPolicyFiles, loadPolicies, type PolicyFileOptions, readPolicies } from "./policy/load.js";
export { compilePattern } from "./policy/pattern.js";
export { loadPolicySchema } from "./policy/schema.js";
export type * from "./policy/types.js";
export { type BookEntry, createPriceBook, DEFAULT_REGIONS, type PriceBook } from "./pricing/book.js";
export { COST_FIELD, costOf, createCostAnnotator, createPriceBookEnricher } from "./pricing/enrich.js";
export { estimateCost, unknownCost } from "./pricing/estimate.js";
export { loadPriceBook, readPriceTable } from "./pricing/load.js";
export { HOURS_PER_MONTH } from "./pricing/money.js";
export { type PriceTable, parsePriceTable } from "./pricing/parse.js";
export { createPricedDecider } from "./pricing/priced-decider.js";
export type { PriceEntry, PriceSource } from "./pricing/types.js";
export type { ResourceActions } from "./remediation/actions.js";
export { parseRemediationConfig, type RemediationConfig } from "./remediation/config.js";
export { type RemediationRun, runRemediation } from "./remediation/cycle.js";
export { executeTasks } from "./remediation/executor.js";
export { planRemediation, type RemediationPlan } from "./remediation/planner.js";
export { checkSafety } from "./remediation/safety.js";
export type { LedgerEntry, SavingsLedger, TaskStore } from "./remediation/store.js";
export type { OwnerNotice, PlannableFinding, RemediationTask, TaskState } from "./remediation/types.js";
export {
  type BilledCost,
  type BillingCosts,
  billedCost,
  readBillingCosts,
} from "./scan/billing-costs.js";
export { DEFAULT_DETECTORS, type DetectorConfig } from "./scan/detectors.js";
export { findingsForResource, type ScanContext } from "./scan/findings.js";
export { loadPrices, type PriceLookup, priceLookupFromBook } from "./scan/prices.js";
export { runScan, type ScanOptions, type ScanResult } from "./scan/run-scan.js";
export { createScanDecider } from "./scan/scan-decider.js";
export type * from "./scan/types.js";
export { buildServer, type ServerParts } from "./server/app.js";
export { resolveServeConfig, type ServeConfig, serveInputFromEnv } from "./server/config.js";
export {
  createPolicyReloader,
  type DeciderFactory,
  type LoadedPolicySet,
  type PolicyReloader,
} from "./server/policy-reloader.js";
export { type RunningServer, type StartOptions, startServer } from "./server/start.js";
export { DEFAULT_DATABASE_PATH, openStore, resolveDatabase } from "./store/open.js";
export type { Store } from "./store/store.js";

import { compilePolicySet } from "./engine/compile.js";
import type { Decision, ResourceRequest } from "./engine/types.js";
import type { LoadedPolicy } from "./policy/types.js";

/** One-shot convenience: compile and evaluate. Compile once with compilePolicySet when evaluating many. */
export function evaluate(policies: readonly LoadedPolicy[], request: ResourceRequest): Decision {
  return compilePolicySet(policies).evaluate(request);
}
