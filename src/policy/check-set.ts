import { KNOWN_REQUEST_FIELDS, KNOWN_RESOURCE_TYPES } from "../engine/known-requests.js";
import type { PolicyProblem } from "../errors.js";
import { currencyProblem } from "../money/currency.js";
import { compilePattern, PatternSyntaxError } from "./pattern.js";
import { closest } from "./suggest.js";
import type { FieldCheck, LoadedPolicy, RuleCommon } from "./types.js";

/**
 * Checks that need more than the JSON Schema: names unique across the set, RE2 patterns, check values
 * that fit their operator, limits that no value can satisfy (errors), and contradictions (warnings).
 */
export function checkPolicySet(policies: readonly LoadedPolicy[]): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const byName = new Map<string, LoadedPolicy>();
  for (const policy of policies) {
    const report = (
      path: (string | number)[],
      severity: "error" | "warning",
      message: string,
      atKey = false,
    ) => {
      const pos = policy.source.locate(path, atKey);
      problems.push({
        file: policy.source.file,
        line: pos.line,
        column: pos.column,
        path: `/${path.join("/")}`,
        severity,
        message,
        documentIndex: policy.source.index,
      });
    };
    const { document } = policy;
    const first = byName.get(document.metadata.name);
    if (first) {
      const at = first.source.locate(["metadata", "name"]);
      report(
        ["metadata", "name"],
        "error",
        `duplicate policy name \`${document.metadata.name}\` (first defined at ${first.source.file}:${at.line}:${at.column})`,
      );
    } else {
      byName.set(document.metadata.name, policy);
    }

    document.spec.rules.forEach((rule: RuleCommon & { resource?: unknown; scope?: unknown }, r: number) => {
      for (const key of ["resource", "scope"] as const) {
        const value = rule[key];
        const entries = typeof value === "string" ? [value] : Array.isArray(value) ? value : [];
        entries.forEach((entry: unknown, i: number) => {
          if (typeof entry !== "string") return;
          const hint = misspeltType(entry);
          if (hint !== undefined)
            report(
              typeof value === "string" ? ["spec", "rules", r, key] : ["spec", "rules", r, key, i],
              "warning",
              `\`${entry}\` matches no resource type costguard's gates, scans or sandbox produce — did you mean \`${hint}\`? (requests of your own types still match it)`,
            );
        });
      }
    });

    const ruleNames = new Set<string>();
    document.spec.rules.forEach((rule: RuleCommon, r: number) => {
      if (ruleNames.has(rule.name)) {
        report(["spec", "rules", r, "name"], "error", `duplicate rule name \`${rule.name}\` in policy`);
      }
      ruleNames.add(rule.name);
      rule.checks?.forEach((check, c) => {
        const problem = checkValueProblem(check) ?? tagValueProblem(check);
        if (problem)
          report(["spec", "rules", r, "checks", c, ...[problem.at].flat()], "error", problem.message);
        const field = misspeltField(check.field);
        if (field !== undefined)
          report(
            ["spec", "rules", r, "checks", c, "field"],
            "warning",
            `\`${check.field}\` is no field costguard's gates, inventories or price book set — did you mean \`${field}\`? (a field of your own requests still works; where it is missing, ${MISSING_FIELD[check.op] ?? "the check is unverified"})`,
          );
      });
    });

    if (document.spec.type === "TagRequirement") {
      document.spec.rules.forEach((rule, r) => {
        rule.requiredTags.forEach((tag, t) => {
          const at = ["spec", "rules", r, "requiredTags", t];
          if (tag.key.trim() !== tag.key && tag.key.trim() !== "")
            report([...at, "key"], "warning", BLANK_KEY(tag.key));
          if (tag.allowedValues?.length === 0)
            report([...at, "allowedValues"], "error", EMPTY_ALLOWED(`tag \`${tag.key}\``));
          let pattern: ReturnType<typeof compilePattern> | undefined;
          if (tag.pattern !== undefined) {
            try {
              pattern = compilePattern(tag.pattern);
            } catch (err) {
              if (!(err instanceof PatternSyntaxError)) throw err;
              report([...at, "pattern"], "error", `\`pattern\` is ${err.message}`);
            }
          }
          if (tag.minLength !== undefined && tag.maxLength !== undefined && tag.minLength > tag.maxLength) {
            report(
              [...at, "minLength"],
              "error",
              `\`minLength\` ${tag.minLength} is above \`maxLength\` ${tag.maxLength}: no value can satisfy both`,
            );
          }
          for (const allowed of tag.allowedValues ?? []) {
            const reasons: string[] = [];
            if (pattern && !pattern.test(allowed)) reasons.push(`does not match \`pattern\``);
            if (tag.minLength !== undefined && allowed.length < tag.minLength)
              reasons.push("is shorter than `minLength`");
            if (tag.maxLength !== undefined && allowed.length > tag.maxLength)
              reasons.push("is longer than `maxLength`");
            if (reasons.length > 0) {
              report(
                [...at, "allowedValues"],
                "warning",
                `allowed value "${allowed}" ${reasons.join(" and ")}: it can never pass`,
              );
            }
          }
        });
      });
    }

    if (document.spec.type === "ResourceLimit") {
      document.spec.rules.forEach((rule, r) => {
        const c = rule.constraint;
        if (!c) return;
        const currency = c.currency === undefined ? undefined : currencyProblem(c.currency);
        if (currency !== undefined) report(["spec", "rules", r, "constraint", "currency"], "error", currency);
        const both = (
          allowed: string[] | undefined,
          denied: string[] | undefined,
          what: string,
          key: string,
        ) => {
          const clash = (allowed ?? []).filter((v) => denied?.includes(v));
          if (clash.length > 0) {
            report(
              ["spec", "rules", r, "constraint", key],
              "warning",
              `${what} ${clash.map((v) => `"${v}"`).join(", ")} ${clash.length === 1 ? "is" : "are"} both allowed and denied; denied wins`,
            );
          }
        };
        both(
          c.allowedInstanceFamilies,
          c.deniedInstanceFamilies,
          "instance family",
          "deniedInstanceFamilies",
        );
        both(c.allowedTypes, c.deniedTypes, "volume type", "deniedTypes");
        for (const [key, field] of [
          ["allowedInstanceFamilies", "specs.instance_family"],
          ["allowedTypes", "specs.volume_type"],
        ] as const) {
          if (c[key]?.length === 0)
            report(["spec", "rules", r, "constraint", key], "error", EMPTY_ALLOWED(`\`${field}\``));
        }
      });
    }

    if (document.spec.type === "BudgetLimit") {
      document.spec.rules.forEach((rule, r) => {
        const { monthly, quarterly } = rule.budget;
        const currency =
          rule.budget.currency === undefined ? undefined : currencyProblem(rule.budget.currency);
        if (currency !== undefined) report(["spec", "rules", r, "budget", "currency"], "error", currency);
        if (monthly !== undefined && quarterly !== undefined && quarterly > monthly * 3) {
          report(
            ["spec", "rules", r, "budget", "quarterly"],
            "warning",
            `quarterly budget ${quarterly} is above three monthly budgets (${monthly * 3}): the monthly limit binds first`,
          );
        }
        const seen = new Set<number>();
        rule.budget.alertThresholds?.forEach((t, i) => {
          if (seen.has(t.percent)) {
            report(
              ["spec", "rules", r, "budget", "alertThresholds", i, "percent"],
              "warning",
              `threshold ${t.percent}% is listed twice`,
            );
          }
          seen.add(t.percent);
        });
      });
    }
  }
  return problems;
}

