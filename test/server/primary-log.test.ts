import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { primaryLogger } from "../../src/server/cluster.js";

test("the primary's log keeps to --log-level as its workers do", () => {
  const said = (threshold?: Parameters<typeof primaryLogger>[1]) => {
    const out = new PassThrough();
    let text = "";
    out.on("data", (c: Buffer) => {
      text += c.toString();
    });
    const log = threshold === undefined ? primaryLogger(out) : primaryLogger(out, threshold);
    log("info", { workers: 2 }, "started");
    log("warn", { worker: 1 }, "restarting");
    log("error", {}, "gave up");
    out.end();
    return text
      .trimEnd()
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => (JSON.parse(l) as { level: number; msg: string }).msg);
  };
  assert.deepEqual(said(), ["started", "restarting", "gave up"]);
  assert.deepEqual(said("debug"), ["started", "restarting", "gave up"]);
  assert.deepEqual(said("warn"), ["restarting", "gave up"]);
  assert.deepEqual(said("error"), ["gave up"]);
  assert.deepEqual(said("silent"), []);
});
