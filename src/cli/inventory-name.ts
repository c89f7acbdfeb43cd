import { existsSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { InputError } from "../errors.js";
import { SANDBOX_SOURCE } from "../inventory/sandbox/sandbox.js";

/**
 * `--inventory-name`, for the commands that run a stored scan: the name a scan's findings are kept
 * under. A scan resolves the findings of its inventory that it did not see, so scans of one estate
 * must share a name and scans of different estates must not: two pipelines into `file:-` (stdin) are
 * one inventory unless named apart.
 */
export const INVENTORY_NAME_OPTION = [
  "--inventory-name <name>",
  "keep the findings under this inventory name (default: file:PATH, aws:REGIONS; needed to tell apart estates piped to file:-)",
] as const;

/** The name to keep findings under, checked; undefined for the source's own. */
export function inventoryName(name: string | undefined, source: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  if (source === SANDBOX_SOURCE)
    throw new InputError("--inventory-name does not apply to the sandbox: its inventory is always `sandbox`");
  // Kept under the sandbox's name, a file's findings would be resolved by the next sandbox scan (and
  // the sandbox's by the next scan of the file).
  if (name === SANDBOX_SOURCE)
    throw new InputError(
      "--inventory-name sandbox is the simulated estate's own inventory: name this one otherwise",
    );
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (name.trim() === "" || name.length > 200 || /[\u0000-\u001f\u007f]/.test(name))
    throw new InputError(
      `--inventory-name must be 1 to 200 printable characters, got ${JSON.stringify(name)}`,
    );
  return name;
}

/** The provider with its findings kept under `name` (the same provider when there is none). */
export function renamed<T extends { name: string }>(provider: T, name: string | undefined): T {
  return name === undefined ? provider : { ...provider, name };
}

/**
 * What an --inventory that names no source may have meant, as a sentence to add to the refusal: the
 * name scans give an aws inventory (copied from `scans list`), a file without its `file:`, or a
 * source in other letters. Empty when nothing fits.
 */
export function inventoryHint(spec: string, cwd: string): string {
  if (/^aws:/i.test(spec))
    return `; ${spec} is how scans name an aws inventory: scan it with --inventory aws and ${/:all$/i.test(spec) ? "--region all" : "a --region for each region"} (with --account or --profile as before)`;
  const lower = spec.toLowerCase();
  if (lower === "aws" || lower === "sandbox") return `; did you mean ${lower}?`;
  if (lower.startsWith("file:")) return `; did you mean file:${spec.slice(5)}?`;
  if (existsSync(isAbsolute(spec) ? spec : join(cwd, spec))) return `; did you mean file:${spec}?`;
  return "";
}
