import { InputError } from "../errors.js";
import { CLOCK_SKEW_MS } from "../time/clock.js";
import { parseInstant } from "../time/instant.js";

/** `--at` for "what if it were this time": an ISO 8601 date or date-time (UTC unless it says); now when absent. */
export function parseAt(value: string | undefined, now: () => Date = () => new Date()): Date {
  if (value === undefined) return now();
  const t = parseInstant(value);
  if (t === undefined)
    throw new InputError(
      `--at must be an ISO 8601 date or date-time (e.g. 2026-06-01T00:00:00Z), got ${value}`,
    );
  // Nothing a cloud estate or its billing holds is older, and calendar arithmetic on years 0-99
  // (periods, billing days) would go wrong in JavaScript's Date.
  if (t < 0) throw new InputError(`--at must be 1970 or later, got ${value}`);
  return new Date(t);
}

/**
 * A stored scan dated after now would refuse every scan of its inventory as of now until that date
 * (the findings' history only moves forward): a look ahead is a what-if, made without storing.
 */
export function refuseStoringAhead(at: Date, given: string | undefined, now: number): void {
  if (given === undefined || at.getTime() <= now + CLOCK_SKEW_MS) return;
  throw new InputError(
    `--at ${given} is later than now (${new Date(now).toISOString()}): a scan stored as of then would refuse every scan of this inventory as of now until that time; look ahead without storing (--no-store)`,
  );
}

/**
 * Acting as of a time after now would judge grace periods as over that have not ended: resources
 * stopped or deleted before their owners' time to fix them is up. A look ahead acts on nothing.
 */
export function refuseActingAhead(at: Date, given: string | undefined, now: number): void {
  if (given === undefined || at.getTime() <= now + CLOCK_SKEW_MS) return;
  throw new InputError(
    `--at ${given} is later than now (${new Date(now).toISOString()}): acting as of then would treat grace periods that have not ended as over; look ahead without --execute`,
  );
}

/**
 * The sandbox's history only moves forward (an action as of a time before its resource's last change
 * is refused): an action, or an estate made, as of a time after now would refuse every action on the
 * resource (on every resource) as of now until that time.
 */
export function refuseSandboxAhead(
  at: Date,
  given: string | undefined,
  now: number,
  what: "act" | "init",
): void {
  if (given === undefined || at.getTime() <= now + CLOCK_SKEW_MS) return;
  const then = `--at ${given} is later than now (${new Date(now).toISOString()}): the sandbox's history only moves forward, so`;
  throw new InputError(
    what === "act"
      ? `${then} a change as of then would refuse every action on the resource as of now until that time; act as of now or earlier`
      : `${then} an estate made as of then would refuse every action on it as of now until that time; make it as of now or earlier`,
  );
}

/**
 * An exception's change recorded as of a time after now would make its history end in the future:
 * every later change as of now (a revocation) would be refused until then, and an approval would
 * apply from now on for a duration counted from then.
 */
export function refuseRecordingAhead(at: Date, given: string | undefined, now: number): void {
  if (given === undefined || at.getTime() <= now + CLOCK_SKEW_MS) return;
  throw new InputError(
    `--at ${given} is later than now (${new Date(now).toISOString()}): an exception's changes are recorded as of now or earlier (its history only moves forward, so one as of then would refuse every change as of now, a revocation too)`,
  );
}

/**
 * The notification outbox holds times as of now or earlier: a delivery run as of a later time would
 * schedule each failure's next attempt after then (nothing due as of now until that time, whatever
 * is fixed meanwhile) and record a delivery as made then; alerts queued as of then would wait until then.
 */
export function refuseNotifyingAhead(
  at: number,
  given: string | undefined,
  now: number,
  what: "deliver" | "queue",
): void {
  if (given === undefined || at <= now + CLOCK_SKEW_MS) return;
  throw new InputError(
    what === "deliver"
      ? `--at ${given} is later than now (${new Date(now).toISOString()}): a delivery as of then would put each failed message's next attempt after then (none due as of now until that time) and record deliveries as made then; deliver without --at`
      : `--at ${given} is later than now (${new Date(now).toISOString()}): alerts queued as of then would not be due before then; look ahead without --notify`,
  );
}
