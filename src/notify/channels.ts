import type { NotifyConfig, SmtpConfig } from "./config.js";

/** Where a channel string sends to, once config has resolved it. */
export type ChannelTarget =
  | { kind: "slack"; channel: string; url: string }
  | { kind: "email"; to: string; smtp: SmtpConfig; from: string }
  | { kind: "webhook"; name: string; url: string };

export type ChannelSpec =
  | { kind: "slack"; channel: string }
  | { kind: "email"; to: string }
  | { kind: "webhook"; name: string };

const EMAIL = /^[^@\s]+@[^@\s]+$/;

/**
 * The longest channel text: `email:` and an address's longest (254). Channels name outbox messages,
 * which the store indexes (PostgreSQL refuses index entries past ~2.7 KB).
 */
export const MAX_CHANNEL_LENGTH = 260;

/** What a channel may be, for errors. */
export const CHANNEL_FORMS = `use slack:#name, email:address or webhook:NAME, at most ${MAX_CHANNEL_LENGTH} characters`;

/** `slack:#finops`, `email:finops@example.com`, `webhook:finops-bot`; null when not a channel. */
export function parseChannel(text: string): ChannelSpec | null {
  if (text.length > MAX_CHANNEL_LENGTH) return null;
  const colon = text.indexOf(":");
  if (colon < 0) return null;
  const kind = text.slice(0, colon);
  const rest = text.slice(colon + 1);
  if (kind === "slack" && /^#?[A-Za-z0-9._-]+$/.test(rest))
    return { kind, channel: rest.startsWith("#") ? rest : `#${rest}` };
  if (kind === "email" && EMAIL.test(rest)) return { kind, to: rest };
  if (kind === "webhook" && /^[A-Za-z0-9._-]+$/.test(rest)) return { kind, name: rest };
  return null;
}

const norm = (s: string) => s.toLowerCase().replaceAll("_", "-");

function lookup(map: Readonly<Record<string, string>>, key: string): string | undefined {
  if (map[key] !== undefined) return map[key];
  const wanted = norm(key);
  for (const [k, v] of Object.entries(map)) if (norm(k) === wanted) return v;
  return undefined;
}

/** Resolves a channel through config; a string says what is missing. */
export function resolveChannel(text: string, config: NotifyConfig): ChannelTarget | string {
  const spec = parseChannel(text);
  if (spec === null) return `not a channel: ${text} (${CHANNEL_FORMS})`;
  switch (spec.kind) {
    case "slack": {
      const url =
        lookup(config.slack.webhooks, spec.channel) ??
        lookup(config.slack.webhooks, spec.channel.slice(1)) ??
        config.slack.webhooks.default;
      return url
        ? { kind: "slack", channel: spec.channel, url }
        : `no Slack webhook configured for ${spec.channel} (notify.slack.webhooks)`;
    }
    case "email":
      return config.email.smtp
        ? { kind: "email", to: spec.to, smtp: config.email.smtp, from: config.email.from }
        : "no SMTP server configured (notify.email.smtp or COSTGUARD_SMTP_URL)";
    case "webhook": {
      const url = lookup(config.webhooks, spec.name);
      return url
        ? { kind: "webhook", name: spec.name, url }
        : `no URL configured for webhook ${spec.name} (notify.webhooks)`;
    }
  }
}
