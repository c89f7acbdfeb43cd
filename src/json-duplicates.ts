/**
 * JSON.parse keeps the last of two values written under one key (`{"vcpus": 80, "vcpus": 1}` is
 * `{vcpus: 1}`), where a reader of the text may see the first: a request could show one value and be
 * decided on the other. YAML input refuses such a mapping; this finds the same in JSON text.
 */

/** Where a key first repeats in its object: the key, and the offset of its second writing. */
export interface DuplicateKey {
  key: string;
  offset: number;
}

/** Keys an object holds before they are looked up in a set rather than a list. */
const SMALL = 16;
const QUOTE = 34;
const BACKSLASH = 92;
const COLON = 58;
const OPEN_OBJECT = 123;
const CLOSE_OBJECT = 125;
const OPEN_ARRAY = 91;
const CLOSE_ARRAY = 93;

/**
 * The first key written twice in one object of `text`, which must be JSON that parses (this only
 * walks its tokens: strings, and the brackets around them). One pass, no allocation but the keys.
 */
export function duplicateKey(text: string): DuplicateKey | undefined {
  // One entry per open bracket: the keys seen so far in an object, null for an array. A list while
  // they are few (most objects: faster than a set), a set past SMALL (linear look-ups would make a
  // body of a hundred thousand keys quadratic).
  const open: (string[] | Set<string> | null)[] = [];
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i;
      let escaped = false;
      i++;
      for (; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === BACKSLASH) {
          escaped = true;
          i++;
        } else if (d === QUOTE) break;
      }
      const keys = open.at(-1);
      if (!keys) continue;
      // A key is a string followed by a colon (after blanks).
      let j = i + 1;
      while (j < n && isBlank(text.charCodeAt(j))) j++;
      if (text.charCodeAt(j) !== COLON) continue;
      const raw = text.slice(start + 1, i);
      // `"a"` and `"\u0061"` are one key: escapes are read as JSON reads them.
      const key = escaped ? (JSON.parse(text.slice(start, i + 1)) as string) : raw;
      if (Array.isArray(keys)) {
        if (keys.includes(key)) return { key, offset: start };
        keys.push(key);
        if (keys.length > SMALL) open[open.length - 1] = new Set(keys);
      } else {
        if (keys.has(key)) return { key, offset: start };
        keys.add(key);
      }
    } else if (c === OPEN_OBJECT) open.push([]);
    else if (c === OPEN_ARRAY) open.push(null);
    else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) open.pop();
  }
  return undefined;
}

function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** 1-based line and column of `offset` in `text`. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/** The message for a key written twice: which key, and why it is refused. */
export function duplicateKeyMessage(key: string): string {
  return `key \`${key}\` is written twice in one object (JSON would keep only the last; which one was meant is unknown)`;
}
