import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { InputError } from "../../src/index.js";
import { resolveServeConfig, SERVE_DEFAULTS, serveInputFromEnv } from "../../src/server/config.js";
import { admissionReview, container, podSpec, workload } from "../support/kubernetes.js";
import { eventually, startTestServer } from "../support/server.js";
import { hasOpenssl, selfSigned } from "../support/tls.js";

test("a client that stops sending its body gets 408 once the request timeout passes", async () => {
  const server = await startTestServer({ requestTimeout: "300ms" });
  try {
    const url = new URL(server.url);
    const socket = connect(Number(url.port), url.hostname);
    let answer = "";
    socket.on("data", (d) => {
      answer += d.toString();
    });
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.write(
      "POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    );
    await closed;
    assert.match(answer, /^HTTP\/1\.1 408 /);
    // In the API's error shape, and counted as one answered request, not as a 400 nobody got.
    const body = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)) as {
      error: { name: string; message: string; details: string[] };
    };
    assert.deepEqual(body.error, {
      name: "RequestTimeout",
      message: "the request was not received in full within 0.3 s (--request-timeout)",
      details: [],
    });
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /^costguard_http_requests_total\{route="unmatched",status="408"\} 1$/m);
    assert.match(
      metrics,
      /^costguard_http_errors_total\{route="unmatched",status="408",error="RequestTimeout"\} 1$/m,
    );
    assert.doesNotMatch(metrics, /status="400"/);
    assert.ok(!server.logs.some((l) => l.includes('"status":400')), server.logs.join("\n"));
  } finally {
    await server.close();
  }
});

test("--body-limit: bytes, or a unit in any case with or without B (i in 1024s, without it in 1000s)", () => {
  const limit = (bodyLimit: string) => resolveServeConfig({}, { policies: ["p"], bodyLimit }).bodyLimit;
  assert.equal(limit("1048576"), 1048576);
  assert.equal(limit("512Ki"), 512 * 1024);
  assert.equal(limit("4Mi"), 4 * 1024 * 1024);
  assert.equal(limit("4MiB"), 4 * 1024 * 1024);
  assert.equal(limit("4MB"), 4_000_000);
  assert.equal(limit("4mb"), 4_000_000);
  assert.equal(limit("1kb"), 1000);
  assert.equal(limit("1KB"), 1000);
  assert.equal(limit("1.5Ki"), 1536);
  assert.equal(limit("1G"), 1e9);
  for (const bad of ["0", "0.5", "big", "4 MBs", "-1Mi", "4Pi", "1e3", "9999999999999Ti"])
    assert.throws(
      () => limit(bad),
      (e: unknown) =>
        e instanceof InputError &&
        e.message.includes(
          `--body-limit: expected a size such as 512Ki, 4Mi, 4MB or a number of bytes, got "${bad}"`,
        ),
      bad,
    );
});

