import { InputError } from "../errors.js";
import { ownValue, setOwn } from "../objects.js";
import { POLICY_TYPES, type PolicyType } from "../policy/types.js";
import { checkUserName, sameUser } from "../users.js";
import type { PolicyException } from "./types.js";

export { sameUser };

/**
 * Who may approve an exception, as the guide has it: the requester's manager, the FinOps team for
 * budget policies, the security team for tag and limit policies — each overridable per policy.
 * Entries of `byPolicyType` and `policies` name a user (`alice`) or a team (`team:finops`).
 * Its maps are keyed by names users write: only their own keys count (a policy or team named
 * `constructor` is looked up as that name, never as Object.prototype's).
 */
export interface ApproverConfig {
  /** user → their manager. */
  managers: Readonly<Record<string, string>>;
  /** team name → members. */
  teams: Readonly<Record<string, readonly string[]>>;
  byPolicyType: Readonly<Partial<Record<PolicyType, readonly string[]>>>;
  /** Per-policy override: replaces the policy type's approvers. */
  policies: Readonly<Record<string, { approvers: readonly string[]; includeManager?: boolean }>>;
  /** Whether the requester's manager may approve (default true). */
  includeManager: boolean;
}

export const DEFAULT_APPROVER_CONFIG: ApproverConfig = {
  managers: {},
  teams: {},
  byPolicyType: {
    BudgetLimit: ["team:finops"],
    TagRequirement: ["team:security"],
    ResourceLimit: ["team:security"],
  },
  policies: {},
  includeManager: true,
};

/** One eligible approver and why they are one (printed when someone is refused). */
export interface Approver {
  user: string;
  because: string;
}

/** Everyone who may approve, reject or renew this exception — never its requester. */
export function eligibleApprovers(
  exc: Pick<PolicyException, "policy" | "policy_type" | "requested_by">,
  config: ApproverConfig,
): Approver[] {
  const found = new Map<string, string>();
  const add = (user: string, because: string) => {
    if (!sameUser(user, exc.requested_by) && ![...found.keys()].some((u) => sameUser(u, user)))
      found.set(user, because);
  };
  const override = ownValue(config.policies, exc.policy);
  const includeManager = override?.includeManager ?? config.includeManager;
  if (includeManager) {
    const managed = Object.keys(config.managers).find((u) => sameUser(u, exc.requested_by));
    const manager = managed === undefined ? undefined : ownValue(config.managers, managed);
    if (manager) add(manager, `manager of ${exc.requested_by}`);
  }
  const entries = override
    ? override.approvers
    : exc.policy_type
      ? (ownValue<readonly string[] | undefined>(config.byPolicyType, exc.policy_type) ?? [])
      : [];
  const why = override ? `approver of policy ${exc.policy}` : `approver of ${exc.policy_type} policies`;
  for (const entry of entries) {
    if (entry.startsWith("team:")) {
      const team = entry.slice("team:".length);
      for (const member of ownValue(config.teams, team) ?? []) add(member, `${team} team`);
    } else {
      add(entry, why);
    }
  }
  return [...found].map(([user, because]) => ({ user, because }));
}

export function describeApprovers(approvers: readonly Approver[]): string {
  if (approvers.length === 0)
    return "none configured (exceptions.approvers in costguard.yaml; see docs/exceptions.md)";
  return approvers.map((a) => `${a.user} (${a.because})`).join(", ");
}

