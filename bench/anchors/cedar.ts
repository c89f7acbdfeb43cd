import * as cedar from "@cedar-policy/cedar-wasm/nodejs";
import type { Decision, ResourceRequest } from "../../src/engine/types.js";
import type { PolicyDocument, RequiredTag } from "../../src/policy/types.js";

/**
 * Cedar (AWS's authorization engine, via its official Wasm build) on policies equivalent to ours:
 * one `forbid` per check, plus one `permit`, so "Deny" means "some check failed".
 * Cedar has no regular expressions: tag patterns are approximated with `like` (wildcards only), so
 * Cedar's answers can differ from costguard's where a pattern matters; the bench reports agreement.
 */
const LIKE: Record<string, string> = {
  "^CC-[0-9]{6}$": "CC-*",
  "^[a-z]+@company\\.com$": "*@company.com",
  "^T[0-9]+$": "T*",
};

const str = (s: string) => JSON.stringify(s);

function scopeExpr(scope: string | readonly string[] | undefined): string {
  const list = scope === undefined ? ["*"] : typeof scope === "string" ? [scope] : scope;
  if (list.includes("*")) return "true";
  return `(${list.map((s) => (s.endsWith("/*") ? `context.type like ${str(s)}` : `context.type == ${str(s)}`)).join(" || ")})`;
}

function namespaceExpr(ns: string | undefined): string {
  if (ns === undefined) return "true";
  return `(if context has namespace then context.namespace == ${str(ns)} else (if context.tags has "environment" then context.tags["environment"] == ${str(ns)} else true))`;
}

function tagExprs(tag: RequiredTag): string[] {
  const has = `context.tags has ${str(tag.key)}`;
  const value = `context.tags[${str(tag.key)}]`;
  const out = [`!(${has})`];
  if (tag.pattern !== undefined) {
    const alternatives = /^\^\(([a-z|]+)\)\$$/.exec(tag.pattern);
    if (alternatives)
      out.push(`${has} && !([${alternatives[1]!.split("|").map(str).join(", ")}].contains(${value}))`);
    else out.push(`${has} && !(${value} like ${str(LIKE[tag.pattern] ?? "*")})`);
  }
  if (tag.allowedValues)
    out.push(`${has} && !([${tag.allowedValues.map(str).join(", ")}].contains(${value}))`);
  return out;
}

export function toCedar(policies: readonly PolicyDocument[]): string {
  const out = ["permit(principal, action, resource);"];
  let n = 0;
  for (const p of policies) {
    for (const rule of p.spec.rules) {
      const guard = `${scopeExpr("resource" in rule ? rule.resource : "scope" in rule ? rule.scope : undefined)} && ${namespaceExpr(p.metadata.namespace)}`;
      const checks: string[] = [];
      if (p.spec.type === "ResourceLimit") {
        const c = (rule as { constraint?: Record<string, unknown> }).constraint ?? {};
        const max = (key: string, field: string) => {
          if (typeof c[key] === "number")
            checks.push(
              `context.specs has ${field} && context.specs.${field} > ${Math.floor(c[key] as number)}`,
            );
        };
        max("maxVCPUs", "vcpus");
        max("maxMemoryGB", "memory_gb");
        max("maxSizeGB", "size_gb");
        max("maxStorageGB", "storage_gb");
        const denied = c.deniedInstanceFamilies as string[] | undefined;
        if (denied)
          checks.push(
            `context.specs has instance_family && [${denied.map(str).join(", ")}].contains(context.specs.instance_family)`,
          );
        const allowed = c.allowedInstanceFamilies as string[] | undefined;
        if (allowed)
          checks.push(
            `context.specs has instance_family && !([${allowed.map(str).join(", ")}].contains(context.specs.instance_family))`,
          );
      } else if (p.spec.type === "TagRequirement") {
        for (const tag of (rule as { requiredTags: RequiredTag[] }).requiredTags)
          checks.push(...tagExprs(tag));
      }
      for (const check of checks)
        out.push(
          `@id(${str(`${p.metadata.name}/${rule.name}/${n++}`)})\nforbid(principal, action, resource) when { ${guard} && ${check} };`,
        );
    }
  }
  return out.join("\n");
}

export interface CedarEngine {
  policyCount: number;
  decide(request: ResourceRequest): "allow" | "deny";
}

export function cedarEngine(policies: readonly PolicyDocument[]): CedarEngine {
  const text = toCedar(policies);
  const parsed = cedar.preparsePolicySet("bench", { staticPolicies: text });
  if (parsed.type !== "success")
    throw new Error(`cedar rejected the translated policies: ${JSON.stringify(parsed)}`);
  const principal = { type: "User", id: "ci" };
  const action = { type: "Action", id: "create" };
  const resource = { type: "Resource", id: "r" };
  return {
    policyCount: text.split("forbid(").length,
    decide(request) {
      const answer = cedar.statefulIsAuthorized({
        principal,
        action,
        resource,
        context: { type: request.type, tags: request.tags ?? {}, specs: request.specs ?? {} } as never,
        preparsedPolicySetId: "bench",
        entities: [],
      });
      if (answer.type !== "success") throw new Error(`cedar failed: ${JSON.stringify(answer)}`);
      return answer.response.decision === "deny" ? "deny" : "allow";
    },
  };
}

export const decisionOf = (d: Decision): "allow" | "deny" =>
  d.violations.some((v) => v.enforcement !== "audit") ? "deny" : "allow";
