import { randomUUID } from "node:crypto";
import { type IncomingMessage, type OutgoingHttpHeaders, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import type { Server as TlsServer } from "node:tls";
import { createGunzip, createInflate } from "node:zlib";
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from "fastify";
import { InputError } from "../errors.js";
import { kubeApi } from "../gates/kubernetes/kube-api.js";
import { duplicateKey, duplicateKeyMessage, lineAndColumn } from "../json-duplicates.js";
import { PrototypeKeyError, parseJsonSafely } from "../json-safe.js";
import type { ServeConfig } from "./config.js";
import type { BudgetDataView, ServerContext } from "./context.js";
import { createDecisionEncoder } from "./decision-json.js";
import { type DecisionLog, DISABLED_DECISION_LOG } from "./decision-log.js";
import { connectionDrain } from "./drain.js";
import { REQUEST_ENCODINGS, toHttpError, UnsupportedEncodingError } from "./http-errors.js";
import { createServerMetrics, type ServerMetrics } from "./metrics.js";
import { buildOpenApiDocument } from "./openapi.js";
import type { PolicyReloader } from "./policy-reloader.js";
import { registerAdmissionRoute } from "./routes/admission.js";
import { registerEvaluateRoute } from "./routes/evaluate.js";
import { registerStatusRoutes } from "./routes/status.js";

export interface ServerParts {
  config: Pick<
    ServeConfig,
    | "bodyLimit"
    | "requestTimeoutMs"
    | "maxBatch"
    | "logLevel"
    | "daemonSetNodes"
    | "evaluateOwned"
    | "kubeApi"
  >;
  reloader: PolicyReloader;
  metrics?: ServerMetrics;
  decisionLog?: DecisionLog;
  /** The served budgets' billing data (/readyz reports it). */
  budgets?: () => BudgetDataView;
  /** Where the JSON logs go (standard error by default). */
  logStream?: NodeJS.WritableStream;
  /** TLS certificate and key (PEM); plain HTTP without them. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  now?: () => Date;
  version?: string;
  /** Fields on every log line besides `service` (a cluster worker adds its number). */
  logFields?: Record<string, unknown>;
}

/**
 * Builds the decision server (routes, limits, error mapping, metrics hooks) without listening.
 * The routes only translate HTTP to the decider and back.
 */
export function buildServer(parts: ServerParts): FastifyInstance {
  const { config, reloader } = parts;
  const metrics = parts.metrics ?? createServerMetrics();
  let closing = false;
  const observeUnmatched = metrics.routeObserver("unmatched");
  /** Counts an answer no route gave; `log` logs it too, as a request refused. */
  const answeredUnmatched = (answer: EarlyAnswer, seconds: number, log: boolean) => {
    metrics.recordError("unmatched", answer.status, answer.name);
    observeUnmatched(answer.status, seconds);
    if (log) app.log.info({ status: answer.status, error: answer.message }, "request refused");
  };
  const ctx: ServerContext = {
    reloader,
    metrics,
    decisionLog: parts.decisionLog ?? DISABLED_DECISION_LOG,
    limits: { maxBatch: config.maxBatch, bodyLimit: config.bodyLimit },
    admission: { daemonSetNodes: config.daemonSetNodes, evaluateOwned: config.evaluateOwned },
    kubeApi: config.kubeApi ? kubeApi(config.kubeApi) : undefined,
    encode: createDecisionEncoder(),
    now: parts.now ?? (() => new Date()),
    newId: randomUUID,
    closing: () => closing,
    budgets: parts.budgets,
  };

  const drain = connectionDrain();
  /**
   * Node answers an HTTP/1.1 request without Host itself, before Fastify sees it, with an empty 400
   * no metric counted; answers go through this class, which gives that one the API's error body.
   */
  class Response extends drain.Response {
    override writeHead(statusCode: number, reason?: unknown, headers?: unknown): this {
      const req = this.req;
      if (
        statusCode !== 400 ||
        req.headers.host !== undefined ||
        req.httpVersionMajor !== 1 ||
        req.httpVersionMinor !== 1
      )
        return super.writeHead(statusCode, reason as string, headers as OutgoingHttpHeaders);
      const answer: EarlyAnswer = {
        status: 400,
        name: "InputError",
        message: "an HTTP/1.1 request names the server it is for in a Host header; this one has none",
      };
      answeredUnmatched(answer, 0, true);
      const text = JSON.stringify(errorBody(answer));
      super.writeHead(400, {
        "content-type": "application/json; charset=utf-8",
        "content-length": Buffer.byteLength(text),
        connection: "close",
      });
      // Node ends the answer itself.
      this.write(text);
      return this;
    }
  }

  // Node checks request timeouts on an interval; keep it short enough for the limit to mean something.
  const serverOptions = {
    requestTimeout: config.requestTimeoutMs,
    headersTimeout: Math.min(config.requestTimeoutMs, 60_000),
    connectionsCheckingInterval: Math.min(1000, config.requestTimeoutMs),
    ServerResponse: Response as typeof drain.Response,
  };
  // A TLS connection is HTTP's only once its handshake completes: until then neither the request
  // timeout nor Node's connection checks apply, and Node's own handshake timeout is 120 s.
  const tlsOptions = parts.tls && {
    ...parts.tls,
    ...serverOptions,
    handshakeTimeout: config.requestTimeoutMs,
  };
  const app = Fastify({
    ...(tlsOptions ? { https: tlsOptions } : { http: serverOptions }),
    logger: {
      level: config.logLevel,
      stream: parts.logStream ?? process.stderr,
      base: { service: "costguard", ...parts.logFields },
    },
    // Two log lines per request would cost more than the decision itself; errors are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    // No pino child logger per request (it costs more than a decision): the few lines a request
    // logs name its id themselves.
    childLoggerFactory: (logger) => logger,
    bodyLimit: config.bodyLimit,
    requestTimeout: config.requestTimeoutMs,
    // A request that reaches a route while the server shuts down (pipelined, or on a connection open
    // before) is answered, not refused 503: for an admission webhook under failurePolicy: Fail a 503
    // is a rejected workload. Its connection is closed once it is answered (see drain.ts).
    return503OnClosing: false,
    // Errors Node finds before a route sees the request (a body not received in time, headers too
    // big, bytes that are not HTTP): answered in the API's error shape and counted like any other.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (err.code === "ECONNRESET" || socket.destroyed) return;
      // A body being dropped after its 413 (readRestUnparsed) that the client stopped sending: its
      // request was answered already; the client is closing the connection, as it may.
      if (answeredEarly.has(socket)) return socket.destroy();
      const answer = clientErrorAnswer(err, config.requestTimeoutMs);
      answeredUnmatched(answer, 0, true);
      answerOnSocket(socket, answer);
    },
    // Errors Fastify finds before routing (a path whose %-encoding does not decode): the same.
    frameworkErrors: (err: Error & { code?: string }, request: FastifyRequest, reply: FastifyReply) => {
      const answer: EarlyAnswer =
        err.code === "FST_ERR_BAD_URL"
          ? {
              status: 400,
              name: "InputError",
              message: `the request path ${request.raw.url} is not valid: a % in it begins no percent-encoded UTF-8 character`,
            }
          : { status: 400, name: "InputError", message: err.message };
      answeredUnmatched(answer, reply.elapsedTime / 1000, true);
      return reply.code(answer.status).send(errorBody(answer));
    },
    // `/v1/admission/` in a webhook configuration is the same route: a 404 there would refuse every
    // admission under failurePolicy: Fail.
    routerOptions: { ignoreTrailingSlash: true },
  }) as unknown as FastifyInstance;

  // JSON only: fastify's own text/plain parser would hand a string to the routes, refused as "not an
  // object" (400) where every other type not JSON is 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_request, text, done) => {
    const s = text as string;
    if (s.length === 0) return done(new InputError("request body is empty: expected JSON"), undefined);
    let body: unknown;
    try {
      body = parseJsonSafely(s);
    } catch (err) {
      if (err instanceof PrototypeKeyError)
        return done(new InputError(`request body ${err.message}`), undefined);
      return done(new InputError(`request body is not valid JSON: ${(err as Error).message}`), undefined);
    }
    // A key written twice would be decided on its last value, whatever a reader of the body sees.
    const dup = duplicateKey(s);
    if (dup !== undefined) {
      const { line, column } = lineAndColumn(s, dup.offset);
      return done(
        new InputError(`request body ${line}:${column}: ${duplicateKeyMessage(dup.key)}`),
        undefined,
      );
    }
    done(null, body);
  });

  // Bodies may come compressed (a large batch from a CI job): decoded before parsing, and the body
  // limit holds for the decoded bytes, so a small compressed body cannot unpack into gigabytes.
  app.addHook("preParsing", (request, _reply, payload, done) => {
    const coding = request.headers["content-encoding"]?.trim().toLowerCase();
    if (coding === undefined || coding === "" || coding === "identity") return done(null, payload);
    if (coding !== "gzip" && coding !== "x-gzip" && coding !== "deflate")
      return done(
        new UnsupportedEncodingError(
          `request body in Content-Encoding ${JSON.stringify(coding)}: costguard decodes ${REQUEST_ENCODINGS.join(" and ")}, or a body sent as it is`,
        ),
        undefined,
      );
    const decoded = coding === "deflate" ? createInflate() : createGunzip();
    Object.defineProperty(decoded, "receivedEncodedLength", { get: () => decoded.bytesWritten });
    payload.on("error", (err) => decoded.destroy(err));
    payload.pipe(decoded);
    done(null, decoded);
  });

  app.setErrorHandler((err, request, reply) => {
    // The body stopped arriving: the client went away, or timed out and was answered 408 above.
    // Nothing can be answered here, so nothing is counted or logged as a 400.
    if (request.raw.socket.destroyed) return;
    const mapped = toHttpError(err, { bodyLimit: config.bodyLimit });
    const route = request.routeOptions.url ?? "unmatched";
    metrics.recordError(route, mapped.status, mapped.body.error.name);
    if (mapped.unexpected) request.log.error({ reqId: request.id, route, err }, "unexpected error");
    else
      request.log.info(
        { reqId: request.id, route, status: mapped.status, error: mapped.body.error.message },
        "request refused",
      );
    if (mapped.headers) reply.headers(mapped.headers);
    if (mapped.status === 413) readRestUnparsed(request.raw, reply);
    return reply.code(mapped.status).send(mapped.body);
  });

  /** Each route's methods, to answer a known path asked with another method 405, as HTTP says. */
  const methods = new Map<string, string[]>();
  /** What a request no route takes is answered: 405 on a known path, else 404. */
  const noRoute = (method: string, url: string): EarlyAnswer => {
    const path = url.split("?")[0]!;
    // One trailing slash, as the router ignores: with more, the path is no route (`/healthz//` was
    // answered 405, "takes GET or HEAD, not GET").
    const allowed = methods.get(path) ?? methods.get(path.replace(/\/$/, ""));
    if (allowed)
      return {
        status: 405,
        name: "MethodNotAllowed",
        message: `${path} takes ${allowed.join(" or ")}, not ${method}; the API is described at GET /openapi.json`,
        headers: { allow: allowed.join(", ") },
      };
    return {
      status: 404,
      name: "NotFoundError",
      message: `no route ${method} ${path}; the API is described at GET /openapi.json`,
    };
  };
  app.setNotFoundHandler((request, reply) => {
    const answer = noRoute(request.method, request.url);
    answeredUnmatched(answer, reply.elapsedTime / 1000, false);
    if (answer.headers) reply.headers(answer.headers);
    return reply.code(answer.status).send(errorBody(answer));
  });

  // Each route gets its own onResponse hook holding its metric series, so nothing is looked up (or
  // allocated, as request.routeOptions does) per request.
  app.addHook("onRoute", (route) => {
    const known = methods.get(route.url) ?? [];
    for (const m of [route.method].flat()) if (!known.includes(m)) known.push(m);
    methods.set(route.url, known);
    const observe = metrics.routeObserver(route.url);
    const hook = (
      _request: unknown,
      reply: { statusCode: number; elapsedTime: number },
      done: () => void,
    ) => {
      observe(reply.statusCode, reply.elapsedTime / 1000);
      done();
    };
    const existing = route.onResponse;
    route.onResponse =
      existing === undefined ? [hook] : [...(Array.isArray(existing) ? existing : [existing]), hook];
  });
  if (parts.tls) drain.watchHandshakes(app.server as unknown as TlsServer);
  // Node hands CONNECT only to a 'connect' listener, and closes the connection without one: it is
  // answered as any method no route takes.
  app.server.on("connect", (req: IncomingMessage, socket: Duplex) => {
    const answer = noRoute(req.method ?? "CONNECT", req.url ?? "");
    answeredUnmatched(answer, 0, true);
    answerOnSocket(socket, answer);
  });
  app.addHook("preClose", (done) => {
    closing = true;
    drain.start(app.server);
    done();
  });

  registerEvaluateRoute(app, ctx);
  registerAdmissionRoute(app, ctx);
  registerStatusRoutes(app, ctx, buildOpenApiDocument(parts.version ?? "0.0.0"));
  return app;
}

