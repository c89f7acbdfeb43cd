import cluster from "node:cluster";
import type { Command } from "commander";
import { createDecider } from "../../decide/decider.js";
import { compileRequestGuard } from "../../decide/request-guard.js";
import { compilePolicySet } from "../../engine/compile.js";
import { InputError } from "../../errors.js";
import { refuseOverwrite } from "../../files.js";
import { loadPolicies } from "../../policy/load.js";
import type { LoadedPolicy } from "../../policy/types.js";
import {
  resolveServeConfig,
  SERVE_DEFAULTS,
  type ServeConfig,
  type ServeInput,
  serveInputFromEnv,
  WORKER_PORT_ENV,
} from "../../server/config.js";
import type { LoadedPolicySet, ReloadOutcome } from "../../server/policy-reloader.js";
import type { RunningServer } from "../../server/start.js";
import { parseTimerDuration } from "../../time/duration.js";
import { addBudgetSourceOptions, type BudgetSourceOptions, checkBudgetSource } from "../budget-options.js";
import type { CliContext } from "../context.js";
import { addExceptionGateOptions, type ExceptionGateOptions } from "../exception-options.js";
import { CliExit } from "../exit.js";
import { collect, configInUse, configuredPolicies, inputFiles } from "../policy-options.js";
import { createPricedDecider, loadPriceBookForCli } from "../price-options.js";
import { liveBudgets, SHARED_BUDGET_STATE_ENV, shareBudgets } from "../serve-budgets.js";
import { liveExceptions } from "../serve-exceptions.js";

interface ServeFlags extends ExceptionGateOptions, BudgetSourceOptions {
  exceptionsRefresh?: string;
  budgetRefresh?: string;
  policies?: string[];
  priceBook?: string[];
  estimates?: boolean;
  port?: string;
  host?: string;
  decisionLog?: string;
  bodyLimit?: string;
  requestTimeout?: string;
  maxBatch?: string;
  watch?: boolean;
  reloadDebounce?: string;
  shutdownTimeout?: string;
  logLevel?: string;
  tlsCert?: string;
  tlsKey?: string;
  daemonsetNodes?: string;
  evaluateOwned?: boolean;
  kubeApi?: string;
  kubeTokenFile?: string;
  kubeCaFile?: string;
  workers?: string;
}

