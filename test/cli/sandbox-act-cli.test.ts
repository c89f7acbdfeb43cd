import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { SANDBOX_SOURCE } from "../../src/inventory/sandbox/sandbox.js";
import type { Resource } from "../../src/inventory/types.js";
import { openStore } from "../../src/store/open.js";
import { cli } from "../helpers/cli.js";

const dir = mkdtempSync(join(tmpdir(), "costguard-sandbox-act-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const AT = "2026-06-01T00:00:00Z";

/** The sandbox's resources of a type, read from the store the CLI writes in `cwd`. */
async function resources(cwd: string, type: string): Promise<Resource[]> {
  const store = await openStore({ kind: "sqlite", path: join(cwd, ".costguard", "costguard.db") });
  try {
    return await store.resources.list(SANDBOX_SOURCE, { type, limit: 1000 });
  } finally {
    await store.close();
  }
}

async function stored(cwd: string, id: string): Promise<Resource> {
  const show = await cli(["sandbox", "show", "--resource", id], { cwd });
  assert.equal(show.code, 0, show.stderr);
  return JSON.parse(show.stdout) as Resource;
}

describe("costguard sandbox act", () => {
  const cwd = join(dir, "act");
  before(async () => {
    mkdirSync(cwd, { recursive: true });
    const init = await cli(
      ["sandbox", "init", "--resources", "80", "--seed", "act", "--at", AT, "--no-billing"],
      {
        cwd,
      },
    );
    assert.equal(init.code, 0, init.stderr);
  });

  test("--tag sets one tag a flag: its value may hold commas and =", async () => {
    const [volume] = await resources(cwd, "storage/volume");
    const id = volume!.id;
    const run = await cli(["sandbox", "act", "tag", id, "--tag", "desc=a,b=c", "--tag", "note=x, y"], {
      cwd,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `${id} tagged (desc, note)\n`);
    const tags = (await stored(cwd, id)).tags!;
    assert.equal(tags.desc, "a,b=c");
    assert.equal(tags.note, "x, y");
    assert.equal(tags.b, undefined, "no second tag made of the text after the comma");
    // A value of commas alone is a value, and `key=` still removes the tag.
    assert.equal((await cli(["sandbox", "act", "tag", id, "--tag", "desc=,,"], { cwd })).code, 0);
    assert.equal((await stored(cwd, id)).tags!.desc, ",,");
    assert.equal((await cli(["sandbox", "act", "tag", id, "--tag", "desc="], { cwd })).code, 0);
    assert.equal((await stored(cwd, id)).tags!.desc, undefined);
    // Without a key, refused as before.
    const keyless = await cli(["sandbox", "act", "tag", id, "--tag", "=v"], { cwd });
    assert.equal(keyless.code, 2);
    assert.equal(keyless.stderr, "costguard: --tag must be key=value (or key= to remove), got =v\n");
  });

  test("a look ahead is refused: an --at later than now, beyond five minutes of clock difference", async () => {
    const now = "2026-06-02T00:00:00Z";
    const instance = (await resources(cwd, "compute/instance")).find((r) => r.state === "running")!;
    const ahead = await cli(["sandbox", "act", "stop", instance.id, "--at", "2030-01-01"], { cwd, now });
    assert.equal(ahead.code, 2);
    assert.equal(
      ahead.stderr,
      "costguard: --at 2030-01-01 is later than now (2026-06-02T00:00:00.000Z): the sandbox's history only moves forward, so a change as of then would refuse every action on the resource as of now until that time; act as of now or earlier\n",
    );
    assert.equal((await stored(cwd, instance.id)).state, "running");
    const made = await cli(
      ["sandbox", "init", "--resources", "5", "--seed", "later", "--at", "2030-01-01", "--no-billing"],
      {
        cwd,
        now,
      },
    );
    assert.equal(made.code, 2);
    assert.match(
      made.stderr,
      /^costguard: --at 2030-01-01 is later than now \(2026-06-02T00:00:00\.000Z\): the sandbox's history only moves forward, so an estate made as of then would refuse every action on it as of now until that time; make it as of now or earlier\n$/,
    );
    assert.match((await cli(["sandbox", "show"], { cwd })).stdout, /^80 resources \(seed act,/m);
    // Within five minutes of now (another machine's clock): taken as given.
    const skew = await cli(["sandbox", "act", "stop", instance.id, "--at", "2026-06-02T00:04:00Z"], {
      cwd,
      now,
    });
    assert.equal(skew.code, 0, skew.stderr);
    const start = await cli(["sandbox", "act", "start", instance.id, "--at", "2026-06-02T00:05:00Z"], {
      cwd,
      now,
    });
    assert.equal(start.code, 0, start.stderr);
  });

  test("without --at an action is as of now when it acts: a change dated a little ahead (another clock) does not refuse it", async () => {
    const now = "2026-06-02T01:00:00Z";
    const instance = (await resources(cwd, "compute/instance")).filter((r) => r.state === "running")[1]!;
    // What another process's change, committed while this one waited for the store, looks like.
    const stop = await cli(["sandbox", "act", "stop", instance.id, "--at", "2026-06-02T01:02:00Z"], {
      cwd,
      now,
    });
    assert.equal(stop.code, 0, stop.stderr);
    const start = await cli(["sandbox", "act", "start", instance.id], { cwd, now });
    assert.equal(start.code, 0, start.stderr);
    assert.equal(start.stdout, `${instance.id} started\n`);
    const show = await cli(["sandbox", "show", "--resource", instance.id], { cwd });
    assert.equal(JSON.parse(show.stdout).updated_at, "2026-06-02T01:02:00.000Z");
    // Given, a time before the last change is refused, as before.
    const given = await cli(["sandbox", "act", "stop", instance.id, "--at", "2026-06-02T01:01:00Z"], {
      cwd,
      now,
    });
    assert.equal(given.code, 2);
    assert.match(
      given.stderr,
      /it last changed as of 2026-06-02T01:02:00\.000Z, and the sandbox's history only moves forward/,
    );
  });

  test("the actor: --actor, else COSTGUARD_USER as the exceptions commands take it, else cli", async () => {
    const [, volume] = await resources(cwd, "storage/volume");
    const id = volume!.id;
    const tag = (k: string, env: NodeJS.ProcessEnv, ...more: string[]) =>
      cli(["sandbox", "act", "tag", id, "--tag", `${k}=v`, ...more], { cwd, env });
    assert.equal((await tag("a1", { COSTGUARD_USER: " maria " })).code, 0);
    assert.equal((await tag("a2", { COSTGUARD_USER: "maria" }, "--actor", "ops")).code, 0);
    assert.equal((await tag("a3", {})).code, 0);
    const store = await openStore({ kind: "sqlite", path: join(cwd, ".costguard", "costguard.db") });
    try {
      const entries = await store.audit.list({ subjectId: id, action: "resource.tag" });
      const actors = Object.fromEntries(
        entries.map((e) => [Object.keys(e.details.tags as object)[0], e.actor]),
      );
      assert.deepEqual([actors.a1, actors.a2, actors.a3], ["maria", "ops", "cli"]);
    } finally {
      await store.close();
    }
    // Checked as the exceptions commands check it, naming where it came from.
    const bad = await tag("a4", { COSTGUARD_USER: "ma\u001bria" });
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /^costguard: COSTGUARD_USER: a user name cannot hold an invisible or control character/,
    );
  });
});
