import type { Command } from "commander";
import { KNOWN_RESOURCE_TYPES } from "../../engine/known-requests.js";
import { InputError, NotFoundError } from "../../errors.js";
import { effectiveStatus } from "../../exceptions/lifecycle.js";
import { buildExceptionIndex } from "../../exceptions/match.js";
import { fileInventoryName } from "../../inventory/file/name.js";
import { type Amount, formatAmount, parseAmount } from "../../money/exact.js";
import { closest } from "../../policy/suggest.js";
import { SEVERITIES, type Severity } from "../../policy/types.js";
import {
  FINDING_GROUPS,
  type FindingFilter,
  type FindingGroup,
  type PrunedFindings,
} from "../../scan/store.js";
import {
  ACTIONS,
  FINDING_STATUSES,
  type FindingStatus,
  type RecommendedAction,
  type ScanRecord,
  type StoredFinding,
} from "../../scan/types.js";
import type { Store } from "../../store/store.js";
import { DAY_MS, MAX_DURATION_DAYS, parseDuration } from "../../time/duration.js";
import { parseAt } from "../clock.js";
import type { CliContext } from "../context.js";
import { CliExit, EXIT } from "../exit.js";
import { findFinding, findScan, LATEST_SCAN } from "../finding-lookup.js";
import type { Counted, Covering, Stake } from "../findings-output.js";
import {
  groupTotalsCsv,
  renderGroupTotals,
  renderScan,
  renderScanHistory,
  renderStoredFinding,
  renderStoredFindings,
  scanHistoryCsv,
  storedCsv,
} from "../findings-output.js";
import { ageOrTime, isTime, limitOf, oneOf } from "../flag-values.js";
import { writeJsonDocument } from "../json-document.js";
import { truncate } from "../scan-output.js";
import { printable, useColor } from "../table.js";
import { refuseUnused } from "../unused-options.js";
import { addStoreOptions, withExistingStore } from "../workspace.js";
import { written } from "../written.js";

interface StoreFlags {
  config?: string;
  database?: string;
  format: string;
}

interface ListFlags extends FilterFlags {
  limit?: string;
  sort?: string;
}

interface FilterFlags extends StoreFlags {
  status: string;
  inventory?: string;
  policy?: string;
  severity?: string;
  team?: string;
  account?: string;
  region?: string;
  type?: string;
  resource?: string;
  olderThan?: string;
  at?: string;
  newIn?: string;
  resolvedIn?: string;
  action?: string;
  minSavings?: string;
  exception?: string;
}

/** Findings per page when json and csv stream every finding (keyset pages: memory stays flat). */
const PAGE = 1000;

/** `--min-savings`: an amount of zero or more, as decimal text the store compares savings with. */
function savingsFloor(value: string): string {
  let amount: Amount;
  try {
    amount = parseAmount(value, "--min-savings");
  } catch {
    amount = -1n;
  }
  if (amount < 0n || !/^\s*\d/.test(value))
    throw new InputError(`--min-savings must be an amount of zero or more (e.g. 100 or 12.50), got ${value}`);
  return formatAmount(amount);
}

/** A comma-separated list of allowed values (`all` for every one). */
function listOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T[] {
  const items = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (items.length === 1 && items[0] === "all") return [...allowed];
  if (items.length === 0) throw new InputError(`${flag} needs a value: ${allowed.join(", ")} or all`);
  for (const item of items)
    if (!(allowed as readonly string[]).includes(item))
      throw new InputError(`${flag} must be ${allowed.join(", ")} or all (comma-separated), got ${item}`);
  return items as T[];
}

/** --older-than (and --at): the instant a finding must have been first seen before. */
function firstSeenBefore(flags: FilterFlags): string {
  const age = parseDuration(flags.olderThan!, "--older-than");
  if (age > MAX_DURATION_DAYS * DAY_MS)
    throw new InputError(
      `--older-than is at most ${MAX_DURATION_DAYS.toLocaleString("en-US")} days (a hundred years), got ${flags.olderThan}`,
    );
  const at = parseAt(flags.at);
  return new Date(Math.max(0, at.getTime() - age)).toISOString();
}

/** A comma-separated list of names (accounts, regions), each as given. */
function namesOf(flag: string, value: string): string[] {
  const items = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (items.length === 0) throw new InputError(`${flag} needs a value (comma-separated for several)`);
  return items;
}

/**
 * --type: resource types, each exact (`compute/instance`, or any type an inventory of your own gives)
 * or a whole category (`compute/*`). `*` alone would filter nothing, and `compute*` is no pattern.
 */
