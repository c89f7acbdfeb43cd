import { InputError } from "../errors.js";
import { writeFileWhole } from "../files.js";
import { isMachineFailure } from "./exit.js";
import { writeFailureText } from "./interrupt.js";

/**
 * Writes a file a command was asked for (`plan --output`, `budgets --save-state`) whole or not at all.
 * A path it cannot be written to is bad input named with its flag (`cannot write --output out/r.md:
 * no such file or directory`, exit 2); a disk that cannot take it is the machine's failure (`out.md:
 * no space left on device`, exit 3), and the file there before stays as it was.
 */
export function writeOutputFile(path: string, text: string, flag: string): void {
  try {
    writeFileWhole(path, text);
  } catch (err) {
    if (isMachineFailure(err)) throw Object.assign(err as Error, { path });
    const why = (err as { code?: unknown }).code === "EISDIR" ? "it is a folder" : writeFailureText(err);
    throw new InputError(`cannot write ${flag} ${path}: ${why}`);
  }
}
