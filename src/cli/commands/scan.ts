import { statSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { parse as parseYaml } from "yaml";
import { InputError } from "../../errors.js";
import { exceptedFindings } from "../../exceptions/scan-path.js";
import { readText } from "../../files.js";
import { fileProvider, inspectInput } from "../../inventory/file/file-provider.js";
import { SANDBOX_SOURCE, sandboxProvider } from "../../inventory/sandbox/sandbox.js";
import type { InventoryProvider } from "../../inventory/types.js";
import { type Amount, formatAmount, formatMoney, parseAmount } from "../../money/exact.js";
import { SEVERITIES, type Severity } from "../../policy/types.js";
import { loadPriceTables } from "../../pricing/load.js";
import { parseDetectorConfig } from "../../scan/detector-config.js";
import { DEFAULT_DETECTORS, type DetectorConfig } from "../../scan/detectors.js";
import { autoJobs, type JudgedInventory, MAX_JOBS, parallelJsonLines } from "../../scan/parallel-scan.js";
import type { PriceLookup } from "../../scan/prices.js";
import { runScan, type ScanResult } from "../../scan/run-scan.js";
import { type ScanRecipe, scanContextFromRecipe, scanRecipe } from "../../scan/scan-recipe.js";
import type { Store } from "../../store/store.js";
import { MAX_YAML_ALIASES, NESTED_TOO_DEEP, QUIET_YAML, yamlTooDeep } from "../../yaml-value.js";
import { type AwsFlags, addAwsOptions, refuseAwsFlagsElsewhere } from "../aws-options.js";
import { billingLine, readBillingForCli } from "../billing-output.js";
import { oneBillingFile } from "../budget-options.js";
import { parseAt, refuseStoringAhead } from "../clock.js";
import type { CliContext } from "../context.js";
import { approvedExceptionsFromCli } from "../exception-options.js";
import { CliExit, EXIT } from "../exit.js";
import { ONE_INVENTORY } from "../given-once.js";
import { holdInterrupts, noteDoneWork } from "../interrupt.js";
import { INVENTORY_NAME_OPTION, inventoryHint, inventoryName, renamed } from "../inventory-name.js";
import { ALLOW_EMPTY_OPTION, LOCK_TIMEOUT_OPTION, lockWait } from "../lock-timeout.js";
import { collect, loadPoliciesForCli, POLICIES_OPTION_HELP } from "../policy-options.js";
import { progressBar, showStoring } from "../progress.js";
import { csvHeader, jsonFindingsWriter, renderScanSummary } from "../scan-output.js";
import { DATABASE_OPTION_HELP, openCliStore } from "../store-options.js";
import { useColor } from "../table.js";
import { refuseUnused } from "../unused-options.js";
import { written } from "../written.js";
import { ensureDemoSandbox } from "./sandbox.js";

interface ScanFlags extends AwsFlags {
  policies?: string[];
  inventory?: string;
  format: string;
  store: boolean;
  exceptions: boolean;
  database?: string;
  at?: string;
  detectors?: string;
  idleCpu?: string;
  idleNetwork?: string;
  idleDays?: string;
  unattachedDays?: string;
  top: string;
  failOn?: string;
  newOnly?: boolean;
  failOnSavings?: string;
  priceBook?: string[];
  billing?: string;
  jobs: string;
  lockTimeout: string;
  allowEmpty?: boolean;
  inventoryName?: string;
}

export function registerScan(program: Command, ctx: CliContext): void {
  const scan = program
    .command("scan")
    .description(
      "scan an existing estate: every active policy plus the waste detectors, with the money at stake",
    )
    .option("-p, --policies <path>", POLICIES_OPTION_HELP, collect)
    .option(
      "-i, --inventory <source>",
      "file:PATH (JSON, JSON lines, YAML, CSV), sandbox, or aws",
      ONE_INVENTORY,
    )
    .option("--format <format>", "table, json or csv", "table")
    .option("--no-store", "do not save the scan, its findings and their lifecycle")
    .option(
      "--no-exceptions",
      "with --no-store: judge without the store's approved exceptions (a stored scan always applies them)",
    )
    .option(...ALLOW_EMPTY_OPTION)
    .option(...INVENTORY_NAME_OPTION)
    .option("--database <url>", DATABASE_OPTION_HELP)
    .option(...LOCK_TIMEOUT_OPTION)
    .option("--at <time>", "the scan's clock (ISO 8601): ages and history are computed as of then")
    .option("--detectors <file>", "detector thresholds (YAML or JSON), over the defaults")
    .option("--idle-cpu <percent>", "idle when average CPU is under this (default 5)")
    .option("--idle-network <bytes>", "...and average network is under this many bytes/day (default 1000000)")
    .option("--idle-days <days>", "metrics window the idle rule needs (default 7)")
    .option("--unattached-days <days>", "flag volumes unattached for more than this (default 7)")
    .option(
      "-b, --billing <file>",
      "FOCUS billing export (CSV, .csv.gz, Parquet): price each resource from what it was charged over the last 30 days (EffectiveCost), before its own cost and the price book",
      oneBillingFile,
    )
    .option(
      "--price-book <path>",
      "price table(s) over the embedded book, for resources without their own cost (repeatable)",
      collect,
    )
    .option("--top <n>", "how many top findings by savings the summary lists", "10")
    .option(
      "--fail-on <severity>",
      "exit 1 when any finding is at or above this severity (findings an approved exception covers do not count)",
    )
    .option(
      "--fail-on-savings <amount>",
      "exit 1 when the open findings stand for at least this much a month (USD; per resource the largest saving; findings approved exceptions cover do not count)",
    )
    .option(
      "--new-only",
      "with --fail-on or --fail-on-savings: count only findings this scan saw first (new since the inventory's earlier scans), so a pipeline fails on new waste, not on what was there before",
    )
    .option(
      "--jobs <n>",
      "threads that judge a JSON-lines file: a number, or auto (one per core; 1 for files under 64 MB)",
      "auto",
    );
  addAwsOptions(scan)
    .addHelpText(
      "after",
      `
Inventories:
  file:PATH   resources as a JSON array, JSON lines, YAML or CSV (see docs/scan.md), streamed
  sandbox     the simulated estate in the store (costguard sandbox init); created with the demo
              seed on first use of an empty store
  aws         EC2 instances and volumes, RDS instances, CloudWatch CPU and network, through the
              standard AWS credential chain

Threads: a JSON-lines file is judged by --jobs threads (auto: one per core, up to 8, for files of
64 MB or more), with the same output and stored results as one thread. Other inventories use one
thread.

One stored scan of an inventory runs at a time: another one running is refused at once (exit 1),
or waited for with --lock-timeout. A scan whose process ended without finishing is marked
interrupted by the next. A stored scan that reads no resources while findings of its inventory
are open fails and resolves nothing (an empty export, credentials that see nothing), unless
--allow-empty says the estate really is empty.

Output: --format table prints the summary; json streams {"findings": [...], "scan": {...},
"top_findings": [...]};
csv streams one row per finding (the summary then goes to stderr). A finding an approved
exception covers names it (excepted_by) and --fail-on does not count it. A scan with --no-store
reads the exceptions from the configured store when there is one (--database, else as a stored
scan would find it; none is created) — --no-exceptions judges without them. A progress bar
shows on a terminal only.

--fail-on with --new-only (stored scans) counts only the findings this scan saw first: a pipeline
that must not add waste fails on new findings, not on those an earlier scan already reported (an
inventory's first stored scan finds everything new: run one without --fail-on for the baseline).
--fail-on-savings AMOUNT fails when the open findings stand for at least AMOUNT USD a month, as
summaries total them (findings approved exceptions cover do not count): stored, the inventory's
open findings once the scan is recorded; with --no-store, this scan's; with --new-only, the
findings this scan saw first.
Exit codes: 0 scanned, 1 a finding at or above --fail-on or savings at or above --fail-on-savings
(or another stored scan of the inventory running), 2 bad input, 3 the database, AWS (throttling past
the retries, AWS's own errors) or the output (a full disk) failed, 130/143 interrupted (SIGINT/SIGTERM),
141 the reader closed the output (| head), stored or not.

Examples:
  costguard scan --policies examples/policies --inventory sandbox
  costguard scan --policies examples/policies --inventory file:examples/scan/estate.jsonl --format csv --no-store
  costguard scan -p policies/ -i aws --region us-east-1 --region eu-west-1 --fail-on high
  costguard scan -p policies/ -i file:estate.jsonl --fail-on high --new-only   # in CI: fail on new waste only
  costguard scan -p policies/ -i file:estate.jsonl --fail-on-savings 500 --new-only
  costguard scan -p policies/ -i aws --region all --billing focus-export.parquet`,
    )
    .action(async (flags: ScanFlags, command: Command) => {
      if (!["table", "json", "csv"].includes(flags.format))
        throw new InputError(`--format must be table, json or csv, got ${flags.format}`);
      if (!flags.inventory) throw new InputError("--inventory is required: file:PATH, sandbox or aws");
      const unstored = (why: string) => !flags.store && `does nothing with --no-store: ${why}`;
      refuseUnused(command, {
        database:
          flags.inventory !== SANDBOX_SOURCE &&
          !flags.store &&
          !flags.exceptions &&
          "does nothing with --no-store --no-exceptions: a file or aws scan then neither reads nor writes a store",
        exceptions:
          flags.store &&
          "needs --no-store: a stored scan always applies approved exceptions (they decide whether each finding is open or excepted)",
        lockTimeout: unstored("only stored scans of an inventory wait for each other"),
        allowEmpty: unstored("a scan not stored resolves no findings"),
        newOnly:
          (flags.failOn === undefined &&
            flags.failOnSavings === undefined &&
            "does nothing without --fail-on or --fail-on-savings: it narrows what they count") ||
          unstored("new means not seen by an earlier stored scan, which only a stored scan knows"),
      });
      const keptAs = inventoryName(flags.inventoryName, flags.inventory);
      const failOn = parseFailOn(flags.failOn);
      const failOnSavings = parseSavingsGate(flags.failOnSavings);
      const top = positiveInt(flags.top, "--top");
      const at = parseAt(flags.at);
      if (flags.store) refuseStoringAhead(at, flags.at, ctx.now?.() ?? Date.now());
      const detectors = detectorsFromFlags(flags, ctx);
      const jobs = parseJobs(flags.jobs);
      refuseJobsElsewhere(flags.inventory, jobs, ctx);
      const lockTimeout = lockWait(flags, ctx);
      const policies = loadPoliciesForCli(flags.policies, ctx);
      const billing = flags.billing ? await readBillingForCli(flags.billing, at, ctx) : undefined;
      // Named for the source until the inventory is open: the scan binds its provider's name.
      const recipe = scanRecipe(
        keptAs ?? flags.inventory ?? "",
        policies,
        loadPriceTables(flags.priceBook ?? []),
        detectors,
        at,
        "USD",
        billing?.costs,
      );
      const context = scanContextFromRecipe(recipe);
      const prices = context.prices!;

      const needsStore = flags.store || flags.inventory === SANDBOX_SOURCE;
      const store = needsStore ? await openCliStore(flags.database, ctx) : undefined;
      let interrupts: ReturnType<typeof holdInterrupts> | undefined;
      try {
        const provider = await openInventory(flags.inventory, flags, ctx, store, prices, at, detectors);
        const storing = flags.store && store !== undefined;
        // Approved exceptions, matched where each resource is judged (worker threads included). A
        // stored scan applies them even when there are none: findings whose exception ended reopen.
        // One not stored honours them as the gates do: from the store it has open (the sandbox's),
        // else the configured one, never creating a database; --no-exceptions judges without them.
        const approved = !flags.exceptions
          ? []
          : store
            ? await store.exceptions.list({ status: "approved" })
            : await approvedExceptionsFromCli({ ...flags, exceptions: true }, ctx);
        const excepted = storing ? exceptedFindings() : undefined;
        // Not stored: how many findings the exceptions cover, by severity (what --fail-on leaves out).
        const waivedHere = new Map<Severity, number>();
        const countWaived = (_fingerprint: string, _id: string, severity: Severity) =>
          waivedHere.set(severity, (waivedHere.get(severity) ?? 0) + 1);
        const parallel = parallelFile(flags.inventory, jobs, ctx, recipe);
        const bar = progressBar(ctx.stderr, "scanning");
        // A stored scan interrupted (Ctrl-C, SIGTERM, `| head`) ends its transaction and is kept as
        // failed, also while it waits for a slow reader of its output. One not stored leaves Ctrl-C
        // and SIGTERM to Node (nothing to finish) but stops at a closed or failed output and says so,
        // exit 141 or 3: exiting 0 there passed a `--fail-on` gate whose findings were never all read.
        interrupts = storing
          ? holdInterrupts((text) => ctx.stderr.write(text))
          : holdInterrupts(undefined, undefined, { recorded: false, signals: false });
        const signal = interrupts?.signal;
        const json = flags.format === "json" ? jsonFindingsWriter(ctx.stdout, signal) : undefined;
        // The csv opens with its first finding (as the json document does), or once a scan that found
        // nothing has completed: a scan refused before then (a bad first line, a compressed file)
        // writes nothing on stdout, not a header alone that a pipeline would take for an empty result.
        let csvOpened = false;
        const csvOpen = () => {
          if (csvOpened) return;
          csvOpened = true;
          ctx.stdout.write(csvHeader());
        };
        let result: ScanResult;
        try {
          result = await runScan({
            provider: renamed(parallel ?? provider, keptAs),
            context,
            ...(storing && store ? { store } : {}),
            ...(signal ? { signal } : {}),
            onProgress: (p) => bar.update(p),
            onStoring: showStoring(bar),
            ...lockTimeout,
            ...(flags.allowEmpty ? { allowEmpty: true } : {}),
            ...(json ? { findingsText: { format: "json", write: json.writeText } } : {}),
            ...(flags.format === "csv"
              ? {
                  findingsText: {
                    format: "csv",
                    write: (text: string | Uint8Array) => {
                      csvOpen();
                      return written(ctx.stdout, text, signal);
                    },
                  },
                }
              : {}),
            // The scanner's path of exceptions: findings an approved exception covers are stored as
            // excepted, or (not stored) marked in the output and counted.
            ...(approved.length > 0
              ? { exceptions: { approved, onExcepted: excepted ? excepted.cover : countWaived } }
              : {}),
            topCount: top,
          });
          if (excepted && store) {
            // Marking hundreds of thousands of findings takes seconds: the line says what is going on.
            const covered = excepted.excepted.size.toLocaleString("en-US");
            bar.phase(`applying exceptions (${covered} findings covered)…`);
            await excepted.apply(store, result.id, result.inventory, result.started_at);
          }
        } finally {
          bar.done();
        }
        // Kept as completed whatever becomes of its report: a report that cannot be written says so.
        if (storing) noteDoneWork(`the scan completed and is stored: costguard scans show ${result.id}`);
        // Policies the inventory's scan before judged and this one did not: their findings were
        // resolved as no longer seen, though nothing about the resources changed. Said, not undone
        // (a policy taken out of the set on purpose ends its findings so).
        if (storing && store) {
          const before = (await store.scans.list({ inventory: result.inventory, limit: 5 })).find(
            (s) => s.id !== result.id && s.status === "completed",
          );
          for (const policy of (before?.policies ?? []).filter((p) => !result.policies.includes(p))) {
            const resolved = await store.findings.count({
              inventory: result.inventory,
              policy,
              status: "resolved",
              resolvedAt: result.started_at,
            });
            if (resolved > 0)
              ctx.stderr.write(
                `costguard: warning: ${policy} was judged by this inventory's previous scan (${before!.id}) and not by this one: its ${resolved.toLocaleString("en-US")} ${resolved === 1 ? "finding is" : "findings are"} resolved as no longer seen; scan with it to keep ${resolved === 1 ? "it" : "them"} open\n`,
              );
          }
        }
        const where = flags.store && store ? store.location : null;
        const covered = excepted
          ? excepted.excepted.size
          : [...waivedHere.values()].reduce((n, count) => n + count, 0);
        // In the result as in the scan's history: the json summary says it too.
        if (covered > 0) result.summary.excepted_findings = covered;
        const billed = billing ? billingLine(billing, result.summary) : "";
        if (json) {
          json.end(result);
          ctx.stderr.write(renderScanSummary(result, useColor(ctx.stderr), where) + billed);
        } else if (flags.format === "csv") {
          csvOpen();
          ctx.stderr.write(renderScanSummary(result, useColor(ctx.stderr), where) + billed);
        } else {
          ctx.stdout.write(renderScanSummary(result, useColor(ctx.stdout), where) + billed);
        }
        const failures = await gateFailures(
          { failOn, failOnSavings, newOnly: flags.newOnly === true },
          result,
          storing ? store : undefined,
          waivedHere,
        );
        if (failures.length > 0) {
          for (const line of failures) ctx.stderr.write(`costguard: ${line}\n`);
          throw new CliExit(EXIT.denied);
        }
      } finally {
        await store?.close();
        interrupts?.release();
      }
    });
}

async function openInventory(
  spec: string,
  flags: ScanFlags,
  ctx: CliContext,
  store: Store | undefined,
  prices: PriceLookup,
  at: Date,
  detectors: DetectorConfig,
): Promise<InventoryProvider> {
  refuseAwsFlagsElsewhere(spec, flags);
  if (spec.startsWith("file:")) {
    const path = spec.slice(5);
    if (path === "") throw new InputError("--inventory file:PATH needs a path");
    return fileProvider(path === "-" ? "-" : resolvePath(ctx, path), { displayName: path });
  }
  if (spec === SANDBOX_SOURCE) {
    await ensureDemoSandbox(store!, prices, at, ctx, flags.database);
    return sandboxProvider(store!);
  }
  if (spec === "aws") {
    // Loaded on demand: the AWS SDK is large and most scans never need it.
    const { awsOptionsFromCli, openAwsInventory } = await import("./scan-aws.js");
    return openAwsInventory(awsOptionsFromCli(flags, ctx, detectors.idle.windowDays), prices, at);
  }
  throw new InputError(
    `--inventory must be file:PATH, sandbox or aws, got ${spec}${inventoryHint(spec, ctx.cwd)}`,
  );
}

/**
 * The JSON-lines file inventory judged by worker threads, when `--jobs` asks for more than one (auto:
 * one per core, for files big enough to be worth it); undefined for a scan on this thread.
 */
function parallelFile(
  spec: string,
  jobs: number | "auto",
  ctx: CliContext,
  recipe: ScanRecipe,
): JudgedInventory | undefined {
  if (jobs === 1) return undefined;
  const name = spec.startsWith("file:") ? spec.slice(5) : "";
  const path = name === "" || name === "-" ? undefined : resolvePath(ctx, name);
  // A pipe or a gzip file is read as it comes, by one thread: its pieces cannot be read at offsets.
  const input = path === undefined ? undefined : inspectInput(path, name);
  if (path === undefined || input?.format !== "jsonl" || !input.splittable) {
    if (jobs === "auto") return undefined;
    throw oneThread(spec, jobs);
  }
  const n = jobs === "auto" ? autoJobs(input.size ?? statSync(path).size) : jobs;
  return n > 1 ? parallelJsonLines({ path, name, jobs: n, recipe }) : undefined;
}

/**
 * Refuses `--jobs N` for an inventory that is not a JSON-lines file before anything is opened or made
 * (the demo sandbox, a store); a file that cannot be looked at yet is left to the scan to say.
 */
function refuseJobsElsewhere(spec: string, jobs: number | "auto", ctx: CliContext): void {
  if (jobs === 1 || jobs === "auto") return;
  const name = spec.startsWith("file:") ? spec.slice(5) : "";
  if (name === "" || name === "-") throw oneThread(spec, jobs);
  let input: ReturnType<typeof inspectInput>;
  try {
    input = inspectInput(resolvePath(ctx, name), name);
  } catch {
    return;
  }
  if (input.format !== "jsonl" || !input.splittable) throw oneThread(spec, jobs);
}

function oneThread(spec: string, jobs: number): InputError {
  return new InputError(
    `--jobs ${jobs} applies to a JSON-lines file on disk, uncompressed (--inventory file:PATH.jsonl); ${spec} is scanned by one thread (use --jobs 1 or auto)`,
  );
}

function parseJobs(text: string): number | "auto" {
  if (text === "auto") return "auto";
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_JOBS)
    throw new InputError(`--jobs must be auto or a whole number from 1 to ${MAX_JOBS}, got ${text}`);
  return n;
}

