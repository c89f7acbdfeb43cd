/**
 * A finding's identity: the inventory that saw it, the resource (provider, account, region, id) and
 * the rule that flagged it, hashed to 16 hex characters with two independent 32-bit lanes (64 bits: collisions are negligible
 * at estate sizes). Not a cryptographic digest; fast enough for millions of findings per scan.
 *
 * The resource part is hashed once per resource (`resourceKeyHash`) and combined with each rule's
 * precomputable hash (`ruleKeyHash`, which carries the inventory: one scan judges one inventory), so
 * a resource with several findings is hashed once. Two inventories that both list a resource (an
 * export and the live account, one region and `all`) keep a finding each, each with its own
 * lifecycle: neither scan takes the other's over or resolves it.
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
  // Both lanes of `${provider}|${account}|${region}|${resourceId}` in one pass, without building it.
  const p = provider ?? "";
  const c = account ?? "";
  const r = region ?? "";
  const length = p.length + c.length + r.length + resourceId.length + 3;
  laneA = SEED_A ^ length;
  laneB = SEED_B ^ length;
  feed(p);
  feedChar(PIPE);
  feed(c);
  feedChar(PIPE);
  feed(r);
  feedChar(PIPE);
  feed(resourceId);
  return { a: fmix(laneA), b: fmix(laneB) };
}

const PIPE = 124;
let laneA = 0;
let laneB = 0;

function feed(text: string): void {
  for (let i = 0; i < text.length; i++) feedChar(text.charCodeAt(i));
}

/** One character into both lanes: the same steps as `lane`, sharing the character's mixing. */
function feedChar(code: number): void {
  let k = Math.imul(code, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  let a = laneA ^ k;
  a = (a << 13) | (a >>> 19);
  laneA = (Math.imul(a, 5) + 0xe6546b64) | 0;
  let b = laneB ^ k;
  b = (b << 13) | (b >>> 19);
  laneB = (Math.imul(b, 5) + 0xe6546b64) | 0;
}

export function ruleKeyHash(inventory: string, policy: string, rule: string): KeyHash {
  // The inventory's length first: no name can run into the policy's however it is spelled.
  const key = `${inventory.length}:${inventory}|${policy}|${rule}`;
  return { a: lane(key, SEED_B), b: lane(key, SEED_A) };
}

export function combineFingerprint(resource: KeyHash, rule: KeyHash): string {
  return hex32(mix(resource.a, rule.a)) + hex32(mix(resource.b ^ 0x5bd1e995, rule.b));
}

/** Convenience for one-off use (tests, tools): the same value the scanner computes. */
export function fingerprint(
  inventory: string,
  provider: string | null,
  account: string | null,
  region: string | null,
  resourceId: string,
  policy: string,
  rule: string,
): string {
  return combineFingerprint(
    resourceKeyHash(provider, account, region, resourceId),
    ruleKeyHash(inventory, policy, rule),
  );
}

/**
 * A digest of a finding's stored content (16 hex characters), so a scan can tell a finding it saw
 * before unchanged without reading the stored row back. Each value is hashed on its own into two
 * 32-bit FNV-1a lanes with different primes, its length (or null) first, and the values' hashes are
 * folded in order: different lists never run together, and a value many findings share (a
 * recommendation's or checks' JSON) can be hashed once and fed as its lanes (`digestLanes`).
 * Cheap per character: it runs over every finding of every scan.
 */
export function contentDigest(values: readonly (string | null)[]): string {
  const out = new Uint32Array(2);
  contentDigestLanes(values, out);
  return digestHex(out[0]!, out[1]!);
}

/** contentDigest as its two 32-bit lanes, written to `out` (no string built). */
export function contentDigestLanes(values: readonly (string | null)[], out: Uint32Array): void {
  digestStart();
  for (let v = 0; v < values.length; v++) digestText(values[v] ?? null);
  digestEnd(out);
}

// The digest being built: module state, so a finding's digest allocates nothing.
let digestA = 0;
let digestB = 0;
/** The lanes of the last `textLanes` call. */
let textA = 0;
let textB = 0;

function textLanes(text: string | null): void {
  const length = text === null ? -1 : text.length;
  let a = Math.imul(0x811c9dc5 ^ length, 0x01000193);
  let b = Math.imul(0x050c5d1f ^ length, 0x01000f93);
  for (let i = 0; i < length; i++) {
    const k = (text as string).charCodeAt(i);
    a = Math.imul(a ^ k, 0x01000193);
    b = Math.imul(b ^ k, 0x01000f93);
  }
  textA = a;
  textB = b;
}

/** Starts a digest (values then go in with digestText / digestLanes, in order). */
export function digestStart(): void {
  digestA = 0x811c9dc5;
  digestB = 0x050c5d1f;
}

/** The next value of the digest. */
export function digestText(text: string | null): void {
  textLanes(text);
  // Each value's lanes are mixed before they are folded, so values that differ in a few characters
  // do not cancel out across the fold.
  digestLanes(fmix(textA), fmix(textB ^ 0x5bd1e995));
}

/** The lanes of the value last folded into the digest (by digestText or digestLanes). */
export const lastValue = new Uint32Array(2);

/** The next value of the digest, given as the lanes `valueLanes` returned for it. */
export function digestLanes(a: number, b: number): void {
  lastValue[0] = a;
  lastValue[1] = b;
  // Folded as one more FNV step with the value's lanes for a character (well mixed: `digestEnd`).
  digestA = Math.imul(digestA ^ a, 0x01000193);
  digestB = Math.imul(digestB ^ b, 0x01000f93);
}

/** A value's lanes, to feed the same value to many digests with digestLanes (`out` gets a, b). */
export function valueLanes(text: string | null, out: Uint32Array): void {
  textLanes(text);
  out[0] = fmix(textA);
  out[1] = fmix(textB ^ 0x5bd1e995);
}

/** Ends the digest: its lanes into `out`. */
export function digestEnd(out: Uint32Array): void {
  out[0] = fmix(digestA);
  out[1] = fmix(digestB ^ 0x5bd1e995);
}

/**
 * Ends a digest a caller folded on its own from values' lanes (as digestLanes folds them, starting
 * from digestStart's values): its lanes into `out`.
 */
export function foldEnd(a: number, b: number, out: Uint32Array): void {
  out[0] = fmix(a);
  out[1] = fmix(b ^ 0x5bd1e995);
}

export function digestHex(a: number, b: number): string {
  return hex32(a) + hex32(b);
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