/** Checks an `approvers` section of the configuration; `where` names it in messages. */
export function parseApproverConfig(value: unknown, where = "exceptions.approvers"): ApproverConfig {
  if (value === undefined || value === null) return DEFAULT_APPROVER_CONFIG;
  const obj = asObject(value, where);
  const known = ["managers", "teams", "byPolicyType", "policies", "includeManager"];
  for (const k of Object.keys(obj))
    if (!known.includes(k))
      throw new InputError(`${where}.${k} is not a known setting (${known.join(", ")})`);
  const managers = stringMap(obj.managers, `${where}.managers`);
  // Nobody approves their own exception: a manager of themselves approves nothing as manager.
  for (const [user, manager] of Object.entries(managers))
    if (sameUser(user, manager))
      throw new InputError(
        `${where}.managers.${user} names ${user} as their own manager: nobody approves their own exceptions`,
      );
  const teams: Record<string, string[]> = {};
  for (const [team, members] of Object.entries(asObject(obj.teams ?? {}, `${where}.teams`))) {
    const list = stringList(members, `${where}.teams.${team}`);
    setOwn(teams, team, list);
    // A team with nobody in it approves nothing: where it is named, requests said "none configured".
    if (list.length === 0)
      throw new InputError(`${where}.teams.${team} has no members: name who approves for it`);
  }
  const written: string[][] = [];
  const byPolicyType: Partial<Record<PolicyType, readonly string[]>> = {
    ...DEFAULT_APPROVER_CONFIG.byPolicyType,
  };
  for (const [type, list] of Object.entries(asObject(obj.byPolicyType ?? {}, `${where}.byPolicyType`))) {
    if (!(POLICY_TYPES as readonly string[]).includes(type))
      throw new InputError(`${where}.byPolicyType.${type} is not a policy type (${POLICY_TYPES.join(", ")})`);
    const entries = approverList(list, `${where}.byPolicyType.${type}`);
    byPolicyType[type as PolicyType] = entries;
    written.push(entries);
  }
  const policies: Record<string, { approvers: string[]; includeManager?: boolean }> = {};
  for (const [name, entry] of Object.entries(asObject(obj.policies ?? {}, `${where}.policies`))) {
    const at = `${where}.policies.${name}`;
    if (Array.isArray(entry)) {
      setOwn(policies, name, { approvers: approverList(entry, at) });
      continue;
    }
    const e = asObject(entry, at);
    const p: { approvers: string[]; includeManager?: boolean } = {
      approvers: approverList(e.approvers, `${at}.approvers`),
    };
    if (e.includeManager !== undefined) p.includeManager = bool(e.includeManager, `${at}.includeManager`);
    setOwn(policies, name, p);
  }
  // The defaults may name teams nobody configured (they then add no one); what the user wrote may not.
  for (const list of [...written, ...Object.values(policies).map((p) => p.approvers)])
    for (const entry of list)
      if (entry.startsWith("team:") && !Object.hasOwn(teams, entry.slice(5)))
        throw new InputError(`${where}: ${entry} names a team that is not defined under ${where}.teams`);
  return {
    managers,
    teams,
    byPolicyType,
    policies,
    includeManager:
      obj.includeManager === undefined ? true : bool(obj.includeManager, `${where}.includeManager`),
  };
}

function asObject(value: unknown, where: string): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new InputError(`${where} must be a mapping`);
  return value as Record<string, unknown>;
}

/** Names are kept trimmed: as written (`" Carol"`) they were shown so in the eligible approvers. */
function stringMap(value: unknown, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(asObject(value ?? {}, where))) {
    // Checked before either is shown: an unseen character would make a lookalike of a user.
    const k = checkUserName(key.trim(), where);
    if (k === "") throw new InputError(`${where} names a user with no name`);
    if (typeof v !== "string" || v.trim() === "") throw new InputError(`${where}.${k} must be a user name`);
    // One user written twice (`alice` and `Alice `): only one entry could count, the other in silence.
    const twice = Object.keys(out).find((u) => sameUser(u, k));
    if (twice !== undefined)
      throw new InputError(
        `${where} names ${twice} and ${k}, one user written two ways: keep one entry for them`,
      );
    setOwn(out, k, checkUserName(v.trim(), `${where}.${k}`));
  }
  return out;
}

function stringList(value: unknown, where: string): string[] {
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || v.trim() === ""))
    throw new InputError(`${where} must be a list of user names or team:NAME entries`);
  return (value as string[]).map((v) => checkUserName(v.trim(), where));
}

/**
 * Who approves under a policy type or policy. An empty list was taken, and requests under it then
 * waited for no one (or for a manager alone, whom not every requester has).
 */
function approverList(value: unknown, where: string): string[] {
  const list = stringList(value, where);
  if (list.length === 0)
    throw new InputError(`${where} names no approvers: name who approves for it (a user or team:NAME)`);
  return list;
}

function bool(value: unknown, where: string): boolean {
  if (typeof value !== "boolean") throw new InputError(`${where} must be true or false`);
  return value;
}