function typesOf(value: string): string[] {
  const types = namesOf("--type", value);
  for (const t of types) {
    // `storage/` reads as the category but names no type: it would find nothing, silently.
    if (/^[^*/]+\/$/.test(t))
      throw new InputError(
        `--type takes resource types (storage/volume) or categories, got ${t} (did you mean ${t}*?)`,
      );
    if (t.includes("*") && !/^[^*/]+\/\*$/.test(t))
      throw new InputError(
        `--type takes resource types (compute/instance) or categories (compute/*), got ${t}${t === "*" ? ": leave --type out for every type" : ""}`,
      );
  }
  return types;
}

/** `--by` names a group as the filters do: `type` for a resource's type. */
function groupFlag(group: FindingGroup): string {
  return group === "resource_type" ? "type" : group;
}

function groupOf(text: string): FindingGroup {
  const group = FINDING_GROUPS.find((g) => groupFlag(g) === text);
  if (group === undefined) {
    const names = FINDING_GROUPS.map(groupFlag);
    const near = closest(text, names);
    throw new InputError(
      `--by must be one of ${names.join(", ")}, got ${text}${near === undefined ? "" : ` (did you mean ${near}?)`}`,
    );
  }
  return group;
}

/** What `findings list` and `findings summary` filter by (--new-in and --resolved-in are looked up in the store). */
function addFilterOptions(command: Command): Command {
  return command
    .option("--status <statuses>", `${FINDING_STATUSES.join(", ")} or all (comma-separated)`, "open")
    .option("--inventory <name>", "only this inventory (as scans name it: file:PATH, sandbox, aws:REGIONS)")
    .option("--policy <name>", "only this policy (or detector)")
    .option("--severity <severities>", `only these severities (${SEVERITIES.join(", ")}; comma-separated)`)
    .option("--team <team>", "only this team")
    .option("--account <accounts>", "only resources in these accounts (comma-separated)")
    .option("--region <regions>", "only resources in these regions (comma-separated)")
    .option(
      "--type <types>",
      "only resources of these types: compute/instance, or a category as compute/* (comma-separated)",
    )
    .option("--resource <id>", "only this resource")
    .option(
      "--older-than <duration>",
      "only findings first seen more than this long ago (30d, 2w, 12h): waste left standing",
    )
    .option("--at <time>", "with --older-than: count back from this time (ISO 8601) instead of now")
    .option(
      "--new-in <scan>",
      `only findings this scan saw first: its id, a start of it, or ${LATEST_SCAN} (the newest scan, of --inventory when given: what is new since the scan before)`,
    )
    .option(
      "--resolved-in <scan>",
      `only findings this scan resolved (no longer saw) that are still resolved: its id, a start of it, or ${LATEST_SCAN} (the newest completed scan, of --inventory when given: what was fixed since the scan before; status resolved unless --status says)`,
    )
    .option("--action <actions>", `only findings recommending these (${ACTIONS.join(", ")}; comma-separated)`)
    .option("--min-savings <amount>", "only findings saving at least this much a month (e.g. 100)")
    .option(
      "--exception <id>",
      "only findings this approved exception covered at their last scan (status excepted unless --status says)",
    );
}

/**
 * The filter the options of addFilterOptions give (all but --new-in and --resolved-in: inScans), with
 * the statuses asked for.
 */
function filterOf(
  flags: FilterFlags,
  command: Command,
): { filter: FindingFilter; statuses: FindingStatus[] } {
  refuseUnused(command, {
    at: flags.olderThan === undefined && "does nothing without --older-than: it is when ages count from",
  });
  if (flags.exception !== undefined && flags.resolvedIn !== undefined)
    throw new InputError(
      "--exception lists excepted findings and --resolved-in resolved ones: give one of them",
    );
  // An exception covers excepted findings, a scan resolves findings: asked for those, --status
  // defaults to excepted or resolved.
  const byDefault = command.getOptionValueSource("status") === "default";
  const statusText =
    (flags.exception !== undefined || (flags as { by?: string }).by === "exception") && byDefault
      ? "excepted"
      : flags.resolvedIn !== undefined && byDefault
        ? "resolved"
        : flags.status;
  const statuses = listOf<FindingStatus>("--status", statusText, FINDING_STATUSES);
  const severities =
    flags.severity === undefined ? undefined : listOf<Severity>("--severity", flags.severity, SEVERITIES);
  const actions =
    flags.action === undefined ? undefined : listOf<RecommendedAction>("--action", flags.action, ACTIONS);
  const minSavings = flags.minSavings === undefined ? undefined : savingsFloor(flags.minSavings);
  const filter: FindingFilter = {
    status: statuses,
    ...(flags.inventory !== undefined ? { inventory: inventoryFilter(flags.inventory) } : {}),
    ...(flags.policy !== undefined ? { policy: flags.policy } : {}),
    ...(severities !== undefined ? { severity: severities } : {}),
    ...(flags.team !== undefined ? { team: flags.team } : {}),
    ...(flags.account !== undefined ? { account: namesOf("--account", flags.account) } : {}),
    ...(flags.region !== undefined ? { region: namesOf("--region", flags.region) } : {}),
    ...(flags.type !== undefined ? { resourceType: typesOf(flags.type) } : {}),
    ...(flags.olderThan !== undefined ? { firstSeenBefore: firstSeenBefore(flags) } : {}),
    ...(flags.resource !== undefined ? { resourceId: flags.resource } : {}),
    ...(actions !== undefined ? { action: actions } : {}),
    ...(minSavings !== undefined ? { minSavings } : {}),
    ...(flags.exception !== undefined ? { exceptionId: flags.exception } : {}),
  };
  return { filter, statuses };
}

