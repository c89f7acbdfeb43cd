import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { displayWidth, printable, renderTable } from "../../src/cli/table.js";

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

  test("wide characters take two columns, combining marks none: the next column stays in line", () => {
    const text = renderTable(
      [
        { id: "決済チーム", n: 1 },
        { id: "e\u0301quipe", n: 22 },
        { id: "ops 🚀", n: 333 },
        { id: "plain", n: 4 },
      ],
      columns,
      false,
    );
    // Every row ends at the same terminal column: 10 for the widest id (5 wide characters), 2 spaces, 3 digits.
    const lines = text.trimEnd().split("\n");
    assert.deepEqual(lines, [
      "ID            N",
      "決済チーム    1",
      "e\u0301quipe       22",
      "ops 🚀      333",
      "plain         4",
    ]);
    assert.deepEqual(
      lines.map((l) => displayWidth(l)),
      [15, 15, 15, 15, 15],
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

describe("printable: outside text as a terminal shows it", () => {
  test("escape sequences, breaks and direction marks cannot act on the terminal or the columns", () => {
    // A tag value that retitled the terminal window (OSC 0) and one that hid the rest of a line.
    assert.equal(printable("t\u001b]0;pwned\u0007"), "t\\x1b]0;pwned\\x07");
    assert.equal(printable("\u001b[8mhidden"), "\\x1b[8mhidden");
    assert.equal(printable("a\nb\tc\rd"), "a b c d");
    assert.equal(printable("abc\u202edcba"), "abc\\u202edcba");
    assert.equal(printable("\u009bC1"), "\\x9bC1");
    const plain = "i-0abc payments → 12.50 USD, ünïcode";
    assert.equal(printable(plain), plain);
  });

  test("every table cell goes through it", () => {
    const out = renderTable([{ id: "x\u001b[31my", n: 1 }], [{ header: "ID", value: (r) => r.id }], false);
    assert.equal(out, "ID\nx\\x1b[31my\n");
  });
});

describe("exceptions show", () => {
  test("a justification holding an escape sequence is shown as text", async () => {
    const { renderException } = await import("../../src/cli/exceptions-output.js");
    const { createException } = await import("../../src/exceptions/lifecycle.js");
    const e = createException(
      {
        resource_id: "i-1",
        policy: "mandatory-tags",
        justification: "ok\u001b]0;pwned\u0007",
        requested_by: "alice",
        duration_ms: 86_400_000,
      },
      { id: "exc-1", now: new Date("2026-01-01T00:00:00Z"), policyType: "TagRequirement" },
    );
    const out = renderException(e, new Date("2026-01-01T00:00:00Z"));
    assert.ok(!out.includes("\u001b"), out);
    assert.match(out, /justification {2}ok\\x1b\]0;pwned\\x07/);
  });

  test("a revoked exception: who approved it, then who revoked it and why (the reason is the revocation's)", async () => {
    const { renderException } = await import("../../src/cli/exceptions-output.js");
    const { createException, approveException, revokeException } = await import(
      "../../src/exceptions/lifecycle.js"
    );
    const at = (day: number) => new Date(`2026-01-0${day}T00:00:00Z`);
    const approvers = [{ user: "bob", because: "a finops approver" }];
    let e = createException(
      {
        resource_id: "i-1",
        policy: "mandatory-tags",
        justification: "migration",
        requested_by: "alice",
        duration_ms: 864e6,
      },
      { id: "exc-1", now: at(1), policyType: "TagRequirement" },
    );
    e = approveException(e, "bob", at(2), approvers, "fine for now");
    e = revokeException(e, "carol", "tagged now", at(3), [{ user: "carol", because: "a finops approver" }]);
    const out = renderException(e, at(4));
    assert.match(out, /\n {2}decided {8}2026-01-02T00:00:00\.000Z by bob\n/);
    assert.match(out, /\n {2}revoked {8}2026-01-03T00:00:00\.000Z by carol \(tagged now\)\n/);
  });
});
