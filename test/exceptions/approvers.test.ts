import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { InputError } from "../../src/errors.js";
import { eligibleApprovers, parseApproverConfig } from "../../src/exceptions/approvers.js";
import { APPROVERS } from "./helpers.js";

const users = (list: { user: string }[]) => list.map((a) => a.user).sort();

describe("eligible approvers", () => {
  test("tag policies: the requester's manager and the security team", () => {
    const list = eligibleApprovers(
      { policy: "mandatory-tags", policy_type: "TagRequirement", requested_by: "alice" },
      APPROVERS,
    );
    assert.deepEqual(users(list), ["carol", "frank"]);
    assert.match(list.find((a) => a.user === "carol")!.because, /manager of alice/);
  });

  test("budget policies: the manager and FinOps, never the requester even when in FinOps", () => {
    const list = eligibleApprovers(
      { policy: "team-budgets", policy_type: "BudgetLimit", requested_by: "alice" },
      APPROVERS,
    );
    assert.deepEqual(users(list), ["carol", "erin"]);
  });

  test("a per-policy override replaces the type's approvers and may drop the manager", () => {
    const config = {
      ...APPROVERS,
      policies: { "resource-limits": { approvers: ["gina", "team:finops"], includeManager: false } },
    };
    const list = eligibleApprovers(
      { policy: "resource-limits", policy_type: "ResourceLimit", requested_by: "bob" },
      config,
    );
    assert.deepEqual(users(list), ["alice", "erin", "gina"]);
  });

  test("a team member or manager whose name is the requester's written another way is not their approver", () => {
    const config = {
      ...APPROVERS,
      managers: { ａlice: "Ａlice", bob: "carol" },
      teams: { finops: ["erin"], security: ["Ａlice", "frank", "FRAŃK"] },
    };
    const list = eligibleApprovers(
      { policy: "mandatory-tags", policy_type: "TagRequirement", requested_by: "alice" },
      config,
    );
    // Ａlice (fullwidth) is alice: neither her manager of herself nor her own security-team approver;
    // FRAŃK is frank, listed once.
    assert.deepEqual(users(list), ["frank"]);
  });

  test("an unknown policy type leaves only the manager", () => {
    const list = eligibleApprovers({ policy: "x", policy_type: null, requested_by: "bob" }, APPROVERS);
    assert.deepEqual(users(list), ["carol"]);
  });
});

describe("approver configuration", () => {
  test("parses teams, managers and overrides, keeping the guide's defaults for unnamed types", () => {
    const c = parseApproverConfig({
      managers: { alice: "carol" },
      teams: { finops: ["erin"], security: ["frank"], platform: ["pat"] },
      byPolicyType: { ResourceLimit: ["team:platform"] },
      policies: { "team-budgets": ["erin"] },
    });
    assert.deepEqual(c.byPolicyType.ResourceLimit, ["team:platform"]);
    assert.deepEqual(c.byPolicyType.BudgetLimit, ["team:finops"]);
    assert.deepEqual(c.policies["team-budgets"], { approvers: ["erin"] });
    assert.equal(c.includeManager, true);
  });

  test("names are trimmed: a manager, team member or approver is shown as the user, not as written", () => {
    const c = parseApproverConfig({
      managers: { "Alice ": " Carol" },
      teams: { security: [" frank "] },
      policies: { "resource-limits": [" gina", "team:security "] },
    });
    assert.deepEqual(c.managers, { Alice: "Carol" });
    const list = eligibleApprovers(
      { policy: "resource-limits", policy_type: "ResourceLimit", requested_by: "alice" },
      c,
    );
    assert.deepEqual(list, [
      { user: "Carol", because: "manager of alice" },
      { user: "gina", because: "approver of policy resource-limits" },
      { user: "frank", because: "security team" },
    ]);
  });

  test("rejects unknown keys, unknown policy types and undefined teams", () => {
    assert.throws(() => parseApproverConfig({ manager: {} }), InputError);
    assert.throws(() => parseApproverConfig({ byPolicyType: { Budget: ["x"] } }), /not a policy type/);
    assert.throws(
      () => parseApproverConfig({ teams: { finops: [] } }),
      /exceptions\.approvers\.teams\.finops has no members/,
    );
    // A manager of themselves approves nothing as manager (the requester never approves).
    assert.throws(
      () => parseApproverConfig({ managers: { alice: "alice" } }),
      /exceptions\.approvers\.managers\.alice names alice as their own manager/,
    );
    // A policy or policy type with no approvers: its requests were taken and no one could approve them.
    for (const [config, at] of [
      [{ policies: { "mandatory-tags": [] } }, "policies.mandatory-tags"],
      [{ policies: { "resource-limits": { approvers: [] } } }, "policies.resource-limits.approvers"],
      [{ byPolicyType: { BudgetLimit: [] } }, "byPolicyType.BudgetLimit"],
    ] as const)
      assert.throws(() => parseApproverConfig(config), {
        message: `exceptions.approvers.${at} names no approvers: name who approves for it (a user or team:NAME)`,
      });
    // One user written twice among the managers: one entry was dropped in silence.
    assert.throws(() => parseApproverConfig({ managers: { "Alice ": " Carol", alice: "dave" } }), {
      message:
        "exceptions.approvers.managers names Alice and alice, one user written two ways: keep one entry for them",
    });
    assert.throws(
      () => parseApproverConfig({ managers: { " ": "carol" } }),
      /managers names a user with no name/,
    );
    assert.throws(
      () => parseApproverConfig({ managers: { bob: "  " } }),
      /managers\.bob must be a user name/,
    );
    assert.throws(() => parseApproverConfig({ teams: { finops: [" "] } }), /must be a list of user names/);
    // A name nobody can tell from another by looking: refused wherever a user is named.
    assert.throws(() => parseApproverConfig({ teams: { security: ["frank", "fr\u200bank"] } }), {
      message:
        "exceptions.approvers.teams.security: a user name cannot hold an invisible or control character (this one has U+200B); write the name plainly",
    });
    assert.throws(
      () => parseApproverConfig({ managers: { "alice\u2060": "carol" } }),
      /^InputError: exceptions\.approvers\.managers: .*U\+2060/,
    );
    assert.throws(
      () => parseApproverConfig({ managers: { alice: "carol\u001b" } }),
      /^InputError: exceptions\.approvers\.managers\.alice: .*U\+001B/,
    );
    assert.throws(() => parseApproverConfig({ policies: { p: ["gina\u00ad"] } }), /U\+00AD/);
    assert.throws(
      () => parseApproverConfig({ teams: {}, policies: { p: ["team:ghosts"] } }),
      /team:ghosts names a team that is not defined/,
    );
  });
});

