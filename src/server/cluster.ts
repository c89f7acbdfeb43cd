import cluster, { type Worker } from "node:cluster";
import { AggregatorRegistry, Gauge, type Registry } from "prom-client";
import { type ServeConfig, WORKER_PORT_ENV } from "./config.js";
import { createLineWriter, type LineWriter } from "./line-writer.js";

/**
 * `costguard serve --workers N`: one primary process and N worker processes sharing the port
 * (node:cluster; the primary hands out connections). Each worker is a whole decision server of its own
 * (policies, price book, budgets, exceptions, reloads); the primary only forwards signals, restarts a
 * worker that dies, answers workers' requests for the metrics of every worker, and owns standard
 * output when the decision log goes there (lines bigger than a pipe's atomic size written by several
 * processes at once could interleave).
 */

const METRICS_REQUEST = "costguard:metrics-request";
const METRICS_ANSWER = "costguard:metrics-answer";
const METRICS_COLLECT = "costguard:metrics-collect";
const METRICS_LOCAL = "costguard:metrics-local";
/** How long the primary waits for one worker's series before answering without them. */
const COLLECT_TIMEOUT_MS = 3000;
const LOG_CHUNK = "costguard:decision-log";
const LOG_CHUNK_DONE = "costguard:decision-log-done";

/** One worker's series, as its registry gives them (getMetricsAsJSON) for aggregation. */
type LocalMetrics = Awaited<ReturnType<Registry["getMetricsAsJSON"]>>;

interface Message {
  type?: string;
  id?: number;
  text?: string;
  error?: string;
  metrics?: LocalMetrics;
}

/** A JSON log line in the format the workers' logger (pino) writes, for the primary's few lines. */
export type PrimaryLog = (level: "info" | "warn" | "error", fields: object, msg: string) => void;

export function primaryLogger(
  stream: NodeJS.WritableStream,
  threshold: ServeConfig["logLevel"] = "info",
): PrimaryLog {
  const levels = { info: 30, warn: 40, error: 50 } as const;
  // The workers' levels (pino's numbers): the primary says what is at or above --log-level, as they do.
  const floor = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity }[
    threshold
  ];
  return (level, fields, msg) => {
    if (levels[level] < floor) return;
    stream.write(
      `${JSON.stringify({ level: levels[level], time: Date.now(), service: "costguard", role: "primary", ...fields, msg })}\n`,
    );
  };
}

export interface PrimaryOptions {
  workers: number;
  log: PrimaryLog;
  /** Whether the decision log goes to standard output (then the primary writes it for the workers). */
  decisionLogToStdout: boolean;
  /** Restart backoff: first delay, doubled per quick failure up to 30 s. */
  restartDelayMs?: number;
  /** Environment every worker gets on top of the primary's (what the primary shares with them). */
  env?: Readonly<Record<string, string>>;
}

/**
 * Runs the primary until every worker has stopped after SIGTERM/SIGINT. Resolves with the exit code:
 * 0 after a clean shutdown, or the code of a worker that failed before it ever listened (a
 * configuration problem every worker would hit: the primary stops the others rather than loop).
 */
