import type { Violation } from "../../engine/types.js";
import type { Enforcement } from "../../policy/types.js";
import type { PlanReport } from "./gate.js";

const LEVEL: Record<Enforcement, "error" | "warning" | "note"> = {
  deny: "error",
  warn: "warning",
  audit: "note",
};

/**
 * SARIF 2.1.0 for code scanning: one rule per policy rule, one result per violation, located at the
 * plan file with the resource address as the logical location.
 */
export function renderPlanSarif(report: PlanReport, toolVersion: string): string {
  const rules: {
    id: string;
    name: string;
    shortDescription: { text: string };
    defaultConfiguration: { level: string };
    properties: Record<string, unknown>;
  }[] = [];
  const ruleIndex = new Map<string, number>();
  const results = [];
  for (const r of report.resources) {
    // Violations an approved exception covers are results too, suppressed externally (code scanning
    // shows them as such, not as open alerts), with the exception as the justification.
    const all: (Violation & { exception_id?: string })[] = [...r.violations, ...(r.excepted ?? [])];
    for (const v of all) {
      const id = `${v.policy}/${v.rule}`;
      let index = ruleIndex.get(id);
      if (index === undefined) {
        index = rules.length;
        ruleIndex.set(id, index);
        rules.push({
          id,
          name: v.rule,
          shortDescription: { text: `costguard policy ${v.policy}, rule ${v.rule}` },
          defaultConfiguration: { level: LEVEL[v.enforcement] },
          properties: { policy: v.policy, severity: v.severity, enforcement: v.enforcement },
        });
      }
      results.push({
        ruleId: id,
        ruleIndex: index,
        level: LEVEL[v.enforcement],
        message: { text: `${r.address}: ${v.message}` },
        locations: [
          {
            physicalLocation: { artifactLocation: { uri: report.plan.file }, region: { startLine: 1 } },
            logicalLocations: [{ fullyQualifiedName: r.address, kind: "resource" }],
          },
        ],
        partialFingerprints: { "costguard/v1": `${r.address}|${id}|${v.field}` },
        ...(v.exception_id === undefined
          ? {}
          : {
              suppressions: [
                {
                  kind: "external",
                  status: "accepted",
                  justification: `approved costguard exception ${v.exception_id}`,
                },
              ],
            }),
        properties: {
          address: r.address,
          resource_type: r.resource_type,
          action: r.action,
          field: v.field,
          actual: v.actual,
          limit: v.limit,
          severity: v.severity,
          monthly_cost_after: r.monthly_cost_after?.monthly ?? null,
        },
      });
    }
  }
  const sarif = {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "costguard",
            version: toolVersion,
            informationUri: "https://costguard.dev",
            rules,
          },
        },
        results,
        properties: {
          decision: report.decision,
          policy_revision: report.policy_revision,
          summary: report.summary,
        },
      },
    ],
  };
  return `${JSON.stringify(sarif, null, 2)}\n`;
}
