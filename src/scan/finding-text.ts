import { EXCEPTED_STRIDE } from "../exceptions/scan-path.js";
import type { Finding } from "./types.js";

/** How findings stream out as text: JSON (the items of the output's findings array) or CSV rows. */
export type FindingsFormat = "json" | "csv";

/** A finding as a scan streams it: with the approved exception covering it, when one does. */
export type StreamedFinding = Finding & { excepted_by?: string };

/**
 * Which approved exception covers each of a batch's findings, from what the scan's matching gives
 * (`exceptResource`: fingerprint, exception id and severity in turn, from `from` on); undefined when none
 * is covered.
 */
export function exceptedByOf(
  covered: readonly string[] | undefined,
  from = 0,
): Map<string, string> | undefined {
  if (covered === undefined || covered.length <= from) return undefined;
  const by = new Map<string, string>();
  for (let i = from; i < covered.length; i += EXCEPTED_STRIDE) by.set(covered[i]!, covered[i + 1]!);
  return by;
}

/**
 * Renders a batch of findings in `format`; the thread that judged them can do it (it is plain data in,
 * text out). A finding an approved exception covers says which (`excepted_by`), so a reader of the
 * stream can tell waived findings from open ones as `--fail-on` does.
 */
export function renderFindings(
  format: FindingsFormat,
  findings: readonly Finding[],
  exceptedBy?: ReadonlyMap<string, string>,
): string {
  const streamed =
    exceptedBy === undefined
      ? findings
      : findings.map((f): StreamedFinding => {
          const id = exceptedBy.get(f.fingerprint);
          return id === undefined ? f : { ...f, excepted_by: id };
        });
  return format === "json" ? jsonFindings(streamed) : csvRows(streamed);
}

/** What comes before each finding in `jsonFindings` (the writer drops it before the very first one). */
export const JSON_SEPARATOR = ",\n";

/** Each finding as JSON, each preceded by `JSON_SEPARATOR`. */
export function jsonFindings(findings: readonly Finding[]): string {
  let text = "";
  for (const f of findings) text += `${JSON_SEPARATOR}${JSON.stringify(f)}`;
  return text;
}

/** The CSV columns of a finding, in order: header and value. */
export const csvFindingColumns: readonly [string, (f: Finding) => string][] = [
  ["fingerprint", (f) => f.fingerprint],
  ["resource_id", (f) => f.resource_id],
  ["resource_type", (f) => f.resource_type],
  ["resource_name", (f) => f.resource_name ?? ""],
  ["provider", (f) => f.provider ?? ""],
  ["account", (f) => f.account ?? ""],
  ["region", (f) => f.region ?? ""],
  ["team", (f) => f.team],
  ["policy", (f) => f.policy],
  ["rule", (f) => f.rule],
  ["source", (f) => f.source],
  ["severity", (f) => f.severity],
  ["enforcement", (f) => f.enforcement],
  ["action", (f) => f.recommendation.action],
  ["target", (f) => f.recommendation.target?.instance_type ?? (f.recommendation.tags ?? []).join(" ")],
  ["savings_monthly", (f) => f.savings_monthly],
  ["currency", (f) => f.currency],
  ["message", (f) => f.message],
];

/** A number as CSV writes one (a saving): the only cells that may begin with + or -. */
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/**
 * A cell as CSV text. One that a spreadsheet would run as a formula — beginning with =, +, -, @, a tab
 * or a carriage return, as a tag value anyone may set can — gets a leading ', so a spreadsheet opening
 * the file shows it as text instead of running it; numbers are left as they are.
 */
function csvCell(text: string): string {
  const first = text.charCodeAt(0);
  const formula =
    (first === 61 || first === 43 || first === 45 || first === 64 || first === 9 || first === 13) &&
    !NUMBER.test(text);
  const cell = formula ? `'${text}` : text;
  return /[",\n\r]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
}

/** CSV of rows with these columns: the header line, and the lines of a batch of rows. */
export function csvText<T>(columns: readonly (readonly [string, (row: T) => string])[]): {
  header(): string;
  rows(rows: readonly T[]): string;
} {
  const header = `${columns.map(([h]) => h).join(",")}\n`;
  return {
    header: () => header,
    rows(rows) {
      let out = "";
      for (const r of rows) out += `${columns.map(([, get]) => csvCell(get(r))).join(",")}\n`;
      return out;
    },
  };
}

/** A scan's CSV: the finding's columns, then the approved exception covering it (empty when none does). */
const findingsCsv = csvText<StreamedFinding>([
  ...csvFindingColumns,
  ["excepted_by", (f) => f.excepted_by ?? ""],
]);
export const csvHeader = findingsCsv.header;
export const csvRows = findingsCsv.rows;