export function registerServe(program: Command, ctx: CliContext): void {
  const d = SERVE_DEFAULTS;
  const command = program
    .command("serve")
    .description("run the HTTP decision server and Kubernetes admission webhook")
    .option(
      "-p, --policies <path>",
      "policy file or folder (repeatable, or comma-separated; default: COSTGUARD_POLICIES, then policies: in costguard.yaml)",
      collect,
    )
    .option(
      "--price-book <path>",
      "CSV or YAML price table adding to or overriding the embedded book (repeatable)",
      collect,
    )
    .option(
      "--no-estimates",
      "decide without the price book: no estimated_monthly_cost, nothing filled from instance_type",
    )
    .option("--port <n>", `port to listen on; 0 picks a free one (default ${d.port})`)
    .option("--host <host>", `address to listen on; 0.0.0.0 in a container (default ${d.host})`)
    .option("--decision-log <file|->", "append one JSON line per decision to FILE, or - for stdout")
    .option("--body-limit <size>", "largest request body: bytes, 512Ki, 4Mi, 4MB (default 4Mi)")
    .option(
      "--request-timeout <duration>",
      "time to receive a request, and with TLS to complete a handshake, e.g. 9s (default 9s)",
    )
    .option("--max-batch <n>", `most requests in one /v1/evaluate batch (default ${d.maxBatch})`)
    .option("--no-watch", "do not reload when policy files change (SIGHUP still reloads)")
    .option(
      "--reload-debounce <duration>",
      `wait after a file change before reloading (default ${d.reloadDebounceMs}ms)`,
    )
    .option("--shutdown-timeout <duration>", "how long SIGTERM waits for in-flight requests (default 10s)")
    .option("--log-level <level>", `fatal, error, warn, info, debug, trace or silent (default ${d.logLevel})`)
    .option("--tls-cert <file>", "serve HTTPS with this PEM certificate (reloaded when it changes)")
    .option("--tls-key <file>", "the PEM private key of --tls-cert")
    .option("--daemonset-nodes <n>", "count a DaemonSet's pods on this many nodes (default 1: per node)")
    .option("--evaluate-owned", "also evaluate Pods, ReplicaSets and Jobs that a controller owns")
    .option(
      "--kube-api <where>",
      "Kubernetes API read for reviews of a workload's scale subresource (kubectl scale, autoscalers): auto (in-cluster when in a pod, default), in-cluster, off, or a URL",
    )
    .option("--kube-token-file <file>", "bearer token for --kube-api (in-cluster: the service account's)")
    .option("--kube-ca-file <file>", "CA bundle for --kube-api (in-cluster: the service account's)")
    .option(
      "--workers <n|auto>",
      "server processes sharing the port; auto = one per CPU (default 1; in Kubernetes scale replicas instead)",
    )
    .option(
      "--exceptions-refresh <duration>",
      "how often approved exceptions are read from the store again (default 30s; SIGHUP too)",
    )
    .option(
      "--budget-refresh <duration>",
      "rebuild budget state from --billing (or judge --budget-state again) this often even without a change (default 1h)",
    );
  addBudgetSourceOptions(command);
  addExceptionGateOptions(command)
    .addHelpText(
      "after",
      `
Routes:
  POST /v1/evaluate    one request or an array (same JSON as costguard evaluate)
  POST /v1/admission   Kubernetes admission.k8s.io/v1 AdmissionReview (validating webhook)
  GET  /healthz  /readyz  /metrics  /openapi.json

Every option can also be set as COSTGUARD_<NAME> (e.g. COSTGUARD_PORT=9000,
COSTGUARD_POLICIES=a.yaml,b.yaml); flags win over the environment.
Budgets: with --billing FILE (a FOCUS export) or --budget-state FILE, budget rules are enforced;
the state is rebuilt when the file changes and every --budget-refresh, at the current time unless
--at freezes it. Without either, budget rules are listed under not_evaluated.
Policies reload on file change and on SIGHUP (an invalid edit keeps the last good set);
SIGTERM or SIGINT stop gracefully. Logs are JSON lines on stderr.

Examples:
  costguard serve --policies examples/policies --port 8080
  costguard serve --policies /etc/costguard --host 0.0.0.0 --port 8443 \\
    --tls-cert /tls/tls.crt --tls-key /tls/tls.key --decision-log -
  curl -s localhost:8080/v1/evaluate -H 'content-type: application/json' \\
    -d '{"type":"compute/instance","specs":{"vcpus":32}}'`,
    )
    .action(async (opts: ServeFlags, cmd: Command) => {
      try {
        await serve(opts, cmd);
      } finally {
        // The channel to the primary would keep a stopped (or failed) worker alive.
        if (cluster.isWorker) cluster.worker?.disconnect();
      }
    });

  async function serve(opts: ServeFlags, cmd: Command): Promise<void> {
    checkBudgetSource(opts);
    // A value that is wrong is said before that it is unused: the more precise error.
    if (budgetRefreshMs(opts) !== undefined && !opts.billing && !opts.budgetState)
      throw new InputError("--budget-refresh needs --billing or --budget-state");
    if (opts.exceptionsRefresh !== undefined && opts.exceptions === false)
      throw new InputError("--exceptions-refresh does nothing with --no-exceptions");
    const fromEnv = serveInputFromEnv(ctx.env);
    const flags: ServeInput = {
      // --policies, else COSTGUARD_POLICIES, else the configuration's (as every command reads them).
      policies: opts.policies ?? (fromEnv.policies?.length ? undefined : configuredPolicies(ctx)),
      priceBooks: opts.priceBook,
      estimates: cmd.getOptionValueSource("estimates") === "cli" ? opts.estimates : undefined,
      port: opts.port,
      host: opts.host,
      decisionLog: opts.decisionLog,
      bodyLimit: opts.bodyLimit,
      requestTimeout: opts.requestTimeout,
      maxBatch: opts.maxBatch,
      // --no-watch has a default of true; only a flag actually given overrides the environment.
      watch: cmd.getOptionValueSource("watch") === "cli" ? opts.watch : undefined,
      reloadDebounce: opts.reloadDebounce,
      shutdownTimeout: opts.shutdownTimeout,
      logLevel: opts.logLevel,
      tlsCert: opts.tlsCert,
      tlsKey: opts.tlsKey,
      daemonsetNodes: opts.daemonsetNodes,
      evaluateOwned: opts.evaluateOwned,
      kubeApi: opts.kubeApi,
      kubeTokenFile: opts.kubeTokenFile,
      kubeCaFile: opts.kubeCaFile,
      workers: opts.workers,
    };
    const config = resolveServeConfig(fromEnv, flags, ctx.env);
    // A policy folder holding the configuration file in use (`policies: .`) does not read it.
    const policyFiles = { skip: configInUse(ctx) };
    // Read here at most once, for what start-up checks (the server's reloader reads its own).
    let loaded: LoadedPolicy[] | undefined;
    const policiesOnce = () => {
      loaded ??= loadPolicies(config.policies, policyFiles).policies;
      return loaded;
    };
    // Appending decisions to a policy file (or the export) would break what the server reads.
    if (config.decisionLog && config.decisionLog !== "-" && cluster.isPrimary)
      refuseOverwrite(
        config.decisionLog,
        "--decision-log",
        inputFiles(policiesOnce(), { ...opts, priceBook: config.priceBooks }),
        "appending decisions there would break it",
      );
    if (config.workers > 1 && cluster.isPrimary) {
      // Policies are checked here once, so a broken set is one clear error, not one per worker.
      const policies = policiesOnce();
      // The server (fastify, prom-client) is loaded by the one command that serves, not by every command.
      const { primaryLogger, runPrimary } = await import("../../server/cluster.js");
      const log = primaryLogger(ctx.stderr, config.logLevel);
      // With --billing, the export is read here, once, and the workers follow the state built from it.
      const shared = await shareBudgets(
        opts,
        {
          refreshEveryMs: budgetRefreshMs(opts),
          policies,
          policyPaths: config.policies,
          policyFiles,
          watchPolicies: config.watch,
        },
        ctx,
        log,
      );
      try {
        const code = await runPrimary({
          workers: config.workers,
          log,
          decisionLogToStdout: config.decisionLog === "-",
          ...(shared ? { env: shared.env } : {}),
        });
        if (code !== 0) throw new CliExit(code);
      } finally {
        shared?.close();
      }
      return;
    }
    // A worker of a primary that shares budget state serves that state, not the export.
    const sharedState = cluster.isWorker ? ctx.env[SHARED_BUDGET_STATE_ENV] : undefined;
    const budgetOpts: BudgetSourceOptions = sharedState ? withoutBilling(opts, sharedState) : opts;
    const refreshMs = parseDuration(opts.exceptionsRefresh ?? "30s", "--exceptions-refresh");
    // Approved exceptions come last, after the cost estimate (they must see every violation).
    const exceptions = opts.exceptions === false ? undefined : liveExceptions(opts, ctx, () => new Date());
    await exceptions?.refresh();
    const last = exceptions ? [exceptions.annotator] : [];
    const budgets = await liveBudgets(
      budgetOpts,
      budgetRefreshMs(opts),
      budgetOpts.billing || budgetOpts.budgetState ? policiesOnce() : [],
      ctx,
    );
    const { startServer } = await import("../../server/start.js");
    let served: readonly LoadedPolicy[] = [];
    let running: RunningServer;
    try {
      running = await startServer(
        listenConfig(config, cluster.isWorker ? ctx.env[WORKER_PORT_ENV] : undefined),
        {
          version: program.version() ?? "unknown",
          policyFiles,
          logStream: ctx.stderr,
          // Every decision carries its estimated monthly cost; the book is read again on each reload.
          // With budgets, the set is compiled again with the latest budget state.
          deciderFactory: ({ policies, policySet: plain }: LoadedPolicySet) => {
            served = policies;
            const state = budgets?.current();
            const policySet = state ? compilePolicySet(policies, { budgets: state }) : plain;
            return config.estimates
              ? createPricedDecider(policySet, loadPriceBookForCli(config.priceBooks), [], last)
              : createDecider({ policySet, annotators: last, guard: compileRequestGuard(policySet, false) });
          },
          ...(budgets ? { onReload: (outcome: ReloadOutcome) => budgets.onReload(outcome) } : {}),
          watchAlso: config.priceBooks,
          clusterWorker: cluster.isWorker,
          ...(budgets ? { budgets: () => budgets.view() } : {}),
        },
      );
    } catch (err) {
      const e = err as { code?: string; message?: string };
      if (e.code === "EADDRINUSE" || e.code === "EADDRNOTAVAIL" || e.code === "EACCES")
        throw new InputError(`cannot listen on ${config.host}:${config.port}: ${e.message}`);
      // --host names no address this machine can look up (a typo, 999.1.1.1): the option's fault.
      if (e.code === "ENOTFOUND" || e.code === "EAI_AGAIN")
        throw new InputError(
          `cannot listen on ${config.host}:${config.port}: no such host (--host takes an address of this machine, 0.0.0.0 for all, or a name that resolves to one)`,
        );
      throw err;
    }
    const server = running;
    budgets?.follow({ reload: (t) => server.reload(t), policies: () => served, log: server.app.log });
    const refreshExceptions = () =>
      exceptions
        ?.refresh()
        .catch((err: Error) =>
          server.app.log.warn(
            { err: err.message },
            "reading approved exceptions failed; the previous ones stay",
          ),
        );
    const timer = exceptions ? setInterval(refreshExceptions, refreshMs) : undefined;
    timer?.unref();
    await untilStopped(running, () => void refreshExceptions(), cluster.isWorker);
    clearInterval(timer);
    budgets?.close();
  }
}

