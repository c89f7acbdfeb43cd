import { InputError, NotFoundError } from "../errors.js";
import type { ScanRecord, StoredFinding } from "../scan/types.js";
import type { Store } from "../store/store.js";

/** Shortest start of a fingerprint taken for the whole, as `git` takes a commit's (4 of its 16). */
const MIN_PREFIX = 4;
/** How many ids an ambiguous start names. */
const SHOWN = 5;

/**
 * The one stored thing `given` names: its whole id, else (when `startsOk`) a start of an id that only
 * one has. A start several share is an InputError naming some of them; none, undefined.
 */
async function byIdOrStart<T>(
  given: string,
  what: string,
  lookup: {
    get: (id: string) => Promise<T | undefined>;
    starting: (prefix: string, limit: number) => Promise<string[]>;
  },
  startsOk: boolean,
): Promise<T | undefined> {
  const exact = await lookup.get(given);
  if (exact !== undefined || !startsOk) return exact;
  const matches = await lookup.starting(given, SHOWN + 1);
  if (matches.length === 1) return lookup.get(matches[0]!);
  if (matches.length > 1)
    throw new InputError(
      `${given} is the start of ${matches.length > SHOWN ? `more than ${SHOWN}` : matches.length} ${what} (${matches.slice(0, SHOWN).join(", ")}${matches.length > SHOWN ? ", …" : ""}): give more of it`,
    );
  return undefined;
}

/**
 * The stored finding a fingerprint names: the whole fingerprint, or a start of it at least 4 characters
 * long that only one finding's has (`findings show 8979c0c6`). Not stored is a NotFoundError (`hint`
 * appended); a start several have is an InputError naming some of them.
 */
export async function findFinding(store: Store, given: string, hint = ""): Promise<StoredFinding> {
  const prefix = given.toLowerCase();
  const found = await byIdOrStart(
    given,
    "fingerprints",
    {
      get: (id) => store.findings.get(id),
      starting: (_, limit) => store.findings.fingerprintsStartingWith(prefix, limit),
    },
    /^[0-9a-f]+$/.test(prefix) && prefix.length >= MIN_PREFIX,
  );
  if (found === undefined) {
    // A start too short to be taken: say so, rather than that nothing starts so.
    const short =
      /^[0-9a-f]+$/.test(prefix) && prefix.length < MIN_PREFIX && prefix.length > 0
        ? ` (a start of a fingerprint is taken from ${MIN_PREFIX} characters: give more of it)`
        : "";
    throw new NotFoundError(`no stored finding with fingerprint ${given}${short}${hint}`);
  }
  return found;
}

/** The word for the newest stored scan, wherever an id is asked for (`scans show latest`). */
export const LATEST_SCAN = "latest";

/**
 * The stored scan `given` names: its id, a start of it only one id has (`scan-20261201T05`), or
 * `latest`, the newest (of `inventory` when given). Not stored is a NotFoundError.
 */
export async function findScan(store: Store, given: string, inventory?: string): Promise<ScanRecord> {
  if (given === LATEST_SCAN) {
    const [newest] = await store.scans.list({ limit: 1, ...(inventory !== undefined ? { inventory } : {}) });
    if (newest === undefined)
      throw new NotFoundError(
        inventory === undefined ? "no scan is stored yet" : `no stored scan of ${inventory}`,
      );
    return newest;
  }
  const found = await byIdOrStart(
    given,
    "scan ids",
    { get: (id) => store.scans.get(id), starting: (p, limit) => store.scans.idsStartingWith(p, limit) },
    given.length > 0,
  );
  if (found === undefined) throw new NotFoundError(`no stored scan with id ${given}`);
  return found;
}
