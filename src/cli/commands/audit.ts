import type { Command } from "commander";
import { InputError } from "../../errors.js";
import { closest } from "../../policy/suggest.js";
import type { AuditEntry, AuditFilter, AuditRepository } from "../../store/audit.js";
import { auditCsvHeader, auditCsvRows, renderAudit } from "../audit-output.js";
import type { CliContext } from "../context.js";
import { ageOrTime, limitOf, oneOf } from "../flag-values.js";
import { useColor } from "../table.js";
import { addStoreOptions, withExistingStore } from "../workspace.js";
import { written } from "../written.js";

/** Entries read per query when json and csv stream many (keyset pages: memory stays flat). */
const PAGE = 1000;

interface AuditFlags {
  config?: string;
  database?: string;
  format: string;
  subject?: string;
  action?: string;
  actor?: string;
  since?: string;
  limit: string;
}

/** `--action`: one action (`resource.stop`), or every action of a family (`resource.*`). */
function actionFilter(action: string): Pick<AuditFilter, "action" | "actionPrefix"> {
  const family = action.endsWith(".*") ? action.slice(0, -2) : action;
  // `*` is no pattern but the family's mark: `*`, `.*`, `resource*` or `re*.stop` would match nothing.
  if (family === "" || family.includes("*"))
    throw new InputError(
      `--action takes an action (resource.stop) or a family of them (resource.*), got ${action}: leave --action out for every action`,
    );
  return action.endsWith(".*") ? { actionPrefix: `${family}.` } : { action };
}

/**
 * When `--action` names an action (or a family) no entry in the log has: what it might have meant,
 * from the actions the log holds. Undefined when the log has it (the other filters left nothing).
 */
async function unknownActionHint(audit: AuditRepository, action: string): Promise<string | undefined> {
  const held = (await audit.actions()).map((a) => a.action);
  if (held.length === 0) return undefined;
  const family = action.endsWith(".*") ? action.slice(0, -1) : undefined;
  const families = [
    ...new Set(held.filter((a) => a.includes(".")).map((a) => `${a.slice(0, a.indexOf(".") + 1)}*`)),
  ];
  if (family !== undefined ? held.some((a) => a.startsWith(family)) : held.includes(action)) return undefined;
  const near = closest(action, family !== undefined ? families : held);
  const shown = held.length > 12 ? [...held.slice(0, 12), "..."] : held;
  return `No entry in the audit log has the action ${action}${near !== undefined ? `: did you mean ${near}?` : "."} Actions in the log: ${shown.join(", ")}\n`;
}

export function registerAudit(program: Command, ctx: CliContext): void {
  const audit = program
    .command("audit")
    .description("the append-only audit log: who did what to which resource or exception, and when");

  addStoreOptions(
    audit
      .command("list")
      .description("audit entries, the most recently appended first")
      .option("--subject <id>", "only entries about this resource or exception (its id)")
      .option(
        "--action <action>",
        "only this action (resource.stop, exception.approved), or a family of them (resource.*)",
      )
      .option("--actor <who>", "only entries by this person or component (costguard:remediation)")
      .option("--since <age|time>", "only entries this recent (7d, 12h) or from this time on (ISO 8601)")
      .option("--limit <n>", "at most this many, 0 for every one", "50")
      .option("--format <format>", "table, json or csv", "table"),
  )
    .addHelpText(
      "after",
      `
Every change costguard makes is appended here and can be neither changed nor deleted: actions on
resources (resource.stop, resource.resize ...: what was done, before and after), remediation tasks'
outcomes (remediation.completed, .failed, .skipped), each step of an exception's life
(exception.requested, .approved, .rejected, .revoked ...), notices no one could be sent
(notice.unreachable), notifications cancelled (notification.cancelled) and the sandbox's own (sandbox.init, sandbox.reset). Entries come in the
order they were appended, the latest first (an entry's time is when the change says it happened:
a replay with --at can append an earlier time after a later one). The table gives a line of each
entry's details; json and csv give the details whole.

Examples:
  costguard audit list
  costguard audit list --subject i-0a1b2c3d4e5f --since 30d
  costguard audit list --action 'exception.*' --format csv > exceptions-audit.csv
  costguard audit list --actor costguard:remediation --since 2026-11-01 --limit 0 --format json`,
    )
    .action(async (flags: AuditFlags) => {
      oneOf("--format", flags.format, ["table", "json", "csv"]);
      const limit = limitOf("--limit", flags.limit)!;
      const clock = ctx.now;
      const now = clock === undefined ? undefined : () => new Date(clock());
      const filter: AuditFilter = {
        newestFirst: true,
        ...(flags.subject !== undefined ? { subjectId: flags.subject } : {}),
        ...(flags.action !== undefined ? actionFilter(flags.action) : {}),
        ...(flags.actor !== undefined ? { actor: flags.actor } : {}),
        ...(flags.since !== undefined ? { since: ageOrTime("--since", flags.since, undefined, now) } : {}),
      };
      await withExistingStore(flags, ctx, async (store) => {
        if (flags.format === "table") {
          // One more than shown, to tell whether there are more.
          const entries = await store.audit.list({ ...filter, limit: limit + 1 });
          const more = entries.length > limit;
          if (more) entries.pop();
          if (entries.length > 0) {
            ctx.stdout.write(renderAudit(entries, useColor(ctx.stdout)));
            if (more)
              ctx.stdout.write(
                `\nThe ${entries.length.toLocaleString("en-US")} most recently appended; there are more: --limit N shows more, --limit 0 every one\n`,
              );
          } else if ((await store.audit.list({ limit: 1 })).length === 0)
            ctx.stdout.write("The audit log is empty: nothing has acted on anything yet.\n");
          else
            ctx.stdout.write(
              (flags.action !== undefined ? await unknownActionHint(store.audit, flags.action) : undefined) ??
                "No audit entry matches.\n",
            );
          return;
        }
        // json and csv: every entry asked for, a page at a time, each written before the next is read.
        const json = flags.format === "json";
        await written(ctx.stdout, json ? "[" : auditCsvHeader());
        let left = limit;
        let before: number | undefined;
        let count = 0;
        while (left > 0) {
          const page: AuditEntry[] = await store.audit.list({
            ...filter,
            limit: Math.min(PAGE, left),
            ...(before !== undefined ? { before } : {}),
          });
          if (page.length === 0) break;
          let out = "";
          if (json)
            for (const e of page)
              out += `${count++ === 0 ? "" : ","}\n  ${JSON.stringify(e, null, 2).replaceAll("\n", "\n  ")}`;
          else out = auditCsvRows(page);
          await written(ctx.stdout, out);
          left -= page.length;
          before = page.at(-1)!.id;
          if (page.length < PAGE) break;
        }
        if (json) await written(ctx.stdout, count === 0 ? "]\n" : "\n]\n");
        // No entry, perhaps for a misspelt action: said beside the (empty) document, not in it.
        if (count === 0 && flags.action !== undefined) {
          const hint = await unknownActionHint(store.audit, flags.action);
          if (hint !== undefined) ctx.stderr.write(hint);
        }
      });
    });
}
