import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

/** A real HTTP receiver on an ephemeral port that can be down (503) or up; it records what it took. */
export interface HttpReceiver {
  url: string;
  /** Bodies accepted (2xx), with their idempotency key. */
  received: {
    path: string;
    key: string | undefined;
    body: Record<string, unknown>;
    /** The Authorization header, when one came. */
    authorization?: string;
  }[];
  /** Requests answered 503 while down. */
  refused: number;
  down: boolean;
  /** Answers a path otherwise than 200 (a redirect, a rate limit): the request is then not received. */
  answers: Map<string, { status: number; headers: Record<string, string> }>;
  /** Every request as it came: method and path. */
  requests: string[];
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => {
      text += c;
    });
    req.on("end", () => resolve(text));
    req.on("error", reject);
  });
}

export async function startHttpReceiver(): Promise<HttpReceiver> {
  const receiver: HttpReceiver = {
    url: "",
    received: [],
    refused: 0,
    down: false,
    answers: new Map(),
    requests: [],
    close: async () => {},
  };
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    receiver.requests.push(`${req.method} ${req.url}`);
    const answer = receiver.answers.get(req.url ?? "/");
    if (answer) {
      res.writeHead(answer.status, { "content-type": "text/plain", ...answer.headers }).end("not taken");
      return;
    }
    if (receiver.down) {
      receiver.refused++;
      res.writeHead(503, { "content-type": "text/plain" }).end("down for maintenance");
      return;
    }
    const key = req.headers["idempotency-key"];
    receiver.received.push({
      path: req.url ?? "/",
      key: typeof key === "string" ? key : undefined,
      body: JSON.parse(body),
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    });
    res.writeHead(200, { "content-type": "text/plain" }).end("ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

/** A real SMTP server on an ephemeral port that can refuse mail (451) while `down`. */
export interface SmtpReceiver {
  port: number;
  messages: { to: string[]; raw: string }[];
  refused: number;
  down: boolean;
  close(): Promise<void>;
}

export async function startSmtpReceiver(): Promise<SmtpReceiver> {
  const receiver: SmtpReceiver = { port: 0, messages: [], refused: 0, down: false, close: async () => {} };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, callback) {
      let raw = "";
      stream.setEncoding("utf8");
      stream.on("data", (c: string) => {
        raw += c;
      });
      stream.on("end", () => {
        if (receiver.down) {
          receiver.refused++;
          const err = new Error("try again later") as Error & { responseCode: number };
          err.responseCode = 451;
          callback(err);
          return;
        }
        receiver.messages.push({ to: session.envelope.rcptTo.map((r) => r.address), raw });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  receiver.port = (server.server.address() as AddressInfo).port;
  receiver.close = () => new Promise((resolve) => server.close(() => resolve()));
  return receiver;
}
