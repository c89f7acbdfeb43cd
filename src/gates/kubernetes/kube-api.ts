import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { InputError } from "../../errors.js";

/** The largest answer read for one object (characters; a workload object is a few kilobytes). */
const MAX_ANSWER_CHARS = 8 * 1024 * 1024;

/** An object in the Kubernetes API, by its resource (as an AdmissionRequest names it) and name. */
export interface ObjectRef {
  group: string;
  version: string;
  /** Plural resource name: `deployments`. */
  resource: string;
  namespace: string;
  name: string;
}

/** Reads objects from the Kubernetes API: what a review of a `scale` subresource needs to see. */
export interface KubeApi {
  /** Where it reads from, for messages and logs. */
  readonly url: string;
  get(ref: ObjectRef): Promise<unknown>;
}

/** Where a pod's service account token and the cluster's CA are mounted. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

export interface KubeApiOptions {
  /** `https://host:port` (or http:// for a local proxy such as `kubectl proxy`). */
  url: string;
  /** A bearer token file, read again for each call (projected tokens are rotated by the kubelet). */
  tokenFile?: string | null;
  /** PEM CA bundle the API server's certificate is checked against (default: Node's CAs). */
  caFile?: string | null;
  /** How long one call may take; keep it well under the webhook's timeoutSeconds. */
  timeoutMs: number;
}

/**
 * `--kube-api`: `off`, `in-cluster` (the pod's service account), a URL, or `auto` (in-cluster when
 * running in a pod, which Kubernetes tells by KUBERNETES_SERVICE_HOST; otherwise off).
 */
export function resolveKubeApi(
  setting: string,
  files: { tokenFile: string | null; caFile: string | null },
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): KubeApiOptions | undefined {
  const inCluster = (): KubeApiOptions => {
    const host = env.KUBERNETES_SERVICE_HOST;
    const port = env.KUBERNETES_SERVICE_PORT ?? "443";
    if (!host) throw new InputError("in-cluster: KUBERNETES_SERVICE_HOST is not set (not running in a pod?)");
    return {
      url: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
      tokenFile: files.tokenFile ?? `${SERVICE_ACCOUNT_DIR}/token`,
      caFile: files.caFile ?? `${SERVICE_ACCOUNT_DIR}/ca.crt`,
      timeoutMs,
    };
  };
  if (setting === "off") return undefined;
  if (setting === "auto") return env.KUBERNETES_SERVICE_HOST ? inCluster() : undefined;
  if (setting === "in-cluster") return inCluster();
  if (/^https?:\/\/[^/]+\/?$/.test(setting))
    return { url: setting.replace(/\/$/, ""), tokenFile: files.tokenFile, caFile: files.caFile, timeoutMs };
  throw new InputError(
    `expected auto, off, in-cluster or an http(s)://host:port URL, got ${JSON.stringify(setting)}`,
  );
}

/** The API path of an object: `/apis/apps/v1/namespaces/shop/deployments/web` (core: `/api/v1/...`). */
export function objectPath(ref: ObjectRef): string {
  const seg = encodeURIComponent;
  const base = ref.group === "" ? `/api/${seg(ref.version)}` : `/apis/${seg(ref.group)}/${seg(ref.version)}`;
  return `${base}/namespaces/${seg(ref.namespace)}/${seg(ref.resource)}/${seg(ref.name)}`;
}

/** A client for GETs of single objects (node:https with the cluster's CA and a bearer token). */
export function kubeApi(options: KubeApiOptions): KubeApi {
  let ca: Buffer | undefined;
  if (options.caFile) {
    try {
      ca = readFileSync(options.caFile);
    } catch (err) {
      throw new InputError(`--kube-ca-file ${options.caFile}: ${(err as Error).message}`);
    }
  }
  const base = new URL(options.url);
  const secure = base.protocol === "https:";
  return {
    url: options.url,
    get(ref) {
      let token: string | undefined;
      if (options.tokenFile) {
        try {
          token = readFileSync(options.tokenFile, "utf8").trim();
        } catch (err) {
          return Promise.reject(
            new Error(`cannot read the token ${options.tokenFile}: ${(err as Error).message}`),
          );
        }
      }
      const path = objectPath(ref);
      return new Promise((resolve, reject) => {
        let settled = false;
        const settle = (err: Error | null, body?: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(deadline);
          if (err) reject(err);
          else resolve(body);
        };
        const req = (secure ? httpsRequest : httpRequest)(
          {
            protocol: base.protocol,
            hostname: base.hostname.replace(/^\[|\]$/g, ""),
            port: base.port || (secure ? 443 : 80),
            path,
            method: "GET",
            headers: { accept: "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
            ...(ca ? { ca } : {}),
          },
          (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (d: string) => {
              text += d;
              // A workload's object is kilobytes: an answer far past that is no object to read, and
              // would be held whole in memory for each review while it lasted.
              if (text.length > MAX_ANSWER_CHARS) {
                settle(
                  new Error(
                    `the Kubernetes API's answer to ${path} is larger than ${MAX_ANSWER_CHARS / (1024 * 1024)} MiB: no workload object is`,
                  ),
                );
                req.destroy();
              }
            });
            res.on("end", () => {
              let body: unknown;
              try {
                body = JSON.parse(text);
              } catch {
                body = undefined;
              }
              if (res.statusCode === 200 && body !== undefined) return settle(null, body);
              // Errors come as a meta/v1 Status with a message.
              const message = (body as { message?: unknown } | undefined)?.message;
              settle(
                new Error(
                  `the Kubernetes API answered ${res.statusCode} for ${path}${typeof message === "string" ? `: ${message}` : ""}`,
                ),
              );
            });
            // A connection dropped after the headers ends the response without 'end' (and req hears
            // nothing more): without these the call never settled and the review was never answered.
            const brokeOff = () =>
              settle(new Error(`the Kubernetes API broke off its answer to ${path} (connection closed)`));
            res.on("error", brokeOff);
            res.on("close", () => {
              if (!res.complete) brokeOff();
            });
          },
        );
        // One deadline for the whole call, connection to the body's last byte. (http.request's `timeout`
        // is the socket's idle time: a body dripped a byte a second never trips it.)
        const deadline = setTimeout(() => {
          settle(new Error(`the Kubernetes API did not answer ${path} within ${options.timeoutMs} ms`));
          req.destroy();
        }, options.timeoutMs);
        req.on("error", (err) =>
          settle(new Error(`cannot reach the Kubernetes API at ${options.url}: ${err.message}`)),
        );
        req.end();
      });
    },
  };
}
