import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { after, before, describe, test } from "node:test";
import { deflateSync, gzipSync } from "node:zlib";
import { compilePolicySet, type Decision, loadPolicies } from "../../src/index.js";
import { loadPriceBook } from "../../src/pricing/load.js";
import { createPricedDecider } from "../../src/pricing/priced-decider.js";
import { startTestServer, type TestServer } from "../support/server.js";

describe("POST /v1/evaluate", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ bodyLimit: "16Ki", maxBatch: "50" });
  });
  after(() => server.close());

  test("answers one request with the decision the engine gives", async () => {
    const request = { type: "compute/instance", tags: { team: "data" }, specs: { vcpus: 32, memory_gb: 8 } };
    const res = await server.post("/v1/evaluate", request);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /application\/json/);
    const decision = (await res.json()) as Decision;
    const expected = compilePolicySet(loadPolicies([server.dir]).policies).evaluate(request);
    assert.deepEqual(decision, JSON.parse(JSON.stringify(expected)));
    assert.equal(decision.decision, "deny");
    assert.deepEqual(
      decision.violations.map((v) => [v.policy, v.rule, v.field, v.actual, v.limit]),
      [["workload-limits", "max-size", "specs.vcpus", 32, 16]],
    );
  });

  test("answers a batch with decisions in request order", async () => {
    const batch = [
      { type: "compute/instance", tags: { team: "data" }, specs: { vcpus: 2, memory_gb: 4 } },
      { type: "compute/instance", specs: { vcpus: 2, memory_gb: 4 } },
      { type: "storage/volume", specs: { size_gb: 10 } },
    ];
    const res = await server.post("/v1/evaluate", batch);
    assert.equal(res.status, 200);
    const decisions = (await res.json()) as Decision[];
    assert.deepEqual(
      decisions.map((d) => d.decision),
      ["allow", "deny", "allow"],
    );
    assert.equal(decisions[1]!.violations[0]!.message, "Required tag 'team' is missing");
    const empty = await server.post("/v1/evaluate", []);
    assert.deepEqual(await empty.json(), []);
  });

  test("an invalid request is 400 with {error: {name, message, details}}", async () => {
    const res = await server.post("/v1/evaluate", { specs: { vcpus: "many" } });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { name: string; message: string; details: string[] } };
    assert.equal(body.error.name, "InputError");
    assert.match(body.error.message, /missing `type`/);
    assert.ok(body.error.details.some((d) => d.includes("specs.vcpus")));
    // A JSON value that is no object says what a request is, not that "`the request` must be object".
    const text = await server.post("/v1/evaluate", '"compute/instance"');
    assert.equal(text.status, 400);
    assert.equal(
      ((await text.json()) as { error: { message: string } }).error.message,
      'request is not valid: a request must be an object such as {"type": "compute/instance", ...}, got a string',
    );
  });

  test("a batch wrapped in an object ({requests: [...]}) is 400 saying so, not 'missing type'", async () => {
    const res = await server.post("/v1/evaluate", { requests: [{ type: "compute/instance" }] });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { message: string } };
    assert.equal(
      body.error.message,
      'request is not valid: it holds "requests", a list, where a request belongs: give the requests themselves, one or an array of them',
    );
  });

  test("a misspelt key whose content the checks read is 400, not an allow with everything unchecked", async () => {
    for (const [request, message] of [
      [
        { type: "compute/instance", spec: { vcpus: 64 }, tags: { team: "web" } },
        "request is not valid: it has `spec`, no key of a request (did you mean `specs`?): what it holds would go unchecked",
      ],
      [
        { type: "compute/instance", specs: { vcpus: 2 }, Tags: { team: "web" } },
        /it has `Tags`.*did you mean `tags`/,
      ],
      [{ type: "compute/instance", regoin: "us-east-1" }, /it has `regoin`.*did you mean `region`/],
    ] as const) {
      const res = await server.post("/v1/evaluate", request);
      assert.equal(res.status, 400, JSON.stringify(request));
      const body = (await res.json()) as { error: { message: string } };
      if (typeof message === "string") assert.equal(body.error.message, message);
      else assert.match(body.error.message, message);
    }
    // A key of the caller's own beside the real one (`tag` with `tags`), or far from any, is left alone.
    const own = await server.post("/v1/evaluate", {
      type: "compute/instance",
      specs: { vcpus: 2 },
      tags: { team: "web" },
      tag: "release-7",
      labels: { app: "shop" },
    });
    assert.equal(own.status, 200);
  });

  test("a misspelt spec a policy reads is 400 naming the one meant; in a batch, every such item and none decided", async () => {
    const res = await server.post("/v1/evaluate", { type: "compute/instance", specs: { vcpu: 64 } });
    assert.equal(res.status, 400);
    assert.equal(
      ((await res.json()) as { error: { message: string } }).error.message,
      "request is not valid: it has `specs.vcpu`, no spec the policies or the price book read (did you mean `specs.vcpus`?): what it holds would go unchecked",
    );
    const batch = await server.post("/v1/evaluate", [
      { type: "compute/instance", specs: { vcpus: 2 }, tags: { team: "web" } },
      { type: "compute/instance", specs: { memory_gbs: 512 }, tags: { team: "web" } },
      { type: "compute/instance", specs: { vCPUs: 64 }, tags: { team: "web" } },
    ]);
    assert.equal(batch.status, 400);
    const body = (await batch.json()) as { error: { message: string; details: string[] } };
    assert.match(
      body.error.message,
      /^2 of 3 requests in the batch are not valid: item 1 is not valid: it has `specs\.memory_gbs`.*`specs\.memory_gb`/,
    );
    assert.match(
      body.error.details[1] ?? "",
      /^item 2 is not valid: it has `specs\.vCPUs`.*did you mean `specs\.vcpus`/,
    );
    // A spec of the caller's own is decided.
    const own = await server.post("/v1/evaluate", {
      type: "compute/instance",
      specs: { vcpus: 2, my_setting: 1 },
      tags: { team: "web" },
    });
    assert.equal(own.status, 200);
  });

  test("a key written twice in the body is 400, not decided on its last value", async () => {
    const res = await server.post(
      "/v1/evaluate",
      '{"type":"compute/instance","specs":{"vcpus":80},"specs":{"vcpus":1}}',
    );
    assert.equal(res.status, 400);
    assert.equal(
      ((await res.json()) as { error: { message: string } }).error.message,
      "request body 1:49: key `specs` is written twice in one object (JSON would keep only the last; which one was meant is unknown)",
    );
  });

  test("a batch names every invalid item", async () => {
    const res = await server.post("/v1/evaluate", [{ type: "compute/instance" }, { type: "x" }, {}]);
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { message: string; details: string[] } };
    assert.match(body.error.message, /^2 of 3 requests in the batch are not valid/);
    assert.equal(body.error.details.length, 2);
    assert.match(body.error.details[0]!, /^item 1 /);
    assert.match(body.error.details[1]!, /^item 2 /);
  });

  test("malformed and empty JSON are 400 with the parser's reason", async () => {
    const res = await server.post("/v1/evaluate", '{"type": "compute/instance",}');
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { name: string; message: string } };
    assert.equal(body.error.name, "InputError");
    assert.match(body.error.message, /^request body is not valid JSON: .*position/);

    const empty = await server.post("/v1/evaluate", "");
    assert.equal(empty.status, 400);
    assert.match(((await empty.json()) as { error: { message: string } }).error.message, /empty/);

    const poisoned = await server.post("/v1/evaluate", '{"type":"compute/instance","__proto__":{"x":1}}');
    assert.equal(poisoned.status, 400);
    // Said as the CLI says it: valid JSON, with a key no request has.
    assert.equal(
      ((await poisoned.json()) as { error: { message: string } }).error.message,
      "request body holds a __proto__ key or constructor.prototype, which costguard refuses: no request field has those names",
    );

    const refused = server.logRecords().filter((r) => r.msg === "request refused");
    assert.ok(refused.length >= 3);
    assert.ok(refused.every((r) => typeof r.reqId === "string" && r.status === 400 && r.level === 30));
  });

  test("a body that is not JSON is 415", async () => {
    for (const type of ["text/yaml", "text/plain", "text/plain; charset=utf-8"]) {
      const res = await server.post("/v1/evaluate", '{"type": "compute/instance"}', { "content-type": type });
      assert.equal(res.status, 415, type);
      assert.equal(((await res.json()) as { error: { name: string } }).error.name, "UnsupportedMediaType");
    }
  });

  test("a body over the limit is 413 with the limit in the message", async () => {
    const big = Array.from({ length: 400 }, (_, i) => ({ type: "compute/instance", name: `vm-${i}` }));
    assert.ok(JSON.stringify(big).length > 16 * 1024);
    const res = await server.post("/v1/evaluate", big);
    assert.equal(res.status, 413);
    const body = (await res.json()) as { error: { name: string; message: string } };
    assert.equal(body.error.name, "PayloadTooLarge");
    assert.equal(body.error.message, "request body is larger than the limit of 16 KiB (--body-limit)");
  });

  test("a body over the limit is read to its end and dropped: the client reads its 413 and the connection serves on", async () => {
    const url = new URL(server.url);
    // Over a raw connection: headers, a pause (the 413 is sent then), the whole body, a second request.
    const exchange = (length: number, rest: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(url.port), url.hostname);
        let got = "";
        socket.on("data", (d) => {
          got += d;
        });
        socket.on("close", () => resolve(got));
        socket.on("error", reject);
        socket.write(
          `POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`,
        );
        setTimeout(() => socket.write(rest), 200);
      });
    const next = '{"type": "compute/instance"}';
    const got = await exchange(
      100_000,
      `${"x".repeat(100_000)}POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${next.length}\r\nConnection: close\r\n\r\n${next}`,
    );
    const responses = got.split(/(?=HTTP\/1\.1 )/);
    assert.equal(responses.length, 2, got);
    assert.match(responses[0]!, /^HTTP\/1\.1 413 /);
    assert.doesNotMatch(responses[0]!, /connection: close/i);
    assert.match(responses[1]!, /^HTTP\/1\.1 200 [\s\S]*"decision":"deny"/);
    // A body said to be longer than is worth reading (over 64 MiB): answered, and the connection closed.
    const huge = await exchange(100 * 1024 * 1024, "x".repeat(1000));
    assert.match(huge, /^HTTP\/1\.1 413 [\s\S]*connection: close/i);
    // A client that writes its whole body before it reads gets the 413, every time.
    const body = JSON.stringify({ type: "compute/instance", name: "x".repeat(4 * 1024 * 1024) });
    for (let i = 0; i < 5; i++) {
      const res = await server.post("/v1/evaluate", body);
      assert.equal(res.status, 413);
      assert.equal(((await res.json()) as { error: { name: string } }).error.name, "PayloadTooLarge");
    }
  });

  test("a small gzip body over the limit once decoded, received whole, is 413 and the connection serves on", async () => {
    const url = new URL(server.url);
    // 10 MiB of blanks in about 10 KiB: all of it sent at once, a second request right behind it.
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024, " "));
    const next = '{"type": "compute/instance"}';
    const got = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), url.hostname);
      let text = "";
      socket.on("data", (d) => {
        text += d;
      });
      socket.on("close", () => resolve(text));
      socket.on("error", reject);
      socket.write(
        Buffer.concat([
          Buffer.from(
            `POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: ${bomb.length}\r\n\r\n`,
          ),
          bomb,
          Buffer.from(
            `POST /v1/evaluate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${next.length}\r\nConnection: close\r\n\r\n${next}`,
          ),
        ]),
      );
    });
    const responses = got.split(/(?=HTTP\/1\.1 )/);
    assert.equal(responses.length, 2, got);
    assert.match(responses[0]!, /^HTTP\/1\.1 413 /);
    assert.doesNotMatch(responses[0]!, /connection: close/i);
    assert.match(responses[1]!, /^HTTP\/1\.1 200 [\s\S]*"decision":"deny"/);
  });

  test("a body over the limit without Content-Length (chunked) is 413 too", async () => {
    const url = new URL(server.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: "/v1/evaluate",
          method: "POST",
          headers: { "content-type": "application/json" },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.write("[");
      for (let i = 0; i < 300; i++) req.write(`${i ? "," : ""}{"type":"compute/instance","name":"vm-${i}"}`);
      req.end("]");
    });
    assert.equal(status, 413);
  });

  test("a gzip or deflate body is decoded, the limit holding for the decoded bytes; other codings are 415", async () => {
    const request = { type: "compute/instance", tags: { team: "data" }, specs: { vcpus: 32, memory_gb: 8 } };
    const json = JSON.stringify(request);
    const send = (coding: string, body: Buffer | string) =>
      fetch(`${server.url}/v1/evaluate`, {
        method: "POST",
        headers: { "content-type": "application/json", "content-encoding": coding },
        body,
      });
    const expected = await (await server.post("/v1/evaluate", request)).json();
    for (const [coding, body] of [
      ["gzip", gzipSync(json)],
      ["deflate", deflateSync(json)],
      ["identity", json],
    ] as const) {
      const res = await send(coding, body);
      assert.equal(res.status, 200, coding);
      assert.deepEqual(await res.json(), expected, coding);
    }
    // 10 MiB of blanks gzip into ~10 KiB: under the 16 KiB limit as sent, far over it decoded.
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024, " "));
    assert.ok(bomb.length < 16 * 1024);
    let res = await send("gzip", bomb);
    assert.equal(res.status, 413);
    // A body that says gzip and is not: refused, not read as it is.
    res = await send("gzip", json);
    assert.equal(res.status, 400);
    assert.match(
      ((await res.json()) as { error: { message: string } }).error.message,
      /^request body does not decode as its Content-Encoding says: /,
    );
    res = await send("br", gzipSync(json));
    assert.equal(res.status, 415);
    assert.equal(res.headers.get("accept-encoding"), "gzip, deflate");
    assert.deepEqual(await res.json(), {
      error: {
        name: "UnsupportedMediaType",
        message:
          'request body in Content-Encoding "br": costguard decodes gzip and deflate, or a body sent as it is',
        details: [],
      },
    });
  });

  test("a path with a trailing slash is the same route (a webhook configured as /v1/admission/)", async () => {
    const request = { type: "compute/instance", tags: { team: "data" }, specs: { vcpus: 32, memory_gb: 8 } };
    const plain = await server.post("/v1/evaluate", request);
    const slashed = await server.post("/v1/evaluate/", request);
    assert.equal(slashed.status, 200);
    assert.deepEqual(await slashed.json(), await plain.json());
    const wrongMethod = await fetch(`${server.url}/v1/evaluate/`);
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers.get("allow"), "POST");
    assert.equal((await server.post("/v1/admission/", {})).status, 400, "routed, and the body refused");
    // One slash: with two, no route (not a 405 naming the very method asked).
    for (const res of [
      await fetch(`${server.url}/healthz//`),
      await server.post("/v1/evaluate//", request),
    ]) {
      assert.equal(res.status, 404);
      assert.equal(((await res.json()) as { error: { name: string } }).error.name, "NotFoundError");
    }
  });

  test("a batch over --max-batch is 413", async () => {
    const res = await server.post(
      "/v1/evaluate",
      Array.from({ length: 51 }, () => ({ type: "a/b" })),
    );
    assert.equal(res.status, 413);
    assert.match(
      ((await res.json()) as { error: { message: string } }).error.message,
      /over the limit of 50/,
    );
  });

  test("an unknown route is 404 in the same error shape", async () => {
    const res = await fetch(`${server.url}/v2/evaluate`);
    assert.equal(res.status, 404);
    const body = (await res.json()) as { error: { name: string; message: string } };
    assert.equal(body.error.name, "NotFoundError");
    assert.match(body.error.message, /openapi\.json/);
  });

  test("a known route asked with another method is 405 with Allow, in the same error shape", async () => {
    const get = await fetch(`${server.url}/v1/evaluate?pretty=1`);
    assert.equal(get.status, 405);
    assert.equal(get.headers.get("allow"), "POST");
    const body = (await get.json()) as { error: { name: string; message: string } };
    assert.equal(body.error.name, "MethodNotAllowed");
    assert.equal(
      body.error.message,
      "/v1/evaluate takes POST, not GET; the API is described at GET /openapi.json",
    );
    const post = await fetch(`${server.url}/healthz`, { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
  });
});

