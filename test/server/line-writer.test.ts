import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createLineWriter } from "../../src/server/line-writer.js";
import { eventually } from "../support/server.js";

const tempDir = () => mkdtempSync(join(tmpdir(), "costguard-lines-"));

test("every line is written, in order, by the time close() resolves", async () => {
  const dir = tempDir();
  try {
    const file = join(dir, "nested", "log.jsonl");
    const writer = createLineWriter({ path: file }, { chunkChars: 1000 });
    const lines = Array.from({ length: 5000 }, (_, i) => `{"n":${i},"pad":"${"é".repeat(i % 7)}"}\n`);
    for (const l of lines) writer.write(l);
    await writer.close();
    assert.equal(readFileSync(file, "utf8"), lines.join(""));
    writer.write("after close\n");
    await writer.close();
    assert.equal(readFileSync(file, "utf8"), lines.join(""));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("reopen() continues in a new file after the old one was moved away", async () => {
  const dir = tempDir();
  try {
    const file = join(dir, "log.jsonl");
    const writer = createLineWriter({ path: file }, { chunkChars: 1 });
    writer.write("one\n");
    writer.write("two\n");
    // Moved once the first lines are in it (written in the background).
    await eventually(
      () => existsSync(file) && readFileSync(file, "utf8") === "one\ntwo\n",
      "the first lines",
    );
    renameSync(file, `${file}.1`);
    writer.reopen();
    writer.write("three\n");
    await writer.close();
    assert.equal(readFileSync(`${file}.1`, "utf8"), "one\ntwo\n");
    assert.equal(readFileSync(file, "utf8"), "three\n");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("lines over the queue limit are dropped and counted, never blocking", async () => {
  const dir = tempDir();
  try {
    const file = join(dir, "log.jsonl");
    let dropped = 0;
    const writer = createLineWriter(
      { path: file },
      { chunkChars: 1_000_000, maxQueuedChars: 100, onDrop: (n) => (dropped += n) },
    );
    for (let i = 0; i < 30; i++) writer.write("0123456789\n");
    await writer.close();
    const written = readFileSync(file, "utf8").split("\n").filter(Boolean).length;
    assert.equal(written, 9);
    assert.equal(dropped, 21);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
