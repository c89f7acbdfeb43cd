import type { Command } from "commander";
import type { CostguardConfig } from "../config/load.js";
import { type CycleResult, runComplianceCycle } from "../cycle/compliance-cycle.js";
import { compilePolicySet } from "../engine/compile.js";
import { InputError } from "../errors.js";
import { policyCatalog } from "../exceptions/catalog.js";
import { createExceptionService } from "../exceptions/service.js";
import type { AwsWaits } from "../inventory/aws/aws-actions.js";
import { fileProvider } from "../inventory/file/file-provider.js";
import { sandboxResourceActions } from "../inventory/sandbox/resource-actions.js";
import { SANDBOX_SOURCE, sandboxProvider } from "../inventory/sandbox/sandbox.js";
import type { InventoryProvider } from "../inventory/types.js";
import { loadPriceBook } from "../pricing/load.js";
import type { ResourceActions } from "../remediation/actions.js";
import type { ExecutorEvent } from "../remediation/executor.js";
import type { RemediationAction } from "../remediation/types.js";
import { DEFAULT_DETECTORS } from "../scan/detectors.js";
import { type PriceLookup, priceLookupFromBook } from "../scan/prices.js";
import { createScanDecider } from "../scan/scan-decider.js";
import type { Store } from "../store/store.js";
import type { Clock } from "../time/clock.js";
import { type AwsFlags, addAwsOptions, refuseAwsFlagsElsewhere } from "./aws-options.js";
import { billingLine, type GivenBilling, readBillingForCli } from "./billing-output.js";
import { oneBillingFile } from "./budget-options.js";
import { refuseActingAhead, refuseStoringAhead } from "./clock.js";
import { ensureDemoSandbox } from "./commands/sandbox.js";
import type { CliContext } from "./context.js";
import { CliExit } from "./exit.js";
import { ONE_INVENTORY } from "./given-once.js";
import { holdInterrupts, InterruptedError } from "./interrupt.js";
import { INVENTORY_NAME_OPTION, inventoryHint, inventoryName, renamed } from "./inventory-name.js";
import { ALLOW_EMPTY_OPTION, addLockTimeoutOption, lockWait } from "./lock-timeout.js";
import { type CliNotifier, withOutboxNotifier } from "./notices.js";
import { noPoliciesText } from "./policy-options.js";
import { progressBar, showStoring } from "./progress.js";
import {
  addWorkspaceOptions,
  type WorkspaceOptions,
  withStore,
  workspaceClock,
  workspaceConfig,
  workspacePolicies,
} from "./workspace.js";

export interface CycleFlags extends WorkspaceOptions, AwsFlags {
  inventory?: string;
  execute?: boolean;
  format: string;
  verbose?: boolean;
  store?: boolean;
  lockTimeout: string;
  allowEmpty?: boolean;
  inventoryName?: string;
  billing?: string;
}

export function addCycleOptions(cmd: Command): Command {
  return addAwsOptions(
    addLockTimeoutOption(addWorkspaceOptions(cmd))
      .option("-i, --inventory <source>", "sandbox, file:PATH or aws (a file cannot act)", ONE_INVENTORY)
      .option("--execute", "act: without it nothing is changed (a dry run)")
      .option("--no-store", "do not save the scan and its findings (tasks are still kept when acting)")
      .option("--format <format>", "table or json", "table")
      .option("--verbose", "with --execute: print every step of every action on stderr as it happens")
      .option(...ALLOW_EMPTY_OPTION)
      .option(...INVENTORY_NAME_OPTION)
      .option(
        "-b, --billing <file>",
        "FOCUS billing export: price resources from what they were charged over the last 30 days (as scan --billing)",
        oneBillingFile,
      ),
  );
}

/**
 * The cycle's options that change nothing as given, for refuseUnused (as `costguard scan` refuses
 * them): --lock-timeout with --no-store waits for nothing unless the run acts (--execute waits for
 * the inventory's acting lock), and a scan not stored resolves nothing however empty.
 */
export function unusedCycleOptions(flags: CycleFlags): Record<string, string | false> {
  return {
    lockTimeout:
      flags.store === false &&
      !flags.execute &&
      "does nothing with --no-store: only stored scans of an inventory, and runs that act on it (--execute), wait for each other",
    allowEmpty:
      flags.store === false && "does nothing with --no-store: a scan not stored resolves no findings",
  };
}

/** Whether `--inventory` names one that can act with --execute: the sandbox and aws, not a file. */
export function inventoryActs(inventory: string | undefined): boolean {
  return inventory === SANDBOX_SOURCE || inventory === "aws";
}

/** The inventory a cycle scans, and what acts on it with --execute (the sandbox, or AWS). */
interface CycleInventory {
  provider: InventoryProvider;
  /** Built only when acting: a dry run calls nothing that changes anything. */
  actions?: () => ResourceActions & { close?(): void };
  /** What it cannot act on (planned as notices instead), in a dry run too. */
  cannot?: (action: RemediationAction, resourceType: string) => string | undefined;
}

