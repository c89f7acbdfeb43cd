import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { admissionReview, container, podSpec, workload } from "../support/kubernetes.js";
import { startTestServer, type TestServer } from "../support/server.js";

describe("status routes", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  test("GET /healthz says ok", async () => {
    const res = await fetch(`${server.url}/healthz`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: "ok" });
  });

  test("GET /readyz details the serving revision and the last reload", async () => {
    const res = await fetch(`${server.url}/readyz`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      status: string;
      policy: { revision: string; policies: number; rules: number; files: string[]; loaded_at: string };
      last_reload: { result: string; trigger: string; revision: string };
    };
    assert.equal(body.status, "ready");
    assert.match(body.policy.revision, /^[0-9a-f]{12}$/);
    assert.equal(body.policy.policies, 2);
    assert.equal(body.policy.rules, 3);
    assert.equal(body.policy.files.length, 1);
    assert.deepEqual(
      {
        result: body.last_reload.result,
        trigger: body.last_reload.trigger,
        revision: body.last_reload.revision,
      },
      { result: "loaded", trigger: "start", revision: body.policy.revision },
    );
  });

  test("GET /metrics counts decisions by result and policy, latency, reloads and errors", async () => {
    await server.post("/v1/evaluate", [
      { type: "compute/instance", tags: { team: "a" }, specs: { vcpus: 99 } },
      { type: "compute/instance", tags: { team: "a" } },
    ]);
    await server.post(
      "/v1/admission",
      admissionReview(
        workload("Deployment", podSpec([container("a", { requests: { cpu: "1" } })]), { replicas: 1 }),
      ),
    );
    await server.post("/v1/evaluate", "{");
    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    const text = await res.text();
    const value = (series: string) => {
      const line = text.split("\n").find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    assert.equal(value('costguard_decisions_total{gate="evaluate",decision="deny"}'), 1);
    assert.equal(value('costguard_decisions_total{gate="evaluate",decision="allow"}'), 1);
    assert.equal(value('costguard_decisions_total{gate="admission",decision="deny"}'), 1);
    assert.equal(
      value(
        'costguard_policy_violations_total{gate="evaluate",policy="workload-limits",rule="max-size",enforcement="deny"}',
      ),
      1,
    );
    assert.equal(
      value(
        'costguard_policy_violations_total{gate="admission",policy="mandatory-tags",rule="team-required",enforcement="deny"}',
      ),
      1,
    );
    assert.equal(value('costguard_admission_reviews_total{kind="Deployment",outcome="evaluated"}'), 1);
    assert.ok((value('costguard_http_request_duration_seconds_count{route="/v1/evaluate"}') ?? 0) >= 2);
    assert.ok(
      text.includes('costguard_http_request_duration_seconds_bucket{le="0.005",route="/v1/evaluate"}'),
    );
    assert.equal(
      value('costguard_http_errors_total{route="/v1/evaluate",status="400",error="InputError"}'),
      1,
    );
    assert.equal(value('costguard_policy_reloads_total{result="loaded"}'), 1);
    assert.equal(value("costguard_policy_last_reload_success"), 1);
    assert.ok(text.includes("process_resident_memory_bytes"));
  });

  test("GET /openapi.json is a valid OpenAPI 3.1 document describing every route", async () => {
    const res = await fetch(`${server.url}/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    const validator = new Validator();
    const result = await validator.validate(doc as unknown as Parameters<Validator["validate"]>[0]);
    assert.deepEqual(result.errors ?? [], [], JSON.stringify(result.errors));
    assert.equal(result.valid, true);
    assert.equal(doc.openapi, "3.1.0");
    assert.deepEqual(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
      ),
      [
        "POST /v1/evaluate",
        "POST /v1/admission",
        "GET /healthz",
        "GET /readyz",
        "GET /metrics",
        "GET /openapi.json",
      ],
    );
  });
});
