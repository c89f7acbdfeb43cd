import { type IncomingMessage, type OutgoingHttpHeaders, type Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { TLSSocket, Server as TlsServer } from "node:tls";

/**
 * How long a keep-alive connection idle when shutdown begins stays open. Its last answer did not say
 * `Connection: close`, so its client may be sending the next request on it that moment: closed at
 * once (what `server.close()` does to idle connections), that request is reset unanswered.
 */
export const IDLE_GRACE_MS = 500;

/** The requests received on a connection, and which of them an answer is for. */
const kReceived = Symbol("costguard.requestsReceived");
const kNumber = Symbol("costguard.requestNumber");

interface Counted {
  [kReceived]?: number;
}

/** Node passes a response its options too (highWaterMark); the types name only the request. */
const Response = ServerResponse as unknown as new (req: IncomingMessage, options?: object) => ServerResponse;

/**
 * Closes a server's connections gracefully at shutdown: no connection is reset with a request on it.
 *
 * - From the start of shutdown every answer says `Connection: close`, and the connection closes once
 *   it is written, so clients stop reusing it. An answer with a later request already received
 *   behind it on the same connection (pipelined) keeps it open instead: the later one closes it. A
 *   request read after the answer before it said close is not answered, as HTTP has it: the server
 *   closes after that answer, and a client that pipelines sends what went unanswered again.
 * - A connection idle when shutdown begins is closed after IDLE_GRACE_MS, unless a request arrives
 *   on it meanwhile (answered, with `Connection: close`).
 */
export function connectionDrain(): {
  /** The response class the server is created with (its `ServerResponse` option). */
  Response: typeof ServerResponse;
  /**
   * Follows a TLS server's connections until their handshake completes: one that has not when
   * shutdown begins is closed then (it holds no request, and would hold the shutdown up until its
   * handshake timeout).
   */
  watchHandshakes(server: TlsServer): void;
  /** Begins shutdown; call before `server.close()`, which would close idle connections at once. */
  start(server: Server): void;
} {
  let draining = false;
  const handshaking = new Set<Socket>();
  // Set when a completed handshake could not be matched to its connection (Node's TLS socket keeps
  // it as `_parent`): then which ones are still handshaking is unknown, and none is closed early.
  let unmatched = false;

  class DrainingResponse extends Response {
    [kNumber]: number;
    constructor(req: IncomingMessage, options?: object) {
      super(req, options);
      const socket = req.socket as Counted;
      this[kNumber] = socket[kReceived] = (socket[kReceived] ?? 0) + 1;
    }

    override writeHead(statusCode: number, reason?: unknown, headers?: unknown): this {
      if (draining) {
        if ((this.req.socket as Counted)[kReceived] === this[kNumber]) this.shouldKeepAlive = false;
        // Fastify's own close, on a request it routed after shutdown began: the later one closes.
        else this.removeHeader("connection");
      }
      return super.writeHead(statusCode, reason as string, headers as OutgoingHttpHeaders);
    }
  }

  return {
    Response: DrainingResponse as unknown as typeof ServerResponse,
    watchHandshakes(server) {
      server.on("connection", (socket: Socket) => {
        handshaking.add(socket);
        socket.once("close", () => handshaking.delete(socket));
      });
      server.on("secureConnection", (tls: TLSSocket) => {
        if (!handshaking.delete((tls as unknown as { _parent?: Socket })._parent!)) unmatched = true;
      });
    },
    start(server) {
      if (draining) return;
      draining = true;
      if (!unmatched) for (const socket of handshaking) socket.destroy();
      const closeIdle = server.closeIdleConnections.bind(server);
      let graceOver = false;
      server.closeIdleConnections = () => {
        if (graceOver) closeIdle();
      };
      // After the grace, a connection that goes idle had its last answer say Connection: close (and
      // closes itself) or was answered before shutdown began: swept as it does.
      let sweep: NodeJS.Timeout | undefined;
      const grace = setTimeout(() => {
        graceOver = true;
        closeIdle();
        sweep = setInterval(closeIdle, 50).unref();
      }, IDLE_GRACE_MS).unref();
      server.once("close", () => {
        clearTimeout(grace);
        clearInterval(sweep);
      });
    },
  };
}
