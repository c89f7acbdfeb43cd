/**
 * Retries with exponential backoff and full jitter, for throttling (RequestLimitExceeded,
 * Throttling, ThrottlingException, 429), transient network errors and 5xx answers; client errors
 * fail at once. Plugs into every AWS SDK v3 client as its `retryStrategy` (the SDK's RetryStrategyV2
 * shape), and counts what it retried so the scan can say how often AWS pushed back.
 */
export interface BackoffOptions {
  /** Attempts in all, the first one included. */
  maxAttempts: number;
  /** First retry waits up to this long; each further retry doubles it. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Uniform in [0, 1): the jitter source (injected for tests). */
  random?: () => number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { maxAttempts: 8, baseDelayMs: 250, maxDelayMs: 20_000 };

type ErrorType = "TRANSIENT" | "THROTTLING" | "SERVER_ERROR" | "CLIENT_ERROR";

/** A retry token: the attempts made and the delay before the next (exported for the client configuration type). */
export interface Token {
  getRetryCount(): number;
  getRetryDelay(): number;
}

export interface RetryStats {
  throttled: number;
  retried: number;
}

export function backoffRetryStrategy(
  options: BackoffOptions,
  stats: RetryStats = { throttled: 0, retried: 0 },
) {
  const random = options.random ?? Math.random;
  const token = (count: number, delay: number): Token => ({
    getRetryCount: () => count,
    getRetryDelay: () => delay,
  });
  return {
    stats,
    mode: "standard" as const,
    async acquireInitialRetryToken(_scope: string): Promise<Token> {
      return token(0, 0);
    },
    async refreshRetryTokenForRetry(
      previous: Token,
      info: { errorType: ErrorType; retryAfterHint?: Date },
    ): Promise<Token> {
      const attempt = previous.getRetryCount() + 1;
      if (info.errorType === "CLIENT_ERROR" || attempt >= options.maxAttempts)
        throw new Error("no more retries");
      if (info.errorType === "THROTTLING") stats.throttled++;
      stats.retried++;
      const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
      let delay = Math.floor(random() * ceiling);
      if (info.retryAfterHint) delay = Math.max(delay, info.retryAfterHint.getTime() - Date.now());
      return token(attempt, Math.min(delay, options.maxDelayMs));
    },
    recordSuccess(_token: Token): void {},
  };
}