async function openInventory(
  spec: string | undefined,
  flags: AwsFlags,
  store: Store,
  ctx: CliContext,
  prices: PriceLookup,
  clock: Clock,
): Promise<CycleInventory> {
  if (!spec) throw new InputError("--inventory is required: sandbox, file:PATH or aws");
  if (spec === SANDBOX_SOURCE)
    return {
      provider: sandboxProvider(store),
      actions: () => sandboxResourceActions(store, prices, clock, { latencyMs: sandboxLatency(ctx) }),
    };
  if (spec.startsWith("file:")) {
    const path = spec.slice(5);
    if (path === "") throw new InputError("--inventory file:PATH needs a path");
    return {
      provider: fileProvider(path.startsWith("/") ? path : `${ctx.cwd}/${path}`, { displayName: path }),
    };
  }
  if (spec === "aws") {
    // Loaded on demand, as by `costguard scan`: the AWS SDK is large and most cycles never need it.
    const { awsOptionsFromCli, awsStopsTheRun, openAwsInventory } = await import("./commands/scan-aws.js");
    const { awsCannot, awsResourceActions, rememberLocations } = await import(
      "../inventory/aws/aws-actions.js"
    );
    const options = awsOptionsFromCli(flags, ctx, DEFAULT_DETECTORS.idle.windowDays);
    // The scan remembers where each resource lives: acting calls its region, through its account's role.
    const read = rememberLocations(await openAwsInventory(options, prices, clock()), options);
    return {
      provider: read.provider,
      actions: () =>
        Object.assign(awsResourceActions(options, read.locate, prices, awsWaits(ctx)), {
          stopsTheRun: awsStopsTheRun,
        }),
      cannot: awsCannot,
    };
  }
  throw new InputError(
    `--inventory must be sandbox, file:PATH or aws, got ${spec}${inventoryHint(spec, ctx.cwd)}`,
  );
}

/**
 * How long acting on AWS waits for an instance to stop or start: COSTGUARD_AWS_WAIT_SECONDS (default
 * 600) and, for tests against a local endpoint, COSTGUARD_AWS_POLL_SECONDS between looks (default 5).
 */
function awsWaits(ctx: CliContext): AwsWaits {
  const seconds = (name: string): number | undefined => {
    const text = ctx.env[name];
    if (text === undefined || text === "") return undefined;
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0)
      throw new InputError(`${name} must be a number of seconds, got ${text}`);
    return n;
  };
  const wait = seconds("COSTGUARD_AWS_WAIT_SECONDS");
  const poll = seconds("COSTGUARD_AWS_POLL_SECONDS");
  return {
    ...(wait !== undefined ? { maxWaitSeconds: wait } : {}),
    ...(poll !== undefined ? { minDelaySeconds: poll, maxDelaySeconds: Math.max(poll, 1) } : {}),
  };
}

function eventLine(e: ExecutorEvent): string {
  const what = e.step ? `${e.type} ${e.step}` : e.type;
  return `costguard: ${what} ${e.action} ${e.resource_id} (${e.task_id})${e.message ? `: ${e.message}` : ""}\n`;
}

/** A cycle run from the CLI, and the interrupt that stopped its remediation early, if one did. */
export interface CliCycleResult extends CycleResult {
  interrupt?: InterruptedError | undefined;
  /** The billing export the scan was priced from (`--billing`), for billingLine. */
  billing?: GivenBilling | undefined;
}

/**
 * Everything `remediate` and `run` share: configuration, store, policies, inventory, exceptions,
 * the outbox, then one compliance cycle.
 */