export function runPrimary(options: PrimaryOptions): Promise<number> {
  const { log } = options;
  const stdoutLog: LineWriter | undefined = options.decisionLogToStdout
    ? createLineWriter(
        { fd: 1 },
        { onError: (err) => log("error", { err: err.message }, "decision log write failed") },
      )
    : undefined;
  const baseDelay = options.restartDelayMs ?? 1000;
  let stopping = false;
  let exitCode = 0;
  let listening = 0;
  let announced = false;
  let boundPort: number | undefined;
  const askedPort = new WeakMap<Worker, number>();
  const ever = new WeakSet<Worker>();
  const started = new WeakMap<Worker, number>();
  // Workers that listen: the ones a scrape collects from. (prom-client's clusterMetrics() asked every
  // worker in cluster.workers, including one still starting, which could not answer: every scrape
  // while a worker started or restarted failed after 5 s.)
  const ready = new Set<Worker>();
  const collecting = new Map<number, (metrics: LocalMetrics | undefined) => void>();
  let nextCollect = 0;
  const localMetrics = (worker: Worker) =>
    new Promise<LocalMetrics | undefined>((resolve) => {
      const id = nextCollect++;
      const settle = (metrics: LocalMetrics | undefined) => {
        collecting.delete(id);
        clearTimeout(timer);
        worker.off("exit", gone);
        resolve(metrics);
      };
      const gone = () => settle(undefined);
      // A worker that does not answer (stuck, or dying) is left out, not waited for.
      const timer = setTimeout(gone, COLLECT_TIMEOUT_MS);
      worker.once("exit", gone);
      collecting.set(id, settle);
      worker.send({ type: METRICS_COLLECT, id }, (err: Error | null) => {
        if (err) gone();
      });
    });
  /** Every ready worker's series, aggregated, and how many workers they are out of how many run. */
  const clusterMetrics = async (): Promise<string> => {
    const answers = await Promise.all([...ready].filter((w) => w.isConnected()).map(localMetrics));
    const got = answers.filter((m): m is LocalMetrics => m !== undefined);
    const registry = AggregatorRegistry.aggregate(got);
    // Counters summed over fewer workers dip while one restarts: these say when a scrape is partial.
    new Gauge({
      name: "costguard_workers",
      help: "Worker processes the server runs (--workers)",
      registers: [registry],
    }).set(options.workers);
    new Gauge({
      name: "costguard_workers_reporting",
      help: "Workers whose series this answer sums (fewer while one starts or restarts)",
      registers: [registry],
    }).set(got.length);
    return registry.metrics();
  };
  // Each slot's last restart delay: one worker that keeps dying backs off without slowing the others'.
  const delays = new Map<number, number>();
  const restarts = new Set<NodeJS.Timeout>();

  const fork = (slot: number) => {
    // The primary shares one listening socket among workers that ask for the same port. A worker
    // started while others listen asks as they did; one started when none does (with --port 0, the
    // last one's death closed the socket) asks for the port they had: a fresh random one would leave
    // the announced URL serving nothing.
    const sibling = [...ready][0];
    const port = sibling === undefined ? boundPort : askedPort.get(sibling);
    const worker = cluster.fork({
      ...options.env,
      COSTGUARD_WORKER: String(slot),
      ...(port === undefined ? {} : { [WORKER_PORT_ENV]: String(port) }),
    });
    if (port !== undefined) askedPort.set(worker, port);
    started.set(worker, Date.now());
    worker.on("listening", (address) => {
      boundPort ??= address.port;
      ever.add(worker);
      ready.add(worker);
      listening++;
      if (!announced && listening === options.workers) {
        announced = true;
        const port = address.port;
        const host =
          address.address === null || address.address === "0.0.0.0" ? "127.0.0.1" : address.address;
        log(
          "info",
          {
            url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
            workers: options.workers,
            pid: process.pid,
          },
          "costguard decision server listening",
        );
      }
    });
    worker.on("message", (message: Message) => {
      if (message.type === METRICS_LOCAL && message.id !== undefined) {
        collecting.get(message.id)?.(message.metrics);
      } else if (message.type === METRICS_REQUEST) {
        clusterMetrics().then(
          (text) => worker.isConnected() && worker.send({ type: METRICS_ANSWER, id: message.id, text }),
          (err: Error) =>
            worker.isConnected() && worker.send({ type: METRICS_ANSWER, id: message.id, error: err.message }),
        );
      } else if (message.type === LOG_CHUNK && stdoutLog) {
        stdoutLog.write(message.text ?? "");
        if (worker.isConnected()) worker.send({ type: LOG_CHUNK_DONE, id: message.id });
      }
    });
    worker.on("exit", (code, signal) => {
      ready.delete(worker);
      if (ever.has(worker)) listening--;
      if (stopping) return;
      if (!ever.has(worker)) {
        // It never listened: a problem every worker will have (port taken, billing file unreadable).
        log("error", { worker: slot, code, signal }, "a worker failed to start: stopping");
        exitCode = code === 0 || code === null ? 1 : code;
        stop("SIGTERM");
        return;
      }
      const lived = Date.now() - (started.get(worker) ?? 0);
      // The first restart (and one after a worker lived a minute) waits baseDelay; each quick death doubles it.
      const previous = delays.get(slot);
      const delay = previous === undefined || lived > 60_000 ? baseDelay : Math.min(previous * 2, 30_000);
      delays.set(slot, delay);
      log("error", { worker: slot, code, signal, restart_in_ms: delay }, "a worker died: restarting it");
      // Not unref'd: with every worker dead at once, this timer is all that keeps the primary running
      // (unref'd, the primary exited 13 and nothing served). stop() clears it.
      const restart = setTimeout(() => {
        restarts.delete(restart);
        if (!stopping) fork(slot);
      }, delay);
      restarts.add(restart);
    });
  };

  let resolveDone: (code: number) => void;
  const done = new Promise<number>((resolve) => {
    resolveDone = resolve;
  });
  const finish = () => {
    process.off("SIGHUP", onHangup);
    process.off("SIGTERM", stop);
    process.off("SIGINT", stop);
    void (stdoutLog?.close() ?? Promise.resolve()).then(() => resolveDone(exitCode));
  };
  const alive = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  function stop(signal: NodeJS.Signals) {
    // A second signal is passed on too: workers then stop without waiting.
    if (!stopping) log("info", { signal, workers: alive().length }, "signal received: stopping the workers");
    stopping = true;
    for (const restart of restarts) clearTimeout(restart);
    restarts.clear();
    const workers = alive();
    if (workers.length === 0) return finish();
    for (const w of workers) w.process.kill("SIGTERM");
  }
  const onHangup = () => {
    log("info", { workers: alive().length }, "SIGHUP: reloading every worker");
    for (const w of alive()) w.process.kill("SIGHUP");
  };
  cluster.on("exit", (worker) => {
    if (stopping && alive().filter((w) => w !== worker).length === 0) finish();
    if (!stopping || worker.exitedAfterDisconnect) return;
    if (worker.process.exitCode !== 0 && worker.process.exitCode !== null && exitCode === 0)
      exitCode = worker.process.exitCode;
  });
  process.on("SIGHUP", onHangup);
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  for (let i = 1; i <= options.workers; i++) fork(i);
  return done;
}