test("configuration: defaults < environment < flags, every problem reported at once", () => {
  const env = serveInputFromEnv({
    COSTGUARD_POLICIES: "a.yaml,b.yaml",
    COSTGUARD_PORT: "9000",
    COSTGUARD_BODY_LIMIT: "1Mi",
    COSTGUARD_WATCH: "false",
  });
  const config = resolveServeConfig(env, { port: "9100", requestTimeout: "2s" });
  assert.deepEqual(config.policies, ["a.yaml", "b.yaml"]);
  assert.equal(config.port, 9100);
  assert.equal(config.bodyLimit, 1024 * 1024);
  assert.equal(config.requestTimeoutMs, 2000);
  assert.equal(config.watch, false);
  assert.equal(config.host, SERVE_DEFAULTS.host);
  assert.equal(config.estimates, true);
  assert.equal(
    resolveServeConfig(serveInputFromEnv({ COSTGUARD_ESTIMATES: "false" }), { policies: ["p"] }).estimates,
    false,
  );
  assert.throws(
    () => resolveServeConfig({}, { policies: ["p"], priceBooks: ["prices.csv"], estimates: false }),
    /--price-book and --no-estimates contradict/,
  );
  assert.ok(Object.isFrozen(config));
  // --kube-api: off outside a pod by default; in a pod (the host's environment says so) the service
  // account; COSTGUARD_KUBE_API and the flag override it.
  assert.equal(config.kubeApi, null);
  const pod = { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" };
  assert.equal(resolveServeConfig({}, { policies: ["p"] }, pod).kubeApi?.url, "https://10.96.0.1:443");
  assert.equal(
    resolveServeConfig(serveInputFromEnv({ COSTGUARD_KUBE_API: "off" }), { policies: ["p"] }, pod).kubeApi,
    null,
  );
  assert.deepEqual(
    resolveServeConfig(
      serveInputFromEnv({ COSTGUARD_KUBE_API: "http://127.0.0.1:8001", COSTGUARD_KUBE_TOKEN_FILE: "/t" }),
      { policies: ["p"] },
    ).kubeApi,
    { url: "http://127.0.0.1:8001", tokenFile: "/t", caFile: null, timeoutMs: 2000 },
  );
  assert.throws(
    () => resolveServeConfig({}, { policies: ["p"], kubeApi: "in-cluster" }, {}),
    /--kube-api: in-cluster: KUBERNETES_SERVICE_HOST is not set/,
  );
  // A token or CA file with no API to call would do nothing: refused as flags, left alone from the
  // environment (a deployment may set them everywhere).
  assert.throws(
    () => resolveServeConfig({}, { policies: ["p"], kubeTokenFile: "/t" }, {}),
    /--kube-token-file needs a Kubernetes API to call: --kube-api URL or in-cluster \(auto found none/,
  );
  assert.throws(
    () =>
      resolveServeConfig({}, { policies: ["p"], kubeApi: "off", kubeCaFile: "/c", kubeTokenFile: "/t" }, {}),
    /--kube-token-file and --kube-ca-file need a Kubernetes API to call: .*\(it is off\)/,
  );
  assert.equal(resolveServeConfig({ kubeTokenFile: "/t" }, { policies: ["p"] }, {}).kubeApi, null);
  assert.throws(
    () => resolveServeConfig({}, { port: "http", bodyLimit: "big", tlsCert: "c.pem", logLevel: "loud" }),
    (e: unknown) =>
      e instanceof InputError &&
      e.details.length === 5 &&
      /--policies PATH is required/.test(e.message) &&
      /--port/.test(e.message) &&
      /--body-limit/.test(e.message) &&
      /--tls-cert and --tls-key go together/.test(e.message) &&
      /--log-level/.test(e.message),
  );
  // A value from the environment is named as the variable the user set, not as a flag they never gave.
  assert.throws(
    () =>
      resolveServeConfig(serveInputFromEnv({ COSTGUARD_PORT: "abc" }), { policies: ["p"], maxBatch: "0" }),
    (e: unknown) =>
      e instanceof InputError &&
      e.details.length === 2 &&
      e.details[0] === 'COSTGUARD_PORT: expected a whole number from 0 to 65535, got "abc"' &&
      e.details[1] === '--max-batch: expected a whole number from 1 to 1000000, got "0"',
  );
});

test("--daemonset-nodes: a whole number of at least 1 (0 made every DaemonSet cost nothing)", () => {
  const nodes = (daemonsetNodes: string) =>
    resolveServeConfig({}, { policies: ["p"], daemonsetNodes }).daemonSetNodes;
  assert.equal(nodes("1"), 1);
  assert.equal(nodes("40"), 40);
  for (const bad of ["0", "-1", "1.5", "many"])
    assert.throws(() => nodes(bad), /--daemonset-nodes: expected a whole number from 1 to 1000000/, bad);
  assert.throws(
    () => resolveServeConfig(serveInputFromEnv({ COSTGUARD_DAEMONSET_NODES: "0" }), { policies: ["p"] }),
    /COSTGUARD_DAEMONSET_NODES: expected a whole number from 1/,
  );
});

test("durations: ms, s, m and h, at most 24 days (a longer timer fires at once)", () => {
  const config = resolveServeConfig({}, { policies: ["p"], requestTimeout: "1h", reloadDebounce: "1.5s" });
  assert.equal(config.requestTimeoutMs, 3_600_000);
  assert.equal(config.reloadDebounceMs, 1500);
  assert.equal(resolveServeConfig({}, { policies: ["p"], shutdownTimeout: "250" }).shutdownTimeoutMs, 250);
  assert.throws(
    () => resolveServeConfig({}, { policies: ["p"], shutdownTimeout: "99999999999s" }),
    /--shutdown-timeout: at most 24 days \(576h\), got "99999999999s"/,
  );
  assert.throws(
    () => resolveServeConfig({}, { policies: ["p"], reloadDebounce: "1d" }),
    /--reload-debounce: expected a duration such as 500ms, 10s, 5m or 1h/,
  );
});

test("serves HTTPS with --tls-cert/--tls-key and picks up a rotated certificate", {
  skip: !hasOpenssl && "needs openssl",
}, async () => {
  const probe = await startTestServer();
  const dir = probe.dir;
  const first = selfSigned(dir, "first");
  const tlsDir = join(dir, "tls");
  execFileSync("mkdir", ["-p", tlsDir]);
  const certFile = join(tlsDir, "tls.crt");
  const keyFile = join(tlsDir, "tls.key");
  execFileSync("cp", [first.cert, certFile]);
  execFileSync("cp", [first.key, keyFile]);
  const server = await startTestServer({ tlsCert: certFile, tlsKey: keyFile });
  const call = (ca: string) =>
    new Promise<{ status: number; body: string; subject: string }>((resolve, reject) => {
      const url = new URL(`${server.url}/v1/admission`);
      const req = httpsRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: "POST",
          ca,
          headers: { "content-type": "application/json" },
          agent: false,
        },
        (res) => {
          let body = "";
          res.on("data", (d) => {
            body += d;
          });
          res.on("end", () => {
            const peer = (
              res.socket as unknown as { getPeerCertificate(): { subject: { CN: string } } }
            ).getPeerCertificate?.();
            resolve({ status: res.statusCode ?? 0, body, subject: peer?.subject?.CN ?? "" });
          });
        },
      );
      req.on("error", reject);
      req.end(
        JSON.stringify(
          admissionReview(
            workload("Pod", podSpec([container("a", { requests: { cpu: "1" } })]), { labels: { team: "a" } }),
          ),
        ),
      );
    });
  try {
    assert.match(server.url, /^https:/);
    const answer = await call(readFileSync(first.cert, "utf8"));
    assert.equal(answer.status, 200);
    assert.equal((JSON.parse(answer.body) as { response: { allowed: boolean } }).response.allowed, true);

    const second = selfSigned(dir, "second");
    execFileSync("cp", [second.key, keyFile]);
    execFileSync("cp", [second.cert, certFile]);
    const secondCa = readFileSync(second.cert, "utf8");
    await eventually(async () => {
      try {
        return (await call(secondCa)).status === 200;
      } catch {
        return false;
      }
    }, "the rotated certificate");
  } finally {
    await server.close();
    await probe.close();
  }
});