export function registerFindings(program: Command, ctx: CliContext): void {
  const findings = program
    .command("findings")
    .description(
      "the findings stored scans keep: list them with their lifecycle, total them, show one, prune resolved ones",
    );

  addStoreOptions(
    addFilterOptions(
      findings
        .command("list")
        .description(
          "stored findings: the table shows the biggest savings first; json and csv stream every one",
        ),
    )
      .option(
        "--sort <order>",
        "savings (biggest first) or stored (as the store reads them fastest); default: savings for table, stored for json and csv",
      )
      .option(
        "--limit <n>",
        "at most this many, 0 for every one (default: 50 for table, every one for json and csv)",
      )
      .option("--format <format>", "table, json or csv", "table"),
  )
    .addHelpText(
      "after",
      `
json streams {"findings": [...], "count": N, "matching": M, "savings_monthly": {...}}; csv streams one row
per finding with its lifecycle (status, first_seen, last_seen, resolved_at, scans). Both list every
matching finding (or the first --limit) in stored order, page by page, each page written before the
next is read: a million findings export in flat memory. With --sort savings they list the --limit
biggest.

Examples:
  costguard findings list
  costguard findings list --severity critical,high --team payments
  costguard findings list --new-in latest --status all
  costguard findings list --resolved-in latest
  costguard findings list --action stop,delete --min-savings 100
  costguard findings list --account 123456789012 --type storage/* --format csv
  costguard findings list --older-than 30d --severity critical,high
  costguard findings list --status all --format csv > findings.csv`,
    )
    .action(async (flags: ListFlags, command: Command) => {
      oneOf("--format", flags.format, ["table", "json", "csv"]);
      const { filter, statuses } = filterOf(flags, command);
      if (flags.sort !== undefined) oneOf("--sort", flags.sort, ["savings", "stored"]);
      const sort = flags.sort ?? (flags.format === "table" ? "savings" : "stored");
      const limit = limitOf("--limit", flags.limit) ?? (flags.format === "table" ? 50 : undefined);
      if (sort === "savings" && limit === undefined)
        throw new InputError(
          "--sort savings needs --limit with json and csv (without it they stream every finding in stored order)",
        );
      await withExistingStore(flags, ctx, async (store) => {
        const what = await inScans(store, flags, filter, statuses);
        // The count and savings at stake (a pass of their own): the table's footer, json's end.
        const totals = flags.format === "csv" ? undefined : await store.findings.totals(filter);
        /** The findings to show, a page at a time, each handled before the next is read. */
        const pages = async (each: (rows: StoredFinding[]) => Promise<void>): Promise<void> => {
          if (sort === "savings") {
            // Read at once (the order needs every row), written a page at a time: JSON of 702,470
            // findings as one text is past the longest string V8 makes.
            const rows = await store.findings.list({ ...filter, order: "savings", limit: limit! });
            for (let i = 0; i < rows.length; i += PAGE) await each(rows.slice(i, i + PAGE));
            return;
          }
          let count = 0;
          await store.findings.forEach(
            filter,
            async (rows) => {
              const take = limit === undefined ? rows : rows.slice(0, limit - count);
              count += take.length;
              await each(take);
              return limit === undefined || count < limit;
            },
            limit === undefined ? PAGE : Math.min(PAGE, limit),
          );
        };
        if (flags.format === "table") {
          const rows: StoredFinding[] = [];
          await pages(async (page) => {
            for (const row of page) rows.push(row);
          });
          ctx.stdout.write(
            renderStoredFindings(
              rows,
              totals!,
              what,
              sort === "savings",
              useColor(ctx.stdout),
              stakeOf(statuses),
            ),
          );
          if (totals!.count === 0) ctx.stdout.write(await unknownNameHints(store, flags));
          return;
        }
        let first = true;
        let count = 0;
        await written(ctx.stdout, flags.format === "csv" ? storedCsv.header() : '{\n"findings": [\n');
        const writeJson = (texts: readonly string[]) => {
          count += texts.length;
          const out = texts.join(",\n");
          const sep = first || texts.length === 0 ? "" : ",\n";
          if (texts.length > 0) first = false;
          return written(ctx.stdout, sep + out);
        };
        if (flags.format === "json" && sort !== "savings") {
          // Each finding's text made by the store (SQLite builds it): no object per finding.
          await store.findings.forEachJson(
            filter,
            async (texts) => {
              const take = limit === undefined ? texts : texts.slice(0, limit - count);
              await writeJson(take);
              return limit === undefined || count < limit;
            },
            limit === undefined ? PAGE : Math.min(PAGE, limit),
          );
        } else
          await pages(async (rows) => {
            if (flags.format === "csv") {
              count += rows.length;
              return written(ctx.stdout, storedCsv.rows(rows));
            }
            return writeJson(rows.map((f) => JSON.stringify(f)));
          });
        if (flags.format === "json")
          ctx.stdout.write(
            `${first ? "" : "\n"}],\n"count": ${count},\n"matching": ${totals!.count},\n"savings_monthly": ${JSON.stringify(totals!.savings_monthly)}\n}\n`,
          );
      });
    });

  addStoreOptions(
    addFilterOptions(
      findings
        .command("summary")
        .description(
          "stored findings totalled by team, account, region, type, ...: how many, on how many resources, and the money at stake",
        ),
    )
      .option("--by <column>", `what to total by: ${FINDING_GROUPS.map(groupFlag).join(", ")}`, "team")
      .option("--format <format>", "table, json or csv", "table"),
  )
    .addHelpText(
      "after",
      `
Each group's savings count per resource the largest of its findings' savings, as a scan's summary
does. By team, account, region, type or inventory a resource is in one group; by policy, severity,
action or exception a resource with findings in several counts in each. By exception: the excepted
findings (--status defaults to excepted) by the approved exception covering each — what each one
waives. The filters are those of findings list.

Examples:
  costguard findings summary                                   # open findings by team
  costguard findings summary --by account --type compute/*
  costguard findings summary --by region --older-than 30d --format csv
  costguard findings summary --resolved-in latest --by team     # what was fixed, and what it saves
  costguard findings summary --by exception                     # what each approved exception waives`,
    )
    .action(async (flags: FilterFlags & { by: string }, command: Command) => {
      oneOf("--format", flags.format, ["table", "json", "csv"]);
      const by = groupOf(flags.by);
      const { filter, statuses } = filterOf(flags, command);
      await withExistingStore(flags, ctx, async (store) => {
        const what = await inScans(store, flags, filter, statuses);
        const { groups, total: totals } = await store.findings.totalsBy(by, filter);
        if (flags.format === "json") {
          await writeJsonDocument(ctx.stdout, {
            by: groupFlag(by),
            groups,
            count: totals.count,
            savings_monthly: totals.savings_monthly,
          });
          return;
        }
        if (flags.format === "csv") {
          await written(ctx.stdout, groupTotalsCsv(groups, by));
          return;
        }
        ctx.stdout.write(
          renderGroupTotals(groups, totals, by, what, useColor(ctx.stdout), stakeOf(statuses)),
        );
        if (totals.count === 0) ctx.stdout.write(await unknownNameHints(store, flags));
      });
    });

  addStoreOptions(
    findings
      .command("prune")
      .description("delete resolved findings resolved long ago (open and excepted ones are kept)")
      .requiredOption(
        "--resolved-before <age|time>",
        "resolved longer ago than this (90d, 26w) or before this time (ISO 8601)",
      )
      .option("--inventory <name>", "only findings of this inventory (as scans name it)")
      .option("--at <time>", "count an age back from this time (ISO 8601) instead of now")
      .option("--dry-run", "count what would be deleted; delete nothing")
      .option("--format <format>", "text or json", "text"),
  )
    .addHelpText(
      "after",
      `
A resolved finding is one a scan no longer saw (its resource was fixed, stopped or deleted). They stay
in the store until pruned, so \`findings list --status resolved\` can show what was fixed; this keeps
the store from growing without end. A pruned finding seen again comes back as new (its first_seen is
lost). Scan history (\`scans list\`) is not touched. Each inventory is pruned while no scan of it
runs: one running is left alone (exit 1; prune again later). Give the room back to the disk
afterwards with \`costguard store compact\`.

Examples:
  costguard findings prune --resolved-before 90d --dry-run
  costguard findings prune --resolved-before 2026-06-01 --inventory sandbox`,
    )
    .action(
      async (
        flags: StoreFlags & { resolvedBefore: string; inventory?: string; at?: string; dryRun?: boolean },
        command: Command,
      ) => {
        oneOf("--format", flags.format, ["text", "json"]);
        const before = ageOrTime("--resolved-before", flags.resolvedBefore, flags.at);
        refuseUnused(command, {
          at: isTime(flags.resolvedBefore) && "counts an age back: --resolved-before gave a time, not an age",
        });
        await withExistingStore(
          flags,
          ctx,
          async (store) => {
            const pruned = await store.findings.pruneResolved(before, {
              ...(flags.inventory !== undefined ? { inventory: inventoryFilter(flags.inventory) } : {}),
              ...(flags.dryRun ? { dryRun: true } : {}),
            });
            if (flags.format === "json")
              await writeJsonDocument(ctx.stdout, {
                resolved_before: before,
                dry_run: flags.dryRun === true,
                deleted: pruned.deleted,
                by_inventory: pruned.byInventory,
                busy: pruned.busy,
              });
            else {
              ctx.stdout.write(renderPruned(pruned, before, flags.dryRun === true));
              // None of an inventory no scan read (misspelt?): said as findings list says it.
              if (pruned.deleted === 0 && flags.inventory !== undefined)
                ctx.stdout.write(await unknownNameHints(store, { inventory: flags.inventory }));
            }
            const busy = Object.entries(pruned.busy);
            if (busy.length > 0) {
              for (const [inventory, count] of busy)
                ctx.stderr.write(
                  `costguard: a scan of ${printable(inventory)} is running: its ${count.toLocaleString("en-US")} resolved ${count === 1 ? "finding" : "findings"} ${flags.dryRun ? "would be" : count === 1 ? "was" : "were"} left; prune again once it has finished\n`,
                );
              throw new CliExit(EXIT.denied);
            }
            // A dry run too: it looks for a scan running by taking its lock (on SQLite, a file beside it).
          },
          { writes: true },
        );
      },
    );

  addShow(findings, ctx, {
    description: "one stored finding in full: resource, checks, recommendation, lifecycle",
    argument: [
      "<fingerprint>",
      "the finding's fingerprint (from scan output or findings list), or a start of it (4 characters or more) no other has",
    ],
    load: async (store, fingerprint) => {
      const finding = await findFinding(store, fingerprint);
      return {
        finding,
        coveredBy: finding.status === "excepted" ? await coveredBy(store, finding) : null,
      };
    },
    missing: (fingerprint) => `no stored finding with fingerprint ${fingerprint}`,
    render: ({ finding, coveredBy }, color) => renderStoredFinding(finding, color, coveredBy),
    json: ({ finding }) => finding,
  });
}