function resolvePath(ctx: CliContext, path: string): string {
  return resolve(ctx.cwd, path);
}

function detectorsFromFlags(flags: ScanFlags, ctx: CliContext): DetectorConfig {
  let cfg = DEFAULT_DETECTORS;
  if (flags.detectors) {
    const text = readText(resolvePath(ctx, flags.detectors));
    const deep = yamlTooDeep(text);
    if (deep !== undefined)
      throw new InputError(`${flags.detectors}:${deep.line}:${deep.column}: ${NESTED_TOO_DEEP}`);
    let value: unknown;
    try {
      value = parseYaml(text, { maxAliasCount: MAX_YAML_ALIASES, ...QUIET_YAML });
    } catch (err) {
      // Everything the YAML library throws here is the file's fault: a syntax error (YAMLError) or
      // too many aliases (a ReferenceError, its guard against a few lines expanding to gigabytes).
      throw new InputError(
        `${flags.detectors}: not valid YAML/JSON: ${(err as Error).message.split("\n")[0]!.replace(/:$/, "")}`,
      );
    }
    cfg = parseDetectorConfig(value, flags.detectors);
  }
  const idle: Record<string, number> = {};
  if (flags.idleCpu !== undefined) {
    idle.cpuPercent = number(flags.idleCpu, "--idle-cpu");
    if (idle.cpuPercent > 100)
      throw new InputError(`--idle-cpu is a percentage, at most 100, got ${flags.idleCpu}`);
  }
  if (flags.idleNetwork !== undefined) idle.networkBytesPerDay = number(flags.idleNetwork, "--idle-network");
  if (flags.idleDays !== undefined) idle.windowDays = number(flags.idleDays, "--idle-days");
  const overrides: Record<string, unknown> = {};
  if (Object.keys(idle).length > 0) overrides.idle = idle;
  if (flags.unattachedDays !== undefined)
    overrides.unattached = { days: number(flags.unattachedDays, "--unattached-days") };
  return Object.keys(overrides).length > 0 ? parseDetectorConfig(overrides, "options", cfg) : cfg;
}

