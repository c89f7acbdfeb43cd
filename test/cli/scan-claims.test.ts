import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { hostname } from "node:os";
import { test } from "node:test";
import type { ScanRecord } from "../../src/scan/types.js";
import { costguard } from "../helpers/cli.js";
import { describeEachDatabase } from "../helpers/databases.js";
import { eventually } from "../support/server.js";

const INVENTORY = "file:examples/scan/estate.jsonl";

/** Another process that has started a scan of INVENTORY and goes on running until killed. */
async function holdScan(kind: string, where: string, id: string) {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "test/support/hold-scan.ts", kind, where, INVENTORY, id],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const [line] = (await once(child.stdout, "data")) as [Buffer];
  const [said, startedAt] = line.toString().trim().split(" ");
  assert.equal(said, "running");
  return Object.assign(child, { startedAt: startedAt! });
}

describeEachDatabase("one scan of an inventory at a time, across processes", (ctx) => {
  /** `scan`, `run` or `remediate` of INVENTORY into this database. */
  const commandArgs = (command: string) => [
    command,
    "--policies",
    "examples/policies",
    "--inventory",
    INVENTORY,
    "--database",
    ctx.db.url,
  ];
  const scan = (...more: string[]) => costguard([...commandArgs("scan"), ...more]);
  const history = () => {
    const run = costguard(["scans", "list", "--database", ctx.db.url, "--format", "json"]);
    assert.equal(run.status, 0, run.stderr);
    return JSON.parse(run.stdout) as ScanRecord[];
  };

  test("a scan another process is running is refused; once that process is killed, it is interrupted", async () => {
    const holder = await holdScan(ctx.kind, ctx.db.url, "scan-held");
    try {
      // Refused before anything is written: json output opens no document.
      const refused = scan("--format", "json");
      assert.equal(refused.status, 1, refused.stderr);
      assert.equal(refused.stdout, "");
      assert.equal(
        refused.stderr,
        `costguard: cannot scan ${INVENTORY}: scan-held, started ${holder.startedAt} by process ${holder.pid} on ${hostname()}, is still running. One scan of an inventory runs at a time; wait for it to finish (--lock-timeout waits for it), or stop it (a scan whose process has ended is marked interrupted by the next).\n`,
      );
      // The compliance cycle's scan is held back alike.
      const cycle = costguard(commandArgs("run"));
      assert.equal(cycle.status, 1, cycle.stderr);
      assert.match(cycle.stderr, /^costguard: cannot scan file:examples\/scan\/estate\.jsonl: scan-held, /);
      // Looking does not touch a scan still running.
      assert.equal(history().find((s) => s.id === "scan-held")?.status, "running");
    } finally {
      holder.kill("SIGKILL");
      await once(holder, "exit");
    }
    // Killed outright, it could record nothing: the next look tells it apart from a running scan.
    // (PostgreSQL lets go of its lock once the server has noticed the connection closed.)
    let held: ScanRecord | undefined;
    await eventually(() => {
      held = history().find((s) => s.id === "scan-held");
      return held?.status !== "running";
    }, "the killed scan marked interrupted");
    assert.equal(held?.status, "failed");
    assert.equal(
      held?.error,
      `interrupted: process ${holder.pid} on ${hostname()} ended before the scan finished`,
    );
    // The table leaves a scan that never finished without counts (they are not zero: unknown).
    const table = costguard(["scans", "list", "--database", ctx.db.url]).stdout;
    assert.match(
      table,
      new RegExp(
        `\\nscan-held +${holder.startedAt.replaceAll(".", "\\.")} +failed +file:examples/scan/estate\\.jsonl +interrupted: process \\d+ on `,
      ),
    );
    const text = costguard(["scans", "show", "scan-held", "--database", ctx.db.url]);
    assert.match(text.stdout, /^scan-held {2}failed\n/);
    assert.match(text.stdout, new RegExp(`\\n {2}run by {8}process ${holder.pid} on `));

    const next = scan();
    assert.equal(next.status, 0, next.stderr);
    const [latest] = history();
    assert.equal(latest?.status, "completed");
    assert.match(latest?.owner ?? "", new RegExp(`^process \\d+ on ${hostname()}$`));
    assert.notEqual(latest?.owner, held?.owner);
  });

  test("--lock-timeout waits for the scan running to end, then scans; or gives up when it does not", async () => {
    const holder = await holdScan(ctx.kind, ctx.db.url, "scan-waited-for");
    let waiter: ReturnType<typeof spawn> | undefined;
    try {
      const gaveUp = scan("--lock-timeout", "1s");
      assert.equal(gaveUp.status, 1);
      assert.match(
        gaveUp.stderr,
        /^costguard: file:examples\/scan\/estate\.jsonl is being scanned by scan-waited-for, started .*: waiting up to 1s for it to finish\ncostguard: cannot scan file:examples\/scan\/estate\.jsonl: scan-waited-for, .* is still running \(waited 1 s\)\./,
      );
      waiter = spawn(
        process.execPath,
        ["bin/costguard.js", ...commandArgs("scan"), "--lock-timeout", "2m", "--format", "csv"],
        {
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let stderr = "";
      let stdout = "";
      waiter.stderr!.on("data", (c: Buffer) => {
        stderr += c.toString();
      });
      waiter.stdout!.on("data", (c: Buffer) => {
        stdout += c.toString();
      });
      await eventually(() => stderr.includes("waiting up to 2m"), "the second scan waiting");
      assert.equal(stdout, "", "nothing written while waiting");
      holder.kill("SIGKILL");
      const [code] = (await once(waiter, "exit")) as [number];
      assert.equal(code, 0, stderr);
      assert.match(stdout, /^fingerprint,resource_id,/);
      const scans = history();
      assert.equal(scans[0]?.status, "completed");
      assert.match(scans.find((s) => s.id === "scan-waited-for")?.error ?? "", /^interrupted: /);
    } finally {
      holder.kill("SIGKILL");
      waiter?.kill("SIGKILL");
    }
    const bad = scan("--lock-timeout", "soon");
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr, "costguard: --lock-timeout must look like 30s, 10m or 1h (or 0), got 'soon'\n");
  });
});
