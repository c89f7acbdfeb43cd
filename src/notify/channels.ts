import { createRequire } from "node:module";
import { ownValue } from "../objects.js";
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

/**
 * One plain address: dot-separated atoms, `@`, a host name. No display name, quotes, comments, IP
 * literals, lists or groups: `x,attacker@evil.com` went to attacker@evil.com alone and
 * `Victim:x@evil.com` was a group, while the outbox named the channel as written.
 */
const ATOM = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+";
const EMAIL = new RegExp(`^${ATOM}(?:\\.${ATOM})*@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*$`);

type AddressParser = typeof import("nodemailer/lib/addressparser").default;
let addressparser: AddressParser | undefined;

/** Why `address` cannot be an `email:` channel's, or undefined when it can. */
export function emailProblem(address: string): string | undefined {
  // nodemailer asks for SMTPUTF8 only where the server offers it, and otherwise sends the raw bytes,
  // which a server may mangle or deliver elsewhere.
  if (/\P{ASCII}/u.test(address))
    return "an email address must be ASCII: costguard cannot require SMTPUTF8 of a mail server (a domain can be written in punycode, xn--...)";
  const plain =
    "email: takes one plain address, name@example.com, without a display name, quotes, comments, commas, colons, semicolons or angle brackets";
  if (!EMAIL.test(address)) return plain;
  // And nodemailer, which sends it, reads it as that one address (loaded alone, the parser not the
  // mailer, and only here: a command that never checks an address does not load nodemailer at all).
  addressparser ??= createRequire(import.meta.url)("nodemailer/lib/addressparser") as AddressParser;
  const parsed = addressparser(address);
  const only = parsed.length === 1 ? parsed[0] : undefined;
  if (only === undefined || only.group !== undefined || only.name !== "" || only.address !== address)
    return plain;
  return undefined;
}

/** Why `text` is not a channel, for errors: the address's problem for `email:`, else the forms. */
export function channelProblem(text: string): string {
  if (text.length <= MAX_CHANNEL_LENGTH && text.startsWith("email:"))
    return emailProblem(text.slice("email:".length)) ?? CHANNEL_FORMS;
  return CHANNEL_FORMS;
}

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
  if (kind === "email" && emailProblem(rest) === undefined) return { kind, to: rest };
  if (kind === "webhook" && /^[A-Za-z0-9._-]+$/.test(rest)) return { kind, name: rest };
  return null;
}

const norm = (s: string) => s.toLowerCase().replaceAll("_", "-");

function lookup(map: Readonly<Record<string, string>>, key: string): string | undefined {
  // Names are the user's: a channel or webhook named `constructor` is not Object.prototype's.
  const exact = ownValue(map, key);
  if (exact !== undefined) return exact;
  const wanted = norm(key);
  for (const [k, v] of Object.entries(map)) if (norm(k) === wanted) return v;
  return undefined;
}

/** Resolves a channel through config; a string says what is missing. */
export function resolveChannel(text: string, config: NotifyConfig): ChannelTarget | string {
  const spec = parseChannel(text);
  if (spec === null) return `not a channel: ${text} (${channelProblem(text)})`;
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
