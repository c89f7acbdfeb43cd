import { createDecider, type Decider } from "../decide/decider.js";
import { compileRequestGuard } from "../decide/request-guard.js";
import { type CompiledPolicySet, compilePolicySet } from "../engine/compile.js";
import { formatProblem, type PolicyProblem, PolicyValidationError } from "../errors.js";
import { loadPolicies, type PolicyFileOptions } from "../policy/load.js";
import type { LoadedPolicy } from "../policy/types.js";

/** A validated, compiled policy set as loaded from disk. */
export interface LoadedPolicySet {
  policies: readonly LoadedPolicy[];
  policySet: CompiledPolicySet;
  warnings: readonly PolicyProblem[];
}

/**
 * Builds the decider a gate uses from a loaded set. The server takes one so that later stages (price
 * book, budgets, exceptions) plug in where the server is wired, without changing the server.
 */
export type DeciderFactory = (loaded: LoadedPolicySet) => Decider;

export const defaultDeciderFactory: DeciderFactory = ({ policySet }) =>
  createDecider({ policySet, guard: compileRequestGuard(policySet, false) });

/** What serves decisions right now. Replaced whole on reload, never mutated. */
export interface PolicySnapshot {
  readonly decider: Decider;
  readonly revision: string;
  readonly policies: number;
  readonly rules: number;
  readonly files: readonly string[];
  readonly loadedAt: Date;
}

export interface ReloadOutcome {
  result: "loaded" | "unchanged" | "failed";
  trigger: string;
  at: Date;
  durationMs: number;
  /** The revision serving after this reload. */
  revision: string;
  previousRevision: string;
  error?: string;
  problems?: string[];
  warnings?: string[];
}

export interface PolicyReloader {
  /** The snapshot to use for one request (read once per request, so a batch sees one revision). */
  current(): PolicySnapshot;
  /** Loads the files again; on any problem the current snapshot keeps serving. */
  reload(trigger: string): ReloadOutcome;
  /** The last reload attempt (the initial load until there is one). */
  lastReload(): ReloadOutcome;
}

export interface ReloaderOptions {
  paths: readonly string[];
  /** How the paths' folders are read (the configuration file in use is passed over). */
  policyFiles?: PolicyFileOptions;
  deciderFactory?: DeciderFactory;
  now?: () => Date;
}

/**
 * Loads the policy files and keeps the last good set. The first load throws PolicyValidationError
 * (nothing to serve yet); later loads report failures in their outcome instead.
 */
export function createPolicyReloader(options: ReloaderOptions): PolicyReloader {
  const factory = options.deciderFactory ?? defaultDeciderFactory;
  const now = options.now ?? (() => new Date());
  const build = (serving?: PolicySnapshot): { snapshot: PolicySnapshot; warnings: PolicyProblem[] } => {
    const loaded = loadPolicies(options.paths, options.policyFiles);
    const { policies, warnings } = loaded;
    const files = [...new Set(policies.map((p) => p.source.file))];
    if (serving) refuseEmptied(serving, loaded.files, files);
    const policySet = compilePolicySet(policies);
    const decider = factory({ policies, policySet, warnings });
    return {
      snapshot: Object.freeze({
        decider,
        revision: policySet.revision,
        policies: policies.length,
        rules: policySet.rules.length,
        files,
        loadedAt: now(),
      }),
      warnings,
    };
  };

  const started = performance.now();
  const first = build();
  let snapshot = first.snapshot;
  let last: ReloadOutcome = {
    result: "loaded",
    trigger: "start",
    at: snapshot.loadedAt,
    durationMs: performance.now() - started,
    revision: snapshot.revision,
    previousRevision: "",
    ...(first.warnings.length > 0 ? { warnings: first.warnings.map(formatProblem) } : {}),
  };

  return {
    current: () => snapshot,
    lastReload: () => last,
    reload(trigger) {
      const t0 = performance.now();
      const previousRevision = snapshot.revision;
      try {
        const next = build(snapshot);
        snapshot = next.snapshot;
        last = {
          result: next.snapshot.revision === previousRevision ? "unchanged" : "loaded",
          trigger,
          at: next.snapshot.loadedAt,
          durationMs: performance.now() - t0,
          revision: snapshot.revision,
          previousRevision,
          ...(next.warnings.length > 0 ? { warnings: next.warnings.map(formatProblem) } : {}),
        };
      } catch (err) {
        const problems =
          err instanceof PolicyValidationError
            ? err.problems.filter((p) => p.severity === "error").map(formatProblem)
            : [(err as Error).message];
        last = {
          result: "failed",
          trigger,
          at: now(),
          durationMs: performance.now() - t0,
          revision: previousRevision,
          previousRevision,
          error: problems.length === 1 ? problems[0]! : `${problems.length} problems in policies`,
          problems,
        };
      }
      return last;
    },
  };
}

/**
 * A file the serving set has policies from that is still there and holds none now. Saving a file in
 * place truncates it before writing it, and a reload can read it in between (a slow writer, a tool
 * writing it in pieces): empty, or only the comments at its top. Loaded, its policies vanished
 * silently until the next change. So it is refused as a failed reload: the serving set stays, and
 * the finished write is a change that reloads again. Whoever means to drop all of a file's policies
 * deletes the file.
 */
function refuseEmptied(serving: PolicySnapshot, read: readonly string[], holding: readonly string[]): void {
  const emptied = serving.files.filter((f) => read.includes(f) && !holding.includes(f));
  if (emptied.length === 0) return;
  throw new PolicyValidationError(
    emptied.map((file) => ({
      file,
      line: 0,
      column: 0,
      path: "",
      severity: "error",
      message:
        "holds no policy now, where the serving set has policies from it: taken as a file being written, and not loaded (delete the file to remove its policies)",
    })),
  );
}
