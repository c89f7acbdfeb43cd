import assert from "node:assert/strict";
import { test } from "node:test";
import { planAction } from "../../src/inventory/sandbox/actions.js";
import { generateEstate } from "../../src/inventory/sandbox/estate.js";
import { actOnSandbox, initSandbox, SANDBOX_SOURCE } from "../../src/inventory/sandbox/sandbox.js";
import type { Resource } from "../../src/inventory/types.js";
import { openStore } from "../../src/store/open.js";
import { PRICES } from "../helpers/scan-context.js";

const AT = new Date("2026-06-01T00:00:00Z");
const estate = generateEstate({ resources: 300, seed: "case", at: AT }, PRICES);
const resize = (target: Resource, to: string) =>
  planAction(target, [], { action: "resize", id: target.id, instanceType: to }, AT, PRICES);

test("an instance type in another case is the book's type: stored as the book names it, never a resize to itself", () => {
  const instance = estate.find(
    (r) => r.type === "compute/instance" && r.specs?.instance_type !== "m5.large",
  )!;
  const stopped: Resource = { ...instance, state: "stopped" };
  const upper = resize(stopped, "M5.LARGE");
  assert.equal(upper.applied, true);
  const resized = upper.changed[0]!;
  assert.equal(resized.specs!.instance_type, "m5.large");
  assert.equal(upper.message, `${instance.id} resized from ${instance.specs!.instance_type} to m5.large`);
  for (const again of ["m5.large", "M5.Large"]) {
    const same = resize(resized, again);
    assert.deepEqual([same.applied, same.message], [false, `${instance.id} is already m5.large`]);
  }
  // Misspelt in capitals: the closest of its series, as the book names it.
  assert.throws(() => resize(stopped, "M5.XLARG"), {
    name: "InputError",
    message: "unknown instance type M5.XLARG (did you mean m5.xlarge?)",
  });
});

test("a database class in another case is the book's class (it was unknown)", () => {
  const database = estate.find(
    (r) =>
      r.type === "database/instance" && r.state === "available" && r.specs?.instance_type !== "db.m5.xlarge",
  )!;
  const upper = resize(database, "DB.M5.XLARGE");
  assert.equal(upper.applied, true);
  const resized = upper.changed[0]!;
  assert.equal(resized.specs!.instance_type, "db.m5.xlarge");
  assert.equal(resized.hourly_cost, resize(database, "db.m5.xlarge").changed[0]!.hourly_cost);
  for (const again of ["db.m5.xlarge", "Db.M5.xlarge"]) assert.equal(resize(resized, again).applied, false);
  assert.throws(() => resize(database, "M5.XLARGE"), {
    name: "InputError",
    message: "unknown database instance class M5.XLARGE (did you mean db.m5.xlarge?)",
  });
});

test("the audit entry says the type as stored", async () => {
  const store = await openStore({ kind: "sqlite", path: ":memory:" });
  try {
    await initSandbox(store, PRICES, { resources: 300, seed: "case", at: AT });
    const database = estate.find(
      (r) =>
        r.type === "database/instance" &&
        r.state === "available" &&
        r.specs?.instance_type !== "db.m5.xlarge",
    )!;
    await actOnSandbox(
      store,
      PRICES,
      { action: "resize", id: database.id, instanceType: "DB.M5.XLARGE" },
      { at: AT },
    );
    assert.equal(
      (await store.resources.get(SANDBOX_SOURCE, database.id))!.resource.specs!.instance_type,
      "db.m5.xlarge",
    );
    const [entry] = await store.audit.list({ subjectId: database.id, action: "resource.resize" });
    assert.deepEqual(
      [entry!.details.from, entry!.details.to],
      [database.specs!.instance_type, "db.m5.xlarge"],
    );
  } finally {
    await store.close();
  }
});