/** An error answer given before or without a route. */
interface EarlyAnswer {
  status: number;
  name: string;
  message: string;
  headers?: Record<string, string>;
}

const errorBody = (answer: EarlyAnswer) => ({
  error: { name: answer.name, message: answer.message, details: [] },
});

/** Answers on the connection itself, where no request object is left to answer with, and closes it. */
function answerOnSocket(socket: Duplex, answer: EarlyAnswer): void {
  if (socket.writable) {
    const text = JSON.stringify(errorBody(answer));
    let head = `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\n`;
    for (const [name, value] of Object.entries(answer.headers ?? {})) head += `${name}: ${value}\r\n`;
    socket.write(`${head}Connection: close\r\n\r\n${text}`);
  }
  socket.destroy();
}

/** What the server answers to an error Node found in a request before any route saw it. */
function clientErrorAnswer(err: NodeJS.ErrnoException, requestTimeoutMs: number): EarlyAnswer {
  if (err.code === "ERR_HTTP_REQUEST_TIMEOUT")
    return {
      status: 408,
      name: "RequestTimeout",
      message: `the request was not received in full within ${requestTimeoutMs / 1000} s (--request-timeout)`,
    };
  if (err.code === "HPE_HEADER_OVERFLOW")
    return {
      status: 431,
      name: "HeadersTooLarge",
      message: "the request's headers are larger than the server takes (16 KiB)",
    };
  return { status: 400, name: "InputError", message: "the request is not valid HTTP" };
}

