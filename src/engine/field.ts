/** Compiles a dotted request path (`specs.vcpus`, `tags.cost-center`, `region`) into an accessor, once. */
export type FieldAccessor = (request: Record<string, unknown>) => unknown;

/**
 * Whether a plain object answers `key` without holding it: a name on Object.prototype (`constructor`,
 * `toString`, `__proto__`). A request is parsed JSON or YAML, plain objects all the way down, so
 * only these keys need `Object.hasOwn`; every other path keeps a plain property read.
 */
function inherited(key: string): boolean {
  return key in Object.prototype;
}

/** A property read that sees only the object's own keys where a plain read would see inherited ones. */
function readKey(key: string): (object: Record<string, unknown>) => unknown {
  if (inherited(key)) return (o) => (Object.hasOwn(o, key) ? o[key] : undefined);
  return (o) => o[key];
}

export function compileField(path: string): FieldAccessor {
  const dot = path.indexOf(".");
  if (dot < 0) {
    // `__proto__` or `constructor` as a field: present on every request unless only own keys count.
    if (inherited(path)) return readKey(path);
    return (r) => r[path];
  }
  const head = path.slice(0, dot);
  const rest = path.slice(dot + 1);
  // Tags keep dots in their keys (`kubernetes.io/name`): everything after `tags.` is one key.
  if (head === "tags" || !rest.includes(".")) {
    if (inherited(head) || inherited(rest)) {
      const outer = readKey(head);
      const inner = readKey(rest);
      return (r) => {
        const o = outer(r);
        return o !== null && typeof o === "object" ? inner(o as Record<string, unknown>) : undefined;
      };
    }
    return (r) => {
      const inner = r[head];
      return inner !== null && typeof inner === "object"
        ? (inner as Record<string, unknown>)[rest]
        : undefined;
    };
  }
  const segments = path.split(".");
  if (segments.some(inherited)) {
    const reads = segments.map(readKey);
    return (r) => {
      let cur: unknown = r;
      for (const read of reads) {
        if (cur === null || typeof cur !== "object") return undefined;
        cur = read(cur as Record<string, unknown>);
      }
      return cur;
    };
  }
  return (r) => {
    let cur: unknown = r;
    for (const s of segments) {
      if (cur === null || typeof cur !== "object") return undefined;
      cur = (cur as Record<string, unknown>)[s];
    }
    return cur;
  };
}