test("requests refused before any route (a path that does not decode, HTTP/1.1 without Host, CONNECT) are answered in the error shape and counted", async () => {
  const server = await startTestServer();
  try {
    const url = new URL(server.url);
    const raw = (text: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(Number(url.port), url.hostname, () => socket.write(text));
        let got = "";
        socket.on("data", (d) => {
          got += d;
        });
        socket.on("close", () => resolve(got));
        socket.on("error", reject);
        socket.setTimeout(5000, () => socket.end());
      });
    const cases = [
      [
        "GET /%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        400,
        "InputError",
        "the request path /%zz is not valid: a % in it begins no percent-encoded UTF-8 character",
      ],
      [
        "GET /healthz HTTP/1.1\r\n\r\n",
        400,
        "InputError",
        "an HTTP/1.1 request names the server it is for in a Host header; this one has none",
      ],
      [
        "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        404,
        "NotFoundError",
        "no route CONNECT example.com:443; the API is described at GET /openapi.json",
      ],
    ] as const;
    for (const [request, status, name, message] of cases) {
      const answer = await raw(request);
      assert.match(answer, new RegExp(`^HTTP/1\\.1 ${status} `), request);
      assert.deepEqual(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)), {
        error: { name, message, details: [] },
      });
    }
    // HTTP/1.0 names no Host and needs none.
    assert.match(await raw("GET /healthz HTTP/1.0\r\n\r\n"), /^HTTP\/1\.1 200 /);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(metrics, /^costguard_http_requests_total\{route="unmatched",status="400"\} 2$/m);
    assert.match(metrics, /^costguard_http_requests_total\{route="unmatched",status="404"\} 1$/m);
    assert.match(
      metrics,
      /^costguard_http_errors_total\{route="unmatched",status="400",error="InputError"\} 2$/m,
    );
    assert.match(
      metrics,
      /^costguard_http_errors_total\{route="unmatched",status="404",error="NotFoundError"\} 1$/m,
    );
  } finally {
    await server.close();
  }
});

