import { existsSync } from "node:fs";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import type { Command } from "commander";
import { InputError } from "../../errors.js";
import { refuseOverwrite } from "../../files.js";
import { type ActionRequest, SANDBOX_ACTIONS, type SandboxAction } from "../../inventory/sandbox/actions.js";
import {
  actOnSandbox,
  initSandbox,
  resetSandbox,
  SANDBOX_SOURCE,
  sandboxOverview,
} from "../../inventory/sandbox/sandbox.js";
import { formatMoney, parseAmount } from "../../money/exact.js";
import { loadPrices, type PriceLookup } from "../../scan/prices.js";
import { openExistingStore } from "../../store/open.js";
import type { Store } from "../../store/store.js";
import { checkUserName } from "../../users.js";
import { parseAt, refuseSandboxAhead } from "../clock.js";
import type { CliContext } from "../context.js";
import { givenOnce } from "../given-once.js";
import { holdInterrupts } from "../interrupt.js";
import { type ProgressBar, progressBar } from "../progress.js";
import {
  DATABASE_OPTION_HELP,
  databaseLocation,
  defaultBillingPath,
  openCliStore,
  upgradeNotice,
} from "../store-options.js";
import { printable, renderTable, useColor } from "../table.js";
import { refuseUnused } from "../unused-options.js";
import { actingUser } from "../workspace.js";

/** What `scan --inventory sandbox` creates in a store that has never had a sandbox. */
export const DEMO_SANDBOX = { resources: 200, seed: "demo" } as const;

/** --billing PATH with --no-billing: each undoes the other, whichever came last won in silence. */
const BILLING_CONFLICT =
  "--billing PATH and --no-billing contradict each other: give --billing PATH to write the billing file there, or --no-billing for none";

