import type { OutboxMessage } from "./types.js";

const SEVERITY_EMOJI = {
  info: ":information_source:",
  warning: ":warning:",
  critical: ":rotating_light:",
} as const;

/** A Slack incoming-webhook payload in Block Kit: header, summary, fields, and a context line. */
export function slackPayload(m: OutboxMessage): Record<string, unknown> {
  const { data } = m;
  const fields = data.fields
    .slice(0, 10)
    .map((f) => ({ type: "mrkdwn", text: `*${escapeSlack(f.label)}*\n${escapeSlack(f.value)}` }));
  const blocks: Record<string, unknown>[] = [
    { type: "header", text: { type: "plain_text", text: data.title.slice(0, 150), emoji: true } },
    {
      type: "section",
      text: { type: "mrkdwn", text: sectionText(`${SEVERITY_EMOJI[data.severity]} ${escapeSlack(m.text)}`) },
    },
  ];
  if (fields.length > 0) blocks.push({ type: "section", fields });
  blocks.push({
    type: "context",
    elements: [{ type: "mrkdwn", text: `costguard · ${m.kind} · ${escapeSlack(m.id)}` }],
  });
  // `text` is what Slack shows in notifications and where blocks are not shown, and it is mrkdwn too:
  // a subject carrying a resource id or a requester's words (`<!channel>`, `<http://x|y>`) would
  // mention everyone or link elsewhere there, while the blocks show it as written.
  return { text: escapeSlack(m.subject), blocks };
}

/** Slack refuses a section text over 3,000 characters: a long one (a digest) keeps its first lines. */
const SECTION_MAX = 3000;

function sectionText(text: string): string {
  if (text.length <= SECTION_MAX) return text;
  const lines = text.split("\n");
  let kept = "";
  let n = 0;
  // Room for the closing line, whatever the count.
  while (n < lines.length && kept.length + lines[n]!.length + 1 <= SECTION_MAX - 40) {
    kept += `${n === 0 ? "" : "\n"}${lines[n]}`;
    n++;
  }
  if (n === 0) return `${text.slice(0, SECTION_MAX - 1)}…`;
  return `${kept}\n… and ${(lines.length - n).toLocaleString("en-US")} more`;
}

function escapeSlack(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

function escapeHtml(s: string): string {
  return s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
}

/** Email bodies: plain text and an HTML version with the same facts in a table. */
export function emailBodies(m: OutboxMessage): { text: string; html: string } {
  const { data } = m;
  const text = [
    m.text,
    "",
    ...data.fields.map((f) => `${f.label}: ${f.value}`),
    "",
    `-- costguard (${m.kind}, ${m.id})`,
  ].join("\n");
  const rows = data.fields
    .map(
      (f) =>
        `<tr><th align="left" style="padding:2px 12px 2px 0">${escapeHtml(f.label)}</th><td>${escapeHtml(f.value)}</td></tr>`,
    )
    .join("");
  const html = `<!doctype html><html><body style="font-family:sans-serif"><h2>${escapeHtml(data.title)}</h2><p style="white-space:pre-wrap">${escapeHtml(m.text)}</p><table>${rows}</table><p style="color:#777;font-size:small">costguard · ${escapeHtml(m.kind)} · ${escapeHtml(m.id)}</p></body></html>`;
  return { text, html };
}

/** The JSON a webhook receives. */
export function webhookBody(m: OutboxMessage): Record<string, unknown> {
  return {
    id: m.id,
    kind: m.kind,
    channel: m.channel,
    subject: m.subject,
    text: m.text,
    data: m.data,
    createdAt: new Date(m.createdAt).toISOString(),
  };
}
