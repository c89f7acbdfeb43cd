import assert from "node:assert/strict";
import { test } from "node:test";
import { backoffRetryStrategy } from "../../src/inventory/aws/retry.js";

test("throttling backs off exponentially with full jitter, up to the attempt limit", async () => {
  const s = backoffRetryStrategy({ maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 250, random: () => 0.999 });
  let token = await s.acquireInitialRetryToken("ec2");
  const delays: number[] = [];
  for (let i = 0; i < 3; i++) {
    token = await s.refreshRetryTokenForRetry(token, { errorType: "THROTTLING" });
    delays.push(token.getRetryDelay());
  }
  // ceilings 100, 200, 400 → capped at 250; jitter takes 99.9% of each
  assert.deepEqual(delays, [99, 199, 249]);
  await assert.rejects(s.refreshRetryTokenForRetry(token, { errorType: "THROTTLING" }), /no more retries/);
  assert.deepEqual(s.stats, { throttled: 3, retried: 3 });
});

test("client errors are not retried; server errors and transient ones are", async () => {
  const s = backoffRetryStrategy({ maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 100, random: () => 0 });
  const t = await s.acquireInitialRetryToken("rds");
  await assert.rejects(s.refreshRetryTokenForRetry(t, { errorType: "CLIENT_ERROR" }), /no more retries/);
  assert.equal((await s.refreshRetryTokenForRetry(t, { errorType: "SERVER_ERROR" })).getRetryCount(), 1);
  assert.equal((await s.refreshRetryTokenForRetry(t, { errorType: "TRANSIENT" })).getRetryCount(), 1);
  assert.deepEqual(s.stats, { throttled: 0, retried: 2 });
});

test("a Retry-After hint from the service is honoured, within the cap", async () => {
  const s = backoffRetryStrategy({ maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 5000, random: () => 0 });
  const t = await s.acquireInitialRetryToken("cloudwatch");
  const next = await s.refreshRetryTokenForRetry(t, {
    errorType: "THROTTLING",
    retryAfterHint: new Date(Date.now() + 3000),
  });
  assert.ok(next.getRetryDelay() > 2000 && next.getRetryDelay() <= 3000);
});
