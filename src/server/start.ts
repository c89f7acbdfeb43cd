import { readFileSync } from "node:fs";
import { createSecureContext } from "node:tls";
import type { FastifyInstance } from "fastify";
import { InputError } from "../errors.js";
import { POLICY_EXTENSIONS, type PolicyFileOptions } from "../policy/load.js";
import { buildServer } from "./app.js";
import { workerLink } from "./cluster.js";
import type { ServeConfig } from "./config.js";
import type { BudgetDataView } from "./context.js";
import { createDecisionLog } from "./decision-log.js";
import { createServerMetrics } from "./metrics.js";
import { createPolicyReloader, type DeciderFactory, type ReloadOutcome } from "./policy-reloader.js";
import { type PathWatcher, watchPaths } from "./watch.js";

export interface StartOptions {
  /** How the policy folders are read (the configuration file in use is passed over). */
  policyFiles?: PolicyFileOptions;
  /** Builds the decider from each loaded policy set (price book, budgets plug in here). */
  deciderFactory?: DeciderFactory;
  /** More files the factory reads (price tables): a change to them reloads too. */
  watchAlso?: readonly string[];
  /**
   * Called after every reload attempt (file change, SIGHUP, `reload()`), e.g. to rebuild state the
   * factory reads (budget state follows the policies' selectors) and then `reload()` again.
   */
  onReload?: (outcome: ReloadOutcome) => void;
  logStream?: NodeJS.WritableStream;
  now?: () => Date;
  version?: string;
  /**
   * Inside a `--workers` cluster worker: /metrics answers for every worker, and a decision log to
   * standard output goes through the primary.
   */
  clusterWorker?: boolean;
  /** The served budgets' billing data, for /readyz and /metrics. */
  budgets?: () => BudgetDataView;
}

export interface RunningServer {
  readonly app: FastifyInstance;
  /** `http://127.0.0.1:PORT` (or https). */
  readonly url: string;
  readonly port: number;
  /** Loads the policies again (what a file change or SIGHUP does) and reports it in logs and metrics. */
  reload(trigger: string): ReloadOutcome;
  /** Opens the decision log file again, for log rotation. */
  reopenLogs(): void;
  /** Stops accepting, lets in-flight requests finish, flushes the decision log. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Loads the policies (a bad initial set throws PolicyValidationError: nothing to serve), starts
 * listening, and keeps policies (and the TLS certificate) fresh while files change.
 */
export async function startServer(config: ServeConfig, options: StartOptions = {}): Promise<RunningServer> {
  const reloader = createPolicyReloader({
    paths: config.policies,
    ...(options.policyFiles ? { policyFiles: options.policyFiles } : {}),
    ...(options.deciderFactory ? { deciderFactory: options.deciderFactory } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  const local = createServerMetrics();
  const link = options.clusterWorker ? workerLink(local.registry) : undefined;
  // A worker's /metrics answers for the whole cluster.
  const metrics = link ? { ...local, render: () => link.clusterMetrics() } : local;
  metrics.recordReload(reloader.lastReload(), reloader.current());
  if (options.budgets) local.watchBudgets(options.budgets);

  const readTls = () =>
    config.tlsCert && config.tlsKey
      ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) }
      : undefined;
  const tls = readTls();
  // A file that is no PEM certificate or key (or a key of another certificate) fails here with the
  // flags named, not later inside the TLS server as an internal error.
  if (tls) {
    try {
      createSecureContext(tls);
    } catch (err) {
      throw new InputError(
        `--tls-cert ${config.tlsCert} and --tls-key ${config.tlsKey} are not a PEM certificate and its private key: ${(err as Error).message}`,
      );
    }
  }
  // The decision log reports through the app's logger, which exists only once the app is built.
  let app: FastifyInstance | undefined;
  const decisionLog = createDecisionLog(config.decisionLog, {
    onDrop: (lines) => {
      metrics.recordDecisionLogDrop(lines);
      app?.log.warn({ lines }, "decision log can't keep up: lines dropped");
    },
    onError: (err) => app?.log.error({ err }, "decision log write failed"),
    ...(link
      ? { relay: (chunk: string, done: (err?: Error | null) => void) => link.sendLog(chunk, done) }
      : {}),
  });
  app = buildServer({
    config,
    reloader,
    metrics,
    decisionLog,
    ...(options.logStream ? { logStream: options.logStream } : {}),
    ...(tls ? { tls } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.version ? { version: options.version } : {}),
    ...(link ? { logFields: { worker: link.id } } : {}),
    ...(options.budgets ? { budgets: options.budgets } : {}),
  });
  const log = app.log;
  const first = reloader.lastReload();
  for (const w of first.warnings ?? []) log.warn({ problem: w }, "policy warning");

  const reload = (trigger: string): ReloadOutcome => {
    const outcome = reloader.reload(trigger);
    metrics.recordReload(outcome, reloader.current());
    const fields = {
      trigger,
      revision: outcome.revision,
      previous_revision: outcome.previousRevision,
      duration_ms: Math.round(outcome.durationMs * 10) / 10,
    };
    if (outcome.result === "failed") {
      log.error(
        { ...fields, problems: outcome.problems },
        `policy reload failed, revision ${outcome.revision} keeps serving: ${outcome.error}`,
      );
    } else {
      for (const w of outcome.warnings ?? []) log.warn({ problem: w }, "policy warning");
      const s = reloader.current();
      log.info({ ...fields, policies: s.policies, rules: s.rules }, `policies ${outcome.result}`);
    }
    options.onReload?.(outcome);
    return outcome;
  };

  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : config.port;
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  const url = `${tls ? "https" : "http"}://${host === "0.0.0.0" ? "127.0.0.1" : host}:${port}`;

  const watchers: PathWatcher[] = [];
  if (config.watch) {
    watchers.push(
      watchPaths(
        config.policies,
        config.reloadDebounceMs,
        () => reload("file change"),
        (err) => log.warn({ err: err.message }, "watching policy files failed; reload with SIGHUP"),
        POLICY_EXTENSIONS,
      ),
    );
    if (tls) {
      const server = app.server as unknown as { setSecureContext(o: object): void };
      watchers.push(
        watchPaths(
          [config.tlsCert!, config.tlsKey!],
          config.reloadDebounceMs,
          () => {
            try {
              server.setSecureContext(readTls()!);
              log.info("TLS certificate reloaded");
            } catch (err) {
              log.error({ err: (err as Error).message }, "TLS certificate reload failed; the old one stays");
            }
          },
          (err) => log.warn({ err: err.message }, "watching TLS files failed"),
        ),
      );
    }
  }
  log.info(
    {
      url,
      ...(link ? { pid: process.pid } : {}),
      revision: reloader.current().revision,
      policies: reloader.current().policies,
      rules: reloader.current().rules,
    },
    // In a cluster the primary says it once every worker listens.
    link ? "worker listening" : "costguard decision server listening",
  );

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      for (const w of watchers) w.close();
      log.info("shutting down: finishing in-flight requests");
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), config.shutdownTimeoutMs);
      });
      // Connections close as their last answers go out, idle ones after a grace (see drain.ts).
      const result = await Promise.race([app.close().then(() => "closed" as const), timedOut]);
      clearTimeout(timer);
      if (result === "timeout") {
        log.warn(
          { timeout_ms: config.shutdownTimeoutMs },
          "shutdown timed out: closing remaining connections",
        );
        app.server.closeAllConnections();
      }
      await decisionLog.close();
      log.info("stopped");
    })();
    return closed;
  };

  return { app, url, port, reload, reopenLogs: () => decisionLog.reopen(), close };
}
