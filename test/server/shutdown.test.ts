import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { test } from "node:test";
import { startTestServer } from "../support/server.js";

interface KeepAliveClient {
  /** Requests written, and answers read in full. */
  sent: number;
  answered: number;
  /** Whether the last answer said `Connection: close`. */
  toldToClose: boolean;
  error: Error | undefined;
  /** Settles when the server ends the connection (or it fails). */
  ended: Promise<void>;
  socket: Socket;
  /** Writes a GET /healthz. */
  send(): void;
  /** Writes `text`, holding `requests` requests (or the end of them). */
  write(text: string, requests: number): void;
}

/**
 * A keep-alive client over a raw connection. With `eager`, it writes its next request the moment an
 * answer is read, as a busy client reusing its connection does, until an answer says Connection: close.
 */
function keepAliveClient(port: number, eager: boolean): KeepAliveClient {
  const socket = connect(port, "127.0.0.1");
  const request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  let buffered = "";
  const client: KeepAliveClient = {
    sent: 0,
    answered: 0,
    toldToClose: false,
    error: undefined,
    socket,
    ended: new Promise<void>((resolve) => socket.on("close", () => resolve())),
    send() {
      client.write(request, 1);
    },
    write(text, requests) {
      client.sent += requests;
      socket.write(text);
    },
  };
  socket.on("error", (err) => {
    client.error = err;
  });
  socket.on("data", (chunk) => {
    buffered += chunk;
    for (;;) {
      const head = buffered.indexOf("\r\n\r\n");
      if (head < 0) return;
      const length = Number(/\r\ncontent-length: (\d+)/i.exec(buffered.slice(0, head))?.[1]);
      if (buffered.length < head + 4 + length) return;
      client.toldToClose = /\r\nconnection: close\r\n/i.test(buffered.slice(0, head + 2));
      assert.match(buffered, /^HTTP\/1\.1 200 /);
      buffered = buffered.slice(head + 4 + length);
      client.answered++;
      if (eager && !client.toldToClose) client.send();
    }
  });
  return client;
}

test("shutdown answers every request sent on an open keep-alive connection, and says Connection: close", async () => {
  const server = await startTestServer({ shutdownTimeout: "20s" });
  const port = Number(new URL(server.url).port);
  // Busy clients, each sending its next request as soon as an answer arrives; and idle ones, whose last
  // answer came before the shutdown and who send again just after it began.
  const busy = Array.from({ length: 8 }, () => keepAliveClient(port, true));
  const idle = Array.from({ length: 4 }, () => keepAliveClient(port, false));
  // And one that pipelines three requests in one write: the first answer says Connection: close, and
  // the connection is then closed cleanly (HTTP has the client send the others again).
  const pipelining = keepAliveClient(port, false);
  const all = [...busy, ...idle, pipelining];
  try {
    await Promise.all(all.map((c) => new Promise((r) => c.socket.once("connect", r))));
    for (const c of [...busy, ...idle]) c.send();
    await new Promise((r) => setTimeout(r, 200));
    const closed = server.running.close();
    await new Promise((r) => setTimeout(r, 20));
    for (const c of idle) c.send();
    pipelining.socket.cork();
    for (let i = 0; i < 3; i++) pipelining.send();
    pipelining.socket.uncork();
    await closed;
    await Promise.all(all.map((c) => c.ended));
    assert.ok(pipelining.answered >= 1 && pipelining.toldToClose && pipelining.error === undefined);
    for (const c of [...busy, ...idle]) {
      assert.equal(c.error, undefined, `a client's connection failed: ${c.error?.message}`);
      assert.equal(c.answered, c.sent, "every request sent was answered");
      assert.ok(c.toldToClose, "the last answer said Connection: close");
    }
    assert.ok(
      !server.logs.some((l) => l.includes("shutdown timed out")),
      "idle connections are closed, not held until --shutdown-timeout",
    );
  } finally {
    for (const c of all) c.socket.destroy();
    await server.close();
  }
});

test("shutdown: requests pipelined behind one in flight are answered, and the last one closes", async () => {
  const server = await startTestServer({ shutdownTimeout: "20s" });
  const client = keepAliveClient(Number(new URL(server.url).port), false);
  try {
    await new Promise((r) => client.socket.once("connect", r));
    const body = JSON.stringify({ type: "compute/instance", tags: { team: "a" }, specs: { vcpus: 2 } });
    client.write(
      `POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
      1,
    );
    await new Promise((r) => setTimeout(r, 100));
    const closed = server.running.close();
    await new Promise((r) => setTimeout(r, 20));
    // The rest of its body, another POST and a GET, in one write.
    const post = `POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    client.write(`${body}${post}GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n`, 2);
    await closed;
    await client.ended;
    assert.equal(client.error, undefined);
    assert.equal(client.answered, 3);
    assert.ok(client.toldToClose);
  } finally {
    client.socket.destroy();
    await server.close();
  }
});
