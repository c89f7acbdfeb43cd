import { isRequest, parseRequest } from "../../engine/request.js";
import { InputError } from "../../errors.js";
import type { Resource } from "../types.js";

const METRICS = ["avg_cpu_percent", "avg_network_bytes", "window_days"] as const;

/**
 * Checks one inventory record: the request shape every gate checks, plus a string `id`. `where` names
 * the record in errors: the text, or its parts (`name:line`), joined only when there is an error.
 */
export function toResource(value: unknown, where: string, line?: number): Resource {
  const r = (isRequest(value) ? value : parseRequest(value, named(where, line))) as Resource;
  if (typeof r.id !== "string" || r.id === "")
    throw new InputError(`${named(where, line)} is not valid: missing \`id\``);
  const m = r.metrics;
  if (m !== undefined) {
    if (m === null || typeof m !== "object")
      throw new InputError(`${named(where, line)} is not valid: \`metrics\` must be an object`);
    for (const k of METRICS) {
      const v = m[k];
      if (v !== undefined && (typeof v !== "number" || !Number.isFinite(v) || v < 0))
        throw new InputError(
          `${named(where, line)} is not valid: \`metrics.${k}\` must be a number, zero or more`,
        );
    }
  }
  return r;
}

function named(where: string, line: number | undefined): string {
  return line === undefined ? where : `${where}:${line}`;
}
