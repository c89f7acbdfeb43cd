/** Everything time-dependent takes a clock, so tests and "what if at date X" runs are deterministic. */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();

/** How far ahead of this machine's clock a stored time may be (two machines' clocks differ a little). */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** A clock stuck at one instant (for `--at` and tests). */
export function fixedClock(at: Date | string): Clock {
  const ms = typeof at === "string" ? Date.parse(at) : at.getTime();
  return () => new Date(ms);
}

/** A clock tests can move forward. */
export interface ManualClock {
  readonly now: Clock;
  set(at: Date | string): void;
  advance(ms: number): void;
}

export function manualClock(start: Date | string): ManualClock {
  let ms = typeof start === "string" ? Date.parse(start) : start.getTime();
  return {
    now: () => new Date(ms),
    set(at) {
      ms = typeof at === "string" ? Date.parse(at) : at.getTime();
    },
    advance(delta) {
      ms += delta;
    },
  };
}

export function isoAt(ms: number): string {
  return new Date(ms).toISOString();
}
