/** Text put into Markdown reports (pull-request comments, budget summaries) as text, not markup. */

/**
 * Free text (messages, names) in Markdown, put after a list marker or in a table cell: the characters
 * Markdown or GitHub's HTML would read anywhere (`*`, `_`, backticks, `[`, `<b>`, `&amp;`, `|` that
 * would split a cell) escaped with a backslash, which CommonMark allows before any ASCII punctuation,
 * and a leading `#`, `+` or `-` (a heading or a list inside the item); line breaks as spaces.
 */
export function md(text: string): string {
  return text
    .replace(/[\\`*_[\]<>|~&]/g, "\\$&")
    .replace(/^[#+-]/, "\\$&")
    .replace(/\n/g, " ");
}

/**
 * Text as a code span: fenced by one backtick more than the longest run inside it (a resource key
 * may hold a backtick), padded when it starts or ends with one. In a table cell `|` is escaped (GFM
 * reads it before the span); elsewhere a backslash would show, so it is left as it is.
 */
export function code(text: string, inTable = false): string {
  const flat = text.replace(/\n/g, " ");
  const longest = Math.max(0, ...(flat.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(longest + 1);
  const pad = flat.startsWith("`") || flat.endsWith("`") ? " " : "";
  return `${fence}${pad}${inTable ? flat.replace(/\|/g, "\\|") : flat}${pad}${fence}`;
}
