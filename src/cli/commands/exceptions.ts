import type { Command } from "commander";
import type { CostguardConfig } from "../../config/load.js";
import { InputError } from "../../errors.js";
import { describeApprovers, eligibleApprovers } from "../../exceptions/approvers.js";
import { policyCatalog } from "../../exceptions/catalog.js";
import { MIN_EXCEPTION_MS, tooShortForAnException } from "../../exceptions/lifecycle.js";
import { summarizeException } from "../../exceptions/report.js";
import { createExceptionService, type ExceptionService } from "../../exceptions/service.js";
import {
  EXCEPTION_STATUSES,
  EXCEPTION_TYPES,
  type ExceptionRequest,
  type ExceptionType,
} from "../../exceptions/types.js";
import { closest } from "../../policy/suggest.js";
import type { Store } from "../../store/store.js";
import type { Clock } from "../../time/clock.js";
import { DAY_MS, parseDuration } from "../../time/duration.js";
import { refuseRecordingAhead } from "../clock.js";
import type { CliContext } from "../context.js";
import { renderException, renderExceptionsReport, renderExceptionTable } from "../exceptions-output.js";
import { findFinding } from "../finding-lookup.js";
import { type CliNotifier, withOutboxNotifier } from "../notices.js";
import { useColor } from "../table.js";
import {
  actingUser,
  addWorkspaceOptions,
  type WorkspaceOptions,
  withStore,
  workspaceClock,
  workspaceConfig,
  workspacePolicies,
} from "../workspace.js";

interface Common extends WorkspaceOptions {
  as?: string;
  format?: string;
}

/** Runs `fn` with an exception service over the configured store, policies and clock. */
async function withService<T>(
  opts: Common,
  ctx: CliContext,
  fn: (service: ExceptionService, clock: Clock, config: CostguardConfig, store: Store) => Promise<T>,
  options: { needPolicies?: boolean; readOnly?: boolean } = {},
): Promise<T> {
  const { needPolicies = false, readOnly = false } = options;
  const config = workspaceConfig(opts, ctx);
  const clock = workspaceClock(opts, ctx);
  if (!readOnly) refuseRecordingAhead(clock(), opts.at, ctx.now?.() ?? Date.now());
  const policies = needPolicies ? workspacePolicies(opts, config, ctx) : undefined;
  if (needPolicies && policies === undefined)
    ctx.stderr.write(
      "costguard: warning: no policies loaded (--policies, or policies: in costguard.yaml): the policy and rule names are not checked and only per-policy and manager approvers apply\n",
    );
  const serve = (store: Store, notifier?: CliNotifier) =>
    fn(
      createExceptionService({
        store: store.exceptions,
        audit: store.audit,
        clock,
        config: config.exceptions,
        ...(notifier ? { notifier } : {}),
        ...(policies ? { catalog: policyCatalog(policies) } : {}),
      }),
      clock,
      config,
      store,
    );
  return withStore(
    opts,
    config,
    ctx,
    // Reading notifies no one: no outbox is opened (its file made) for it.
    (store) =>
      readOnly
        ? serve(store)
        : withOutboxNotifier(
            { configFile: opts.config, config, clock, audit: store.audit, store, ctx },
            (notifier) => serve(store, notifier),
          ),
    // Show, list and report read: none of them makes a store where there is none.
    readOnly ? { existing: true, creates: EXCEPTION_CREATES_STORE } : {},
  );
}

/** What show, list and report say makes a store when there is none. */
const EXCEPTION_CREATES_STORE =
  "the first exception requested creates it (costguard exceptions request --resource ID --policy NAME ...)";

function format(opts: Common, allowed: readonly string[]): string {
  const f = opts.format ?? allowed[0]!;
  if (!allowed.includes(f)) throw new InputError(`--format must be ${allowed.join(" or ")}, got ${f}`);
  return f;
}

