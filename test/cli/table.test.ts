import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { renderTable } from "../../src/cli/table.js";

describe("renderTable", () => {
  const columns = [
    { header: "ID", value: (r: { id: string; n: number }) => r.id },
    { header: "N", value: (r: { id: string; n: number }) => String(r.n), align: "right" as const },
  ];

  test("columns as wide as their widest cell, numbers right-aligned", () => {
    assert.equal(
      renderTable(
        [
          { id: "a", n: 5 },
          { id: "longer", n: 1234 },
        ],
        columns,
        false,
      ),
      "ID         N\na          5\nlonger  1234\n",
    );
  });

  test("a table of 200,000 rows (more cells than a call takes as arguments)", () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => ({ id: `r-${i}`, n: i }));
    const text = renderTable(rows, columns, false);
    const lines = text.trimEnd().split("\n");
    assert.equal(lines.length, 200_001);
    assert.equal(lines[1], "r-0            0");
    assert.equal(lines.at(-1), "r-199999  199999");
  });
});
