import { createHash } from "node:crypto";
import nodemailer from "nodemailer";
import type { ChannelTarget } from "./channels.js";
import type { SmtpConfig } from "./config.js";
import { emailBodies, slackPayload, webhookBody } from "./render.js";
import type { OutboxMessage } from "./types.js";

/** Posts JSON; anything but a 2xx answer (or no answer in time) is a failed attempt. */
async function postJson(
  url: string,
  body: unknown,
  idempotencyKey: string,
  timeoutMs: number,
): Promise<void> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "idempotency-key": idempotencyKey,
        "user-agent": "costguard-notify",
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new Error(unreachable(err, new URL(url).host, timeoutMs));
  }
  // Drain the body so the connection is released.
  const text = await response.text().catch(() => "");
  if (!response.ok) throw new Error(`HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ""}`);
}

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
  return `cannot reach ${host}: ${cause?.message ?? e.message}`;
}

export type Transporter = ReturnType<typeof nodemailer.createTransport>;

/** One SMTP transport per server, reused across messages of a delivery run. */
export class MailTransports {
  private readonly cache = new Map<string, Transporter>();

  constructor(private readonly timeoutMs: number) {}

  get(smtp: SmtpConfig): Transporter {
    const key = JSON.stringify(smtp);
    let t = this.cache.get(key);
    if (!t) {
      t = nodemailer.createTransport({
        host: smtp.host,
        port: smtp.port,
        secure: smtp.secure,
        ...(smtp.user ? { auth: { user: smtp.user, pass: smtp.pass ?? "" } } : {}),
        connectionTimeout: this.timeoutMs,
        greetingTimeout: this.timeoutMs,
        socketTimeout: this.timeoutMs,
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
      await mail.get(target.smtp).sendMail({
        from: target.from,
        to: target.to,
        subject: m.subject,
        text,
        html,
        messageId,
        headers: { "X-Costguard-Idempotency-Key": m.id },
      });
      return;
    }
  }
}