export function registerSandbox(program: Command, ctx: CliContext): void {
  /** The path --billing was given in this command line, if any (a later --no-billing hides it). */
  let billingGiven: string | undefined;
  const oneBillingPath = givenOnce("--billing", "names the one billing file init writes", "give one");
  const sandbox = program
    .command("sandbox")
    .description("a simulated cloud estate with real state in the store, for demos and tests");

  sandbox
    .command("init")
    .description("create (or re-create) the sandbox estate and its FOCUS billing file")
    .option("--resources <n>", "how many resources", "200")
    .option("--seed <seed>", "the same seed always builds the same estate", "demo")
    .option("--at <time>", "the estate's clock (ISO 8601): ages and detach times are relative to it")
    .option(
      "--billing <path>",
      "where to write the FOCUS billing file (default: beside the database)",
      (value: string, previous: string | boolean | undefined) => {
        if (previous === false) throw new InputError(BILLING_CONFLICT);
        billingGiven = oneBillingPath(value, typeof previous === "string" ? previous : undefined);
        return billingGiven;
      },
    )
    .option("--no-billing", "do not write a billing file")
    .option("--billing-days <days>", "days of billing history to write", "30")
    .option("--database <url>", DATABASE_OPTION_HELP)
    .addHelpText(
      "after",
      `
Examples:
  costguard sandbox init --resources 500 --seed 42
  costguard sandbox init --resources 2000 --seed big --at 2026-06-01 --billing ./billing.csv`,
    )
    .action(
      async (
        opts: {
          resources: string;
          seed: string;
          at?: string;
          billing?: string | boolean;
          billingDays: string;
          database?: string;
        },
        command: Command,
      ) => {
        if (opts.billing === false && billingGiven !== undefined) throw new InputError(BILLING_CONFLICT);
        refuseUnused(command, {
          billingDays: opts.billing === false && "applies to the billing file, and --no-billing writes none",
        });
        const resources = wholeNumber(opts.resources, "--resources");
        if (resources > MAX_SANDBOX_RESOURCES)
          throw new InputError(
            `--resources is at most ${MAX_SANDBOX_RESOURCES.toLocaleString("en-US")}, got ${opts.resources}: the sandbox is generated in memory (2,000,000 resources take ~3.5 GB); a larger estate to scan belongs in a file (--inventory file:PATH, JSON lines)`,
          );
        // An unset shell variable (--seed "$SEED") would otherwise make every run the same "" estate.
        const days = wholeNumber(opts.billingDays, "--billing-days");
        // Zero days wrote a billing file of no rows, its header alone: none is --no-billing.
        if (days < 1)
          throw new InputError(
            `--billing-days must be at least 1, got ${opts.billingDays}; for no billing file, --no-billing`,
          );
        const at = parseAt(opts.at);
        // The billing file's charges reach back --billing-days and its billing periods end at the next
        // month's start: both must be times a FOCUS timestamp can write (1970 to 9999).
        if (opts.billing !== false) {
          if (at.getTime() >= Date.UTC(9999, 11, 1))
            throw new InputError(
              `--at ${opts.at}: the billing file's period would end in the year 10000; give an earlier --at, or --no-billing`,
            );
          if (at.getTime() - days * 86_400_000 < 0)
            throw new InputError(
              `--at ${opts.at}: ${days} days of billing before it reach before 1970; give a later --at, fewer --billing-days, or --no-billing`,
            );
        }
        refuseSandboxAhead(at, opts.at, ctx.now?.() ?? Date.now(), "init");
        const location = databaseLocation(opts.database, ctx);
        const billingPath =
          opts.billing === false
            ? undefined
            : typeof opts.billing === "string"
              ? opts.billing
              : defaultBillingPath(location, ctx);
        // A folder that is not there is a typo more often than a wish (it was made, parents and all);
        // the default's folder is the store's own, made with it.
        if (typeof opts.billing === "string") {
          const folder = dirname(resolve(ctx.cwd, opts.billing));
          if (!existsSync(folder))
            throw new InputError(
              `cannot write the billing file ${opts.billing}: its folder ${folder} does not exist; create it first, or give a path in a folder that does`,
            );
        }
        if (billingPath && location.kind === "sqlite" && location.path !== ":memory:")
          refuseOverwrite(
            billingPath,
            "--billing",
            ["", "-wal", "-shm"].map((end) => ({
              path: `${location.path}${end}`,
              what: "the store's database file",
            })),
          );
        const big = billingPath ? largeBillingWarning(resources, days) : undefined;
        if (big) ctx.stderr.write(`costguard: ${big}\n`);
        await withStore(opts.database, ctx, async (store) => {
          // On a terminal: a bar while the billing is written, then one while the estate is stored.
          let phase: string | undefined;
          let bar: ProgressBar | undefined;
          // Ctrl-C stops it with the old estate and billing file as they were (and no half-written
          // billing file left beside them), not half way through.
          const interrupts = holdInterrupts(
            (text) => ctx.stderr.write(text),
            () => (phase === "billing" ? "removing the unfinished billing file" : "the current page"),
            { recorded: false },
          );
          const result = await initSandbox(store, loadPrices(), {
            resources,
            seed: opts.seed,
            at,
            signal: interrupts.signal,
            billingDays: days,
            ...(billingPath ? { billingPath } : {}),
            onProgress: (p) => {
              if (p.phase !== phase) {
                bar?.done();
                phase = p.phase;
                bar = progressBar(
                  ctx.stderr,
                  p.phase === "estate" ? "storing the estate" : "writing billing",
                );
              }
              bar!.update({ resources: p.done, done: p.done, total: p.total });
            },
          }).finally(() => {
            bar?.done();
            interrupts.release();
          });
          ctx.stdout.write(
            `sandbox: ${count(result.resources)} ${result.resources === 1 ? "resource" : "resources"} (seed ${result.seed}, as of ${at.toISOString()}) in ${store.location}\n`,
          );
          if (result.billing)
            ctx.stdout.write(`billing: ${count(result.billing.rows)} FOCUS rows in ${result.billing.path}\n`);
        });
      },
    );

  sandbox
    .command("show")
    .description("what the sandbox holds: counts by type and state, running monthly cost; or one resource")
    .option("--resource <id>", "print one resource as JSON")
    .option("--format <format>", "table or json", "table")
    .option("--database <url>", DATABASE_OPTION_HELP)
    .action(async (opts: { resource?: string; format: string; database?: string }) => {
      if (opts.format !== "table" && opts.format !== "json")
        throw new InputError(`--format must be table or json, got ${opts.format}`);
      await withStore(
        opts.database,
        ctx,
        async (store) => {
          if (opts.resource) {
            const found = await store.resources.get(SANDBOX_SOURCE, opts.resource);
            if (!found) throw new InputError(`the sandbox has no resource ${opts.resource}`);
            ctx.stdout.write(
              `${JSON.stringify({ ...found.resource, updated_at: found.updated_at }, null, 2)}\n`,
            );
            return;
          }
          const o = await sandboxOverview(store);
          if (opts.format === "json") {
            ctx.stdout.write(`${JSON.stringify(o, null, 2)}\n`);
            return;
          }
          if (o.seed === null && o.resources === 0) {
            ctx.stdout.write(`the sandbox in ${store.location} is empty: run costguard sandbox init\n`);
            return;
          }
          const rows = Object.entries(o.by_type).flatMap(([type, states]) =>
            Object.entries(states).map(([state, count]) => ({ type, state, count })),
          );
          ctx.stdout.write(
            renderTable(
              rows,
              [
                { header: "TYPE", value: (r) => r.type },
                { header: "STATE", value: (r) => r.state },
                { header: "COUNT", value: (r) => String(r.count), align: "right" },
              ],
              useColor(ctx.stdout),
            ),
          );
          ctx.stdout.write(
            `${o.resources} ${o.resources === 1 ? "resource" : "resources"} (seed ${o.seed ?? "-"}, created ${o.created_at ?? "-"}; ${o.gone} terminated or deleted), running cost ${formatMoney(parseAmount(o.monthly_cost), o.currency)} per month\n`,
          );
        },
        { existing: true },
      );
    });

  sandbox
    .command("reset")
    .description("remove the sandbox estate from the store")
    .option("--database <url>", DATABASE_OPTION_HELP)
    .action(async (opts: { database?: string }) => {
      await withStore(opts.database, ctx, async (store) => {
        const removed = await resetSandbox(store, new Date());
        ctx.stdout.write(
          `sandbox: removed ${removed} ${removed === 1 ? "resource" : "resources"} from ${store.location}\n`,
        );
      });
    });

  sandbox
    .command("act")
    .description(`act on a sandbox resource: ${SANDBOX_ACTIONS.join(", ")}`)
    .argument("<action>", SANDBOX_ACTIONS.join(" | "))
    .argument("<id>", "resource id")
    .option("--to <type>", "resize: the new instance type or database class")
    .option(
      "--tag <key=value>",
      "tag: set one tag, its value everything after the first = (commas and = in it too); key= removes it; repeat for more",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option("--actor <name>", "who acts, for the audit log (default: COSTGUARD_USER, else cli)")
    .option("--at <time>", "when the action happens (ISO 8601)")
    .option("--database <url>", DATABASE_OPTION_HELP)
    .addHelpText(
      "after",
      `
Examples:
  costguard sandbox act stop i-0abc...
  costguard sandbox act resize i-0abc... --to m5.large
  costguard sandbox act tag vol-0def... --tag owner=maria@company.com --tag project=ledger
  costguard sandbox act tag vol-0def... --tag 'description=logs, 2026'`,
    )
    .action(
      async (
        action: string,
        id: string,
        opts: { to?: string; tag?: string[]; actor?: string; at?: string; database?: string },
        command: Command,
      ) => {
        if (!SANDBOX_ACTIONS.includes(action as SandboxAction))
          throw new InputError(`unknown action ${action}: use one of ${SANDBOX_ACTIONS.join(", ")}`);
        // The audit log names it: checked as every other user name is (an ESC would reach a terminal).
        // --actor, else the user the exceptions commands act as (COSTGUARD_USER), else `cli`.
        const actor =
          opts.actor !== undefined
            ? checkUserName(opts.actor, "--actor")
            : (ctx.env.COSTGUARD_USER ?? "").trim() !== ""
              ? actingUser(undefined, ctx)
              : "cli";
        refuseUnused(command, {
          to: action !== "resize" && `applies to resize, not ${action}`,
          tag: action !== "tag" && `applies to tag, not ${action}`,
        });
        const req: ActionRequest = { action: action as SandboxAction, id };
        if (opts.to) req.instanceType = opts.to;
        if (opts.tag) req.tags = parseTags(opts.tag);
        const now = () => new Date(ctx.now?.() ?? Date.now());
        // Without --at: now as of the moment it acts, read in its transaction (actOnSandbox).
        const at = opts.at === undefined ? undefined : parseAt(opts.at);
        if (at) refuseSandboxAhead(at, opts.at, now().getTime(), "act");
        await withStore(opts.database, ctx, async (store) => {
          const outcome = await actOnSandbox(store, loadPrices(), req, {
            ...(at ? { at } : { now }),
            actor,
          });
          ctx.stdout.write(`${outcome.applied ? "" : "unchanged: "}${printable(outcome.message)}\n`);
        });
      },
    );
}

/** Creates the demo estate when the store has never held a sandbox (so one command shows a scan). */
export async function ensureDemoSandbox(
  store: Store,
  prices: PriceLookup,
  at: Date,
  ctx: CliContext,
  /** The store's `--database`, if given: the demo's billing export goes beside it, as `sandbox init`'s. */
  database: string | undefined,
): Promise<void> {
  if ((await store.settings.get("sandbox.seed")) !== undefined) return;
  if ((await store.settings.get("sandbox.reset_at")) !== undefined) return;
  if ((await store.resources.count(SANDBOX_SOURCE, { includeGone: true })) > 0) return;
  const billingPath = defaultBillingPath(databaseLocation(database, ctx), ctx);
  ctx.stderr.write(
    `costguard: the sandbox in ${store.location} is empty: creating the demo estate (${DEMO_SANDBOX.resources} resources, seed ${DEMO_SANDBOX.seed}) and its FOCUS billing export ${relativeToCwd(billingPath, ctx)}\n`,
  );
  await initSandbox(store, prices, { ...DEMO_SANDBOX, at, billingPath });
}

/** A path as the user would type it from where they are (absolute when it is elsewhere). */
function relativeToCwd(path: string, ctx: CliContext): string {
  const rel = relative(ctx.cwd, path);
  return rel !== "" && !rel.startsWith("..") && !isAbsolute(rel) ? rel : path;
}

/** What `sandbox show` says makes a store when there is none (it creates none itself). */
const SANDBOX_CREATES_STORE = "costguard sandbox init creates one with an estate in it";

async function withStore(
  database: string | undefined,
  ctx: CliContext,
  fn: (store: Store) => Promise<void>,
  options: { existing?: boolean } = {},
): Promise<void> {
  const store = options.existing
    ? await openExistingStore(databaseLocation(database, ctx), upgradeNotice(ctx), SANDBOX_CREATES_STORE)
    : await openCliStore(database, ctx);
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

function wholeNumber(text: string, flag: string): number {
  if (!/^[0-9]{1,15}$/.test(text)) throw new InputError(`${flag} must be a whole number, got ${text}`);
  return Number(text);
}

/** The most resources `sandbox init` generates: it holds the estate in memory while storing it. */
export const MAX_SANDBOX_RESOURCES = 2_000_000;

/** A billing file's rows average about this many bytes (FOCUS columns, tags as JSON). */
const BILLING_ROW_BYTES = 740;

/**
 * Said before writing a billing file of more than a gigabyte (every running resource has a row a
 * day): how big it will be, and how to write less. Undefined for smaller files.
 */
export function largeBillingWarning(resources: number, days: number): string | undefined {
  const rows = resources * days;
  const bytes = rows * BILLING_ROW_BYTES;
  if (bytes < 1e9) return undefined;
  return `the billing file will have up to ${count(rows)} rows (~${(bytes / 1e9).toFixed(1)} GB, a row per resource and day); --billing-days or --no-billing write less`;
}

function count(n: number): string {
  return n.toLocaleString("en-US");
}

function parseTags(pairs: readonly string[]): Record<string, string | null> {
  const tags: Record<string, string | null> = {};
  for (const p of pairs) {
    const eq = p.indexOf("=");
    if (eq <= 0) throw new InputError(`--tag must be key=value (or key= to remove), got ${p}`);
    const key = p.slice(0, eq);
    if (key === "__proto__") throw new InputError("--tag: `__proto__` is not a tag key");
    const value = p.slice(eq + 1);
    const next = value === "" ? null : value;
    // The later one would replace the earlier in silence.
    if (Object.hasOwn(tags, key) && tags[key] !== next)
      throw new InputError(`--tag gives the tag ${key} twice: say what it becomes once`);
    tags[key] = next;
  }
  return tags;
}
