import assert from "node:assert/strict";
import { test } from "node:test";
import { contentDigest, fingerprint } from "../../src/scan/fingerprint.js";

test("fingerprints never change (a store's findings, their tasks and exceptions are keyed by them)", () => {
  assert.equal(
    fingerprint(
      "file:estate.jsonl",
      "aws",
      "210987654321",
      "us-east-1",
      "i-605d22e27ea033c31-0",
      "mandatory-tags",
      "cost-center-required",
    ),
    "3b4a66cf14b4043d",
  );
  assert.equal(
    fingerprint("sandbox", null, null, null, "vol-1", "orphaned-resource-detection", "unattached-volume"),
    "94d60db68f6089d1",
  );
  assert.equal(
    fingerprint("aws:europe-west1", "gcp", "proj", "europe-west1", "ünïcødé ✓", "p", "r"),
    "f1bc1f59c987aa19",
  );
});

test("a fingerprint carries its inventory: two inventories listing one resource keep a finding each", () => {
  const of = (inventory: string, policy = "mandatory-tags") =>
    fingerprint(inventory, "aws", "1", "us-east-1", "i-1", policy, "team-required");
  assert.notEqual(of("file:a.jsonl"), of("file:b.jsonl"));
  assert.notEqual(of("aws:us-east-1"), of("aws:all"));
  // Names do not run together whatever characters they hold.
  assert.notEqual(of("a|b", "c"), of("a", "b|c"));
  assert.notEqual(of("1:a", "b"), of("1", "a|b"));
  assert.equal(of("file:a.jsonl"), of("file:a.jsonl"));
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
