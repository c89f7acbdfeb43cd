import { InputError } from "../errors.js";

/**
 * A parser for an option that names one data source a run (`--billing`, `--inventory`): given twice
 * with two values, the option kept the last and the first source was dropped in silence. `what` says what the
 * option names, `instead` what to do.
 */
export function givenOnce(
  flag: string,
  what: string,
  instead: string,
): (value: string, previous: string | undefined) => string {
  return (value, previous) => {
    // The same value twice names the same source: harmless.
    if (previous !== undefined && previous !== value)
      throw new InputError(`${flag} ${what}, given twice (${previous} and ${value}): ${instead}`);
    return value;
  };
}

/** `--inventory` read once: a scan is of one inventory, its findings' lifecycle kept under its name. */
export const ONE_INVENTORY = givenOnce(
  "--inventory",
  "names the one inventory a run scans",
  "its findings are kept under its name; scan each in a run of its own (or aws with several --region)",
);
