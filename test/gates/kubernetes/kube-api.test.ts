import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  kubeApi,
  objectPath,
  resolveKubeApi,
  SERVICE_ACCOUNT_DIR,
} from "../../../src/gates/kubernetes/kube-api.js";
import { hasOpenssl, selfSigned } from "../../support/tls.js";

const NO_FILES = { tokenFile: null, caFile: null };

describe("--kube-api", () => {
  test("auto reads the API in a pod (KUBERNETES_SERVICE_HOST) with the service account, and not elsewhere", () => {
    assert.equal(resolveKubeApi("auto", NO_FILES, {}, 2000), undefined);
    assert.deepEqual(
      resolveKubeApi(
        "auto",
        NO_FILES,
        { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" },
        2000,
      ),
      {
        url: "https://10.96.0.1:443",
        tokenFile: `${SERVICE_ACCOUNT_DIR}/token`,
        caFile: `${SERVICE_ACCOUNT_DIR}/ca.crt`,
        timeoutMs: 2000,
      },
    );
    assert.equal(
      resolveKubeApi("in-cluster", NO_FILES, { KUBERNETES_SERVICE_HOST: "fd00::1" }, 2000)?.url,
      "https://[fd00::1]:443",
    );
    assert.equal(resolveKubeApi("off", NO_FILES, { KUBERNETES_SERVICE_HOST: "10.96.0.1" }, 2000), undefined);
  });

  test("a URL is used with the token and CA given; anything else is a clear error", () => {
    assert.deepEqual(resolveKubeApi("http://127.0.0.1:8001/", { tokenFile: "/t", caFile: null }, {}, 500), {
      url: "http://127.0.0.1:8001",
      tokenFile: "/t",
      caFile: null,
      timeoutMs: 500,
    });
    assert.throws(
      () => resolveKubeApi("in-cluster", NO_FILES, {}, 2000),
      /KUBERNETES_SERVICE_HOST is not set/,
    );
    assert.throws(
      () => resolveKubeApi("kubernetes.default", NO_FILES, {}, 2000),
      /expected auto, off, in-cluster/,
    );
    assert.throws(() => resolveKubeApi("https://h:6443/api/v1", NO_FILES, {}, 2000), /expected auto/);
  });

  test("object paths: the core group under /api, others under /apis, names encoded", () => {
    const ref = { group: "apps", version: "v1", resource: "deployments", namespace: "shop", name: "web" };
    assert.equal(objectPath(ref), "/apis/apps/v1/namespaces/shop/deployments/web");
    assert.equal(
      objectPath({ ...ref, group: "", resource: "replicationcontrollers", name: "a/b" }),
      "/api/v1/namespaces/shop/replicationcontrollers/a%2Fb",
    );
  });
});

describe("the Kubernetes API client", () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-kubeapi-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const ref = { group: "apps", version: "v1", resource: "deployments", namespace: "shop", name: "web" };

  test("over HTTPS it trusts the CA it is given, and only that", {
    skip: !hasOpenssl && "needs openssl",
  }, async () => {
    const { cert, key } = selfSigned(dir, "apiserver");
    const server = createHttpsServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ kind: "Deployment", path: req.url, auth: req.headers.authorization ?? null }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    after(() => server.close());
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const tokenFile = join(dir, "token");
    writeFileSync(tokenFile, "abc\n");
    const got = await kubeApi({ url, caFile: cert, tokenFile, timeoutMs: 2000 }).get(ref);
    assert.deepEqual(got, {
      kind: "Deployment",
      path: "/apis/apps/v1/namespaces/shop/deployments/web",
      auth: "Bearer abc",
    });
    await assert.rejects(
      kubeApi({ url, timeoutMs: 2000 }).get(ref),
      /cannot reach the Kubernetes API .*certificate/,
    );
  });

  test("a CA file that can't be read is an error at start; a silent API times out", async () => {
    assert.throws(
      () => kubeApi({ url: "https://127.0.0.1:1", caFile: join(dir, "missing.crt"), timeoutMs: 100 }),
      (err: Error) => err.name === "InputError" && /--kube-ca-file .*missing\.crt/.test(err.message),
    );
    const silent = createHttpServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      await assert.rejects(kubeApi({ url, timeoutMs: 150 }).get(ref), /did not answer .* within 150 ms/);
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  test("an answer that breaks off after its headers is an error, not a call that never ends", async () => {
    const server = createHttpServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "1000" });
      res.write('{"kind":"Depl');
      setTimeout(() => res.socket?.destroy(), 100);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    let giveUp: NodeJS.Timeout | undefined;
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      // A generous deadline, so the error must be the break (after 100 ms). The call used to never
      // settle: the race says so in 10 s rather than hang the run.
      const outcome = await Promise.race([
        kubeApi({ url, timeoutMs: 10_000 })
          .get(ref)
          .then(
            () => "answered",
            (err: Error) => err.message,
          ),
        new Promise<string>((resolve) => {
          giveUp = setTimeout(resolve, 10_000, "not settled in 10 s");
        }),
      ]);
      assert.match(outcome, /broke off its answer to \/apis\/apps\/v1\/namespaces\/shop\/deployments\/web/);
    } finally {
      clearTimeout(giveUp);
      server.closeAllConnections();
      server.close();
    }
  });

  test("an answer far larger than any workload object is refused, not held whole", async () => {
    const server = createHttpServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      // 9 MiB of one string, fast: over the 8 MiB read for one object.
      res.end(`{"kind":"Deployment","junk":"${"x".repeat(9 * 1024 * 1024)}"}`);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      await assert.rejects(
        kubeApi({ url, timeoutMs: 10_000 }).get(ref),
        /answer to \S+ is larger than 8 MiB/,
      );
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  test("the time limit is for the whole call: a body dripped slower than it fails at the deadline", async () => {
    const server = createHttpServer((_req, res) => {
      const body = JSON.stringify({ kind: "Deployment" });
      res.writeHead(200, { "content-type": "application/json", "content-length": String(body.length) });
      // A byte every 50 ms: never idle for the 300 ms, but the whole body takes about a second.
      let sent = 0;
      const drip = setInterval(() => res.write(body[sent++] ?? ""), 50);
      res.on("close", () => clearInterval(drip));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      await assert.rejects(kubeApi({ url, timeoutMs: 300 }).get(ref), /did not answer .* within 300 ms/);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
