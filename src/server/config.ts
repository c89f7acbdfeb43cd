import { availableParallelism } from "node:os";
import { InputError } from "../errors.js";
import { type KubeApiOptions, resolveKubeApi } from "../gates/kubernetes/kube-api.js";
import { parseTimerDuration } from "../time/duration.js";

/** The port a restarted worker listens on: the one its first siblings were given (even with --port 0). */
export const WORKER_PORT_ENV = "COSTGUARD_WORKER_PORT";

/** Everything `costguard serve` can be told; frozen once resolved. */
export interface ServeConfig {
  policies: readonly string[];
  /** Price tables on top of the embedded book (reloaded with the policies). */
  priceBooks: readonly string[];
  /** Whether decisions go through the price book (fill from instance_type, estimate the cost). */
  estimates: boolean;
  host: string;
  port: number;
  /** A file to append decision lines to, `-` for stdout, or null for none. */
  decisionLog: string | null;
  /** Largest request body in bytes (413 above it). */
  bodyLimit: number;
  /** Time allowed to receive a request and to answer it, in milliseconds. */
  requestTimeoutMs: number;
  /** Most requests in one batch to /v1/evaluate. */
  maxBatch: number;
  watch: boolean;
  reloadDebounceMs: number;
  /** How long shutdown waits for in-flight requests before giving up. */
  shutdownTimeoutMs: number;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  tlsCert: string | null;
  tlsKey: string | null;
  daemonSetNodes: number;
  evaluateOwned: boolean;
  /** The Kubernetes API, read for reviews of a workload's `scale` subresource; null: not read. */
  kubeApi: KubeApiOptions | null;
  /** Server processes sharing the port (node:cluster); 1 serves from this process. */
  workers: number;
}

export const SERVE_DEFAULTS: Omit<ServeConfig, "policies" | "priceBooks" | "kubeApi"> = {
  estimates: true,
  host: "127.0.0.1",
  port: 8080,
  decisionLog: null,
  // An AdmissionReview of an UPDATE carries the object twice; Kubernetes objects reach 1.5 MiB.
  bodyLimit: 4 * 1024 * 1024,
  // Kubernetes waits 10 s for a webhook by default; answer (even with an error) before that.
  requestTimeoutMs: 9000,
  maxBatch: 10_000,
  watch: true,
  reloadDebounceMs: 250,
  shutdownTimeoutMs: 10_000,
  logLevel: "info",
  tlsCert: null,
  tlsKey: null,
  daemonSetNodes: 1,
  evaluateOwned: false,
  workers: 1,
};

/** The raw values of flags (commander) or environment variables, before checking. */
export interface ServeInput {
  policies?: readonly string[] | undefined;
  priceBooks?: readonly string[] | undefined;
  estimates?: boolean | string | undefined;
  host?: string | undefined;
  port?: string | undefined;
  decisionLog?: string | undefined;
  bodyLimit?: string | undefined;
  requestTimeout?: string | undefined;
  maxBatch?: string | undefined;
  watch?: boolean | string | undefined;
  reloadDebounce?: string | undefined;
  shutdownTimeout?: string | undefined;
  logLevel?: string | undefined;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
  daemonsetNodes?: string | undefined;
  evaluateOwned?: boolean | string | undefined;
  kubeApi?: string | undefined;
  kubeTokenFile?: string | undefined;
  kubeCaFile?: string | undefined;
  workers?: string | undefined;
}

/** How long one read of the Kubernetes API may take (the API server waits 10 s for a webhook by default). */
const KUBE_API_TIMEOUT_MS = 2000;

