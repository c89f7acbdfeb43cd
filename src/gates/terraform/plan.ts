import { InputError } from "../../errors.js";
import { MAX_NESTING, shownValue } from "../../objects.js";

/** The parts of `terraform show -json PLANFILE` output the gate reads. */
export interface TerraformPlan {
  format_version: string;
  terraform_version?: string;
  resource_changes: TerraformResourceChange[];
  /** Region (or location) per provider configuration key, where the configuration states it. */
  providerRegions: ReadonlyMap<string, string>;
  /** Provider configuration key per resource address in the configuration (`module.a.aws_instance.b`). */
  providerKeys: ReadonlyMap<string, string>;
}

export interface TerraformResourceChange {
  address: string;
  module_address?: string;
  mode: string;
  type: string;
  name: string;
  provider_name: string;
  change: {
    actions: string[];
    before: unknown;
    after: unknown;
    after_unknown?: unknown;
  };
}

export type PlanAction = "create" | "update" | "replace" | "delete" | "no-op" | "read" | "forget";

/** Terraform's action lists, as one word. */
export function planAction(actions: readonly string[]): PlanAction | undefined {
  const key = [...actions].sort().join(",");
  switch (key) {
    case "create":
    case "update":
    case "delete":
    case "read":
    case "forget":
    case "no-op":
      return key;
    case "create,delete":
      return "replace";
    // A replacement that keeps the old object (`lifecycle { destroy = false }`, Terraform 1.7+): the
    // new one is created, and the old one is only dropped from the state, still there and still
    // costing. For the gate and the cost delta that is a create.
    case "create,forget":
      return "create";
    default:
      return undefined;
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** How a zip archive begins: `terraform plan -out`'s binary plan file is one. */
export const ZIP_SIGNATURE = "PK\u0003\u0004";

/** What is said of the binary plan file given where its JSON belongs. */
export function binaryPlanMessage(name: string): string {
  return `${name}: this is a binary plan file (terraform plan -out); costguard reads its JSON: terraform show -json ${name === "stdin" ? "PLANFILE" : name} > plan.json`;
}

/**
 * Validates and reads a plan. format_version 1.x (Terraform 1.1 and later) and the earlier 0.1 and 0.2
 * (Terraform 0.12 to 1.0, whose resource_changes have the same shape) are accepted; any other version is
 * refused with a clear message rather than read on a guess.
 */
export function parsePlan(text: string, name: string): TerraformPlan {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    // The two usual mix-ups: the binary plan file itself (a zip archive), and `terraform plan`'s text.
    if (text.startsWith(ZIP_SIGNATURE)) throw new InputError(binaryPlanMessage(name));
    const head = text.slice(0, 4096);
    if (
      head.includes("\u001b[") ||
      /^\s*(Terraform used the selected providers|Terraform will perform|No changes\.|Refreshing state|Plan:)/m.test(
        head,
      )
    )
      throw new InputError(
        `${name}: this is terraform plan's text for people, not its JSON: save the plan with terraform plan -out=PLANFILE and convert it with terraform show -json PLANFILE > plan.json`,
      );
    throw new InputError(
      `${name}: not valid JSON (${(err as Error).message}); expected \`terraform show -json PLANFILE\` output`,
    );
  }
  if (!isObject(doc))
    throw new InputError(`${name}: expected a JSON object from \`terraform show -json PLANFILE\``);
  const version = doc.format_version;
  if (version !== undefined && typeof version !== "string")
    throw new InputError(
      `${name}: format_version must be a string such as "1.2", got ${shownValue(version)}: this is not \`terraform show -json PLANFILE\` output as Terraform writes it`,
    );
  if (typeof version !== "string")
    throw new InputError(
      `${name}: no format_version: this is not \`terraform show -json PLANFILE\` output (a plan file must be converted with terraform show -json first)`,
    );
  if (!/^(1\.\d+|0\.[12])$/.test(version))
    throw new InputError(
      `${name}: plan format_version ${version} is not supported: costguard reads format_version 0.1, 0.2 and 1.x (Terraform 0.12 or later); re-create the JSON with \`terraform show -json PLANFILE\``,
    );
  // A plan always has planned_values (Terraform writes it even when nothing changes; resource_changes
  // is left out then). Without either this is not a plan: `terraform show -json` with no plan file
  // prints the state, and reading that as "no changes" would pass anything.
  if (doc.resource_changes == null && doc.planned_values == null)
    throw new InputError(
      `${name}: no resource_changes or planned_values: this is not a plan${
        doc.values !== undefined ? " but a state (`terraform show -json` without a plan file)" : ""
      }; save one with \`terraform plan -out=PLANFILE\` and convert it with \`terraform show -json PLANFILE\``,
    );
  // Terraform marks a plan it could not finish (`errored`, Terraform 1.5 and later; `terraform plan -out` keeps
  // it when planning failed): its changes are a part of what would change, so gating it could pass
  // what the full plan would not.
  if (doc.errored !== undefined && typeof doc.errored !== "boolean")
    throw new InputError(`${name}: errored must be true or false, got ${shownValue(doc.errored)}`);
  if (doc.errored === true)
    throw new InputError(
      `${name}: the plan is marked errored: Terraform could not finish planning, so its changes are incomplete; fix the errors \`terraform plan\` reports and gate the plan it then saves`,
    );
  const changes = doc.resource_changes === undefined ? [] : doc.resource_changes;
  if (!Array.isArray(changes)) throw new InputError(`${name}: resource_changes must be an array`);
  changes.forEach((rc, i) => {
    const where = `${name}: resource_changes[${i}]`;
    if (!isObject(rc)) throw new InputError(`${where} is not an object`);
    for (const k of ["address", "type", "provider_name"] as const)
      if (typeof rc[k] !== "string") throw new InputError(`${where}: \`${k}\` must be a string`);
    const change = rc.change;
    if (
      !isObject(change) ||
      !Array.isArray(change.actions) ||
      !change.actions.every((a) => typeof a === "string")
    )
      throw new InputError(`${where} (${String(rc.address)}): \`change.actions\` must be a list of actions`);
    // Terraform's actions are a closed set: others (a newer Terraform's, or a document that is not
    // Terraform's) were skipped as "unrecognised", and a plan creating something passed the gate.
    if (planAction(change.actions as string[]) === undefined)
      throw new InputError(
        `${where} (${String(rc.address)}): actions ${JSON.stringify(change.actions)} are none Terraform writes (create, update, delete, read, no-op, forget; create and delete, or create and forget, for a replacement): the plan is not Terraform's, or from a Terraform newer than costguard reads`,
      );
  });
  const plan: TerraformPlan = {
    format_version: version,
    resource_changes: changes as TerraformResourceChange[],
    providerRegions: providerRegions(doc.configuration, doc.variables),
    providerKeys: providerKeys(doc.configuration, name),
  };
  if (typeof doc.terraform_version === "string") plan.terraform_version = doc.terraform_version;
  return plan;
}

function providerRegions(configuration: unknown, variables: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (!isObject(configuration) || !isObject(configuration.provider_config)) return out;
  for (const [key, cfg] of Object.entries(configuration.provider_config)) {
    if (!isObject(cfg) || !isObject(cfg.expressions)) continue;
    for (const attr of ["region", "location"]) {
      const expr = cfg.expressions[attr];
      if (!isObject(expr)) continue;
      if (typeof expr.constant_value === "string") out.set(key, expr.constant_value);
      else {
        // `region = var.region` in the root module (the usual set-up): the plan holds the variable's
        // value. Priced as us-east-1 before, whatever region the variable named.
        const region = rootVariable(key, expr.references, variables);
        if (region !== undefined) out.set(key, region);
      }
    }
  }
  return out;
}

/** The value of the root-module variable an expression is (`references: ["var.region"]`), if a string. */
function rootVariable(providerKey: string, references: unknown, variables: unknown): string | undefined {
  // A module's provider (`module.a:aws`) refers to the module's own variables, which the plan does not hold.
  if (providerKey.includes(":") || !Array.isArray(references) || !isObject(variables)) return undefined;
  const name = references.find((r): r is string => typeof r === "string" && /^var\.[^.]+$/.test(r));
  if (name === undefined || references.length > 1) return undefined;
  const variable = variables[name.slice(4)];
  return isObject(variable) && typeof variable.value === "string" ? variable.value : undefined;
}

function providerKeys(configuration: unknown, file: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!isObject(configuration)) return out;
  const walk = (module: unknown, prefix: string, depth: number) => {
    if (!isObject(module)) return;
    // Modules nest a few deep; this walk recursed, and some ten thousand deep ran out of stack.
    if (depth > MAX_NESTING)
      throw new InputError(
        `${file}: configuration modules nest more than ${MAX_NESTING} deep (module_calls within module_calls): not a plan Terraform writes`,
      );
    if (Array.isArray(module.resources)) {
      for (const r of module.resources) {
        if (isObject(r) && typeof r.address === "string" && typeof r.provider_config_key === "string")
          out.set(`${prefix}${r.address}`, r.provider_config_key);
      }
    }
    if (isObject(module.module_calls)) {
      for (const [name, call] of Object.entries(module.module_calls)) {
        if (isObject(call)) walk(call.module, `${prefix}module.${name}.`, depth + 1);
      }
    }
  };
  walk(configuration.root_module, "", 0);
  return out;
}

/** The configuration address of a resource instance: indexes removed (`module.a["x"].b.c[0]` → `module.a.b.c`). */
export function configAddress(address: string): string {
  return address.replace(/\[[^\]]*\]/g, "");
}
