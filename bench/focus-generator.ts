import { once } from "node:events";
import { createWriteStream, readFileSync } from "node:fs";
import { CsvScanner } from "../src/budget/csv-scanner.js";

/**
 * Writes a FOCUS 1.0 CSV of `rows` rows shaped like the FinOps Foundation sample (CC BY 4.0): each row
 * copies a sample row's columns, with its charge period moved across September 2024 (hourly), new
 * costs, and a `team` tag from a small set added to most Tags objects.
 */
export const TEAMS = ["payments", "search", "platform", "data", "ml", "web", "mobile", "infra"];

export async function generateFocusFile(sample: string, out: string, rows: number): Promise<number> {
  const header: string[] = [];
  const templates: string[][] = [];
  const scanner = new CsvScanner((rec) => {
    const fields: string[] = [];
    for (let i = 0; i < rec.count; i++) fields.push(rec.text(i));
    if (header.length === 0) header.push(...fields);
    else templates.push(fields);
  });
  scanner.push(readFileSync(sample));
  scanner.end();
  const col = (name: string) => header.indexOf(name);
  const [iStart, iEnd, iEff, iBilled, iList, iTags] = [
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "EffectiveCost",
    "BilledCost",
    "ListCost",
    "Tags",
  ].map(col) as [number, number, number, number, number, number];
  const quote = (v: string) =>
    v === "NULL" ? v : /^-?[0-9.]+$/.test(v) ? v : `"${v.replaceAll('"', '""')}"`;
  const stream = createWriteStream(out, { highWaterMark: 4 * 1024 * 1024 });
  let bytes = 0;
  let buffer = `${header.map((h) => `"${h}"`).join(",")}\n`;
  const pad = (n: number) => String(n).padStart(2, "0");
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  for (let r = 0; r < rows; r++) {
    const t = templates[r % templates.length]!.slice();
    const hour = r % (30 * 24);
    const day = 1 + Math.floor(hour / 24);
    const h = hour % 24;
    t[iStart] = `2024-09-${pad(day)} ${pad(h)}:00:00`;
    t[iEnd] =
      h === 23
        ? day === 30
          ? "2024-10-01 00:00:00"
          : `2024-09-${pad(day + 1)} 00:00:00`
        : `2024-09-${pad(day)} ${pad(h + 1)}:00:00`;
    const cost = (random() * 2).toFixed(10);
    t[iEff] = cost;
    t[iBilled] = cost;
    t[iList] = (Number(cost) * 1.1).toFixed(10);
    if (r % 10 !== 0) {
      const tags = t[iTags] === "NULL" ? {} : (JSON.parse(t[iTags]!) as Record<string, string>);
      tags.team = TEAMS[r % TEAMS.length]!;
      t[iTags] = JSON.stringify(tags);
    }
    buffer += `${t.map(quote).join(",")}\n`;
    if (buffer.length > 1 << 20) {
      bytes += buffer.length;
      if (!stream.write(buffer)) await once(stream, "drain");
      buffer = "";
    }
  }
  bytes += buffer.length;
  stream.end(buffer);
  await once(stream, "finish");
  return bytes;
}