test("with TLS, a connection that never starts its handshake is closed after --request-timeout, and at shutdown", {
  skip: !hasOpenssl && "needs openssl",
}, async () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-tls-"));
  const { cert, key } = selfSigned(dir, "server");
  const silent = (port: number) => {
    const socket = connect(port, "127.0.0.1");
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    socket.on("error", () => {});
    return { socket, closed };
  };
  /** Fails if `p` has not settled by then: Node's own handshake timeout is 120 s. */
  const within = <T>(p: Promise<T>, ms: number, what: string) =>
    Promise.race([
      p,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms).unref(),
      ),
    ]);
  const quick = await startTestServer({ tlsCert: cert, tlsKey: key, requestTimeout: "300ms" });
  try {
    const { closed } = silent(Number(new URL(quick.url).port));
    await within(closed, 10_000, "the silent connection closed by the request timeout");
  } finally {
    await quick.close();
  }
  // A request timeout longer than the shutdown timeout: the shutdown closes the silent connection.
  const server = await startTestServer({
    tlsCert: cert,
    tlsKey: key,
    requestTimeout: "60s",
    shutdownTimeout: "10s",
  });
  try {
    const { socket, closed } = silent(Number(new URL(server.url).port));
    await new Promise((r) => socket.once("connect", r));
    await server.running.close();
    await within(closed, 5000, "the silent connection closed at shutdown");
    assert.ok(!server.logs.some((l) => l.includes("shutdown timed out")), server.logs.join("\n"));
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