function tagPairs(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const out = { ...previous };
  for (const pair of value
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new InputError(`--match-tag takes KEY=VALUE, got '${pair}'`);
    const key = pair.slice(0, eq);
    if (key === "__proto__") throw new InputError("--match-tag: `__proto__` is not a tag key");
    // The later one would replace the earlier in silence; a resource has one value per tag anyway.
    if (Object.hasOwn(out, key) && out[key] !== pair.slice(eq + 1))
      throw new InputError(
        `--match-tag names the tag ${key} twice ('${out[key]}' and '${pair.slice(eq + 1)}'): a resource has one value per tag, so no resource would match; ask for one exception per value`,
      );
    out[key] = pair.slice(eq + 1);
  }
  return out;
}

function reviewDays(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  // Any text that is no whole number of days gets the one message, naming only forms it takes (the
  // duration parser's own named 90m, then refused).
  let ms: number | undefined;
  try {
    ms = /^\d+$/.test(text) ? Number(text) * DAY_MS : parseDuration(text, "--review-interval");
  } catch (err) {
    if (!(err instanceof InputError)) throw err;
  }
  if (ms === undefined || ms <= 0 || ms % DAY_MS !== 0)
    throw new InputError(
      `--review-interval must be a whole number of days, e.g. 90, 90d or 2w, got '${text}'`,
    );
  return ms / DAY_MS;
}

/** An exception's `--duration`: at least an hour (see MIN_EXCEPTION_MS), the message naming what was typed. */
function exceptionDuration(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const short = tooShortForAnException("--duration", text);
  const ms = parseDuration(text, "--duration", short);
  if (ms < MIN_EXCEPTION_MS) throw new InputError(short);
  return ms;
}

