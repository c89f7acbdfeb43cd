import { parseRequest } from "../../engine/request.js";
import { InputError } from "../../errors.js";
import type { Resource } from "../types.js";

/** Checks one inventory record: the request shape every gate checks, plus a string `id`. */
export function toResource(value: unknown, where: string): Resource {
  const r = parseRequest(value, where) as Resource;
  if (typeof r.id !== "string" || r.id === "") throw new InputError(`${where} is not valid: missing \`id\``);
  const m = r.metrics;
  if (m !== undefined) {
    if (m === null || typeof m !== "object")
      throw new InputError(`${where} is not valid: \`metrics\` must be an object`);
    for (const k of ["avg_cpu_percent", "avg_network_bytes", "window_days"] as const) {
      const v = m[k];
      if (v !== undefined && (typeof v !== "number" || !Number.isFinite(v)))
        throw new InputError(`${where} is not valid: \`metrics.${k}\` must be a number`);
    }
  }
  return r;
}