/** Connections whose request was answered before its body ended, while the rest is dropped. */
const answeredEarly = new WeakSet<object>();

/** The most of a body over the limit that is read and dropped to keep its connection (see below). */
const DRAIN_MAX_BYTES = 64 * 1024 * 1024;

/**
 * A body over the limit is answered 413 before it has all arrived. Fastify then closes the connection,
 * as the rest of the body is still coming; but a client that writes the whole body before it reads
 * (most HTTP clients do) then fails writing to the closed socket (EPIPE) and never reads the 413. So a
 * body that says its length, up to DRAIN_MAX_BYTES, is read to its end and dropped, unparsed, and the
 * connection stays open; --request-timeout still bounds how long that may take. A body longer than
 * that, or of no stated length (chunked), still closes the connection. A body that has all arrived
 * (a small compressed one over the limit decoded) has nothing more to come: its connection stays open
 * whatever its length.
 */
function readRestUnparsed(raw: FastifyRequest["raw"], reply: FastifyReply): void {
  if (!raw.complete) {
    const declared = Number(raw.headers["content-length"]);
    if (!(declared <= DRAIN_MAX_BYTES)) return;
    answeredEarly.add(raw.socket);
    raw.once("end", () => answeredEarly.delete(raw.socket));
  }
  reply.removeHeader("connection");
  // Whatever was reading it (a decompressing stream) lets go, and the rest flows to nowhere.
  raw.unpipe();
  raw.removeAllListeners("data");
  raw.resume();
}
