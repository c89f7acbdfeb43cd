/**
 * `length` lowercase letters that no compression shortens, as a real id's are (PostgreSQL compresses
 * index entries, so a repeated letter would pass a limit that a real id of that size does not).
 * The same for the same seed.
 */
export function incompressibleLetters(length: number, seed = 7): string {
  let state = seed;
  return Array.from({ length }, () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return String.fromCharCode(97 + (state % 26));
  }).join("");
}