export function registerExceptions(program: Command, ctx: CliContext): void {
  const group = program
    .command("exceptions")
    .description("request, approve and review policy exceptions")
    .addHelpText(
      "after",
      `
Exceptions waive a policy rule for one resource (--resource) or for whatever matches a selector
(--match-tag/--match-type/--match-account: a conditional exception). An approved, unexpired exception
is honoured by every gate, by scans (findings become excepted) and by remediation (it skips them).
Approvers come from costguard.yaml (see docs/exceptions.md); nobody approves their own request.

Examples:
  costguard exceptions request --resource i-0abc --policy mandatory-tags --rule cost-center-required \\
    --justification "migration in progress" --duration 30d --as alice
  costguard exceptions approve exc-1a2b3c4d5e --as carol
  costguard exceptions list --status pending
  costguard exceptions report --format json`,
    );

  addWorkspaceOptions(
    group
      .command("request")
      .description("ask for an exception; prints its id")
      .option(
        "--finding <fingerprint>",
        "the stored finding it covers (costguard findings list; a start of its fingerprint will do): its resource, policy and rule",
      )
      .option("--resource <id>", "the resource it covers")
      .option("--match-tag <key=value>", "conditional: resources with this tag (repeatable)", tagPairs)
      .option("--match-type <type>", "conditional: resources of this type (compute/instance, compute/*)")
      .option("--match-account <account>", "conditional: resources in this account")
      .option("--policy <name>", "the policy it waives (required unless --finding)")
      .option("--rule <name>", "the rule it waives (default: every rule of the policy)")
      .requiredOption("--justification <text>", "why")
      .option(
        "--type <type>",
        `${EXCEPTION_TYPES.join(" | ")} (default: temporary with --duration, conditional with a selector, else permanent)`,
      )
      .option("--duration <duration>", "how long it lasts once approved, e.g. 30d, 12h")
      .option("--review-interval <days>", "permanent and conditional: review every N days (default 90)")
      .option("--as <user>", "who is asking")
      .option("--format <format>", "text or json", "text"),
  ).action(
    async (
      opts: Common & {
        finding?: string;
        resource?: string;
        matchTag?: Record<string, string>;
        matchType?: string;
        matchAccount?: string;
        policy?: string;
        rule?: string;
        justification: string;
        type?: string;
        duration?: string;
        reviewInterval?: string;
      },
    ) => {
      const fmt = format(opts, ["text", "json"]);
      const requester = actingUser(opts.as, ctx);
      if (opts.type !== undefined && !(EXCEPTION_TYPES as readonly string[]).includes(opts.type))
        throw new InputError(`--type must be one of ${EXCEPTION_TYPES.join(", ")}, got ${opts.type}`);
      const hasSelector = opts.matchTag || opts.matchType || opts.matchAccount;
      if (opts.finding !== undefined && (opts.resource || opts.policy || opts.rule || hasSelector))
        throw new InputError(
          "--finding names the resource, policy and rule: give it without --resource, --policy, --rule or --match-*",
        );
      if (opts.finding === undefined && opts.policy === undefined)
        throw new InputError(
          "say what it waives: --policy NAME (with --resource or --match-*), or --finding FINGERPRINT",
        );
      // Only --match-type takes a wildcard: elsewhere `*` or a regular expression is matched as it is
      // written, and an exception for `i-*` or `team=ml-.*` would cover nothing while looking broad.
      const literal = [
        ...(opts.resource !== undefined ? [["--resource", opts.resource]] : []),
        ...Object.entries(opts.matchTag ?? {}).map(([k, v]) => ["--match-tag", `${k}=${v}`]),
        ...(opts.matchAccount !== undefined ? [["--match-account", opts.matchAccount]] : []),
      ].filter(([, v]) => /[*?]|^\^|\$$/.test(v!));
      for (const [flag, value] of literal)
        ctx.stderr.write(
          `costguard: warning: ${flag} ${value} is matched as written: only --match-type takes a wildcard (compute/*); ${flag === "--resource" ? "name the resource, or use --match-tag or --match-type" : "give the exact value"}\n`,
        );
      const req: ExceptionRequest = {
        resource_id: opts.resource,
        selector: hasSelector
          ? {
              ...(opts.matchTag ? { tags: opts.matchTag } : {}),
              ...(opts.matchType ? { type: opts.matchType } : {}),
              ...(opts.matchAccount ? { account: opts.matchAccount } : {}),
            }
          : undefined,
        policy: opts.policy ?? "",
        rule: opts.rule,
        type: opts.type as ExceptionType | undefined,
        justification: opts.justification,
        requested_by: requester,
        duration_ms: exceptionDuration(opts.duration),
        review_interval_days: reviewDays(opts.reviewInterval),
      };
      await withService(
        opts,
        ctx,
        async (service, _clock, config, store) => {
          if (opts.finding !== undefined) {
            const finding = await findFinding(store, opts.finding, " (costguard findings list shows them)");
            req.resource_id = finding.resource_id;
            req.policy = finding.policy;
            req.rule = finding.rule;
          }
          const exc = await service.request(req);
          if (fmt === "json") {
            ctx.stdout.write(`${JSON.stringify(exc, null, 2)}\n`);
            return;
          }
          ctx.stdout.write(`${exc.id}\n`);
          ctx.stderr.write(
            `${exc.id}: ${exc.type} exception requested by ${exc.requested_by}, pending approval (approvers: ${describeApprovers(eligibleApprovers(exc, config.exceptions.approvers))})\n`,
          );
        },
        { needPolicies: true },
      );
    },
  );

  const decision = (
    name: string,
    description: string,
    extra: (cmd: Command) => Command,
    act: (
      service: ExceptionService,
      id: string,
      user: string,
      opts: Common & Record<string, string>,
    ) => Promise<unknown>,
  ) => {
    addWorkspaceOptions(
      extra(group.command(name).description(description).argument("<id>", "the exception's id"))
        .option("--as <user>", "who is acting")
        .option("--format <format>", "text or json", "text"),
      { policies: false },
    ).action(async (id: string, opts: Common & Record<string, string>) => {
      const fmt = format(opts, ["text", "json"]);
      const user = actingUser(opts.as, ctx);
      await withService(opts, ctx, async (service, clock) => {
        await act(service, id, user, opts);
        const exc = await service.get(id);
        ctx.stdout.write(
          fmt === "json" ? `${JSON.stringify(exc, null, 2)}\n` : renderException(exc, clock()),
        );
      });
    });
  };

  decision(
    "approve",
    "approve a pending exception (eligible approvers only, never the requester)",
    (c) => c.option("--comment <text>", "a note kept in the history"),
    (s, id, user, o) => s.approve(id, user, o.comment),
  );
  decision(
    "reject",
    "reject a pending exception, with a reason",
    (c) => c.requiredOption("--reason <text>", "why"),
    (s, id, user, o) => s.reject(id, user, o.reason ?? ""),
  );
  decision(
    "revoke",
    "end a pending or approved exception (its requester or an approver)",
    (c) => c.option("--reason <text>", "why"),
    (s, id, user, o) => s.revoke(id, user, o.reason),
  );
  decision(
    "renew",
    "extend a temporary exception, or record the review of a permanent one",
    (c) => c.option("--duration <duration>", "extend by this much (default: its original duration)"),
    (s, id, user, o) => s.renew(id, user, exceptionDuration(o.duration)),
  );

  addWorkspaceOptions(
    group
      .command("show")
      .description("one exception with its history")
      .argument("<id>", "the exception's id")
      .option("--format <format>", "text or json", "text"),
    { policies: false },
  ).action(async (id: string, opts: Common) => {
    const fmt = format(opts, ["text", "json"]);
    await withService(
      opts,
      ctx,
      async (service, clock) => {
        const exc = await service.get(id);
        ctx.stdout.write(
          fmt === "json" ? `${JSON.stringify(exc, null, 2)}\n` : renderException(exc, clock()),
        );
      },
      { readOnly: true },
    );
  });

  addWorkspaceOptions(
    group
      .command("list")
      .description("exceptions, oldest first")
      .option("--status <status>", `only this status (${EXCEPTION_STATUSES.join(", ")})`)
      .option("--policy <name>", "only this policy")
      .option("--requested-by <user>", "only this requester")
      .option("--resource <id>", "only this resource")
      .option("--format <format>", "table or json", "table"),
    { policies: false },
  ).action(
    async (opts: Common & { status?: string; policy?: string; requestedBy?: string; resource?: string }) => {
      const fmt = format(opts, ["table", "json"]);
      if (opts.status !== undefined && !(EXCEPTION_STATUSES as readonly string[]).includes(opts.status))
        throw new InputError(`--status must be one of ${EXCEPTION_STATUSES.join(", ")}, got ${opts.status}`);
      await withService(
        opts,
        ctx,
        async (service, clock) => {
          const now = clock();
          // Status filters use the status as of now: an approved exception past its expiry lists as expired.
          const all = await service.list({
            ...(opts.policy ? { policy: opts.policy } : {}),
            ...(opts.requestedBy ? { requested_by: opts.requestedBy } : {}),
            ...(opts.resource ? { resource_id: opts.resource } : {}),
          });
          const shown = opts.status
            ? all.filter((e) => summarizeException(e, now).status === opts.status)
            : all;
          // None for a policy no exception names (misspelt?): what it might have meant, on stderr.
          if (all.length === 0 && opts.policy !== undefined) {
            const named = [...new Set((await service.list({})).map((e) => e.policy))].sort();
            if (named.length > 0) {
              const near = closest(opts.policy, named);
              ctx.stderr.write(
                `costguard: no exception names the policy ${opts.policy}${near !== undefined ? `: did you mean ${near}?` : ""} (policies with exceptions: ${named.join(", ")})\n`,
              );
            }
          }
          if (fmt === "json") ctx.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
          else ctx.stdout.write(renderExceptionTable(shown, now, useColor(ctx.stdout)));
        },
        { readOnly: true },
      );
    },
  );

  addWorkspaceOptions(
    group
      .command("report")
      .description("counts by status, policy and type; expiring soon; needing review")
      .option("--format <format>", "table or json", "table"),
    { policies: false },
  ).action(async (opts: Common) => {
    const fmt = format(opts, ["table", "json"]);
    await withService(
      opts,
      ctx,
      async (service) => {
        const report = await service.report();
        ctx.stdout.write(
          fmt === "json"
            ? `${JSON.stringify(report, null, 2)}\n`
            : renderExceptionsReport(report, useColor(ctx.stdout)),
        );
      },
      { readOnly: true },
    );
  });
}
