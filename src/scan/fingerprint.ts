/**
 * A finding's identity: the resource (provider, account, region, id) and the rule that flagged it.
 * Hashed to 16 hex characters with two independent 32-bit lanes (64 bits: collisions are negligible
 * at estate sizes), fast enough for millions of findings per scan; not a cryptographic digest.
 */
export function fingerprint(
  provider: string | null,
  account: string | null,
  region: string | null,
  resourceId: string,
  policy: string,
  rule: string,
): string {
  const key = `${provider ?? ""}|${account ?? ""}|${region ?? ""}|${resourceId}|${policy}|${rule}`;
  return hex32(lane(key, 0x9e3779b9)) + hex32(lane(key, 0x85ebca6b));
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
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, "0");
}
