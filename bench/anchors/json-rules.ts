import { Engine } from "json-rules-engine";
import type { ResourceRequest } from "../../src/engine/types.js";
import type { PolicyDocument, RequiredTag } from "../../src/policy/types.js";

/**
 * json-rules-engine (a popular JavaScript rules engine) on equivalent rules: one rule per check, whose
 * event is a violation. It evaluates asynchronously, so each decision is awaited.
 */
type Condition = Record<string, unknown>;

function scopeCondition(scope: string | readonly string[] | undefined): Condition | undefined {
  const list = scope === undefined ? ["*"] : typeof scope === "string" ? [scope] : [...scope];
  if (list.includes("*")) return undefined;
  return { fact: "type", operator: "inScope", value: list };
}

export function jsonRulesEngine(policies: readonly PolicyDocument[]): {
  ruleCount: number;
  decide(r: ResourceRequest): Promise<"allow" | "deny">;
} {
  const engine = new Engine([], { allowUndefinedFacts: true });
  engine.addOperator("inScope", (type: unknown, scopes: unknown) =>
    (scopes as string[]).some((s) =>
      s.endsWith("/*") ? String(type).startsWith(s.slice(0, -1)) : type === s,
    ),
  );
  engine.addOperator("missing", (v: unknown) => v === undefined);
  engine.addOperator(
    "notMatches",
    (v: unknown, pattern: unknown) => typeof v === "string" && !(pattern as RegExp).test(v),
  );
  engine.addOperator(
    "notIn",
    (v: unknown, list: unknown) => typeof v === "string" && !(list as string[]).includes(v),
  );
  engine.addOperator("nsMatch", (env: unknown, ns: unknown) => env === undefined || env === ns);
  let ruleCount = 0;
  for (const p of policies) {
    for (const rule of p.spec.rules) {
      const base: Condition[] = [];
      const scope = scopeCondition(
        "resource" in rule ? rule.resource : "scope" in rule ? rule.scope : undefined,
      );
      if (scope) base.push(scope);
      if (p.metadata.namespace)
        base.push({ fact: "tags", path: "$.environment", operator: "nsMatch", value: p.metadata.namespace });
      const checks: Condition[] = [];
      if (p.spec.type === "ResourceLimit") {
        const c = (rule as { constraint?: Record<string, unknown> }).constraint ?? {};
        const max = (key: string, field: string) => {
          if (typeof c[key] === "number")
            checks.push({ fact: "specs", path: `$.${field}`, operator: "greaterThan", value: c[key] });
        };
        max("maxVCPUs", "vcpus");
        max("maxMemoryGB", "memory_gb");
        max("maxSizeGB", "size_gb");
        max("maxStorageGB", "storage_gb");
        if (c.deniedInstanceFamilies)
          checks.push({
            fact: "specs",
            path: "$.instance_family",
            operator: "in",
            value: c.deniedInstanceFamilies,
          });
      } else if (p.spec.type === "TagRequirement") {
        for (const tag of (rule as { requiredTags: RequiredTag[] }).requiredTags) {
          const path = `$['${tag.key}']`;
          checks.push({ fact: "tags", path, operator: "missing", value: true });
          if (tag.pattern)
            checks.push({ fact: "tags", path, operator: "notMatches", value: new RegExp(tag.pattern) });
          if (tag.allowedValues)
            checks.push({ fact: "tags", path, operator: "notIn", value: tag.allowedValues });
        }
      }
      for (const check of checks) {
        engine.addRule({
          conditions: { all: [...base, check] } as never,
          event: { type: "violation", params: { policy: p.metadata.name, rule: rule.name } },
        });
        ruleCount++;
      }
    }
  }
  return {
    ruleCount,
    async decide(request) {
      const { events } = await engine.run({
        type: request.type,
        tags: request.tags ?? {},
        specs: request.specs ?? {},
      });
      return events.length > 0 ? "deny" : "allow";
    },
  };
}
