import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { createGunzip } from "node:zlib";
import { InputError } from "../errors.js";
import type { ChargeSink, IngestOptions, IngestReport } from "./charge.js";
import { OTHER_COMPRESSIONS } from "./compressions.js";
import { fileChunks } from "./file-chunks.js";
import { readFocusCsv } from "./focus-csv.js";

const CHUNK = 1024 * 1024;

/**
 * The format of a billing file, from its first bytes (not its name). A name that promises a format the
 * bytes do not have (`.parquet`, `.gz`: a failed download, a renamed file) is bad input, rather than
 * read as CSV with its first bytes taken for a header that has no FOCUS column.
 */
export async function sniffFormat(file: string): Promise<IngestReport["format"]> {
  const format = await formatOfBytes(file);
  const named = /\.parquet$/i.test(file) ? "parquet" : /\.gz$/i.test(file) ? "csv.gz" : undefined;
  if (named !== undefined && named !== format)
    throw new InputError(
      named === "parquet"
        ? `${file}: not a Parquet file (it does not begin with PAR1${format === "csv.gz" ? "; it is gzip" : ""})`
        : `${file}: not a gzip file (it does not begin with the gzip signature${format === "parquet" ? "; it is Parquet" : ""})`,
    );
  return format;
}

async function formatOfBytes(file: string): Promise<IngestReport["format"]> {
  if (file === "-")
    throw new InputError(
      "--billing -: billing data is read from a file, not standard input (it is read in parts at once, and again as it changes): save the export to a file and name it",
    );
  const kind = await stat(file);
  if (kind.isDirectory()) throw new InputError(`${file} is a folder: --billing names one export file`);
  // A pipe (/dev/stdin, <(...)) or a device cannot be read at an offset, nor twice.
  if (!kind.isFile())
    throw new InputError(
      `${file} is not a regular file (a pipe or device): billing data is read from a file, in parts at once and again as it changes; save the export to a file and name it`,
    );
  const handle = await open(file, "r");
  try {
    const head = Buffer.alloc(6);
    const { bytesRead } = await handle.read(head, 0, 6, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "csv.gz";
    if (bytesRead >= 4 && head.toString("latin1", 0, 4) === "PAR1") return "parquet";
    // Read as CSV, another compression's bytes were a header of no FOCUS column, said to be UTF-16.
    const other = OTHER_COMPRESSIONS.find(
      (c) => bytesRead >= c.magic.length && head.subarray(0, c.magic.length).equals(c.magic),
    );
    if (other !== undefined)
      throw new InputError(
        `${file} is compressed with ${other.name}: costguard reads FOCUS CSV, gzipped CSV or Parquet; ${other.fix}`,
      );
    return "csv";
  } finally {
    await handle.close();
  }
}

/**
 * Streams a FOCUS billing export (CSV, gzipped CSV or Parquet, versions 1.0 to 1.2) into `sink`, one
 * row at a time, with memory bounded by the chunk size (Parquet: a row group's compressed bytes, and a
 * page of each column).
 */
export async function readFocusFile(
  file: string,
  sink: ChargeSink,
  options: IngestOptions,
): Promise<IngestReport> {
  const format = await sniffFormat(file);
  // The Parquet reader is loaded for a Parquet export only: every other command starts without it.
  if (format === "parquet") return (await import("./focus-parquet.js")).readFocusParquet(file, sink, options);
  if (format === "csv") return readFocusCsv(fileChunks(file), file, format, sink, options);
  const raw = createReadStream(file, { highWaterMark: CHUNK });
  const gunzip = createGunzip({ chunkSize: CHUNK });
  raw.on("error", (err) => gunzip.destroy(err));
  raw.pipe(gunzip);
  try {
    return await readFocusCsv(gunzip as AsyncIterable<Buffer>, file, format, sink, options);
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith("Z_"))
      throw new InputError(`${file}: not a valid gzip file: ${(err as Error).message}`);
    throw err;
  } finally {
    raw.destroy();
  }
}
