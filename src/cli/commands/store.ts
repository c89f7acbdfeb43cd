import type { Command } from "commander";
import { InputError } from "../../errors.js";
import { FINDING_STATUSES, type FindingStatus } from "../../scan/types.js";
import type { StoreInfo } from "../../store/maintenance.js";
import type { CliContext } from "../context.js";
import { renderTable, useColor } from "../table.js";
import { addStoreOptions, withExistingStore } from "../workspace.js";

interface StoreFlags {
  config?: string;
  database?: string;
  format?: string;
}

export function registerStore(program: Command, ctx: CliContext): void {
  const store = program
    .command("store")
    .description("the store itself: what it holds and how big it is; give back the room of deleted rows");

  addStoreOptions(
    store
      .command("info")
      .description("where the store is, its size, its schema version and the rows in each table")
      .option("--format <format>", "table or json", "table"),
  )
    .addHelpText(
      "after",
      `
Examples:
  costguard store info
  costguard store info --database postgres://costguard@db/costguard --format json`,
    )
    .action(async (flags: StoreFlags) => {
      const format = flags.format ?? "table";
      if (format !== "table" && format !== "json")
        throw new InputError(`--format must be table or json, got ${format}`);
      await withExistingStore(flags, ctx, async (s) => {
        const info = await s.maintenance.info();
        // By status: resolved findings stay until pruned, and are what a store scanned daily gains.
        const findings: Record<FindingStatus, number> = { open: 0, excepted: 0, resolved: 0 };
        for (const status of FINDING_STATUSES) findings[status] = await s.findings.count({ status });
        ctx.stdout.write(
          format === "json"
            ? `${JSON.stringify({ ...info, findings }, null, 2)}\n`
            : renderInfo(info, findings, useColor(ctx.stdout)),
        );
      });
    });

  addStoreOptions(
    store
      .command("compact")
      .description(
        "give back the room deleted and rewritten rows left (SQLite: VACUUM; PostgreSQL: VACUUM (ANALYZE) of each table)",
      ),
  )
    .addHelpText(
      "after",
      `
SQLite keeps the pages that deleted rows free inside its file for later writes: after an upgrade that
rewrote the findings, or once many findings are gone, the file is bigger than what it holds (\`costguard
store info\` says how much is free). Compacting rewrites the file without them; it needs room on disk
for a second copy while it runs, and waits for (then gives up on) another costguard writing to the
store. On PostgreSQL it makes the room reusable and refreshes the planner's statistics, without the
exclusive locks of VACUUM FULL.

Examples:
  costguard store compact
  costguard store compact --database ./.costguard/costguard.db`,
    )
    .action(async (flags: StoreFlags) => {
      await withExistingStore(
        flags,
        ctx,
        async (s) => {
          const started = performance.now();
          const r = await s.maintenance.compact();
          const seconds = ((performance.now() - started) / 1000).toFixed(1);
          const sizes = `${formatSize(r.before)} → ${formatSize(r.after)}`;
          ctx.stdout.write(
            s.dialect === "sqlite"
              ? `Compacted ${s.location} (${r.how}) in ${seconds} s: ${sizes}\n`
              : `Vacuumed ${s.location} (${r.how}) in ${seconds} s: ${sizes} (the tables keep the room for their next rows; VACUUM FULL would give it back to the disk, locking them meanwhile)\n`,
          );
        },
        { writes: true },
      );
    });
}

function renderInfo(info: StoreInfo, findings: Record<FindingStatus, number>, color: boolean): string {
  const kind = info.dialect === "sqlite" ? "SQLite" : "PostgreSQL";
  const lines = [`Store    ${info.location} (${kind})`];
  if (info.dialect === "sqlite") {
    const parts = [`${formatSize(info.bytes)} on disk`];
    if (info.walBytes !== null) parts.push(`write-ahead log ${formatSize(info.walBytes)}`);
    if (info.freeBytes !== null)
      parts.push(
        info.freeBytes > 0
          ? `${formatSize(info.freeBytes)} free inside, which \`costguard store compact\` gives back`
          : "nothing free inside",
      );
    lines.push(`Size     ${parts.join("; ")}`);
  } else lines.push(`Size     ${formatSize(info.bytes)}: costguard's tables with their indexes`);
  const m = info.migrations;
  lines.push(
    m.latest === null
      ? "Schema   no migrations applied"
      : `Schema   ${m.applied} migrations, the latest ${m.latest} (applied ${m.appliedAt})`,
  );
  const n = (x: number) => x.toLocaleString("en-US");
  lines.push(
    `Findings ${n(findings.open)} open, ${n(findings.excepted)} excepted, ${n(findings.resolved)} resolved` +
      (findings.resolved > 0
        ? " (resolved ones stay until `costguard findings prune --resolved-before AGE` deletes them)"
        : ""),
  );
  const table = renderTable(
    info.tables,
    [
      { header: "TABLE", value: (t) => t.name },
      { header: "ROWS", value: (t) => t.rows.toLocaleString("en-US"), align: "right" },
    ],
    color,
  );
  return `${lines.join("\n")}\n\n${table}`;
}

/** Bytes in decimal units, as file managers and `ls -lh --si` show them. */
export function formatSize(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
