import { InputError, NotFoundError } from "../errors.js";
import type { StoredFinding } from "../scan/types.js";
import type { Store } from "../store/store.js";

/** Shortest start of a fingerprint taken for the whole, as `git` takes a commit's (4 of its 16). */
const MIN_PREFIX = 4;
/** How many fingerprints an ambiguous start names. */
const SHOWN = 5;

/**
 * The stored finding a fingerprint names: the whole fingerprint, or a start of it at least 4 characters
 * long that only one finding's has (`findings show 8979c0c6`). Not stored is a NotFoundError (`hint`
 * appended); a start several have is an InputError naming some of them.
 */
export async function findFinding(store: Store, given: string, hint = ""): Promise<StoredFinding> {
  const exact = await store.findings.get(given);
  if (exact !== undefined) return exact;
  const prefix = given.toLowerCase();
  if (/^[0-9a-f]+$/.test(prefix) && prefix.length >= MIN_PREFIX) {
    const matches = await store.findings.fingerprintsStartingWith(prefix, SHOWN + 1);
    if (matches.length === 1) {
      const found = await store.findings.get(matches[0]!);
      if (found !== undefined) return found;
    }
    if (matches.length > 1)
      throw new InputError(
        `${given} is the start of ${matches.length > SHOWN ? `more than ${SHOWN}` : matches.length} fingerprints (${matches.slice(0, SHOWN).join(", ")}${matches.length > SHOWN ? ", …" : ""}): give more of it`,
      );
  }
  throw new NotFoundError(`no stored finding with fingerprint ${given}${hint}`);
}