function withoutBilling(opts: BudgetSourceOptions, budgetState: string): BudgetSourceOptions {
  // What reads the export stays with the primary: the state the worker reads was counted there.
  const { billing: _billing, strict: _strict, costColumn: _costColumn, ...rest } = opts;
  return { ...rest, budgetState };
}

function budgetRefreshMs(opts: { budgetRefresh?: string }): number | undefined {
  return opts.budgetRefresh === undefined ? undefined : parseDuration(opts.budgetRefresh, "--budget-refresh");
}

/** A refresh interval: `30s`, `5m`, `1h` (a bare number is seconds), at least a second. */
function parseDuration(text: string, flag: string): number {
  let ms: number;
  try {
    ms = parseTimerDuration(text, 1000);
  } catch (err) {
    throw new InputError(`${flag}: ${(err as Error).message}`);
  }
  if (ms < 1000) throw new InputError(`${flag}: at least 1s, got "${text}"`);
  return ms;
}

/** SIGHUP reloads; SIGTERM and SIGINT shut down gracefully (a second one exits at once). */
function untilStopped(running: RunningServer, onHangupToo: () => void, worker: boolean): Promise<void> {
  return new Promise((resolve) => {
    const onHangup = () => {
      running.reload("SIGHUP");
      running.reopenLogs();
      onHangupToo();
    };
    let stopping = false;
    const onStop = (signal: NodeJS.Signals) => {
      if (stopping) {
        running.app.log.warn({ signal }, "second signal: exiting without waiting");
        process.exit(1);
      }
      stopping = true;
      running.app.log.info({ signal }, "signal received");
      void running.close().then(() => {
        process.off("SIGHUP", onHangup);
        process.off("SIGTERM", onStop);
        process.off("SIGINT", onInterrupt);
        resolve();
      });
    };
    // A cluster worker leaves Ctrl-C to the primary, which stops every worker with SIGTERM.
    const onInterrupt = worker ? () => {} : onStop;
    process.on("SIGHUP", onHangup);
    process.on("SIGTERM", onStop);
    process.on("SIGINT", onInterrupt);
  });
}

/** The configuration a worker listens with: the port the primary hands a restarted worker, if any. */
function listenConfig(config: ServeConfig, workerPort: string | undefined): ServeConfig {
  return workerPort === undefined ? config : { ...config, port: Number(workerPort) };
}