/**
 * What covers an excepted finding: the exception its last scan matched (kept with it since scan-0011),
 * with how it stands now when it no longer applies (revoked, expired: the next scan opens the finding
 * again); else (excepted before scan-0011, or by hand) one found as gates find it.
 */
async function coveredBy(store: Store, f: StoredFinding): Promise<Covering | null> {
  if (f.exception_id === null) {
    const found = await coveringException(store, f);
    return found === null ? null : { id: found };
  }
  const exc = await store.exceptions.get(f.exception_id);
  const now = exc ? effectiveStatus(exc, new Date()) : "deleted";
  return now === "approved" ? { id: f.exception_id } : { id: f.exception_id, ended: now };
}

/**
 * The approved exception that covers an excepted finding now, found as gates find it, from what the
 * finding keeps of its resource (id, type, account: not its tags, so an exception selecting by tag is
 * not found here); null when none is.
 */
async function coveringException(store: Store, f: StoredFinding): Promise<string | null> {
  const index = buildExceptionIndex(await store.exceptions.list({ status: "approved" }));
  const subject = { id: f.resource_id, type: f.resource_type, account: f.account ?? undefined };
  return index.find(subject, f.policy, f.rule, new Date())?.id ?? null;
}

/** A `show` subcommand: one stored thing by its id, as text or JSON; not stored is exit 2. */
function addShow<T>(
  parent: Command,
  ctx: CliContext,
  spec: {
    description: string;
    /** Its name, what it is, and its default when it may be left out (`[id]`). */
    argument: [string, string] | [string, string, string];
    /** Options of its own, beside --format and the store's. */
    options?: (command: Command) => Command;
    load: (store: Store, id: string, flags: StoreFlags & { inventory?: string }) => Promise<T | undefined>;
    missing: (id: string) => string;
    render: (found: T, color: boolean) => string;
    /** What --format json prints (default: what was loaded). */
    json?: (found: T) => unknown;
  },
): void {
  const command = parent
    .command("show")
    .description(spec.description)
    .argument(spec.argument[0], spec.argument[1], spec.argument[2]);
  addStoreOptions(
    (spec.options ?? ((c) => c))(command).option("--format <format>", "text or json", "text"),
  ).action(async (id: string, flags: StoreFlags & { inventory?: string }) => {
    oneOf("--format", flags.format, ["text", "json"]);
    await withExistingStore(flags, ctx, async (store) => {
      const found = await spec.load(store, id, flags);
      if (found === undefined) throw new NotFoundError(spec.missing(id));
      ctx.stdout.write(
        flags.format === "json"
          ? `${JSON.stringify(spec.json ? spec.json(found) : found, null, 2)}\n`
          : spec.render(found, useColor(ctx.stdout)),
      );
    });
  });
}