/** What a worker needs from the primary: everyone's metrics, and standard output for the decision log. */
export interface WorkerLink {
  readonly id: number;
  /** The metrics of every worker, summed (gauges by their own rule), in Prometheus text format. */
  clusterMetrics(): Promise<string>;
  /** Sends a chunk of decision log lines to the primary, which writes them to standard output. */
  sendLog(chunk: string, done: (err?: Error | null) => void): void;
}

/** Inside a worker: answers the primary's requests for its series and returns the link, else undefined. */
export function workerLink(registry: Registry): WorkerLink | undefined {
  if (!cluster.isWorker) return undefined;
  let next = 0;
  const pending = new Map<number, { resolve: (t: string) => void; reject: (e: Error) => void }>();
  const logsPending = new Map<number, (err?: Error | null) => void>();
  process.on("message", (message: Message) => {
    if (message.type === METRICS_COLLECT && message.id !== undefined) {
      const id = message.id;
      // A worker's own series, for the primary to sum with the other workers'.
      registry.getMetricsAsJSON().then(
        (metrics) => process.connected && process.send!({ type: METRICS_LOCAL, id, metrics }),
        () => process.connected && process.send!({ type: METRICS_LOCAL, id }),
      );
    } else if (message.type === METRICS_ANSWER && message.id !== undefined) {
      const p = pending.get(message.id);
      pending.delete(message.id);
      if (message.error !== undefined) p?.reject(new Error(message.error));
      else p?.resolve(message.text ?? "");
    } else if (message.type === LOG_CHUNK_DONE && message.id !== undefined) {
      const cb = logsPending.get(message.id);
      logsPending.delete(message.id);
      cb?.();
    }
  });
  return {
    id: Number(process.env.COSTGUARD_WORKER ?? cluster.worker?.id ?? 0),
    clusterMetrics: () =>
      new Promise<string>((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve, reject });
        process.send!({ type: METRICS_REQUEST, id });
      }),
    sendLog(chunk, done) {
      const id = next++;
      logsPending.set(id, done);
      process.send!({ type: LOG_CHUNK, id, text: chunk }, undefined, undefined, (err) => {
        if (err) {
          logsPending.delete(id);
          done(err);
        }
      });
    },
  };
}
