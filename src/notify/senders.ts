import { createHash } from "node:crypto";
import type nodemailer from "nodemailer";
import { redactUrl } from "../store/open.js";
import type { ChannelTarget } from "./channels.js";
import type { SmtpConfig } from "./config.js";
import { emailBodies, slackPayload, webhookBody } from "./render.js";
import type { OutboxMessage } from "./types.js";

/**
 * A failed attempt whose receiver said when to try again (429 or 503 with Retry-After, as Slack's
 * rate limit does): the next attempt waits at least that long.
 */
export class RetryLaterError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/** The longest Retry-After honoured: a day (a receiver's typo should not park a message for a year). */
const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

/** Retry-After as milliseconds from now: delay-seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const text = header.trim();
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now;
  if (!Number.isFinite(ms)) return undefined;
  return Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS);
}

/**
 * Posts JSON; anything but a 2xx answer (or no answer in time) is a failed attempt. Redirects are not
 * followed: fetch turns a POST redirected by 301 or 302 into a GET without its body, which a receiver
 * may answer 200 — a message marked delivered that nobody got.
 */
async function postJson(
  url: string,
  body: unknown,
  idempotencyKey: string,
  timeoutMs: number,
): Promise<void> {
  // A user and password in the URL (`https://ci:token@jenkins.example/hook`) go as Basic auth, as curl
  // sends them: fetch refuses such a URL, and its refusal quoted the password.
  const target = new URL(url);
  const credentials =
    target.username || target.password
      ? `Basic ${Buffer.from(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`).toString("base64")}`
      : undefined;
  target.username = "";
  target.password = "";
  let response: Response;
  try {
    response = await fetch(target, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "idempotency-key": idempotencyKey,
        "user-agent": "costguard-notify",
        ...(credentials ? { authorization: credentials } : {}),
      },
      body: JSON.stringify(body),
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new Error(unreachable(err, target.host, timeoutMs));
  }
  if (response.ok) {
    // Taken: what the receiver says beside it is not needed (and may be large, or never end).
    await response.body?.cancel().catch(() => {});
    return;
  }
  const text = await answerStart(response);
  const status = `HTTP ${response.status}`;
  if (response.status >= 300 && response.status < 400) {
    const location = response.headers.get("location");
    throw new Error(
      `${status}: the URL redirects${location ? ` to ${redactUrl(new URL(location, target).href)}` : ""}; costguard does not follow a receiver's redirects (a POST would arrive as a GET without its message): configure the URL it redirects to`,
    );
  }
  const message = `${status}${text ? `: ${text}` : ""}`;
  const after =
    response.status === 429 || response.status === 503
      ? retryAfterMs(response.headers.get("retry-after"))
      : undefined;
  throw after === undefined ? new Error(message) : new RetryLaterError(message, after);
}

/** The bytes of an answer's body an error quotes. */
const QUOTED_BYTES = 200;

/**
 * The start of a failed answer's body, for the error (on one line: an HTML error page's lines run
 * together): at most QUOTED_BYTES are read, however long the body is, and the rest is not waited for.
 */
async function answerStart(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (reader === undefined) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < QUOTED_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // Cut off (timeout, reset): quote what came.
  }
  await reader.cancel().catch(() => {});
  const bytes = Buffer.concat(chunks).subarray(0, QUOTED_BYTES);
  // A character cut in two at the end decodes as U+FFFD: dropped.
  return bytes
    .toString("utf8")
    .replace(/\uFFFD$/, "")
    .replace(/\s+/g, " ")
    .trim();
}

/** What to do about an untrusted certificate: Node reads extra authorities from a file at start. */
const TRUST = "; a private certificate authority is trusted with NODE_EXTRA_CA_CERTS=/path/to/ca.pem";

/** TLS failures in words, by the code Node gives them (OpenSSL's own text is one long line of internals). */
const TLS_CAUSES: Record<string, string> = {
  ERR_SSL_WRONG_VERSION_NUMBER: "it does not speak TLS on that port (an http:// URL written as https://?)",
  DEPTH_ZERO_SELF_SIGNED_CERT: `its TLS certificate is self-signed${TRUST}`,
  SELF_SIGNED_CERT_IN_CHAIN: `its TLS certificate comes from a certificate authority this machine does not trust${TRUST}`,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: `its TLS certificate comes from a certificate authority this machine does not trust${TRUST}`,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: `its TLS certificate cannot be verified (the chain it sends is incomplete)${TRUST}`,
  CERT_HAS_EXPIRED: "its TLS certificate has expired",
  CERT_NOT_YET_VALID: "its TLS certificate is not valid yet (or this machine's clock is wrong)",
  ERR_TLS_CERT_ALTNAME_INVALID: "its TLS certificate is for another host name",
};

/**
 * Why a POST got no answer, in words: fetch says only "fetch failed" and keeps the reason (refused,
 * no such host, TLS) in its cause.
 */
function unreachable(err: unknown, host: string, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError") return `no answer from ${host} within ${timeoutMs / 1000} s`;
  const cause = e.cause;
  if (cause?.code === "ECONNREFUSED") return `${host} refused the connection`;
  if (cause?.code === "ENOTFOUND" || cause?.code === "EAI_AGAIN")
    return `no such host: ${host.split(":")[0]}`;
  const tls = cause?.code === undefined ? undefined : TLS_CAUSES[cause.code];
  if (tls !== undefined) return `cannot reach ${host}: ${tls} (${cause!.code})`;
  return `cannot reach ${host}: ${(cause?.message ?? e.message).replace(/\s+/g, " ").trim()}`;
}

