import type { Unverified } from "../engine/types.js";
import { InputError } from "../errors.js";
import type { Resource } from "../inventory/types.js";
import { idleUnmeasured, unattachedUndated } from "./detectors.js";
import { findingsForResource, type ScanContext } from "./findings.js";
import type { ScanTally } from "./summary.js";
import type { Finding } from "./types.js";

/**
 * Judges a batch of resources into `tally`, and appends their findings to `out` when given (in
 * resource order). The same steps whether the scan runs here or in a worker thread.
 */
export function judgeBatch(
  resources: readonly Resource[],
  context: ScanContext,
  tally: ScanTally,
  out: Finding[] | undefined,
): void {
  // Each check a resource could not be checked on counts once for it (a rule may test a field twice).
  const unchecked: string[] = [];
  const unverified = (u: Unverified) => {
    const check = `${u.policy}/${u.rule} ${u.field}`;
    if (!unchecked.includes(check)) unchecked.push(check);
  };
  for (let i = 0; i < resources.length; i++) {
    unchecked.length = 0;
    const scoredFindings = findingsForResource(resources[i]!, context, unverified);
    for (const check of unchecked) tally.addUnchecked(check);
    tally.addResource(scoredFindings);
    if (idleUnmeasured(resources[i]!, context.detectors.idle)) tally.idleUnmeasured++;
    else if (unattachedUndated(resources[i]!, context.detectors.unattached)) tally.unattachedUndated++;
    for (let j = 0; j < scoredFindings.length; j++) {
      const s = scoredFindings[j]!;
      if (s.currency !== context.currency) {
        throw new InputError(
          `resource ${resources[i]!.id} is priced in ${s.currency}, the scan in ${context.currency}: scan one currency at a time`,
        );
      }
      // Made only when wanted (findings listed or stored); a count needs none.
      out?.push(s.finding);
    }
  }
}