/**
 * Scans whose process ended without finishing them, told as interrupted rather than running, before
 * the history is read. Only a courtesy to the reader: a store too busy to take the write now (another
 * process writing for longer than the busy timeout) still lists, with those scans as they stand.
 */
async function markInterrupted(store: Store): Promise<void> {
  await store.scans.markInterrupted().catch(() => 0);
}

export function registerScans(program: Command, ctx: CliContext): void {
  const scans = program
    .command("scans")
    .description("the history of stored scans: when, what they found, new and resolved, savings");

  addStoreOptions(
    scans
      .command("list")
      .description("stored scans, newest first")
      .option("--inventory <name>", "only scans of this inventory")
      .option("--limit <n>", "at most this many, 0 for every one", "20")
      .option("--format <format>", "table, json or csv", "table"),
  ).action(async (flags: StoreFlags & { inventory?: string; limit: string }) => {
    oneOf("--format", flags.format, ["table", "json", "csv"]);
    const limit = limitOf("--limit", flags.limit)!;
    await withExistingStore(flags, ctx, async (store) => {
      await markInterrupted(store);
      const rows = await store.scans.list({
        limit,
        ...(flags.inventory !== undefined ? { inventory: inventoryFilter(flags.inventory) } : {}),
      });
      if (flags.format === "json") ctx.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else if (flags.format === "csv") await written(ctx.stdout, scanHistoryCsv(rows));
      else if (rows.length === 0 && flags.inventory !== undefined)
        // "No scans stored" would be untrue when other inventories' scans are.
        ctx.stdout.write(
          (await unknownNameHints(store, { inventory: flags.inventory })) ||
            `No stored scan of ${inventoryFilter(flags.inventory)}.\n`,
        );
      else ctx.stdout.write(renderScanHistory(rows, useColor(ctx.stdout)));
    });
  });

  addShow(scans, ctx, {
    description: "one stored scan: its counts by policy, severity, action and team, and savings",
    argument: [
      "[id]",
      `the scan's id (from scans list or a stored scan's summary), a start of it no other has, or ${LATEST_SCAN}: the newest`,
      LATEST_SCAN,
    ],
    options: (command) =>
      command.option("--inventory <name>", `with ${LATEST_SCAN}: the newest scan of this inventory`),
    load: async (store, id, flags) => {
      if (flags.inventory !== undefined && id !== LATEST_SCAN)
        throw new InputError(`--inventory chooses among scans for ${LATEST_SCAN}; ${id} names one scan`);
      await markInterrupted(store);
      return findScan(
        store,
        id,
        flags.inventory === undefined ? undefined : inventoryFilter(flags.inventory),
      );
    },
    missing: (id) => `no stored scan with id ${id}`,
    render: renderScan,
  });
}