/** `COSTGUARD_*` variables, read under the same names as the flags. */
export function serveInputFromEnv(env: NodeJS.ProcessEnv): ServeInput {
  const v = (name: string) => {
    const value = env[`COSTGUARD_${name}`];
    return value === undefined || value === "" ? undefined : value;
  };
  return {
    policies: v("POLICIES")?.split(",").filter(Boolean),
    priceBooks: v("PRICE_BOOK")?.split(",").filter(Boolean),
    estimates: v("ESTIMATES"),
    host: v("HOST"),
    port: v("PORT"),
    decisionLog: v("DECISION_LOG"),
    bodyLimit: v("BODY_LIMIT"),
    requestTimeout: v("REQUEST_TIMEOUT"),
    maxBatch: v("MAX_BATCH"),
    watch: v("WATCH"),
    reloadDebounce: v("RELOAD_DEBOUNCE"),
    shutdownTimeout: v("SHUTDOWN_TIMEOUT"),
    logLevel: v("LOG_LEVEL"),
    tlsCert: v("TLS_CERT"),
    tlsKey: v("TLS_KEY"),
    daemonsetNodes: v("DAEMONSET_NODES"),
    evaluateOwned: v("EVALUATE_OWNED"),
    kubeApi: v("KUBE_API"),
    kubeTokenFile: v("KUBE_TOKEN_FILE"),
    kubeCaFile: v("KUBE_CA_FILE"),
    workers: v("WORKERS"),
  };
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/**
 * Defaults < environment < flags; every value checked, problems reported together. `hostEnv` is the
 * process environment, where Kubernetes tells a pod how to reach its API (`--kube-api auto`).
 */
export function resolveServeConfig(
  env: ServeInput,
  flags: ServeInput,
  hostEnv: NodeJS.ProcessEnv = {},
): Readonly<ServeConfig> {
  const problems: string[] = [];
  const pick = <K extends keyof ServeInput>(key: K): ServeInput[K] => flags[key] ?? env[key];
  const check = <T>(
    name: string,
    raw: string | boolean | undefined,
    parse: (s: string) => T,
    fallback: T,
  ): T => {
    if (raw === undefined) return fallback;
    try {
      return parse(String(raw));
    } catch (err) {
      // Named as the user gave it: the flag, or the environment variable when no flag was given.
      const key = name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof ServeInput;
      const given =
        flags[key] === undefined && env[key] !== undefined
          ? `COSTGUARD_${name.toUpperCase().replace(/-/g, "_")}`
          : `--${name}`;
      problems.push(`${given}: ${(err as Error).message}`);
      return fallback;
    }
  };
  const d = SERVE_DEFAULTS;
  const policies = pick("policies") ?? [];
  if (policies.length === 0)
    problems.push(
      "--policies PATH is required (a policy file or folder), or COSTGUARD_POLICIES, or policies: in costguard.yaml",
    );
  const tlsCert = pick("tlsCert") ?? null;
  const tlsKey = pick("tlsKey") ?? null;
  if ((tlsCert === null) !== (tlsKey === null)) problems.push("--tls-cert and --tls-key go together");
  if ((pick("priceBooks") ?? []).length > 0 && String(pick("estimates")) === "false")
    problems.push("--price-book and --no-estimates contradict each other");
  const logLevel = check(
    "log-level",
    pick("logLevel"),
    (s) => {
      if (!(LOG_LEVELS as readonly string[]).includes(s)) throw new Error(`one of ${LOG_LEVELS.join(", ")}`);
      return s as ServeConfig["logLevel"];
    },
    d.logLevel,
  );
  const config: ServeConfig = {
    policies,
    priceBooks: pick("priceBooks") ?? [],
    estimates: check("estimates", pick("estimates"), boolean, d.estimates),
    host: pick("host") ?? d.host,
    port: check("port", pick("port"), (s) => integer(s, 0, 65535), d.port),
    decisionLog: pick("decisionLog") || d.decisionLog,
    bodyLimit: check("body-limit", pick("bodyLimit"), size, d.bodyLimit),
    requestTimeoutMs: check("request-timeout", pick("requestTimeout"), duration, d.requestTimeoutMs),
    maxBatch: check("max-batch", pick("maxBatch"), (s) => integer(s, 1, 1_000_000), d.maxBatch),
    watch: check("watch", pick("watch"), boolean, d.watch),
    reloadDebounceMs: check("reload-debounce", pick("reloadDebounce"), duration, d.reloadDebounceMs),
    shutdownTimeoutMs: check("shutdown-timeout", pick("shutdownTimeout"), duration, d.shutdownTimeoutMs),
    logLevel,
    tlsCert,
    tlsKey,
    daemonSetNodes: check(
      "daemonset-nodes",
      pick("daemonsetNodes"),
      // At least 1: 0 made every DaemonSet cost nothing, whatever its pods request.
      (s) => integer(s, 1, 1_000_000),
      d.daemonSetNodes,
    ),
    evaluateOwned: check("evaluate-owned", pick("evaluateOwned"), boolean, d.evaluateOwned),
    kubeApi:
      check(
        "kube-api",
        pick("kubeApi") ?? "auto",
        (s) =>
          resolveKubeApi(
            s.trim(),
            { tokenFile: pick("kubeTokenFile") ?? null, caFile: pick("kubeCaFile") ?? null },
            hostEnv,
            KUBE_API_TIMEOUT_MS,
          ),
        undefined,
      ) ?? null,
    workers: check(
      "workers",
      pick("workers"),
      (s) => (s.trim() === "auto" ? availableParallelism() : integer(s, 1, 256)),
      d.workers,
    ),
  };
  if (config.requestTimeoutMs < 1) problems.push("--request-timeout must be above 0");
  // Read only to reach a Kubernetes API: flags given without one would do nothing, said nowhere. (The
  // same settings from the environment are left alone: a deployment may set them everywhere.)
  const kubeFiles = (["kubeTokenFile", "kubeCaFile"] as const).filter((k) => flags[k] !== undefined);
  if (config.kubeApi === null && kubeFiles.length > 0 && !problems.some((p) => p.startsWith("--kube-api")))
    problems.push(
      `${kubeFiles.map((k) => (k === "kubeTokenFile" ? "--kube-token-file" : "--kube-ca-file")).join(" and ")} need${kubeFiles.length === 1 ? "s" : ""} a Kubernetes API to call: --kube-api URL or in-cluster (${String(pick("kubeApi") ?? "auto").trim() === "off" ? "it is off" : "auto found none: KUBERNETES_SERVICE_HOST is not set"})`,
    );
  if (problems.length > 0)
    throw new InputError(`serve is not configured right: ${problems.join("; ")}`, problems);
  return Object.freeze(config);
}

function integer(s: string, min: number, max: number): number {
  const n = Number(s);
  if (!/^\d+$/.test(s.trim()) || n < min || n > max)
    throw new Error(`expected a whole number from ${min} to ${max}, got "${s}"`);
  return n;
}

/** `4Mi`, `512Ki`, `1M` or plain bytes (Kubernetes quantity syntax). */
/**
 * Bytes, or with a unit in any case and an optional B: `512Ki`, `4Mi`, `4MiB`, `4MB`, `1kb`, `1G`.
 * `i` counts in 1024s, without it in 1000s; `m` is mega (a size has no thousandths of a byte).
 */
function size(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(?:([kmgt])(i?))?b?\s*$/i.exec(s);
  const bytes = m
    ? Math.floor(Number(m[1]) * (m[3] ? 1024 : 1000) ** (m[2] ? "kmgt".indexOf(m[2].toLowerCase()) + 1 : 0))
    : Number.NaN;
  if (!(bytes >= 1) || !Number.isSafeInteger(bytes))
    throw new Error(`expected a size such as 512Ki, 4Mi, 4MB or a number of bytes, got "${s}"`);
  return bytes;
}

/** `250ms`, `10s`, `2m`, `1h`, or plain milliseconds. */
function duration(s: string): number {
  return parseTimerDuration(s, 1);
}

function boolean(s: string): boolean {
  if (/^(true|1|yes|on)$/i.test(s)) return true;
  if (/^(false|0|no|off)$/i.test(s)) return false;
  throw new Error(`expected true or false, got "${s}"`);
}