describe("a request nested past MAX_NESTING", () => {
  test("is 400 InputError naming the request or the batch's item, not a 500 from a stack overflow", async () => {
    // The first describe's 16 KiB limit would refuse the deepest body as too large instead.
    const server = await startTestServer({ bodyLimit: "1Mi" });
    try {
      for (const levels of [3000, 100_000]) {
        const deep = `{"type":"compute/instance","specs":{"x":${"[".repeat(levels)}${"]".repeat(levels)}}}`;
        const why = "is not valid: its lists and maps nest more than 256 levels deep";
        const one = await server.post("/v1/evaluate", deep);
        assert.equal(one.status, 400);
        const body = (await one.json()) as { error: { name: string; message: string; details: string[] } };
        assert.equal(body.error.name, "InputError");
        assert.ok(body.error.message.startsWith(`request ${why}`), body.error.message);
        const batch = await server.post("/v1/evaluate", `[{"type":"compute/instance"},${deep}]`);
        assert.equal(batch.status, 400);
        const error = ((await batch.json()) as { error: { message: string; details: string[] } }).error;
        assert.match(error.message, /^1 of 2 requests in the batch is not valid: item 1 /);
        assert.equal(error.details.length, 1);
        assert.ok(error.details[0]!.startsWith(`item 1 ${why}`), error.details[0]);
      }
      assert.ok(!server.logs.some((l) => l.includes("unexpected error")));
    } finally {
      await server.close();
    }
  });
});

