import { InputError } from "./errors.js";

/**
 * Characters a user name may not hold: controls (an ESC would reach the terminal when the name is
 * echoed), line and paragraph separators, lone surrogates, and format and default-ignorable ones
 * (zero-width spaces and joiners, soft hyphen, BOM, bidi controls, variation selectors, Hangul
 * fillers): they show as nothing, so `frank\u200b` looks like frank while being another name.
 */
const UNSEEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u;
const UNSEEN_ALL = new RegExp(UNSEEN.source, "gu");

/** Why `name` cannot be a user's name (`where` says where it was written), or undefined when it can. */
export function userNameProblem(name: string, where: string): string | undefined {
  const found = UNSEEN.exec(name);
  if (found === null) return undefined;
  const code = found[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
  return `${where}: a user name cannot hold an invisible or control character (this one has U+${code}); write the name plainly`;
}

/** Refuses a user name that holds a character nobody sees (see userNameProblem). */
export function checkUserName(name: string, where: string): string {
  const problem = userNameProblem(name, where);
  if (problem !== undefined) throw new InputError(problem);
  return name;
}

/**
 * The form two names are compared in, so that nobody is someone else by writing their name another
 * way: compatibility forms folded (fullwidth `ｆrank`, ligatures), accents and other combining marks
 * dropped (`Franḱ`, `Frank` + U+0301), unseen characters dropped (names stored before they were
 * refused), case folded (upper then lower case, so `ß` is `ss`) and blanks trimmed and collapsed.
 * Folding too much only makes two people one: then neither approves the other's request, which is
 * the safe way to be wrong.
 */
export function userKey(name: string): string {
  const bare = name
    .normalize("NFKD")
    .replace(UNSEEN_ALL, "")
    .replace(/[\p{Mn}\p{Me}]/gu, "");
  return bare.toUpperCase().toLowerCase().normalize("NFKC").replace(/\s+/gu, " ").trim();
}

/** Whether two names are one user (see userKey). */
export function sameUser(a: string, b: string): boolean {
  return userKey(a) === userKey(b);
}