/** A tag key with blanks around it: tags are matched exactly, so `" team "` never finds a `team` tag. */
const BLANK_KEY = (key: string) =>
  `tag key ${JSON.stringify(key)} has blanks around it: only a tag whose key has the same blanks matches (did you mean \`${key.trim()}\`?)`;

/** An allowed list with nothing in it: every value is refused, not (as leaving the list out) every one allowed. */
const EMPTY_ALLOWED = (what: string) =>
  `an empty allowed list lets no ${what} pass: every request with one fails the rule — leave the list out to allow any`;

const KNOWN_CATEGORIES = [...new Set(KNOWN_RESOURCE_TYPES.map((t) => t.split("/")[0]!))];

/**
 * The known type (or `category/*`) a scope entry seems to misspell: one that matches none of the
 * types costguard produces but is close to one of them. An entry close to nothing is taken as a type
 * of the user's own.
 */
function misspeltType(entry: string): string | undefined {
  if (entry === "*") return undefined;
  const slash = entry.indexOf("/");
  const category = slash < 0 ? entry : entry.slice(0, slash);
  if (entry.endsWith("/*") && slash === entry.length - 2) {
    if (KNOWN_CATEGORIES.includes(category)) return undefined;
    const near = closest(category, KNOWN_CATEGORIES);
    return near === undefined ? undefined : `${near}/*`;
  }
  if ((KNOWN_RESOURCE_TYPES as readonly string[]).includes(entry)) return undefined;
  return closest(entry, KNOWN_RESOURCE_TYPES);
}

