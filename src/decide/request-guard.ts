import type { CompiledPolicySet } from "../engine/compile.js";
import { KNOWN_REQUEST_FIELDS, KNOWN_RESOURCE_TYPES } from "../engine/known-requests.js";
import type { ResourceRequest } from "../engine/types.js";
import { closest } from "../policy/suggest.js";

/**
 * The specs the price book reads from a request to price it or to fill other specs in
 * (src/pricing/estimate.ts, enrich.ts): one misspelt leaves the request unpriced, its cost limits
 * unverified.
 */
export const PRICED_SPECS = [
  "instance_type",
  "spot",
  "preemptible",
  "accelerators",
  "os",
  "engine",
  "multi_az",
  "storage_gb",
  "storage_type",
  "volume_sku",
  "volume_type",
  "size_gb",
  "iops",
  "throughput_mibps",
] as const;

/** The specs costguard's gates, inventories and price book set: never a misspelling of another. */
const KNOWN_SPECS: readonly string[] = KNOWN_REQUEST_FIELDS.filter((f) => f.startsWith("specs.")).map((f) =>
  f.slice("specs.".length),
);

/** Bounded, so a stream of requests with made-up keys or types cannot grow memory. */
const MAX_REMEMBERED = 4096;

export interface RequestGuard {
  /**
   * Why the request must be refused: it holds a spec that is read by nothing but is one edit or so
   * from a spec a policy or the price book reads, and lacks that one (`specs.vcpu` beside a
   * `maxVCPUs` limit) — so what it holds would go unchecked. Undefined for a request to decide.
   */
  refusal(request: ResourceRequest): string | undefined;
  /**
   * The type a request's type seems to misspell: one no policy names and costguard does not produce,
   * close to one that is (`compute/instnace`). Such a request is decided (a type of the user's own is
   * legitimate), but no rule written for the type meant applies to it.
   */
  nearType(type: string): string | undefined;
}

/** What a gate says of a request whose type seems to misspell `near`: decided, without near's rules. */
export function nearTypeText(type: string, near: string): string {
  return `request type \`${type}\` is no type costguard produces or a policy names — did you mean \`${near}\`? (rules for \`${near}\` did not apply to it)`;
}

/**
 * The guard of a gate deciding callers' requests with `policySet`; `priced` when a price book fills
 * and prices them (its specs are guarded too). The spec keys and types are judged once each and
 * remembered, so a request of keys and a type seen before costs a few lookups.
 */
export function compileRequestGuard(policySet: CompiledPolicySet, priced: boolean): RequestGuard {
  const read = new Set<string>();
  const scoped = new Set<string>();
  for (const rule of policySet.rules) {
    for (const check of rule.node.checks) {
      if (check.field.startsWith("specs.")) read.add(check.field.slice("specs.".length).split(".")[0]!);
    }
    const scope = rule.node.scope;
    for (const s of scope === undefined ? [] : typeof scope === "string" ? [scope] : scope)
      if (!s.endsWith("*")) scoped.add(s);
  }
  const guarded = [...new Set([...read, ...(priced ? PRICED_SPECS : [])])];
  const fine = new Set<string>([...read, ...KNOWN_SPECS]);
  // Each unread key's verdict: the spec it seems to misspell, or null.
  const meant = new Map<string, string | null>();
  const meantFor = (key: string): string | null => {
    let m = meant.get(key);
    if (m !== undefined) return m;
    m = closest(key, guarded) ?? null;
    if (meant.size < MAX_REMEMBERED) meant.set(key, m);
    return m;
  };
  const types = [...new Set<string>([...KNOWN_RESOURCE_TYPES, ...scoped])];
  const nearTypes = new Map<string, string | null>();
  return {
    refusal(request) {
      const specs = request.specs;
      if (guarded.length === 0 || specs === null || typeof specs !== "object") return undefined;
      for (const key in specs) {
        if (fine.has(key)) continue;
        const m = meantFor(key);
        if (m !== null && !Object.hasOwn(specs, m))
          return `it has \`specs.${key}\`, no spec the policies or the price book read (did you mean \`specs.${m}\`?): what it holds would go unchecked`;
      }
      return undefined;
    },
    nearType(type) {
      let near = nearTypes.get(type);
      if (near !== undefined) return near ?? undefined;
      near = types.includes(type) ? null : (closest(type, types) ?? null);
      if (nearTypes.size < MAX_REMEMBERED) nearTypes.set(type, near);
      return near ?? undefined;
    },
  };
}