describe("names that are also Object.prototype's", () => {
  // A policy, team or user may be called `constructor` or `__proto__` (the schema allows it): only
  // what the configuration holds itself is looked up, never the prototype's function or object.
  test("a policy named constructor without an override gets its type's approvers", () => {
    const list = eligibleApprovers(
      { policy: "constructor", policy_type: "ResourceLimit", requested_by: "alice" },
      APPROVERS,
    );
    assert.deepEqual(users(list), ["carol", "frank"]);
    const none = eligibleApprovers(
      { policy: "toString", policy_type: null, requested_by: "dana" },
      { ...APPROVERS, managers: {} },
    );
    assert.deepEqual(none, []);
  });

  test("a team, policy or user of such a name is configured and looked up as itself", () => {
    const c = parseApproverConfig(
      JSON.parse(`{
        "managers": {"__proto__": "carol", "constructor": "dana"},
        "teams": {"constructor": ["erin"], "__proto__": ["frank"]},
        "byPolicyType": {"BudgetLimit": ["team:constructor"]},
        "policies": {"__proto__": ["team:__proto__"], "constructor": {"approvers": ["gina"], "includeManager": false}}
      }`),
    );
    assert.deepEqual(Object.keys(c.teams).sort(), ["__proto__", "constructor"]);
    assert.equal(Object.getPrototypeOf(c.teams), Object.prototype);
    assert.deepEqual(
      users(eligibleApprovers({ policy: "p", policy_type: "BudgetLimit", requested_by: "__proto__" }, c)),
      ["carol", "erin"],
    );
    assert.deepEqual(
      users(eligibleApprovers({ policy: "__proto__", policy_type: "BudgetLimit", requested_by: "x" }, c)),
      ["frank"],
    );
    assert.deepEqual(
      users(
        eligibleApprovers(
          { policy: "constructor", policy_type: "TagRequirement", requested_by: "constructor" },
          c,
        ),
      ),
      ["gina"],
    );
  });

  test("a team named after a prototype key must still be defined", () => {
    for (const team of ["constructor", "toString", "__proto__"])
      assert.throws(() => parseApproverConfig({ byPolicyType: { BudgetLimit: [`team:${team}`] } }), {
        message: `exceptions.approvers: team:${team} names a team that is not defined under exceptions.approvers.teams`,
      });
    assert.throws(
      () => parseApproverConfig({ teams: { finops: ["erin"] }, policies: { p: ["team:hasOwnProperty"] } }),
      /team:hasOwnProperty names a team that is not defined/,
    );
  });
});
