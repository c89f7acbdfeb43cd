/**
 * A finding's identity: the resource (provider, account, region, id) and the rule that flagged it,
 * hashed to 16 hex characters with two independent 32-bit lanes (64 bits: collisions are negligible
 * at estate sizes). Not a cryptographic digest; fast enough for millions of findings per scan.
 *
 * The resource part is hashed once per resource (`resourceKeyHash`) and combined with each rule's
 * precomputable hash, so a resource with several findings is hashed once.
 */
export interface KeyHash {
  a: number;
  b: number;
}

const SEED_A = 0x9e3779b9;
const SEED_B = 0x85ebca6b;

export function resourceKeyHash(
  provider: string | null,
  account: string | null,
  region: string | null,
  resourceId: string,
): KeyHash {
  const key = `${provider ?? ""}|${account ?? ""}|${region ?? ""}|${resourceId}`;
  return { a: lane(key, SEED_A), b: lane(key, SEED_B) };
}

export function ruleKeyHash(policy: string, rule: string): KeyHash {
  const key = `${policy}|${rule}`;
  return { a: lane(key, SEED_B), b: lane(key, SEED_A) };
}

export function combineFingerprint(resource: KeyHash, rule: KeyHash): string {
  return hex32(mix(resource.a, rule.a)) + hex32(mix(resource.b ^ 0x5bd1e995, rule.b));
}

/** Convenience for one-off use (tests, tools): the same value the scanner computes. */
export function fingerprint(
  provider: string | null,
  account: string | null,
  region: string | null,
  resourceId: string,
  policy: string,
  rule: string,
): string {
  return combineFingerprint(
    resourceKeyHash(provider, account, region, resourceId),
    ruleKeyHash(policy, rule),
  );
}

function lane(text: string, seed: number): number {
  let h = seed ^ text.length;
  for (let i = 0; i < text.length; i++) {
    let k = text.charCodeAt(i);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  return fmix(h);
}

function mix(h: number, k: number): number {
  let x = h ^ Math.imul(k, 0x1b873593);
  x = (x << 13) | (x >>> 19);
  x = (Math.imul(x, 5) + 0xe6546b64) | 0;
  return fmix(x);
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function hex32(n: number): string {
  return HEX[n >>> 24]! + HEX[(n >>> 16) & 255]! + HEX[(n >>> 8) & 255]! + HEX[n & 255]!;
}
