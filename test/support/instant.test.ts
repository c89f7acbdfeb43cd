import assert from "node:assert/strict";
import { test } from "node:test";
import { parseInstant } from "../../src/time/instant.js";

test("parseInstant: ISO 8601 dates and date-times, UTC unless an offset says otherwise", () => {
  const utc = Date.UTC(2026, 5, 1, 9, 30);
  assert.equal(parseInstant("2026-06-01"), Date.UTC(2026, 5, 1));
  assert.equal(parseInstant("2026-06-01T09:30"), utc);
  assert.equal(parseInstant("2026-06-01 09:30:00"), utc);
  assert.equal(parseInstant("2026-06-01T09:30:00Z"), utc);
  assert.equal(parseInstant("2026-06-01T11:30:00+02:00"), utc);
  assert.equal(parseInstant("2026-06-01T04:30:00-0500"), utc);
  assert.equal(parseInstant("2026-06-01T09:30:00.250Z"), utc + 250);
  assert.equal(parseInstant("2028-02-29"), Date.UTC(2028, 1, 29));
  assert.equal(parseInstant("2000-02-29"), Date.UTC(2000, 1, 29));
  assert.equal(parseInstant(" 2026-06-01t09:30z "), utc);
  assert.equal(parseInstant("2026-06-01T09:30:00,5Z"), utc + 500);
  assert.equal(parseInstant("2026-06-01T09:30:00.123456789Z"), utc + 123);
});

test("parseInstant agrees with Date.parse on every instant both read", () => {
  // Every 7,919 minutes over six years, in the forms inventories write.
  for (let t = Date.UTC(2024, 0, 1); t < Date.UTC(2030, 0, 1); t += 7_919 * 60_000 + 123) {
    const iso = new Date(t).toISOString();
    assert.equal(parseInstant(iso), t, iso);
    assert.equal(parseInstant(iso.replace("Z", "+00:00")), t, iso);
    assert.equal(parseInstant(iso.slice(0, 19)), Date.parse(`${iso.slice(0, 19)}Z`), iso);
  }
});

test("parseInstant: years 0000 to 0099 are those years, not 1900 to 1999", () => {
  for (const iso of ["0001-01-01T00:00:00.000Z", "0099-12-31T23:59:59.999Z", "0000-02-29T12:00:00.000Z"])
    assert.equal(new Date(parseInstant(iso)!).toISOString(), iso);
  assert.equal(
    new Date(parseInstant("0050-06-01T02:00:00+02:00")!).toISOString(),
    "0050-06-01T00:00:00.000Z",
  );
  assert.equal(parseInstant("0100-01-01"), Date.parse("0100-01-01T00:00:00Z"));
});

test("parseInstant: days and times the calendar has not are refused, not rolled over", () => {
  for (const bad of [
    "2026-02-29",
    "2026-02-30T00:00:00Z",
    "2026-04-31",
    "2026-13-01",
    "2026-00-10",
    "2026-06-00",
    "2026-06-01T24:00:00Z",
    "2026-06-01T09:60Z",
    "2026-06-01T09:30:61Z",
    "2026-06-01T09:30:00+25:00",
    "yesterday",
    "06/01/2026",
    "2026-6-1",
    "1780000000000",
    "",
    "1900-02-29",
    "2026-06-01Z",
    "2026-06-01T09",
    "2026-06-01T09:3",
    "2026-06-01T09:30:0",
    "2026-06-01T09:30:00.Z",
    "2026-06-01T09:30:00+02",
    "2026-06-01T09:30:00+02:0",
    "2026-06-01T09:30:00Zx",
    "2026-06-01T09:30:00 Z",
    "2026-06-01X09:30",
  ])
    assert.equal(parseInstant(bad), undefined, bad);
});
