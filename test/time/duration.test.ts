import assert from "node:assert/strict";
import { test } from "node:test";
import { DAY_MS, HOUR_MS, MINUTE_MS, parseDuration } from "../../src/time/duration.js";

test("durations: units largest first, each once; a fraction of one is taken", () => {
  assert.equal(parseDuration("30d"), 30 * DAY_MS);
  assert.equal(parseDuration("1d12h"), DAY_MS + 12 * HOUR_MS);
  assert.equal(parseDuration("2w3d1h30m"), 17 * DAY_MS + HOUR_MS + 30 * MINUTE_MS);
  assert.equal(parseDuration("1.5d"), 36 * HOUR_MS);
  assert.equal(parseDuration("1m"), MINUTE_MS);
  assert.equal(parseDuration(" 0 "), 0);
});

test("durations: a unit twice or out of order, less than a minute, or anything else is refused, naming the setting", () => {
  for (const [text, message] of [
    ["1d1d", /--duration must give each unit once, largest first \(1d12h, 2w3d\), got '1d1d'$/],
    ["12h1d", /each unit once, largest first/],
    ["0.0001m", /--duration must be 0 or at least a minute \(1m\), got '0\.0001m'$/],
    ["0.5m", /at least a minute/],
    ["soon", /--duration must look like 30d, 24h, 90m or 2w, got 'soon'$/],
    ["", /must look like/],
    ["30 d", /must look like/],
  ] as const)
    assert.throws(() => parseDuration(text, "--duration"), message, text);
  // A setting that takes no 0 says what it takes instead of "0 or at least a minute".
  assert.throws(
    () => parseDuration("0.0001h", "--duration", "at least an hour"),
    /^InputError: at least an hour$/,
  );
});

test("durations: a number is taken as 0 only; another has no unit, and the error says which it lacks", () => {
  assert.equal(parseDuration(0, "grace.critical"), 0);
  assert.throws(
    () => parseDuration(7, "remediation.grace.medium"),
    /^InputError: remediation\.grace\.medium is the bare number 7: give its unit, as in 7d \(days\), 7h or 7m \(only 0 goes without one\)$/,
  );
  assert.throws(() => parseDuration(0.5, "x"), /x is the bare number 0\.5: give its unit/);
  for (const n of [-1, Number.NaN, Number.POSITIVE_INFINITY])
    assert.throws(() => parseDuration(n, "x"), /x must be a non-negative duration/, String(n));
});
