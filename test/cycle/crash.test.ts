import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, test } from "node:test";
import { SANDBOX_SOURCE } from "../../src/inventory/sandbox/sandbox.js";
import { openStore } from "../../src/store/open.js";
import { cli } from "../helpers/cli.js";

const BIN = resolve("bin/costguard.js");
const AT = "2025-03-03T09:00:00Z";

/** A workspace: its own database and a configuration that acts on everything at once. */
async function workspace(name: string, resources = 40): Promise<{ dir: string; db: string; args: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), `costguard-crash-${name}-`));
  const db = join(dir, "state.db");
  const config = join(dir, "costguard.yaml");
  writeFileSync(
    config,
    `policies: [${resolve("examples/policies")}]
database: ${db}
remediation:
  grace: {critical: 0, high: 0, medium: 0, low: 0}
  tagDefaults: {cost-center: CC-000000}
  safety: {allowTerminate: true, allowDeleteVolumes: true, maxActions: 1000, maxActionsPercent: 100}
`,
  );
  const init = await cli(
    [
      "sandbox",
      "init",
      "--resources",
      String(resources),
      "--seed",
      "crash",
      "--at",
      AT,
      "--no-billing",
      "--database",
      db,
    ],
    { cwd: process.cwd() },
  );
  assert.equal(init.code, 0, init.stderr);
  return {
    dir,
    db,
    args: [
      "remediate",
      "--config",
      config,
      "--inventory",
      "sandbox",
      "--execute",
      "--verbose",
      "--at",
      AT,
      "--format",
      "json",
    ],
  };
}

interface Outcome {
  /** The remediation's changes to the sandbox, from its audit log: "action id", in order. */
  actions: string[];
  resources: string;
  tasks: string[];
  ledger: string[];
}

async function outcome(db: string): Promise<Outcome> {
  const store = await openStore({ kind: "sqlite", path: db });
  try {
    const audit = await store.audit.list({ limit: 100_000 });
    const resources = await store.resources.list(SANDBOX_SOURCE, { includeGone: true, limit: 100_000 });
    return {
      actions: audit
        .filter((e) => e.actor === "costguard:remediation" && e.action.startsWith("resource."))
        .map((e) => `${e.action.slice(9)} ${e.subject_id}`),
      resources: JSON.stringify(resources),
      // Tasks that change resources; a notification whose violation another action already fixed is
      // rightly skipped after a restart (the scan no longer sees it), where the uninterrupted run sent it.
      tasks: (await store.tasks.list())
        .filter((t) => t.action !== "notify")
        .map((t) => `${t.id} ${t.action} ${t.resource_id} ${t.state}`)
        .sort(),
      ledger: (await store.ledger.list())
        .filter((e) => e.action !== "notify")
        .map((e) => `${e.task_id} ${e.monthly_saving}`)
        .sort(),
    };
  } finally {
    await store.close();
  }
}

/**
 * Runs the command and sends it `signal` (SIGKILL unless said) when `killAt` says so, given each
 * progress line; resolves with how it ended.
 */
function runUntil(
  args: string[],
  env: NodeJS.ProcessEnv,
  killAt: (line: string, n: number) => number | undefined,
  signal: NodeJS.Signals = "SIGKILL",
): Promise<{
  code: number | null;
  signal: NodeJS.Signals | null;
  lines: string[];
  stdout: string;
  stderr: string;
}> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env, NO_COLOR: "1" } });
    const lines: string[] = [];
    let buffer = "";
    let killing = false;
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      stderr += chunk;
      buffer += chunk;
      let nl = buffer.indexOf("\n");
      while (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        nl = buffer.indexOf("\n");
        if (!line.startsWith("costguard: step-") || killing) continue;
        lines.push(line);
        const delay = killAt(line, lines.length);
        if (delay !== undefined) {
          killing = true;
          setTimeout(() => child.kill(signal), delay);
        }
      }
    });
    child.on("close", (code, ended) => done({ code, signal: ended, lines, stdout, stderr }));
  });
}

/** Whether a finished run had nothing left to do: no task created, nothing acted on. */
function idle(stdout: string): boolean {
  const run = JSON.parse(stdout) as { created: unknown[]; outcomes: unknown[] };
  return run.created.length === 0 && run.outcomes.length === 0;
}

/**
 * Runs clean passes until one has nothing left to do. Later passes act on what the earlier ones
 * changed (a stopped instance that is still oversized is then resized; a new snapshot wants tags).
 */
