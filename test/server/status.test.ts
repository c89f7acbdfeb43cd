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

describe("status routes of a server enforcing budgets", () => {
  test("/readyz and /metrics say how old the billing data is and whether budgets are judged by it", async () => {
    let view = {
      at: "2024-09-02T12:00:00.000Z",
      data_through: "2024-09-02T01:00:00.000Z" as string | null,
      max_billing_lag_hours: 72,
      stale: null as string | null,
    };
    const server = await startTestServer({}, { budgets: () => view });
    try {
      const ready = async () =>
        ((await (await fetch(`${server.url}/readyz`)).json()) as { budgets: unknown }).budgets;
      const metric = async (name: string) =>
        (await (await fetch(`${server.url}/metrics`)).text())
          .split("\n")
          .find((l) => l.startsWith(`${name} `));
      assert.deepEqual(await ready(), view);
      assert.equal(
        await metric("costguard_budget_billing_data_age_seconds"),
        "costguard_budget_billing_data_age_seconds 39600",
      );
      assert.equal(
        await metric("costguard_budget_billing_data_stale"),
        "costguard_budget_billing_data_stale 0",
      );
      // The export stops: the next state is stale, and no charges at all make the age unknown.
      view = {
        ...view,
        at: "2024-09-20T00:00:00.000Z",
        data_through: null,
        stale: "the billing data has no charges before the evaluation time",
      };
      assert.deepEqual(await ready(), view);
      assert.equal(
        await metric("costguard_budget_billing_data_stale"),
        "costguard_budget_billing_data_stale 1",
      );
      // prom-client writes NaN as "Nan"; Prometheus reads either case.
      assert.match(
        (await metric("costguard_budget_billing_data_age_seconds")) ?? "",
        /^costguard_budget_billing_data_age_seconds nan$/i,
      );
    } finally {
      await server.close();
    }
  });

  test("a server without budgets has neither", async () => {
    const server = await startTestServer();
    try {
      const body = (await (await fetch(`${server.url}/readyz`)).json()) as Record<string, unknown>;
      assert.equal("budgets" in body, false);
      assert.doesNotMatch(
        await (await fetch(`${server.url}/metrics`)).text(),
        /costguard_budget_billing_data/,
      );
    } finally {
      await server.close();
    }
  });
});