/**
 * A hint lists at most this many names, each cut to this many characters: a store's names may be
 * anything (a team named in 5,000 characters). An inventory is often a file's path, to be copied from
 * the hint whole: it is cut only past a path's length.
 */
const HINT_NAMES = 20;
const HINT_NAME_CHARS = 60;
const HINT_INVENTORY_CHARS = 240;

/** A name from the store or the command line as a hint shows it. */
const hinted = (name: string, max = HINT_NAME_CHARS): string => truncate(printable(name), max);

/** Names in order as a hint lists them, saying how many it leaves out (`more`: there may be others beyond them). */
function hintedNames(names: Iterable<string>, max = HINT_NAME_CHARS, more = false): string {
  const all = [...new Set(names)].sort();
  if (all.length === 0) return "none";
  const listed = all
    .slice(0, HINT_NAMES)
    .map((name) => hinted(name, max))
    .join(", ");
  const left = all.length - Math.min(all.length, HINT_NAMES);
  return more ? `${listed} and more` : left > 0 ? `${listed} and ${left} more` : listed;
}

/** The regions or accounts looked at for a hint: more than a store is likely to have (AWS has some 30 regions). */
const KIND_VALUES = 1000;

/**
 * For a list that came out empty: each of --inventory, --policy and --team that names nothing the
 * latest 200 scans saw (`aws` where scans say `aws:us-east-1`, a policy misspelt), with what they
 * did see; each --region or --account no stored finding is in, with those they are in; a --resource
 * no stored finding is of, and an --exception not stored. Empty when each names a real one (the list
 * is then empty for another reason).
 */
