import { type CompiledPattern, compilePattern } from "../../policy/pattern.js";

/** Compiles each distinct pattern of a policy set once. */
export class PatternCache {
  private readonly patterns = new Map<string, CompiledPattern>();

  get(source: string): CompiledPattern {
    let p = this.patterns.get(source);
    if (!p) {
      p = compilePattern(source);
      this.patterns.set(source, p);
    }
    return p;
  }
}
