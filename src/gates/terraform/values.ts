/**
 * A resource's planned attribute values together with Terraform's `after_unknown` mask, so a mapping
 * can tell "not set" from "known only after apply" for every attribute it reads.
 */
export class PlannedValues {
  constructor(
    readonly values: Record<string, unknown>,
    /** The after_unknown subtree for these values (true = the whole thing is unknown). */
    readonly unknownMask: unknown,
  ) {}

  static of(values: unknown, unknownMask: unknown): PlannedValues {
    const v = values !== null && typeof values === "object" && !Array.isArray(values) ? values : {};
    return new PlannedValues(v as Record<string, unknown>, unknownMask);
  }

  /** True when the attribute is marked unknown (only known after apply). */
  unknown(key: string): boolean {
    if (this.unknownMask === true) return true;
    const m = this.unknownMask;
    return m !== null && typeof m === "object" && (m as Record<string, unknown>)[key] === true;
  }

  string(key: string): string | undefined {
    const v = this.values[key];
    return typeof v === "string" && v !== "" ? v : undefined;
  }

  number(key: string): number | undefined {
    const v = this.values[key];
    return typeof v === "number" && Number.isFinite(v) ? v : undefined;
  }

  boolean(key: string): boolean | undefined {
    const v = this.values[key];
    return typeof v === "boolean" ? v : undefined;
  }

  /** A map of strings (tags, labels); keys whose values are unknown are listed separately. */
  stringMap(key: string): { values: Record<string, string>; unknownKeys: string[] } | undefined {
    const v = this.values[key];
    if (v === null || typeof v !== "object" || Array.isArray(v)) return undefined;
    const values: Record<string, string> = {};
    for (const [k, x] of Object.entries(v)) if (typeof x === "string") values[k] = x;
    const mask = this.childMask(key);
    const unknownKeys =
      mask !== null && typeof mask === "object"
        ? Object.entries(mask as Record<string, unknown>)
            .filter(([, u]) => u === true)
            .map(([k]) => k)
        : [];
    return { values, unknownKeys };
  }

  /** The nested blocks under a key (Terraform lists of objects), each with its own mask. */
  blocks(key: string): PlannedValues[] {
    const v = this.values[key];
    if (!Array.isArray(v)) return [];
    const mask = this.childMask(key);
    return v.map((item, i) =>
      PlannedValues.of(item, Array.isArray(mask) ? mask[i] : mask === true ? true : undefined),
    );
  }

  private childMask(key: string): unknown {
    if (this.unknownMask === true) return true;
    const m = this.unknownMask;
    return m !== null && typeof m === "object" ? (m as Record<string, unknown>)[key] : undefined;
  }
}
