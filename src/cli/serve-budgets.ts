import { mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readBudgetStateFile } from "../budget/build-state.js";
import type { BudgetGateOptions } from "../budget/gate.js";
import { staleBillingData } from "../budget/state.js";
import { type BudgetStateWatch, type BudgetStateWatchOptions, watchBudgetState } from "../budget/watch.js";
import { InputError } from "../errors.js";
import { loadPolicies, type PolicyFileOptions } from "../policy/load.js";
import type { LoadedPolicy } from "../policy/types.js";
import type { PrimaryLog } from "../server/cluster.js";
import type { BudgetDataView } from "../server/context.js";
import type { ReloadOutcome } from "../server/policy-reloader.js";
import { type PathWatcher, watchPaths } from "../server/watch.js";
import {
  type BudgetSourceOptions,
  budgetGateFromCli,
  resolveAt,
  resolveCostColumn,
  resolveMaxBillingLag,
} from "./budget-options.js";
import type { CliContext } from "./context.js";

/** The reload trigger a new budget state uses, so a budget reload does not rebuild the state again. */
export const BUDGET_RELOAD = "budget state";

/** Budget state for a long-running gate, kept current while it runs. */
export interface LiveBudgets {
  /** The state to compile the current policies with (undefined without --billing/--budget-state). */
  current(): BudgetGateOptions | undefined;
  /** How fresh the served state's billing data is (/readyz, /metrics). */
  view(): BudgetDataView;
  /**
   * Starts following the source: `reload` is called (with BUDGET_RELOAD) whenever a new state is in,
   * `policies` gives the set being served (budget selectors come from it).
   */
  follow(parts: {
    reload: (trigger: string) => void;
    policies: () => readonly LoadedPolicy[];
    log: { info(o: object, msg: string): void; warn(o: object, msg: string): void };
  }): void;
  /** What the server's onReload calls: a policy change rebuilds the state for the new selectors. */
  onReload(outcome: ReloadOutcome): void;
  close(): void;
}

/** The clock budget states are evaluated at: `--at` frozen, else the current time. */
function budgetClock(opts: BudgetSourceOptions, ctx: CliContext): () => number {
  const fixedAt = opts.at === undefined ? undefined : resolveAt(opts.at, ctx);
  return () => fixedAt ?? ctx.now?.() ?? Date.now();
}

/** Follows `--billing`: the state is rebuilt as the export and time move (see watchBudgetState). */
function watchBilling(
  opts: BudgetSourceOptions & { billing: string },
  parts: Pick<BudgetStateWatchOptions, "policies" | "now" | "onState" | "onError"> & {
    refreshEveryMs: number | undefined;
  },
): BudgetStateWatch {
  const costColumn = resolveCostColumn(opts.costColumn);
  const { refreshEveryMs, ...rest } = parts;
  return watchBudgetState({
    billingFile: opts.billing,
    strict: opts.strict ?? false,
    ...(costColumn ? { costColumn } : {}),
    ...(refreshEveryMs ? { refreshEveryMs } : {}),
    ...rest,
  });
}

/**
 * `costguard serve --billing FILE` builds budget state from the export at start and again whenever the
 * file changes (and hourly: periods roll over and forecasts age); `--budget-state FILE` reads a state
 * saved by `costguard budgets --save-state` and reads it again when it changes. `--at` freezes the
 * clock (a what-if server); otherwise each rebuild evaluates at the current time. A rebuild that
 * fails leaves the previous state serving and is logged.
 */
