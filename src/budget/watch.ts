import { type FSWatcher, watch } from "node:fs";
import { basename, dirname } from "node:path";
import type { LoadedPolicy } from "../policy/types.js";
import {
  type BuildBudgetStateOptions,
  type BuiltBudgetState,
  buildBudgetStateFromFile,
} from "./build-state.js";

export interface BudgetStateWatchOptions extends Omit<BuildBudgetStateOptions, "at"> {
  billingFile: string;
  /** The policies in force now (a server passes its current set, so reloads are picked up). */
  policies: () => readonly LoadedPolicy[];
  /** The clock. */
  now: () => number;
  /** Called with every new state; the caller recompiles its policy set with it. */
  onState: (built: BuiltBudgetState) => void;
  /** Called when a rebuild fails; the previous state keeps serving. */
  onError: (err: unknown) => void;
  /** Quiet time after the last change before rebuilding (exports are written in pieces). Default 500 ms. */
  debounceMs?: number;
  /** Rebuild this often even without a change: periods roll over and forecasts age. Default 1 hour. */
  refreshEveryMs?: number;
}

export interface BudgetStateWatch {
  /** Rebuilds now (also what the watcher calls); resolves when done. */
  refresh(): Promise<void>;
  close(): void;
}

/**
 * Keeps budget state current for a long-running gate (the HTTP server): rebuilds it when the billing
 * file changes — watched through its folder, so an export replaced by rename is seen — and on a timer.
 * Rebuilds never overlap; a change during a rebuild schedules one more.
 */
export function watchBudgetState(options: BudgetStateWatchOptions): BudgetStateWatch {
  const { billingFile, policies, now, onState, onError } = options;
  const debounceMs = options.debounceMs ?? 500;
  let running: Promise<void> | null = null;
  let again = false;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const build = async (): Promise<void> => {
    const { billingFile: _file, policies: _p, now: _n, onState: _s, onError: _e, ...rest } = options;
    try {
      onState(await buildBudgetStateFromFile(policies(), billingFile, { ...rest, at: now() }));
    } catch (err) {
      onError(err);
    }
  };
  const refresh = async (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await build();
      } while (again && !closed);
    })().finally(() => {
      running = null;
    });
    return running;
  };
  let watcher: FSWatcher | null = null;
  try {
    watcher = watch(dirname(billingFile), (_event, name) => {
      if (closed || (name !== null && name !== basename(billingFile))) return;
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => void refresh(), debounceMs);
    });
    watcher.on("error", onError);
  } catch (err) {
    onError(err);
  }
  const interval = setInterval(() => void refresh(), options.refreshEveryMs ?? 3_600_000);
  interval.unref();
  return {
    refresh,
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      clearInterval(interval);
      watcher?.close();
    },
  };
}
