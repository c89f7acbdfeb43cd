import { InputError } from "../errors.js";
import { type ApproverConfig, DEFAULT_APPROVER_CONFIG, parseApproverConfig } from "./approvers.js";
import { DEFAULT_REVIEW_INTERVAL_DAYS, MAX_EXCEPTION_DAYS } from "./lifecycle.js";

/** The `exceptions:` section of costguard.yaml (documented in docs/exceptions.md). */
export interface ExceptionConfig {
  approvers: ApproverConfig;
  reviewIntervalDays: number;
  /** The report's "expiring soon" window. */
  expiringWithinDays: number;
  /** Channels (`slack:#finops`) that get a copy of every exception notice. */
  channels: readonly string[];
}

export const DEFAULT_EXCEPTION_CONFIG: ExceptionConfig = {
  approvers: DEFAULT_APPROVER_CONFIG,
  reviewIntervalDays: DEFAULT_REVIEW_INTERVAL_DAYS,
  expiringWithinDays: 7,
  channels: [],
};

export function parseExceptionConfig(value: unknown, where = "exceptions"): ExceptionConfig {
  if (value === undefined || value === null) return DEFAULT_EXCEPTION_CONFIG;
  if (typeof value !== "object" || Array.isArray(value)) throw new InputError(`${where} must be a mapping`);
  const obj = value as Record<string, unknown>;
  const known = ["approvers", "reviewIntervalDays", "expiringWithinDays", "channels"];
  for (const k of Object.keys(obj))
    if (!known.includes(k))
      throw new InputError(`${where}.${k} is not a known setting (${known.join(", ")})`);
  return {
    approvers: parseApproverConfig(obj.approvers, `${where}.approvers`),
    reviewIntervalDays: days(
      obj.reviewIntervalDays,
      DEFAULT_EXCEPTION_CONFIG.reviewIntervalDays,
      `${where}.reviewIntervalDays`,
    ),
    expiringWithinDays: days(
      obj.expiringWithinDays,
      DEFAULT_EXCEPTION_CONFIG.expiringWithinDays,
      `${where}.expiringWithinDays`,
    ),
    channels: channelList(obj.channels, `${where}.channels`),
  };
}

function days(value: unknown, fallback: number, where: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0 || value > MAX_EXCEPTION_DAYS)
    throw new InputError(`${where} must be a whole number of days above zero, at most ${MAX_EXCEPTION_DAYS}`);
  return value;
}

export function channelList(value: unknown, where: string): string[] {
  if (value === undefined) return [];
  const list = typeof value === "string" ? [value] : value;
  if (!Array.isArray(list) || list.some((c) => typeof c !== "string" || c === ""))
    throw new InputError(
      `${where} must be a list of channels such as slack:#finops or email:finops@company.com`,
    );
  return list as string[];
}