async function settle(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  for (let pass = 1; pass <= 6; pass++) {
    const r = await runUntil(args, env, () => undefined);
    assert.equal(r.code, 0, `pass ${pass} ended with ${r.code}`);
    if (idle(r.stdout)) return pass;
  }
  assert.fail("remediation did not settle in 6 passes");
}

describe("a remediation run killed with SIGKILL and started again", () => {
  test("finishes the work without repeating or losing an action", async () => {
    // The reference: the same estate, the same moment, never interrupted.
    const ref = await workspace("ref");
    await settle(ref.args, {});
    const expected = await outcome(ref.db);
    assert.ok(expected.actions.length >= 20, `enough actions to interrupt (${expected.actions.length})`);

    // Killed again and again: during an action (while the simulated API call is in flight, before or
    // after the change lands) and between actions (just after one is recorded done).
    const crash = await workspace("crash");
    const env = { COSTGUARD_SANDBOX_LATENCY_MS: "40" };
    const plan = [3, 5, 8, 12, 16, 21];
    let kills = 0;
    for (let attempt = 0; attempt < 30 && kills < plan.length; attempt++) {
      const target = plan[kills];
      const result = await runUntil(crash.args, env, (line, n) => {
        if (target === undefined || n < target) return undefined;
        if (line.includes("step-start")) return kills % 2 === 0 ? 15 : 55; // mid-call: before / after it lands
        return 0; // step-done: between actions
      });
      if (result.signal === "SIGKILL") kills++;
      else assert.equal(result.code, 0, `run ${attempt} ended with ${result.code}`);
    }
    assert.equal(kills, plan.length, `killed ${kills} times`);
    await settle(crash.args, env);

    const got = await outcome(crash.db);
    assert.deepEqual([...got.actions].sort(), [...expected.actions].sort(), "each action exactly once");
    assert.deepEqual(got.tasks, expected.tasks);
    assert.deepEqual(got.ledger, expected.ledger);
    assert.equal(got.resources, expected.resources, "the estate ends exactly as without the crashes");
  });
});

describe("a remediation run interrupted with Ctrl-C", () => {
  test("finishes the action under way, starts no other, exits 130; the next run does the rest", async () => {
    const ref = await workspace("ref-int");
    await settle(ref.args, {});
    const expected = await outcome(ref.db);

    const int = await workspace("int");
    const env = { COSTGUARD_SANDBOX_LATENCY_MS: "60" };
    // SIGINT while the third step's simulated API call is in flight.
    const r = await runUntil(
      int.args,
      env,
      (line, n) => (n >= 3 && line.includes("step-start") ? 10 : undefined),
      "SIGINT",
    );
    assert.equal(r.code, 130, r.stderr);
    assert.match(
      r.stderr,
      /costguard: SIGINT: stopping after the action under way \(again to stop at once\)/,
    );
    const stopped =
      /interrupted by SIGINT: stopped after the action under way; (\d+) due actions? stays? due for the next run/.exec(
        r.stderr,
      );
    assert.ok(stopped, r.stderr);
    const run = JSON.parse(r.stdout) as {
      outcomes: { outcome: string; task_id: string }[];
      due: unknown[];
      interrupted: { reason: string; left: number };
    };
    assert.deepEqual(run.interrupted, { reason: "interrupted by SIGINT", left: Number(stopped[1]) });
    assert.ok(run.interrupted.left > 0);
    assert.ok(run.outcomes.length >= 1);
    // The action under way was finished, not left half done: nothing is in progress, and the last
    // task acted on completed.
    assert.equal(run.outcomes.at(-1)!.outcome, "completed");
    const store = await openStore({ kind: "sqlite", path: int.db });
    try {
      assert.deepEqual(await store.tasks.list({ states: ["in_progress"] }), []);
    } finally {
      await store.close();
    }
    // The next runs do the rest: the same end as never interrupted, each action once.
    await settle(int.args, env);
    const got = await outcome(int.db);
    assert.deepEqual([...got.actions].sort(), [...expected.actions].sort(), "each action exactly once");
    assert.deepEqual(got.tasks, expected.tasks);
    assert.equal(got.resources, expected.resources);
  });

  test("is heard between tasks when nothing waits on the network (the sandbox without latency)", async () => {
    const int = await workspace("int-fast", 400);
    const r = await runUntil(
      int.args,
      {},
      (line, n) => (n >= 3 && line.includes("step-start") ? 0 : undefined),
      "SIGINT",
    );
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, /costguard: SIGINT: stopping after the action under way/);
    const run = JSON.parse(r.stdout) as { outcomes: unknown[]; interrupted: { left: number } };
    assert.ok(run.interrupted.left > 0, r.stderr);
  });
});
