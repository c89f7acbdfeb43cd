/** Compiles a dotted request path (`specs.vcpus`, `tags.cost-center`, `region`) into an accessor, once. */
export type FieldAccessor = (request: Record<string, unknown>) => unknown;

export function compileField(path: string): FieldAccessor {
  const dot = path.indexOf(".");
  if (dot < 0) return (r) => r[path];
  const head = path.slice(0, dot);
  const rest = path.slice(dot + 1);
  // Tags keep dots in their keys (`kubernetes.io/name`): everything after `tags.` is one key.
  if (head === "tags" || !rest.includes(".")) {
    return (r) => {
      const inner = r[head];
      return inner !== null && typeof inner === "object"
        ? (inner as Record<string, unknown>)[rest]
        : undefined;
    };
  }
  const segments = path.split(".");
  return (r) => {
    let cur: unknown = r;
    for (const s of segments) {
      if (cur === null || typeof cur !== "object") return undefined;
      cur = (cur as Record<string, unknown>)[s];
    }
    return cur;
  };
}
