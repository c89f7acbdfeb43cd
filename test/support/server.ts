import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { resolveServeConfig, type ServeInput } from "../../src/server/config.js";
import { type RunningServer, type StartOptions, startServer } from "../../src/server/start.js";

/** Limits for everything, plus a warn-level rule for big pods and the guide's tag rule on compute/*. */
export const TEST_POLICIES = `
apiVersion: costguard.dev/v1
kind: CostPolicy
metadata:
  name: workload-limits
spec:
  type: ResourceLimit
  rules:
    - name: max-size
      resource: compute/*
      constraint:
        maxVCPUs: 16
        maxMemoryGB: 64
    - name: big-pods
      resource: [compute/k8s-pod, compute/k8s-deployment, compute/k8s-statefulset, compute/k8s-daemonset, compute/k8s-replicaset, compute/k8s-job, compute/k8s-cronjob]
      enforcement: warn
      checks:
        - field: specs.pod_vcpus
          op: lte
          value: 4
---
apiVersion: costguard.dev/v1
kind: CostPolicy
metadata:
  name: mandatory-tags
spec:
  type: TagRequirement
  rules:
    - name: team-required
      scope: [compute/*]
      requiredTags:
        - key: team
          pattern: "^[a-z]+$"
`;

/** A policy set with a different limit, to tell revisions apart. */
export const policiesWithLimit = (maxVCPUs: number) =>
  TEST_POLICIES.replace("maxVCPUs: 16", `maxVCPUs: ${maxVCPUs}`);

export interface TestServer {
  url: string;
  running: RunningServer;
  dir: string;
  policyFile: string;
  logs: string[];
  /** Log lines parsed as JSON. */
  logRecords(): Record<string, unknown>[];
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

/** A real server on an ephemeral port, policies in a temp folder, logs captured. */
export async function startTestServer(
  input: ServeInput = {},
  options: StartOptions & { policies?: string } = {},
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "costguard-serve-"));
  const policyFile = join(dir, "policies.yaml");
  writeFileSync(policyFile, options.policies ?? TEST_POLICIES);
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, done) {
      logs.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  const config = resolveServeConfig(
    {},
    { policies: [dir], port: "0", reloadDebounce: "50ms", logLevel: "info", ...input },
  );
  const running = await startServer(config, { logStream, ...options });
  return {
    url: running.url,
    running,
    dir,
    policyFile,
    logs,
    logRecords: () => logs.map((l) => JSON.parse(l) as Record<string, unknown>),
    post: (path, body, headers = {}) =>
      fetch(`${running.url}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    async close() {
      await running.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Waits until `check` passes (for effects of file watching, which take a moment). */
export async function eventually(check: () => Promise<boolean> | boolean, what: string, ms = 10_000) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}
