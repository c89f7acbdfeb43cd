import { setFlagsFromString } from "node:v8";
import { RE2JS } from "re2js";

/**
 * Tag patterns are RE2 syntax and must run in linear time, so a policy can never hang a gate.
 *
 * RE2 syntax is checked with re2js (a port of RE2). Matching then takes one of two paths:
 * - ASCII patterns written in the subset where RE2 and JavaScript agree run on V8's own engine, ~10×
 *   faster than re2js. `.`, `\s` and `\S` join that subset written out as the classes RE2 means by
 *   them (`[^\n]`, `[\t\n\f\r ]`): V8's own `\s` also takes \v, NBSP, U+2000–U+200A and more, and
 *   its `.` refuses \r, U+2028 and U+2029. V8 is told to switch a regex to its linear-time
 *   (automaton) engine when it backtracks excessively; RE2 syntax has no backreferences or lookaround,
 *   so every such pattern qualifies. (V8's linear engine does not take the `u` flag, so these run
 *   without it; a value with characters outside the BMP is matched by re2js when the pattern could
 *   count code units.)
 * - anything else (POSIX classes, inline flags, \pN, \Q…\E, \z, named groups in RE2 spelling) runs on re2js.
 */
setFlagsFromString("--enable-experimental-regexp-engine-on-excessive-backtracks");

export interface CompiledPattern {
  readonly source: string;
  readonly engine: "v8" | "re2js";
  test(value: string): boolean;
}

export class PatternSyntaxError extends Error {
  override readonly name = "PatternSyntaxError";
}

// Constructs whose meaning differs between RE2 and JavaScript, or that only one of them accepts.
const NOT_PORTABLE = /\[\[:|\(\?(?!:)|\\[pPQEzACxX0-9]|\\[^\\.+*?()|[\]{}^$\-/dDwWsSbBtnrfv]/;

const ASCII = /^[\x20-\x7e]*$/;
const COUNTS_CODE_UNITS = /\.|\[\^|\\[DWS]/;
const SURROGATE = /[\uD800-\uDFFF]/;

export function compilePattern(source: string): CompiledPattern {
  let re2: RE2JS;
  try {
    re2 = RE2JS.compile(source);
  } catch (err) {
    throw new PatternSyntaxError(describeRe2Error(err));
  }
  const v8Source = NOT_PORTABLE.test(source) || !ASCII.test(source) ? undefined : asRe2Means(source);
  if (v8Source !== undefined) {
    try {
      const native = new RegExp(v8Source);
      if (!COUNTS_CODE_UNITS.test(source))
        return { source, engine: "v8", test: (value) => native.test(value) };
      return {
        source,
        engine: "v8",
        test: (value) => (SURROGATE.test(value) ? re2.test(value) : native.test(value)),
      };
    } catch {
      // Valid RE2 that V8 rejects: fall through to re2js.
    }
  }
  return { source, engine: "re2js", test: (value) => re2.test(value) };
}

const RE2_SPACE = "\\t\\n\\f\\r ";

/**
 * The pattern for V8 with `.`, `\s` and `\S` written as the classes RE2 reads them as, or undefined
 * where that would take more than spelling (a class holding `\S`, or `\s` beside a `-` that would
 * make it a range's end), and where V8 reads the text otherwise: `[]a]` and `[^]a]` are a class
 * holding `]` in RE2, an empty class and "any character" in JavaScript. Those run on re2js.
 */
function asRe2Means(source: string): string | undefined {
  let out = "";
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === "\\") {
      const e = source[i + 1] ?? "";
      i++;
      if (e === "s" || e === "S") {
        if (!inClass) out += e === "s" ? `[${RE2_SPACE}]` : `[^${RE2_SPACE}]`;
        else if (e === "S" || source[i - 2] === "-" || source[i + 1] === "-") return undefined;
        else out += RE2_SPACE;
      } else out += c + e;
    } else if (inClass) {
      if (c === "]") inClass = false;
      out += c;
    } else if (c === "[") {
      inClass = true;
      const negated = source[i + 1] === "^";
      if (source[i + (negated ? 2 : 1)] === "]") return undefined;
      out += negated ? "[^" : "[";
      if (negated) i++;
    } else out += c === "." ? "[^\\n]" : c;
  }
  return out;
}

function describeRe2Error(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return `not valid RE2 syntax: ${text.replace(/^error parsing regexp: /, "")}`;
}
