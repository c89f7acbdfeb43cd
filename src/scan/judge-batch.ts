import type { Unverified } from "../engine/types.js";
import { InputError } from "../errors.js";
import { exceptResource, type ResourceExceptions } from "../exceptions/scan-path.js";
import type { Resource } from "../inventory/types.js";
import { billedCost } from "./billing-costs.js";
import { idleOtherState, idleUnmeasured, unattachedUndated } from "./detectors.js";
import { findingsForResource, type ScanContext } from "./findings.js";
import type { ScanTally } from "./summary.js";
import type { Finding } from "./types.js";

/**
 * States of a resource that is gone or on its way (EC2 and AWS's `shutting-down` and `terminated`, EBS
 * and RDS `deleting`, `deleted`): a scan counts it and judges nothing on it. Inventories list such
 * resources for a while (DescribeInstances shows terminated instances for about an hour); a tag or
 * resize finding on them would be noise, and a task on them would fail.
 */
export const GONE_STATES: ReadonlySet<string> = new Set([
  "terminated",
  "shutting-down",
  "deleting",
  "deleted",
]);

/**
 * Judges a batch of resources into `tally`, and appends their findings to `out` when given (in
 * resource order). With `exceptions`, each resource's findings are matched against approved
 * exceptions on the resource as read (its tags), those covered named in `exceptions.out`, and the
 * savings they take off counted in the tally. The same steps whether the scan runs here or in a
 * worker thread.
 */
export function judgeBatch(
  resources: readonly Resource[],
  context: ScanContext,
  tally: ScanTally,
  out: Finding[] | undefined,
  exceptions?: ResourceExceptions,
): void {
  // Each check a resource could not be checked on counts once for it (a rule may test a field twice).
  const unchecked: string[] = [];
  const unverified = (u: Unverified) => {
    const check = `${u.policy}/${u.rule} ${u.field}`;
    if (!unchecked.includes(check)) unchecked.push(check);
  };
  for (let i = 0; i < resources.length; i++) {
    const state = resources[i]!.state;
    if (state !== undefined && GONE_STATES.has(state)) {
      // Gone or going: nothing to act on and nothing it costs; what was found on it resolves.
      tally.addResource([]);
      tally.gone++;
      continue;
    }
    unchecked.length = 0;
    tally.addType(resources[i]!.type);
    if (context.billed !== undefined && billedCost(context.billed, resources[i]!) !== undefined)
      tally.billed++;
    const scoredFindings = findingsForResource(resources[i]!, context, unverified);
    for (const check of unchecked) tally.addUnchecked(check);
    tally.addResource(scoredFindings);
    if (exceptions !== undefined && scoredFindings.length > 0)
      tally.exceptedSavings += exceptResource(exceptions, resources[i]!, scoredFindings);
    if (idleUnmeasured(resources[i]!, context.detectors.idle)) tally.idleUnmeasured++;
    else if (unattachedUndated(resources[i]!, context.detectors.unattached)) tally.unattachedUndated++;
    else if (state !== undefined) {
      const other = idleOtherState(resources[i]!, context.detectors.idle);
      if (other !== undefined) tally.addIdleOtherState(other);
    }
    for (let j = 0; j < scoredFindings.length; j++) {
      const s = scoredFindings[j]!;
      if (s.currency !== context.currency) {
        throw new InputError(
          `resource ${resources[i]!.id} is priced in ${s.currency}, the scan in ${context.currency} (the price book's currency): costguard converts no currency, so give the estate's costs in ${context.currency}`,
        );
      }
      // Made only when wanted (findings listed or stored); a count needs none.
      out?.push(s.finding);
    }
  }
}