export async function liveBudgets(
  opts: BudgetSourceOptions,
  refreshEveryMs: number | undefined,
  policies: readonly LoadedPolicy[],
  ctx: CliContext,
): Promise<LiveBudgets | undefined> {
  if (!opts.billing && !opts.budgetState) {
    if (opts.at !== undefined) throw new InputError("--at needs --billing or --budget-state");
    return undefined;
  }
  const now = budgetClock(opts, ctx);
  const maxDataLagHours = resolveMaxBillingLag(opts.maxBillingLag);
  // The first state is built before listening: a server must not answer without its budgets.
  let state = await budgetGateFromCli(policies, opts, ctx);
  let watch: BudgetStateWatch | undefined;
  let fileWatch: PathWatcher | undefined;
  let refreshTimer: NodeJS.Timeout | undefined;

  return {
    current: () => state,
    follow({ reload, policies: served, log }) {
      if (opts.budgetState) {
        const file = opts.budgetState;
        const readAgain = (message: string) => {
          try {
            state = { state: readBudgetStateFile(file), at: now(), maxDataLagHours };
            log.info({ file }, message);
            reload(BUDGET_RELOAD);
          } catch (err) {
            log.warn(
              { file, err: (err as Error).message },
              "reading budget state failed; the previous stays",
            );
          }
        };
        fileWatch = watchPaths(
          [file],
          250,
          () => readAgain("budget state read again"),
          (err) => log.warn({ err: err.message }, "watching the budget state file failed"),
        );
        // Unchanged, the state is judged again at the current time every --budget-refresh: a period
        // that ends, or data that goes stale because nothing rewrites the file, shows without a write.
        refreshTimer = setInterval(() => readAgain("budget state judged again"), refreshEveryMs ?? 3_600_000);
        refreshTimer.unref();
        return;
      }
      watch = watchBilling(
        { ...opts, billing: opts.billing! },
        {
          policies: served,
          now,
          refreshEveryMs,
          onState: (built) => {
            state = { state: built.state, at: now(), maxDataLagHours };
            log.info(
              { file: opts.billing, rows: built.report.rows, malformed: built.report.malformed },
              "budget state rebuilt from billing",
            );
            for (const line of built.unmatched) log.warn({ file: opts.billing }, line);
            reload(BUDGET_RELOAD);
          },
          onError: (err) =>
            log.warn(
              { file: opts.billing, err: (err as Error).message },
              "rebuilding budget state failed; the previous state keeps serving",
            ),
        },
      );
    },
    view() {
      const at = state?.at ?? (state ? Date.parse(state.state.at) : now());
      const stale = state ? staleBillingData(state.state, at, maxDataLagHours) : "no budget state";
      return {
        at: new Date(at).toISOString(),
        data_through: state?.state.dataThrough ?? null,
        max_billing_lag_hours: maxDataLagHours,
        stale: stale ?? null,
      };
    },
    onReload(outcome) {
      // New policies may have new budget selectors: the state is rebuilt for them (a --budget-state
      // file is what it is).
      if (outcome.trigger !== BUDGET_RELOAD && outcome.result === "loaded") void watch?.refresh();
    },
    close() {
      watch?.close();
      fileWatch?.close();
      clearInterval(refreshTimer);
    },
  };
}

/** The budget state file a `serve --workers` primary shares with its workers (set in their environment). */
export const SHARED_BUDGET_STATE_ENV = "COSTGUARD_SERVE_BUDGET_STATE";

/** What a primary shares with its workers: environment for them, and a close for shutdown. */
export interface SharedBudgets {
  env: Record<string, string>;
  close(): void;
}

/**
 * `costguard serve --workers N --billing FILE`: the primary reads the billing export — once, not once
 * per worker — into a budget state file in a private temporary folder, and the workers serve that file
 * as they would `--budget-state` (reading it again when it changes). The primary rebuilds it when the
 * export changes, hourly (or `--budget-refresh`), when the policies change (their budget selectors),
 * and on SIGHUP; the file is replaced by rename, so a worker never reads half of one. Without
 * --billing there is nothing to share (a --budget-state file is shared as it is).
 */
export async function shareBudgets(
  opts: BudgetSourceOptions,
  options: {
    refreshEveryMs: number | undefined;
    /** The policies as the primary loaded them, and where they come from (read again on change). */
    policies: readonly LoadedPolicy[];
    policyPaths: readonly string[];
    policyFiles?: PolicyFileOptions;
    watchPolicies: boolean;
  },
  ctx: CliContext,
  log: PrimaryLog,
): Promise<SharedBudgets | undefined> {
  if (!opts.billing) return undefined;
  const billing = opts.billing;
  let policies = options.policies;
  const first = await budgetGateFromCli(policies, opts, ctx);
  const dir = mkdtempSync(join(tmpdir(), "costguard-serve-"));
  const file = join(dir, "budget-state.json");
  const write = (state: unknown) => {
    writeFileSync(`${file}.new`, JSON.stringify(state));
    renameSync(`${file}.new`, file);
  };
  try {
    write(first!.state);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const watch = watchBilling(
    { ...opts, billing },
    {
      policies: () => policies,
      now: budgetClock(opts, ctx),
      refreshEveryMs: options.refreshEveryMs,
      onState: (built) => {
        try {
          write(built.state);
          log(
            "info",
            { file: billing, rows: built.report.rows, malformed: built.report.malformed },
            "budget state rebuilt from billing for the workers",
          );
        } catch (err) {
          log("warn", { file, err: (err as Error).message }, "writing the shared budget state failed");
        }
      },
      onError: (err) =>
        log(
          "warn",
          { file: billing, err: (err as Error).message },
          "rebuilding budget state failed; the workers keep the previous state",
        ),
    },
  );
  const policiesChanged = () => {
    try {
      policies = loadPolicies(options.policyPaths, options.policyFiles).policies;
    } catch (err) {
      // The workers report the broken set; the state stays built for the last good one.
      log(
        "warn",
        { err: (err as Error).message },
        "policies do not load; budget state kept for the previous ones",
      );
      return;
    }
    void watch.refresh();
  };
  const policyWatch = options.watchPolicies
    ? watchPaths(options.policyPaths, 250, policiesChanged, (err) =>
        log("warn", { err: err.message }, "watching the policies failed"),
      )
    : undefined;
  process.on("SIGHUP", policiesChanged);
  return {
    env: { [SHARED_BUDGET_STATE_ENV]: file },
    close() {
      process.off("SIGHUP", policiesChanged);
      watch.close();
      policyWatch?.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
