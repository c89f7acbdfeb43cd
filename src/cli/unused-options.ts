import type { Command } from "commander";
import { InputError } from "../errors.js";

/**
 * Refuses an option given on the command line where it changes nothing (a usage error, exit 2): a
 * flag silently ignored lets its user believe it did something — an `--outbox` without `--notify`
 * sends nothing, `--database` on a scan that stores nothing opens no store. `checks` maps an
 * option's attribute name (as Commander names it: `costColumn`, `store` for `--no-store`) to why it
 * does not apply here, or to false when it does. Options left at their default are never refused.
 */
export function refuseUnused(command: Command, checks: Record<string, string | false | undefined>): void {
  for (const [key, reason] of Object.entries(checks)) {
    if (!reason || command.getOptionValueSource(key) !== "cli") continue;
    const option = command.options.find((o) => o.attributeName() === key);
    throw new InputError(`${option?.long ?? key} ${reason}`);
  }
}
