/**
 * The longest text the store keeps in an index, in UTF-8 bytes: resource ids (an ARN, the longest cloud
 * id, is at most 2,048 bytes) and inventory names. PostgreSQL refuses an index entry past ~2.7 KB (a
 * third of a page): without a bound, such a value passed on SQLite and failed on PostgreSQL as a
 * database error.
 */
export const MAX_KEY_BYTES = 2048;

/** The UTF-8 size of `text` when it is over MAX_KEY_BYTES; undefined when it fits. */
export function oversizedKey(text: string): number | undefined {
  // A UTF-16 unit is at most 3 bytes of UTF-8: short text needs no count.
  if (text.length * 3 <= MAX_KEY_BYTES) return undefined;
  const bytes = Buffer.byteLength(text);
  return bytes > MAX_KEY_BYTES ? bytes : undefined;
}

/** "N bytes: X is at most 2,048 (an ARN's longest)", for errors. */
export function keyTooLong(bytes: number, what: string): string {
  return `${bytes.toLocaleString("en-US")} bytes: ${what} is at most ${MAX_KEY_BYTES.toLocaleString("en-US")}`;
}
