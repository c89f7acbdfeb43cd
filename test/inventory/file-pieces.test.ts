import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { filePieces } from "../../src/inventory/file/file-pieces.js";

const KIB = 1024;

test("file pieces end after a line feed, and a line far longer than any record ends its piece in the middle", () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-pieces-"));
  try {
    const short = `${"a".repeat(99)}\n`;
    // 2,000 short lines, one line of 2 MiB, 2,000 short lines again.
    const text = `${short.repeat(2000)}${"b".repeat(2 * KIB * KIB)}\n${short.repeat(2000)}`;
    const path = join(dir, "lines.jsonl");
    writeFileSync(path, text);
    const fd = openSync(path, "r");
    try {
      const pieces = [...filePieces(fd, text.length, 64 * KIB, 256 * KIB)];
      // Whole: each piece starts where the last ended, the last ends at the end.
      assert.equal(pieces[0]!.start, 0);
      for (let i = 1; i < pieces.length; i++) assert.equal(pieces[i]!.start, pieces[i - 1]!.end);
      assert.equal(pieces.at(-1)!.end, text.length);
      // Short lines: each piece ends just after a line feed, about a piece long.
      const longStart = 2000 * short.length;
      const longEnd = longStart + 2 * KIB * KIB + 1;
      for (const p of pieces.filter((p) => p.end <= longStart)) assert.equal(text[p.end - 1], "\n");
      // The long line: no piece holds more than the piece size and the limit past its cut (and the
      // 64 KiB read that found it out), so it is cut in the middle rather than read whole.
      assert.ok(pieces.every((p) => p.end - p.start <= 64 * KIB + 256 * KIB + 64 * KIB));
      assert.ok(pieces.some((p) => p.end > longStart && p.end < longEnd && text[p.end - 1] !== "\n"));
      // With no limit to speak of, the long line makes one long piece, ending after its line feed.
      const whole = [...filePieces(fd, text.length, 64 * KIB, 64 * KIB * KIB)];
      const holding = whole.find((p) => p.start <= longStart && p.end >= longEnd)!;
      assert.equal(text[holding.end - 1], "\n");
    } finally {
      closeSync(fd);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