async function unknownNameHints(
  store: Store,
  flags: {
    inventory?: string;
    policy?: string;
    team?: string;
    type?: string;
    region?: string;
    account?: string;
    resource?: string;
    exception?: string;
  },
): Promise<string> {
  const types = flags.type === undefined ? "" : typeHints(typesOf(flags.type));
  const named = [flags.inventory, flags.policy, flags.team, flags.region, flags.account, flags.resource];
  if (named.every((n) => n === undefined) && flags.exception === undefined) return types;
  const scans = await store.scans.list({ limit: 200 });
  if (scans.length === 0) return "No scan is stored yet.\n";
  let out = "";
  const hint = (
    what: string,
    name: string | undefined,
    seen: Iterable<string>,
    verb: string,
    max = HINT_NAME_CHARS,
  ) => {
    if (name === undefined) return;
    const known = new Set(seen);
    if (known.has(name)) return;
    const near = closest(name, known);
    const meant = near === undefined ? "" : ` (did you mean ${hinted(near, max)}?)`;
    out += `No scan ${verb} ${what} named ${hinted(name, max)}${meant}; the latest scans ${verb}: ${hintedNames(known, max)}\n`;
  };
  if (flags.inventory !== undefined) {
    const inventory = inventoryFilter(flags.inventory);
    // Asked of the store as well: an inventory last read more than 200 scans ago is still real.
    if ((await store.scans.list({ inventory, limit: 1 })).length === 0)
      hint(
        "an inventory",
        inventory,
        scans.map((s) => s.inventory),
        "read",
        HINT_INVENTORY_CHARS,
      );
  }
  hint(
    "a policy",
    flags.policy,
    scans.flatMap((s) => Object.keys(s.by_policy)),
    "found findings of",
  );
  hint(
    "a team",
    flags.team,
    scans.flatMap((s) => Object.keys(s.by_team)),
    "found findings of",
  );
  // Scans do not count regions and accounts: the stored findings' kinds have them.
  for (const [column, given] of [
    ["region", flags.region],
    ["account", flags.account],
  ] as const) {
    if (given === undefined) continue;
    const names = namesOf(`--${column}`, given);
    const found = new Set(await store.findings.kindValues(column, { among: names }));
    const unknown = names.filter((n) => !found.has(n));
    if (unknown.length === 0) continue;
    const known = await store.findings.kindValues(column, { limit: KIND_VALUES });
    for (const name of unknown) {
      const near = closest(name, known);
      const meant = near === undefined ? "" : ` (did you mean ${hinted(near)}?)`;
      out += `No stored finding is in the ${column} ${hinted(name)}${meant}; stored findings are in: ${hintedNames(known, HINT_NAME_CHARS, known.length === KIND_VALUES)}\n`;
    }
  }
  if (
    flags.resource !== undefined &&
    (await store.findings.count({ resourceId: flags.resource, status: [...FINDING_STATUSES] })) === 0
  )
    out += `No stored finding, of any status, is of a resource named ${hinted(flags.resource)}\n`;
  if (flags.exception !== undefined && (await store.exceptions.get(flags.exception)) === undefined) {
    const near = closest(
      flags.exception,
      (await store.exceptions.list()).map((e) => e.id),
    );
    const meant = near === undefined ? "" : ` (did you mean ${hinted(near)}?)`;
    out += `No exception ${hinted(flags.exception)} is stored${meant}: costguard exceptions list shows those that are\n`;
  }
  return out + types;
}

/** For a list that came out empty: each --type close to a type costguard's inventories give. */
function typeHints(types: readonly string[]): string {
  const known: readonly string[] = KNOWN_RESOURCE_TYPES;
  const categories = [...new Set(known.map((t) => `${t.split("/")[0]}/*`))];
  let out = "";
  for (const t of types) {
    const candidates = t.endsWith("/*") ? categories : known;
    if (candidates.includes(t)) continue;
    const near = closest(t, candidates);
    if (near !== undefined)
      out += `No resource type ${t} is one costguard's inventories give: did you mean ${near}?\n`;
  }
  return out;
}

