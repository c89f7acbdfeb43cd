import assert from "node:assert/strict";
import { test } from "node:test";
import { contentDigest, fingerprint } from "../../src/scan/fingerprint.js";

test("fingerprints never change: stored findings and exceptions are keyed by them", () => {
  assert.equal(
    fingerprint(
      "aws",
      "210987654321",
      "us-east-1",
      "i-605d22e27ea033c31-0",
      "mandatory-tags",
      "cost-center-required",
    ),
    "8667c9ad43d6323b",
  );
  assert.equal(
    fingerprint(null, null, null, "vol-1", "orphaned-resource-detection", "unattached-volume"),
    "45f6bf11d1406628",
  );
  assert.equal(fingerprint("gcp", "proj", "europe-west1", "ünïcødé ✓", "p", "r"), "e88d2d998272822e");
});

test("content digests: 16 hex characters, and lists that differ never run together", () => {
  const d = contentDigest(["a", null, "", "ü✓"]);
  assert.match(d, /^[0-9a-f]{16}$/);
  assert.equal(contentDigest(["a", null, "", "ü✓"]), d);
  const variants = [
    ["ab", "c"],
    ["a", "bc"],
    ["abc"],
    ["abc", null],
    ["abc", ""],
    [null, "abc"],
    ["", "abc"],
    ["abd"],
    ["abc", "", ""],
  ];
  const digests = variants.map((v) => contentDigest(v));
  assert.equal(new Set(digests).size, variants.length);
});