export async function runCycleFromCli(
  flags: CycleFlags,
  ctx: CliContext,
  after: (result: CycleResult, config: CostguardConfig, notifier: CliNotifier) => Promise<void>,
): Promise<CliCycleResult> {
  if (flags.format !== "table" && flags.format !== "json")
    throw new InputError(`--format must be table or json, got ${flags.format}`);
  const config = workspaceConfig(flags, ctx);
  const clock = workspaceClock(flags, ctx);
  if (flags.execute) refuseActingAhead(clock(), flags.at, ctx.now?.() ?? Date.now());
  if (flags.store !== false) refuseStoringAhead(clock(), flags.at, ctx.now?.() ?? Date.now());
  const policies = workspacePolicies(flags, config, ctx);
  if (!policies) throw new InputError(noPoliciesText(config.file));
  const lockTimeout = lockWait(flags, ctx);
  const keptAs = inventoryName(flags.inventoryName, flags.inventory);
  // Before anything is opened or made (the demo sandbox of an empty store).
  if (flags.inventory) refuseAwsFlagsElsewhere(flags.inventory, flags);
  if (flags.verbose && !flags.execute)
    throw new InputError(
      "--verbose prints each action's steps as it acts: it needs --execute (a dry run acts on nothing)",
    );
  if (flags.execute && !inventoryActs(flags.inventory))
    throw new InputError(
      `--execute acts through the inventory provider: the sandbox and aws can act, a file cannot (got ${flags.inventory ?? "none"})`,
    );
  const book = loadPriceBook();
  const prices = priceLookupFromBook(book);
  return withStore(flags, config, ctx, async (store) => {
    if (flags.inventory === SANDBOX_SOURCE)
      await ensureDemoSandbox(store, prices, clock(), ctx, flags.database);
    const inventory = await openInventory(flags.inventory, flags, store, ctx, prices, clock);
    const provider = renamed(inventory.provider, keptAs);
    const cloud = flags.execute ? inventory.actions?.() : undefined;
    return withOutboxNotifier(
      { configFile: flags.config, config, clock, audit: store.audit, store, ctx },
      async (notifier) => {
        const exceptions = createExceptionService({
          store: store.exceptions,
          audit: store.audit,
          clock,
          config: config.exceptions,
          catalog: policyCatalog(policies),
          notifier,
        });
        // The scan takes interrupts as `costguard scan` does (kept as failed, the cycle stops there);
        // remediation finishes the action under way and starts no other (the rest stay due).
        let finishing = "the current batch";
        const interrupts =
          flags.store !== false || flags.execute
            ? holdInterrupts(
                (text) => ctx.stderr.write(text),
                () => finishing,
                // Not stored (--no-store --execute): stopped during the scan, nothing is kept.
                { recorded: flags.store !== false },
              )
            : undefined;
        // On a terminal, a bar while the inventory is scanned.
        const billing = flags.billing ? await readBillingForCli(flags.billing, clock(), ctx) : undefined;
        const bar = progressBar(ctx.stderr, "scanning");
        const result = await runComplianceCycle({
          provider,
          scan: {
            decider: createScanDecider(compilePolicySet(policies), book, billing?.costs),
            ...(billing ? { billed: billing.costs } : {}),
            prices,
            detectors: DEFAULT_DETECTORS,
            currency: "USD",
          },
          store,
          exceptions,
          remediation: config.remediation,
          execute: flags.execute === true,
          clock,
          cloud,
          cannot: inventory.cannot,
          notifier,
          storeScan: flags.store !== false,
          signal: interrupts?.signal,
          onProgress: (p) => bar.update(p),
          onStoring: showStoring(bar),
          ...lockTimeout,
          onWaitingToAct: () =>
            ctx.stderr.write(
              `costguard: another run is acting on ${provider.name}: waiting up to ${flags.lockTimeout.trim()} for it to finish\n`,
            ),
          ...(flags.allowEmpty ? { allowEmpty: true } : {}),
          onPhase: (phase) => {
            bar.done();
            // Storing the plan stops between batches of tasks; acting, after the action under way.
            if (!flags.execute) finishing = "the plan";
            else finishing = phase === "acting" ? "the action under way" : "the batch of tasks under way";
          },
          onEvent: flags.verbose ? (e) => ctx.stderr.write(eventLine(e)) : undefined,
        }).finally(() => {
          bar.done();
          interrupts?.release();
          cloud?.close?.();
        });
        const reason: unknown = interrupts?.signal.aborted ? interrupts.signal.reason : undefined;
        const interrupt = reason instanceof InterruptedError ? reason : undefined;
        // Interrupted: the summary is not announced (the run did not finish); what it did is printed.
        if (!interrupt) await after(result, config, notifier);
        return { ...result, interrupt, billing };
      },
    );
  });
}

/** COSTGUARD_SANDBOX_LATENCY_MS: the simulated API latency of sandbox actions (demos, crash tests). */
function sandboxLatency(ctx: CliContext): number {
  const text = ctx.env.COSTGUARD_SANDBOX_LATENCY_MS;
  if (text === undefined || text === "") return 0;
  const ms = Number(text);
  if (!Number.isFinite(ms) || ms < 0)
    throw new InputError(`COSTGUARD_SANDBOX_LATENCY_MS must be a number of milliseconds, got ${text}`);
  return ms;
}

/**
 * After a cycle's output is printed: a cycle an interrupt stopped ends the command with the signal's
 * exit code (130 for SIGINT), saying what it left for the next run.
 */
export function stopIfInterrupted(result: CliCycleResult, ctx: CliContext): void {
  if (!result.interrupt) return;
  const left = result.remediation.interrupted?.left ?? 0;
  // Stopped while the plan was being stored, nothing was acted on; the next run plans the rest.
  const when = result.remediation.outcomes.length > 0 ? "after the action under way" : "before acting";
  ctx.stderr.write(
    `costguard: ${result.interrupt.message}: stopped${left > 0 ? ` ${when}; ${left} due ${left === 1 ? "action stays" : "actions stay"} due for the next run` : ""}\n`,
  );
  throw new CliExit(result.interrupt.exitCode);
}

/**
 * The line saying what `--billing` priced, after a cycle's output: on stdout beneath a table, on stderr
 * beside JSON (which stays one document).
 */
export function writeBillingLine(result: CliCycleResult, flags: CycleFlags, ctx: CliContext): void {
  if (!result.billing) return;
  const line = billingLine(result.billing, result.scan.summary);
  (flags.format === "json" ? ctx.stderr : ctx.stdout).write(line);
}