const onlyResolved = (statuses: readonly FindingStatus[]): boolean =>
  statuses.length === 1 && statuses[0] === "resolved";

/** Whether the findings' savings are at stake (none resolved), no longer (all), or both. */
const stakeOf = (statuses: readonly FindingStatus[]): Stake =>
  !statuses.includes("resolved") ? "open" : onlyResolved(statuses) ? "resolved" : "mixed";

/**
 * --new-in and --resolved-in: the scans they name looked up (`latest` with --inventory: that
 * inventory's newest scan, not the newest of any) and added to `filter`. Returns what the findings
 * listed are, as the table's footer says it of so many.
 */
async function inScans(
  store: Store,
  flags: FilterFlags,
  filter: FindingFilter,
  statuses: readonly FindingStatus[],
): Promise<Counted> {
  // "resolved findings resolved in ..." says it twice.
  const said =
    statuses.length === FINDING_STATUSES.length || (flags.resolvedIn !== undefined && onlyResolved(statuses));
  const kind = said ? "" : `${statuses.join(" or ")} `;
  let what = "";
  if (flags.newIn !== undefined) {
    const newIn = await findScan(store, flags.newIn, filter.inventory);
    filter.firstScanId = newIn.id;
    what += ` new in ${newIn.id}`;
  }
  if (flags.resolvedIn !== undefined) {
    const scan = await resolvingScan(store, flags.resolvedIn, filter.inventory);
    if (filter.inventory !== undefined && filter.inventory !== scan.inventory)
      throw new InputError(
        `${scan.id} scanned ${scan.inventory}, not ${filter.inventory}: it resolved none of its findings`,
      );
    filter.inventory = scan.inventory;
    filter.resolvedAt = scan.started_at;
    what += ` resolved in ${scan.id}`;
  }
  // An age filter said: "No open findings." read as if none were open at all. Counted back from --at,
  // "ago" would read as from now.
  if (flags.olderThan !== undefined)
    what += ` first seen more than ${flags.olderThan} ${flags.at === undefined ? "ago" : `before ${printable(flags.at)}`}`;
  return (count) => `${kind}${count === 1 ? "finding" : "findings"}${what}`;
}

/** The scan --resolved-in names: one that completed (a scan that failed or is running resolved nothing). */
async function resolvingScan(
  store: Store,
  given: string,
  inventory: string | undefined,
): Promise<ScanRecord> {
  if (given === LATEST_SCAN) {
    const scans = await store.scans.list(inventory !== undefined ? { inventory } : {});
    const newest = scans.find((s) => s.status === "completed");
    const of = inventory === undefined ? "" : ` of ${inventory}`;
    if (newest === undefined)
      throw new NotFoundError(
        scans.length === 0
          ? `no stored scan${of}`
          : `none of the ${scans.length} newest stored scans${of} completed (a scan that failed resolved nothing): give a scan's id`,
      );
    return newest;
  }
  const scan = await findScan(store, given, inventory);
  if (scan.status !== "completed")
    throw new InputError(
      `${scan.id} ${scan.status === "failed" ? "failed" : "is still running"}: a scan resolves findings only when it completes`,
    );
  return scan;
}

/** What `findings prune` did, for people. */
function renderPruned(pruned: PrunedFindings, before: string, dryRun: boolean): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const what = `${n(pruned.deleted)} resolved ${pruned.deleted === 1 ? "finding" : "findings"} resolved before ${before}`;
  if (pruned.deleted === 0)
    return Object.keys(pruned.busy).length > 0
      ? "" // the inventories left alone are said on stderr
      : `No resolved findings resolved before ${before}: nothing to ${dryRun ? "prune" : "delete"}.\n`;
  const by = Object.entries(pruned.byInventory)
    .map(([inventory, count]) => `  ${printable(inventory)}  ${n(count)}\n`)
    .join("");
  return dryRun
    ? `Would delete ${what} (dry run: nothing deleted):\n${by}`
    : `Deleted ${what}:\n${by}Open and excepted findings are kept. \`costguard store compact\` gives the room back to the disk.\n`;
}

/** `--inventory` as scans name it: a file spelt as the scan was not (`file:./estate.jsonl`) still matches. */
function inventoryFilter(name: string): string {
  return name.startsWith("file:") ? fileInventoryName(name.slice(5)) : name;
}