describe("with the price book in the decider", () => {
  test("decisions carry estimated_monthly_cost through the HTTP serializer, single and batch", async () => {
    const server = await startTestServer(
      {},
      { deciderFactory: ({ policySet }) => createPricedDecider(policySet, loadPriceBook()) },
    );
    try {
      const request = {
        type: "compute/instance",
        tags: { team: "ml" },
        specs: { instance_type: "p3.8xlarge" },
      };
      const single = (await (await server.post("/v1/evaluate", request)).json()) as Decision & {
        estimated_monthly_cost: { status: string; monthly: string; currency: string };
      };
      assert.equal(single.decision, "deny", "vcpus filled from the book break maxVCPUs 16");
      assert.equal(single.violations[0]!.actual, 32);
      assert.equal(single.estimated_monthly_cost.status, "known");
      assert.equal(single.estimated_monthly_cost.currency, "USD");
      assert.match(single.estimated_monthly_cost.monthly, /^\d+\.\d+$/);
      const batch = (await (await server.post("/v1/evaluate", [request])).json()) as (typeof single)[];
      assert.deepEqual(batch[0]!.estimated_monthly_cost, single.estimated_monthly_cost);
    } finally {
      await server.close();
    }
  });

  test("the schema-compiled answer equals the decision as JSON for every kind of estimate", async () => {
    const book = loadPriceBook();
    const server = await startTestServer(
      {},
      { deciderFactory: ({ policySet }) => createPricedDecider(policySet, book) },
    );
    try {
      const requests = [
        { type: "compute/instance", specs: { instance_type: "m5.large" }, region: "eu-west-1" },
        { type: "compute/instance", specs: { instance_type: "no-such-type" } },
        { type: "compute/instance", provider: "gcp", specs: { instance_type: "n2-standard-8" } },
        { type: "compute/instance", provider: "azure", specs: { instance_type: "Standard_D4s_v5" } },
        {
          type: "database/instance",
          specs: { instance_type: "db.r6g.large", engine: "postgres", storage_gb: 100, storage_type: "gp3" },
        },
        {
          type: "database/instance",
          specs: {
            instance_type: "db.m5.large",
            engine: "mysql",
            multi_az: true,
            storage_gb: 200,
            storage_type: "io1",
            iops: 3000,
          },
        },
        { type: "storage/volume", specs: { size_gb: 500, volume_sku: "gp3" } },
        { type: "storage/volume", specs: { size_gb: 50 } },
        { type: "compute/k8s-deployment", tags: { team: "x" }, specs: { vcpus: 2, memory_gb: 4 } },
        { type: "network/load-balancer", cost: { monthly: 18.25, currency: "USD" } },
      ];
      const answer = (await (await server.post("/v1/evaluate", requests)).json()) as unknown[];
      const set = compilePolicySet(loadPolicies([server.dir]).policies);
      const decider = createPricedDecider(set, book);
      assert.deepEqual(
        answer,
        requests.map((r) => JSON.parse(JSON.stringify(decider.decide(r)))),
      );
      assert.ok(
        answer.some(
          (d) =>
            (d as { estimated_monthly_cost: { status: string } }).estimated_monthly_cost.status === "known",
        ),
      );
      assert.ok(
        answer.some(
          (d) =>
            (d as { estimated_monthly_cost: { status: string } }).estimated_monthly_cost.status === "unknown",
        ),
      );
    } finally {
      await server.close();
    }
  });

  test("the decision log keeps the estimate's figures without its provenance text", async () => {
    const probe = await startTestServer();
    const logFile = `${probe.dir}-decisions.jsonl`;
    await probe.close();
    const server = await startTestServer(
      { decisionLog: logFile },
      { deciderFactory: ({ policySet }) => createPricedDecider(policySet, loadPriceBook()) },
    );
    try {
      await server.post("/v1/evaluate", { type: "compute/instance", specs: { instance_type: "m5.large" } });
      await server.running.close();
      const line = JSON.parse(readFileSync(logFile, "utf8").trim()) as { estimated_monthly_cost: object };
      assert.deepEqual(Object.keys(line.estimated_monthly_cost).sort(), [
        "currency",
        "hourly",
        "monthly",
        "status",
      ]);
    } finally {
      await server.close();
      rmSync(logFile, { force: true });
    }
  });
});
