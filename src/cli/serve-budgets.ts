import { readBudgetStateFile } from "../budget/build-state.js";
import type { BudgetGateOptions } from "../budget/gate.js";
import { type BudgetStateWatch, watchBudgetState } from "../budget/watch.js";
import { InputError } from "../errors.js";
import type { LoadedPolicy } from "../policy/types.js";
import type { ReloadOutcome } from "../server/policy-reloader.js";
import { type PathWatcher, watchPaths } from "../server/watch.js";
import {
  type BudgetSourceOptions,
  budgetGateFromCli,
  resolveAt,
  resolveCostColumn,
} from "./budget-options.js";
import type { CliContext } from "./context.js";

/** The reload trigger a new budget state uses, so a budget reload does not rebuild the state again. */
export const BUDGET_RELOAD = "budget state";

/** Budget state for a long-running gate, kept current while it runs. */
export interface LiveBudgets {
  /** The state to compile the current policies with (undefined without --billing/--budget-state). */
  current(): BudgetGateOptions | undefined;
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
  const fixedAt = opts.at === undefined ? undefined : resolveAt(opts.at, ctx);
  const now = () => fixedAt ?? ctx.now?.() ?? Date.now();
  // The first state is built before listening: a server must not answer without its budgets.
  let state = await budgetGateFromCli(policies, opts, ctx);
  let watch: BudgetStateWatch | undefined;
  let fileWatch: PathWatcher | undefined;

  return {
    current: () => state,
    follow({ reload, policies: served, log }) {
      if (opts.budgetState) {
        const file = opts.budgetState;
        fileWatch = watchPaths(
          [file],
          250,
          () => {
            try {
              state = { state: readBudgetStateFile(file), at: now() };
              log.info({ file }, "budget state read again");
              reload(BUDGET_RELOAD);
            } catch (err) {
              log.warn(
                { file, err: (err as Error).message },
                "reading budget state failed; the previous stays",
              );
            }
          },
          (err) => log.warn({ err: err.message }, "watching the budget state file failed"),
        );
        return;
      }
      const costColumn = resolveCostColumn(opts.costColumn);
      watch = watchBudgetState({
        billingFile: opts.billing!,
        policies: served,
        now,
        strict: opts.strict ?? false,
        ...(costColumn ? { costColumn } : {}),
        ...(refreshEveryMs ? { refreshEveryMs } : {}),
        onState: (built) => {
          state = { state: built.state, at: now() };
          log.info(
            { file: opts.billing, rows: built.report.rows, malformed: built.report.malformed },
            "budget state rebuilt from billing",
          );
          reload(BUDGET_RELOAD);
        },
        onError: (err) =>
          log.warn(
            { file: opts.billing, err: (err as Error).message },
            "rebuilding budget state failed; the previous state keeps serving",
          ),
      });
    },
    onReload(outcome) {
      // New policies may have new budget selectors: the state is rebuilt for them (a --budget-state
      // file is what it is).
      if (outcome.trigger !== BUDGET_RELOAD && outcome.result === "loaded") void watch?.refresh();
    },
    close() {
      watch?.close();
      fileWatch?.close();
    },
  };
}
