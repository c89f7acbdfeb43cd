import { createHash } from "node:crypto";
import { connect, type Socket } from "node:net";
import type Mail from "nodemailer/lib/mailer";
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

/**
 * A failed attempt whose receiver is not there: it gave no answer within the timeout, or refused the
 * connection. Its other messages are not tried again in the same run (one dead receiver costs one
 * timeout a run, not one a message).
 */
export class ReceiverDownError extends Error {
  constructor(
    message: string,
    readonly how: "timed out" | "refused the connection",
  ) {
    super(message);
  }
}

/** The error for a failure's text: a ReceiverDownError when the receiver timed out or refused. */
function failure(text: string, how: ReceiverDownError["how"] | undefined): Error {
  return how === undefined ? new Error(text) : new ReceiverDownError(text, how);
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
  signal: AbortSignal,
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
      // The attempt's deadline, not only the answer's: it also cuts off a body that trickles in.
      signal,
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    throw failure(
      unreachable(err, target.host, timeoutMs),
      e.name === "TimeoutError"
        ? "timed out"
        : e.cause?.code === "ECONNREFUSED"
          ? "refused the connection"
          : undefined,
    );
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
function smtpFailure(err: unknown, smtp: SmtpConfig, timeoutMs: number, socket: Socket | undefined): string {
  const e = err as Error & { code?: string; command?: string; reason?: string; timeoutType?: string };
  const host = `${smtp.host}:${smtp.port}`;
  const text = (e.message || String(err)).replace(/\s+/g, " ").trim();
  const seconds = timeoutMs / 1000;
  // The attempt's deadline: said by how far the conversation got.
  if (e.code === "EABORT") {
    if (socket === undefined || socket.connecting) return `no answer from ${host} within ${seconds} s`;
    if (socket.bytesRead === 0) return noGreeting(host, smtp, seconds);
    return `${host} had not taken the message within ${seconds} s: its answers stopped or came too slowly`;
  }
  // Connecting is ours (see MailTransports.send): Node's errors; then nodemailer's, command CONN.
  if (e.code === "ENOTFOUND" || e.code === "EAI_AGAIN" || e.code === "EDNS")
    return `no such host: ${smtp.host}`;
  if (e.code === "ECONNREFUSED" || (e.command === "CONN" && /ECONNREFUSED/.test(text)))
    return `${host} refused the connection`;
  if (e.code === "ETLS" && /STARTTLS/i.test(text))
    return `${host} does not offer STARTTLS: costguard sends a password only over TLS (smtps:// for a server that speaks TLS from the start)`;
  if (e.command !== "CONN") return text;
  if (e.code === "ETIMEDOUT" && e.timeoutType === "SOCKET_TIMEOUT")
    return `${host} went quiet: no answer for ${(timeoutMs + IDLE_MARGIN_MS) / 1000} s`;
  if (e.code === "ETIMEDOUT" && /greeting/i.test(text)) return noGreeting(host, smtp, seconds);
  if (e.code === "ETIMEDOUT") return `no answer from ${host} within ${seconds} s`;
  const tls = TLS_TEXTS.find(([pattern]) => pattern.test(e.reason ?? text));
  // Said for mail in mail's terms: which scheme speaks TLS from the start, which upgrades.
  if (tls?.[1] === "ERR_SSL_WRONG_VERSION_NUMBER")
    return `cannot reach ${host}: it does not speak TLS on connect; smtps:// is for servers that do (port 465), smtp:// upgrades with STARTTLS (ports 587, 25) (${e.reason ?? "wrong version number"})`;
  if (tls !== undefined) return `cannot reach ${host}: ${TLS_CAUSES[tls[1]]} (${tls[1]})`;
  return `cannot reach ${host}: ${text}`;
}

function noGreeting(host: string, smtp: SmtpConfig, seconds: number): string {
  return smtp.secure
    ? `no SMTP greeting from ${host} within ${seconds} s: is it an SMTP server?`
    : `no SMTP greeting from ${host} within ${seconds} s: is it an SMTP server? (one that speaks TLS from the start, as on port 465, is smtps://)`;
}

/** How much longer than the timeout a connected mail server may stay silent mid-conversation. */
const IDLE_MARGIN_MS = 1000;

/**
 * Mail for a delivery run: nodemailer is loaded once (only when mail is sent), and each message goes
 * over a connection of its own (as a transport that is not pooled sends anyway).
 */
export class MailTransports {
  constructor(private readonly timeoutMs: number) {}

  /**
   * Hands one mail to the server, given up when `signal` aborts (the attempt's deadline): nodemailer's
   * timeouts are for connecting, the greeting and an idle socket, so a server answering a byte a second
   * kept one attempt going for minutes, past the lease that keeps other deliverers off the message.
   */
  async send(smtp: SmtpConfig, mail: Mail.Options, signal: AbortSignal): Promise<void> {
    const { default: mailer } = await import("nodemailer");
    // The attempt's connection, made here and handed to nodemailer: how far it got says why the
    // attempt timed out, and one still connecting is dropped at the deadline.
    let socket: Socket | undefined;
    const drop = () => socket?.destroy();
    signal.addEventListener("abort", drop, { once: true });
    const transport = mailer.createTransport({
      host: smtp.host,
      port: smtp.port,
      secure: smtp.secure,
      ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.pass ?? "" } } : {}),
      // A password goes only over TLS: on smtp:// the server must offer STARTTLS (nodemailer would
      // otherwise log in over plain text wherever the server does not offer it, or a man in the
      // middle strips the offer).
      requireTLS: Boolean(smtp.user) && !smtp.secure,
      connectionTimeout: this.timeoutMs,
      greetingTimeout: this.timeoutMs,
      // The idle timer starts with the connection, as the greeting's does: given the same time it
      // fired first on a fast loopback, and a server that never greets was told as one gone quiet.
      socketTimeout: this.timeoutMs + IDLE_MARGIN_MS,
      // Local test servers and internal relays often have no certificate for their name.
      tls: { rejectUnauthorized: !["127.0.0.1", "localhost", "::1"].includes(smtp.host) },
      getSocket: (_options, callback) => {
        const made = connect({ host: smtp.host, port: smtp.port });
        socket = made;
        const failed = (err: Error) => callback(err, undefined);
        made.once("error", failed);
        made.once("connect", () => {
          made.off("error", failed);
          callback(null, { connection: made });
        });
      },
    });
    try {
      // nodemailer 10 takes an AbortSignal (closing the connection); its types do not say so yet.
      await transport.sendMail({ ...mail, signal } as Mail.Options);
    } catch (err) {
      const e = err as Error & { code?: string; command?: string };
      const refused =
        e.code === "ECONNREFUSED" || (e.command === "CONN" && /ECONNREFUSED/.test(e.message ?? ""));
      throw failure(
        smtpFailure(err, smtp, this.timeoutMs, socket),
        e.code === "EABORT" || e.code === "ETIMEDOUT"
          ? "timed out"
          : refused
            ? "refused the connection"
            : undefined,
      );
    } finally {
      signal.removeEventListener("abort", drop);
      transport.close();
    }
  }
}

/** Sends one message to its resolved target. The message id travels as the idempotency key. */
export async function sendTo(
  target: ChannelTarget,
  m: OutboxMessage,
  mail: MailTransports,
  timeoutMs: number,
  /** The attempt's deadline: aborts a send still running when it comes. */
  signal: AbortSignal,
): Promise<void> {
  switch (target.kind) {
    case "slack":
      return postJson(target.url, slackPayload(m), m.id, timeoutMs, signal);
    case "webhook":
      return postJson(target.url, webhookBody(m), m.id, timeoutMs, signal);
    case "email": {
      const { text, html } = emailBodies(m);
      // A stable Message-ID lets mail systems drop a copy re-sent after a lost acknowledgement.
      const messageId = `<${createHash("sha256").update(m.id).digest("hex").slice(0, 32)}@costguard>`;
      await mail.send(
        target.smtp,
        {
          from: target.from,
          to: target.to,
          subject: m.subject,
          text,
          html,
          messageId,
          headers: { "X-Costguard-Idempotency-Key": m.id },
        },
        signal,
      );
      return;
    }
  }
}
