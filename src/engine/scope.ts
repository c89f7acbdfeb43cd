/** Resource type scopes: exact (`compute/instance`), by category (`compute/*`), or everything (`*`). */
export type ScopeMatcher = (resourceType: string) => boolean;

/** A resource scope as policies write it (the schema's resourceScope): `*`, `category/*` or `category/kind`. */
export const RESOURCE_SCOPE = /^(\*|[a-z0-9-]+\/(\*|[a-z0-9-]+))$/;

export function compileScope(scopes: string | readonly string[] | undefined): ScopeMatcher {
  const list = scopes === undefined ? ["*"] : typeof scopes === "string" ? [scopes] : scopes;
  if (list.includes("*")) return () => true;
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const s of list) {
    if (s.endsWith("/*")) prefixes.push(s.slice(0, -1));
    else exact.add(s);
  }
  if (prefixes.length === 0) return (t) => exact.has(t);
  return (t) => exact.has(t) || prefixes.some((p) => t.startsWith(p));
}

/** Whether some resource type lies in both scopes (each `*`, `category/*` or `category/kind`, or lists). */
export function scopesOverlap(
  a: string | readonly string[] | undefined,
  b: string | readonly string[] | undefined,
): boolean {
  const list = (s: typeof a) => (s === undefined ? ["*"] : typeof s === "string" ? [s] : s);
  const one = (x: string, y: string) => {
    if (x === "*" || y === "*" || x === y) return true;
    const [cx, kx] = x.split("/");
    const [cy, ky] = y.split("/");
    return cx === cy && (kx === "*" || ky === "*");
  };
  return list(a).some((x) => list(b).some((y) => one(x, y)));
}

/** The tag that places a resource without a namespace in one: a policy's `metadata.namespace`. */
export const ENVIRONMENT_TAG = "environment";

/**
 * Whether a policy bound to `namespace` (as placedNamespace gives it) applies to a request: its
 * namespace equals it or, when it has none, its `environment` tag does — in any case and without
 * surrounding blanks. An empty or blank value is none (an export writing `""` for "no namespace" must
 * not take a production fleet out of production's limits). A request with neither is checked
 * (guardrails fail closed).
 */
export function inNamespace(
  namespace: string,
  requestNamespace: unknown,
  tags: Record<string, unknown> | undefined,
): boolean {
  const own = placedNamespace(requestNamespace) ?? placedNamespace(tags?.[ENVIRONMENT_TAG]);
  return own === undefined || own === namespace;
}

/** A namespace or environment as compared: trimmed, lower-case; undefined when absent or blank. */
export function placedNamespace(value: unknown): string | undefined {
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  return text === "" ? undefined : text.toLowerCase();
}