function number(text: string, flag: string): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < 0)
    throw new InputError(`${flag} must be a non-negative number, got ${text}`);
  return n;
}

function positiveInt(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new InputError(`${flag} must be a whole number, got ${text}`);
  return n;
}

/**
 * What --fail-on, --fail-on-savings and --new-only fail on, one line each (none: the scan passes).
 * An approved exception is honoured by these gates as by every other: stored, they count the
 * findings still open (this scan resolved every other; excepted ones are not open); not stored
 * (--fail-on only), those found less those the exceptions covered.
 */
async function gateFailures(
  gates: { failOn: Severity | undefined; failOnSavings: Amount | undefined; newOnly: boolean },
  result: ScanResult,
  store: Store | undefined,
  waivedHere: ReadonlyMap<Severity, number>,
): Promise<string[]> {
  const { failOn, failOnSavings, newOnly } = gates;
  const out: string[] = [];
  const count = (n: number) => `${n.toLocaleString("en-US")} ${n === 1 ? "finding" : "findings"}`;
  // --new-only (stored scans only): of the findings still open, those this scan saw first.
  const fresh = newOnly ? { firstScanId: result.id } : {};
  if (failOn) {
    const severities = SEVERITIES.slice(0, SEVERITIES.indexOf(failOn) + 1);
    const found = severities.reduce((n, s) => n + (result.summary.by_severity[s] ?? 0), 0);
    const stillOpen = (more: { firstScanId?: string } = {}) =>
      store!.findings.count({ inventory: result.inventory, status: "open", severity: severities, ...more });
    const failing =
      store && found > 0
        ? await stillOpen()
        : severities.reduce((n, s) => n - (waivedHere.get(s) ?? 0), found);
    if (newOnly) {
      const added = failing > 0 ? await stillOpen(fresh) : 0;
      if (added > 0)
        out.push(
          `--fail-on ${failOn} --new-only: ${count(added)} at or above ${failOn} new in this scan (${(failing - added).toLocaleString("en-US")} seen by earlier scans not counted)`,
        );
    } else if (failing > 0) {
      const waived = found - failing;
      out.push(
        `--fail-on ${failOn}: ${count(failing)} at or above ${failOn}${waived > 0 ? ` (${waived.toLocaleString("en-US")} more covered by approved exceptions)` : ""}`,
      );
    }
  }
  if (failOnSavings !== undefined) {
    // As summaries total them: per resource the largest of its open findings' savings, exactly.
    // Stored: the inventory's open findings as the store now holds them. Not stored: the scan's
    // findings less what approved exceptions covered (a resource listed twice counts twice).
    const s = result.summary;
    const currency = s.currency;
    const totals = store
      ? await store.findings.totals({ inventory: result.inventory, status: "open", ...fresh })
      : undefined;
    const atStake = totals
      ? parseAmount(totals.savings_monthly[currency] ?? "0")
      : parseAmount(s.savings_monthly) - parseAmount(s.excepted_savings_monthly ?? "0");
    const open = totals ? totals.count : s.findings - (s.excepted_findings ?? 0);
    if (atStake >= failOnSavings)
      out.push(
        `--fail-on-savings ${formatAmount(failOnSavings)}${newOnly ? " --new-only" : ""}: ${formatMoney(atStake, currency)} per month at stake in ${newOnly ? `${count(open)} new in this scan` : `${open.toLocaleString("en-US")} open ${open === 1 ? "finding" : "findings"}`} (at least ${formatMoney(failOnSavings, currency)})`,
      );
  }
  return out;
}

/** --fail-on-savings: an amount above zero, a month, in the scan's currency. */
function parseSavingsGate(text: string | undefined): Amount | undefined {
  if (text === undefined) return undefined;
  let amount: Amount | undefined;
  try {
    amount = /^\s*\d/.test(text) ? parseAmount(text, "--fail-on-savings") : undefined;
  } catch {
    amount = undefined;
  }
  if (amount === undefined || amount <= 0n)
    throw new InputError(`--fail-on-savings must be an amount above zero (e.g. 500 or 99.50), got ${text}`);
  return amount;
}

function parseFailOn(text: string | undefined): Severity | undefined {
  if (text === undefined) return undefined;
  if (!SEVERITIES.includes(text as Severity))
    throw new InputError(`--fail-on must be one of ${SEVERITIES.join(", ")}, got ${text}`);
  return text as Severity;
}