/** Node's code for a TLS error by its text (nodemailer keeps OpenSSL's text, not the code): see TLS_CAUSES. */
const TLS_TEXTS: [RegExp, string][] = [
  [/wrong version number/, "ERR_SSL_WRONG_VERSION_NUMBER"],
  [/self[- ]signed certificate in certificate chain/, "SELF_SIGNED_CERT_IN_CHAIN"],
  [/self[- ]signed certificate/, "DEPTH_ZERO_SELF_SIGNED_CERT"],
  [/unable to get local issuer certificate/, "UNABLE_TO_GET_ISSUER_CERT_LOCALLY"],
  [/unable to verify the first certificate/, "UNABLE_TO_VERIFY_LEAF_SIGNATURE"],
  [/certificate has expired/, "CERT_HAS_EXPIRED"],
  [/certificate is not yet valid/, "CERT_NOT_YET_VALID"],
  [/does not match certificate's altnames/, "ERR_TLS_CERT_ALTNAME_INVALID"],
];

/**
 * Why mail was not taken, in words. nodemailer's connection errors are terse ("Greeting never
 * received", OpenSSL's internals); what the server answered (a 5xx refusal, a failed login) is kept
 * as it said it.
 */
function smtpFailure(err: unknown, smtp: SmtpConfig, timeoutMs: number): string {
  const e = err as Error & { code?: string; command?: string; reason?: string; timeoutType?: string };
  const host = `${smtp.host}:${smtp.port}`;
  const text = (e.message || String(err)).replace(/\s+/g, " ").trim();
  if (e.command !== "CONN") return text;
  const seconds = timeoutMs / 1000;
  if (e.code === "EDNS") return `no such host: ${smtp.host}`;
  if (/ECONNREFUSED/.test(text)) return `${host} refused the connection`;
  if (e.code === "ETIMEDOUT" && e.timeoutType === "SOCKET_TIMEOUT")
    return `${host} went quiet: no answer for ${(timeoutMs + IDLE_MARGIN_MS) / 1000} s`;
  if (e.code === "ETIMEDOUT" && /greeting/i.test(text))
    return smtp.secure
      ? `no SMTP greeting from ${host} within ${seconds} s: is it an SMTP server?`
      : `no SMTP greeting from ${host} within ${seconds} s: is it an SMTP server? (one that speaks TLS from the start, as on port 465, is smtps://)`;
  if (e.code === "ETIMEDOUT") return `no answer from ${host} within ${seconds} s`;
  const tls = TLS_TEXTS.find(([pattern]) => pattern.test(e.reason ?? text));
  // Said for mail in mail's terms: which scheme speaks TLS from the start, which upgrades.
  if (tls?.[1] === "ERR_SSL_WRONG_VERSION_NUMBER")
    return `cannot reach ${host}: it does not speak TLS on connect; smtps:// is for servers that do (port 465), smtp:// upgrades with STARTTLS (ports 587, 25) (${e.reason ?? "wrong version number"})`;
  if (tls !== undefined) return `cannot reach ${host}: ${TLS_CAUSES[tls[1]]} (${tls[1]})`;
  return `cannot reach ${host}: ${text}`;
}

export type Transporter = ReturnType<typeof nodemailer.createTransport>;

/** How much longer than the timeout a connected mail server may stay silent mid-conversation. */
const IDLE_MARGIN_MS = 1000;

/** One SMTP transport per server, reused across messages of a delivery run. */
export class MailTransports {
  private readonly cache = new Map<string, Transporter>();

  constructor(private readonly timeoutMs: number) {}

  /** The transport for a server, made on first use (nodemailer is loaded only when mail is sent). */
  async get(smtp: SmtpConfig): Promise<Transporter> {
    const key = JSON.stringify(smtp);
    const cached = this.cache.get(key);
    if (cached) return cached;
    const { default: mailer } = await import("nodemailer");
    // Another send may have made it while nodemailer loaded: one transport per server, closed once.
    let t = this.cache.get(key);
    if (!t) {
      t = mailer.createTransport({
        host: smtp.host,
        port: smtp.port,
        secure: smtp.secure,
        ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.pass ?? "" } } : {}),
        connectionTimeout: this.timeoutMs,
        greetingTimeout: this.timeoutMs,
        // The idle timer starts with the connection, as the greeting's does: given the same time it
        // fired first on a fast loopback, and a server that never greets was told as one gone quiet.
        socketTimeout: this.timeoutMs + IDLE_MARGIN_MS,
        // Local test servers and internal relays often have no certificate for their name.
        tls: { rejectUnauthorized: !["127.0.0.1", "localhost", "::1"].includes(smtp.host) },
      });
      this.cache.set(key, t);
    }
    return t;
  }

  close(): void {
    for (const t of this.cache.values()) t.close();
    this.cache.clear();
  }
}

/** Sends one message to its resolved target. The message id travels as the idempotency key. */
export async function sendTo(
  target: ChannelTarget,
  m: OutboxMessage,
  mail: MailTransports,
  timeoutMs: number,
): Promise<void> {
  switch (target.kind) {
    case "slack":
      return postJson(target.url, slackPayload(m), m.id, timeoutMs);
    case "webhook":
      return postJson(target.url, webhookBody(m), m.id, timeoutMs);
    case "email": {
      const { text, html } = emailBodies(m);
      // A stable Message-ID lets mail systems drop a copy re-sent after a lost acknowledgement.
      const messageId = `<${createHash("sha256").update(m.id).digest("hex").slice(0, 32)}@costguard>`;
      try {
        await (await mail.get(target.smtp)).sendMail({
          from: target.from,
          to: target.to,
          subject: m.subject,
          text,
          html,
          messageId,
          headers: { "X-Costguard-Idempotency-Key": m.id },
        });
      } catch (err) {
        throw new Error(smtpFailure(err, target.smtp, timeoutMs));
      }
      return;
    }
  }
}