const KNOWN_FIELDS: readonly string[] = KNOWN_REQUEST_FIELDS;
/** What a check does on a request without its field, by operator (unverified for the rest). */
const MISSING_FIELD: Partial<Record<FieldCheck["op"], string>> = {
  present: "`present` fails",
  absent: "`absent` passes",
};
const KNOWN_HEADS = [...new Set(KNOWN_FIELDS.map((f) => f.split(".")[0]!))];

/**
 * The known field a check's path seems to misspell: its first part close to a known one (`tag.team`,
 * `spec.vcpus`), or a path under `specs`, `cost` or `metrics` close to a known one (`specs.vcpu`).
 * Paths close to nothing are taken as fields of the user's own.
 */
function misspeltField(field: string): string | undefined {
  if (KNOWN_FIELDS.includes(field)) return undefined;
  const dot = field.indexOf(".");
  const head = dot < 0 ? field : field.slice(0, dot);
  if (head === "tags") return undefined;
  if (!KNOWN_HEADS.includes(head)) {
    const near = closest(head, KNOWN_HEADS);
    if (near === undefined) return undefined;
    const fixed = near + field.slice(head.length);
    // `spec.vcpu` → `specs.vcpu` → `specs.vcpus`: the rest may be misspelt too.
    return misspeltField(fixed) ?? fixed;
  }
  return closest(
    field,
    KNOWN_FIELDS.filter((f) => f.startsWith(`${head}.`)),
  );
}

function checkValueProblem(check: FieldCheck): { at: string; message: string } | undefined {
  const { op, value } = check;
  const has = "value" in check;
  switch (op) {
    case "present":
    case "absent":
      return has ? { at: "value", message: `\`${op}\` takes no \`value\`` } : undefined;
    case "lt":
    case "lte":
    case "gt":
    case "gte":
      return typeof value === "number"
        ? undefined
        : { at: has ? "value" : "op", message: `\`${op}\` needs a number \`value\`` };
    case "in":
    case "not-in":
      if (op === "in" && Array.isArray(value) && value.length === 0)
        return {
          at: "value",
          message: `\`in\` with an empty list lets no \`${check.field}\` pass: every request with one fails the check`,
        };
      return Array.isArray(value) && value.every(isScalar)
        ? undefined
        : { at: has ? "value" : "op", message: `\`${op}\` needs a list of values` };
    case "regex":
      if (typeof value !== "string")
        return { at: has ? "value" : "op", message: "`regex` needs a pattern string `value`" };
      try {
        compilePattern(value);
        return undefined;
      } catch (err) {
        if (err instanceof PatternSyntaxError) return { at: "value", message: `\`value\` is ${err.message}` };
        throw err;
      }
    case "eq":
    case "ne":
      return has && isScalar(value)
        ? undefined
        : { at: has ? "value" : "op", message: `\`${op}\` needs a single \`value\`` };
  }
}

/**
 * A check on a tag whose `value` is no string: tags are strings (a request with a number tag is
 * refused), so YAML's unquoted `1` or `true` never equals one — `eq` and `in` always fail, `ne` and
 * `not-in` always pass — and a number bound is never applied. Said with the quoted spelling meant.
 */
function tagValueProblem(
  check: FieldCheck,
): { at: string | (string | number)[]; message: string } | undefined {
  if (!check.field.startsWith("tags.")) return undefined;
  const { op, value } = check;
  switch (op) {
    case "eq":
    case "ne":
      return typeof value === "string"
        ? undefined
        : { at: "value", message: `\`value\` ${notString(value)} — quote it: ${quoted(value)}` };
    case "in":
    case "not-in": {
      const i = (value as unknown[]).findIndex((v) => typeof v !== "string");
      return i < 0
        ? undefined
        : {
            at: ["value", i],
            message: `\`value\` item ${notString((value as unknown[])[i])} — quote it: ${quoted((value as unknown[])[i])}`,
          };
    }
    case "lt":
    case "lte":
    case "gt":
    case "gte":
      return {
        at: "op",
        message: `\`${op}\` compares numbers and tags are strings: the check is never applied (\`${check.field}\` is unverified on every request) — compare it with \`eq\`, \`in\` or \`regex\``,
      };
    default:
      return undefined;
  }
}

function notString(value: unknown): string {
  return `${JSON.stringify(value)} is a ${typeof value} and tags are strings: no tag's value ever equals it`;
}

function quoted(value: unknown): string {
  return JSON.stringify(String(value));
}

function isScalar(v: unknown): boolean {
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean";
}
