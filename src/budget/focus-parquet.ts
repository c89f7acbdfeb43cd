import { brotliDecompressSync, gunzipSync } from "node:zlib";
import {
  type AsyncBuffer,
  asyncBufferFromFile,
  type Compressors,
  type DataReader,
  type DecodedArray,
  type FileMetaData,
  parquetMetadataAsync,
  parquetSchema,
  type SchemaElement,
  type SchemaTree,
} from "hyparquet";
import { assembleNested } from "hyparquet/src/assemble.js";
import { parquetHeader, readPage } from "hyparquet/src/column.js";
import { convert, DEFAULT_PARSERS } from "hyparquet/src/convert.js";
import { getTreePath, isFlatColumn } from "hyparquet/src/schema.js";
import { decompressLz4, decompressLz4Raw, decompressZstd } from "hyparquet-compressors";
import { InputError } from "../errors.js";
import {
  type ChargeDimensions,
  ChargeRecord,
  type ChargeSink,
  cut,
  DuplicateTagError,
  type IngestOptions,
  type IngestReport,
  type MalformedRow,
  parseTags,
} from "./charge.js";
import { float32Text, numberText } from "./decimal.js";
import { parseCostText, setCostUnscaled } from "./decimal-sums.js";
import {
  columnsNamedTwice,
  DIMENSION_COLUMNS,
  type DimensionColumn,
  detectFocusVersion,
  isCustomColumn,
  KEYABLE_COLUMNS,
  missingColumnsMessage,
  missingSelectorColumnsMessage,
  REQUIRED_COLUMNS,
} from "./focus-columns.js";
import { NOT_A_TIMESTAMP, parseTimestampText } from "./timestamp.js";

/** Rows taken from a row group's columns at a time (as one array a column) for the row loop. */
const BATCH_ROWS = 8192;

/**
 * Reads a FOCUS Parquet file one row group at a time (hyparquet, pure JS), and a row group one page of
 * each column at a time (groupReaders), so memory follows the size of a row group's compressed column
 * chunks and of a page, not of the file or of its decoded rows. Only the columns budgets need are read.
 *
 * Parquet DECIMAL costs are read exactly, from their unscaled integers and the schema's scale (hyparquet
 * would make doubles of them); DOUBLE and FLOAT costs are taken at their shortest decimal form (what the
 * writer meant).
 */
export async function readFocusParquet(
  file: string,
  sink: ChargeSink,
  options: IngestOptions,
): Promise<IngestReport> {
  const maxProblems = options.maxReportedProblems ?? 100;
  const buffer = await asyncBufferFromFile(file);
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(buffer);
  } catch (err) {
    throw new InputError(`${file} is not a readable Parquet file: ${reason(err)}`);
  }
  const top = parquetSchema(metadata).children;
  const footer = footerProblem(metadata, top);
  if (footer !== undefined) throw new InputError(`${file} is not a readable Parquet file: ${footer}`);
  const names = top.map((c) => c.element.name);
  const needed = [...REQUIRED_COLUMNS, ...options.costColumns];
  const missing = needed.filter((c) => !names.includes(c));
  if (missing.length > 0) {
    throw new InputError(missingColumnsMessage(file, names, missing));
  }
  const absent = (options.requiredDimensions ?? []).filter((group) => group.every((c) => !names.includes(c)));
  if (absent.length > 0) throw new InputError(missingSelectorColumnsMessage(file, names, absent));
  // hyparquet would read the first copy and leave the other: which holds the truth is unknown (as in CSV).
  const twice = columnsNamedTwice(names, needed);
  if (twice.length > 0)
    throw new InputError(
      `${file}: its schema names the column${twice.length > 1 ? "s" : ""} ${twice.join(", ")} twice`,
    );
  const wanted = new Set<DimensionColumn>(options.dimensions ?? DIMENSION_COLUMNS);
  const dims = KEYABLE_COLUMNS.filter((c) => names.includes(c) && (wanted.has(c) || c === "Tags"));
  const columns = [...new Set([...needed, ...dims])];
  const costs = options.costColumns.map((name) =>
    costKind(top.find((c) => c.element.name === name)!.element),
  );
  const tagsMap = mapOf(top.find((c) => c.element.name === "Tags"));
  const read = readOptions(metadata, costs, tagsMap);
  const report: IngestReport = {
    file,
    format: "parquet",
    focusVersion: detectFocusVersion(names),
    rows: 0,
    charges: 0,
    malformed: 0,
    problems: [],
    ignoredColumns: names.filter(isCustomColumn),
    bytes: buffer.byteLength,
  };
  const malformed = (problem: MalformedRow) => {
    report.malformed++;
    if (options.strict) {
      throw new InputError(
        `${file}: row ${problem.line}: column ${problem.column}: ${problem.message}` +
          (problem.value === undefined ? "" : ` (value ${JSON.stringify(problem.value)})`) +
          " (--strict stops at the first malformed row)",
      );
    }
    if (report.problems.length < maxProblems) report.problems.push(problem);
  };

  const record = new ChargeRecord(options.costColumns.length);
  // One row's values, overwritten for each row.
  const row: Record<string, unknown> = {};
  let dimensions: ChargeDimensions | null = null;
  // The row's Tags, parsed once per distinct text (as the CSV reader's DimensionInterner parses them),
  // forgotten past 100,000 texts.
  let tags: Record<string, string> = {};
  const parsedTags = new Map<string, Record<string, string> | SyntaxError>();
  record.dimensions = () => {
    dimensions ??= {
      provider: str(row.ProviderName),
      subAccountId: str(row.SubAccountId),
      subAccountName: str(row.SubAccountName),
      service: str(row.ServiceName),
      regionId: str(row.RegionId),
      regionName: str(row.RegionName),
      tags,
      resourceId: str(row.ResourceId),
      pricingUnit: str(row.PricingUnit),
    };
    return dimensions;
  };

  // Dimension strings to small exact ids (bounded: forgotten past MAX_KEYS, with a new key epoch).
  const keys = new Map<string, number>();
  const schema = parquetSchema(read.metadata);
  let rowStart = 0;
  for (let g = 0; g < metadata.row_groups.length; g++) {
    const groupRows = Number(metadata.row_groups[g]!.num_rows);
    if (groupRows === 0) continue;
    // Damage inside a row group (a flipped byte in a page) surfaces here, as whatever hyparquet's
    // decoder tripped on (a RangeError of a DataView, a NaN offset): the file is bad input, as a damaged
    // footer is. Only the decoding is wrapped: the rows' own errors (--strict) are thrown below as they are.
    // The pages' headers are checked first (pageChecked), on the bytes read to decode them: hyparquet
    // trusts them, and a header missing a size it needs made it loop forever.
    const unreadable = (err: unknown) =>
      new InputError(`${file} is not a readable Parquet file (row group ${g + 1}): ${reason(err)}`);
    let readers: ColumnReader[];
    try {
      const file = pageChecked(buffer, chunksToCheck(metadata, g, columns, buffer.byteLength));
      readers = await groupReaders(file, read, schema, g, columns);
    } catch (err) {
      throw unreadable(err);
    }
    let batch: DecodedArray[] = [];
    for (let r = 0; r < groupRows; r++) {
      const at = r % BATCH_ROWS;
      if (at === 0) {
        try {
          batch = readers.map((take) => take(Math.min(BATCH_ROWS, groupRows - r)));
        } catch (err) {
          throw unreadable(err);
        }
      }
      for (let c = 0; c < columns.length; c++) row[columns[c]!] = batch[c]![at];
      dimensions = null;
      report.rows++;
      const line = rowStart + r + 1;
      const bad = (column: string, message: string) =>
        malformed({ line, column, message, value: cut(show(row[column])) });
      const start = time(row.ChargePeriodStart);
      if (start === null) {
        bad("ChargePeriodStart", "must not be null");
        continue;
      }
      if (Number.isNaN(start)) {
        bad("ChargePeriodStart", NOT_A_TIMESTAMP);
        continue;
      }
      // As the CSV reader judges it (src/budget/focus-csv.ts): a null end is an open one (NaN), an end
      // that is no timestamp or comes before the start is a malformed row, so a charge counts, or not,
      // whichever format the export is in.
      let end = time(row.ChargePeriodEnd);
      if (end === null) end = Number.NaN;
      else if (Number.isNaN(end)) {
        bad("ChargePeriodEnd", NOT_A_TIMESTAMP);
        continue;
      } else if (end < start) {
        bad("ChargePeriodEnd", "ChargePeriodEnd is before ChargePeriodStart");
        continue;
      }
      const currency = row.BillingCurrency;
      // Null as the CSV reader takes it: a null, an empty text or NULL (as str and time do).
      if (str(currency) === null) {
        bad("BillingCurrency", "must not be null");
        continue;
      }
      if (typeof currency !== "string" || !/^[A-Z]{3}$/.test(currency)) {
        bad("BillingCurrency", "not an ISO 4217 currency code");
        continue;
      }
      let ok = true;
      for (let c = 0; c < options.costColumns.length && ok; c++) {
        const column = options.costColumns[c]!;
        const v = row[column];
        const kind = costs[c]!;
        try {
          if (v === null || v === undefined || v === "" || v === "NULL") throw new Error("must not be null");
          if (kind.decimalScale !== null) setCostUnscaled(unscaledOf(v), kind.decimalScale, record.costs[c]!);
          else {
            const text =
              typeof v === "number"
                ? kind.float32
                  ? float32Text(v)
                  : numberText(v)
                : typeof v === "bigint"
                  ? v.toString()
                  : String(v);
            parseCostText(text, record.costs[c]!);
          }
        } catch (err) {
          ok = false;
          const message =
            err instanceof RangeError || (err instanceof Error && err.message === "must not be null")
              ? err.message
              : "not a decimal number";
          // A DECIMAL out of range is shown as the amount it holds, not as hyparquet's bytes.
          if (kind.decimalScale !== null && (typeof v === "bigint" || v instanceof Uint8Array))
            malformed({ line, column, message, value: cut(decimalText(unscaledOf(v), kind.decimalScale)) });
          else bad(column, message);
        }
      }
      if (!ok) continue;
      let tagsKey = "";
      tags = {};
      if (row.Tags !== null && row.Tags !== undefined) {
        if (tagsMap !== undefined) row.Tags = mapText(row.Tags, tagsMap);
        tagsKey = typeof row.Tags === "string" ? row.Tags : json(row.Tags);
        let parsed = parsedTags.get(tagsKey);
        if (parsed === undefined) {
          if (parsedTags.size >= 100_000) parsedTags.clear();
          try {
            parsed = tagsOf(tagsKey);
          } catch (err) {
            parsed = err instanceof SyntaxError ? err : new SyntaxError(String(err));
          }
          parsedTags.set(tagsKey, parsed);
        }
        if (parsed instanceof SyntaxError) {
          // As the CSV reader says it (src/budget/focus-csv.ts).
          bad(
            "Tags",
            parsed instanceof DuplicateTagError ? parsed.message : `not a JSON object: ${parsed.message}`,
          );
          continue;
        }
        tags = parsed;
      }
      let key = "";
      for (const d of dims) key += `${d === "Tags" ? tagsKey : (str(row[d]) ?? "")}\u0000`;
      record.line = line;
      record.start = start;
      record.end = end;
      record.currency = currency;
      let id = keys.get(key);
      if (id === undefined) {
        if (keys.size >= 100_000) {
          keys.clear();
          record.keyEpoch++;
        }
        id = keys.size;
        keys.set(key, id);
      }
      record.dimensionKey = id;
      report.charges++;
      sink(record);
    }
    rowStart += groupRows;
  }
  return report;
}

/** A column of a row group: its next `n` rows, as hyparquet reads them. */
type ColumnReader = (n: number) => DecodedArray;

/**
 * Readers of row group `g`'s `columns`, in their order. Each column chunk is read as it is stored
 * (compressed), and decoded one page at a time as its rows are taken, by hyparquet's own page decoder
 * (its internal modules, as its readColumn uses them). hyparquet's parquetRead decodes a row group's
 * columns whole and makes an object of each row (about 480 bytes a row for 8 columns: over 1 GB for a
 * group of 3 million rows); a range of rows (rowStart, rowEnd) would read its chunks again and decode
 * again every page it overlaps, and its dictionary. A column of several (a MAP's keys and values) is
 * assembled as hyparquet assembles it, a batch of rows at a time.
 */
async function groupReaders(
  file: AsyncBuffer,
  read: ReturnType<typeof readOptions>,
  schema: SchemaTree,
  g: number,
  columns: readonly string[],
): Promise<ColumnReader[]> {
  const chunks = metadataChunks(read.metadata, g);
  return Promise.all(
    columns.map(async (name): Promise<ColumnReader> => {
      const column = schema.children.find((c) => c.element.name === name)!;
      const cursors = await Promise.all(
        chunks
          .filter((meta) => meta.path_in_schema[0] === name)
          .map(async (meta) => {
            const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
            const bytes = await file.slice(start, start + Number(meta.total_compressed_size));
            const schemaPath = getTreePath(schema, meta.path_in_schema);
            return new PageCursor(
              { view: new DataView(bytes), offset: 0 },
              {
                pathInSchema: meta.path_in_schema,
                type: meta.type,
                element: schemaPath[schemaPath.length - 1]!.element,
                schemaPath,
                codec: meta.codec,
                parsers: DEFAULT_PARSERS,
                compressors,
                utf8: read.utf8 ?? true,
              },
            );
          }),
      );
      if (cursors.length === 0) throw new Error(`column ${name}: the row group has no chunk of it`);
      if (column.children.length === 0) return (n) => cursors[0]!.take(n);
      return (n) => {
        const leaves = new Map(cursors.map((c) => [c.path, c.take(n)]));
        assembleNested(leaves, column, DEFAULT_PARSERS);
        return leaves.get(name)!;
      };
    }),
  );
}

/** Row group `g`'s column chunks' metadata, refused as hyparquet refuses them. */
function metadataChunks(metadata: FileMetaData, g: number) {
  return metadata.row_groups[g]!.columns.map((chunk) => {
    if (chunk.file_path) throw new Error("parquet file_path not supported");
    if (!chunk.meta_data) throw new Error("parquet column metadata is undefined");
    return chunk.meta_data;
  });
}

type ColumnDecoder = Parameters<typeof readPage>[2];

/**
 * A column chunk's values handed out in order, its pages decoded one at a time as hyparquet's
 * readColumn decodes them (a dictionary page kept for the pages after it). A row of a repeated column
 * can go on in the next page: its last row is handed out once the next page, or the chunk's end, is read.
 */
class PageCursor {
  readonly path: string;
  private readonly flat: boolean;
  private dictionary: DecodedArray | undefined;
  private page: DecodedArray = [];
  private at = 0;
  private ended = false;

  constructor(
    private readonly reader: DataReader,
    private readonly decoder: ColumnDecoder,
  ) {
    this.path = decoder.pathInSchema.join(".");
    this.flat = isFlatColumn(decoder.schemaPath);
  }

  /** The next `n` rows. */
  take(n: number): DecodedArray {
    if (this.ready() >= n) {
      this.at += n;
      return this.page.slice(this.at - n, this.at);
    }
    const rows: unknown[] = [];
    while (rows.length < n) {
      if (this.ready() === 0 && !this.next() && this.ready() === 0) {
        throw new Error(`column ${this.path}: its pages end before its row group's rows`);
      }
      const k = Math.min(this.ready(), n - rows.length);
      for (let i = 0; i < k; i++) rows.push(this.page[this.at + i]);
      this.at += k;
    }
    return rows;
  }

  private ready(): number {
    return Math.max(0, this.page.length - (this.flat || this.ended ? 0 : 1) - this.at);
  }

  /** Decodes the next data page (false at the chunk's end). */
  private next(): boolean {
    const { reader, decoder } = this;
    while (reader.offset < reader.view.byteLength - 1) {
      const header = parquetHeader(reader);
      if (header.type === "DICTIONARY_PAGE") {
        const { data } = readPage(reader, header, decoder, this.dictionary, undefined, 0);
        if (data) this.dictionary = convert(data, decoder);
        continue;
      }
      // A repeated column's rows not yet handed out, its last maybe unfinished, go on in this page.
      const rest = this.flat ? undefined : (this.page as unknown[]).slice(this.at);
      this.page = readPage(reader, header, decoder, this.dictionary, rest, 0).data ?? rest ?? [];
      this.at = 0;
      return true;
    }
    this.ended = true;
    return false;
  }
}

/**
 * What a footer damaged past hyparquet's notice says that cannot be: a column without a name (the
 * missing-columns message took every name for a string, an internal error), or row groups whose rows
 * are not the file's (a row group said to hold -3843 rows, or none, was skipped, its charges lost).
 */
function footerProblem(metadata: FileMetaData, top: readonly SchemaTree[]): string | undefined {
  const nameless = top.findIndex((c) => typeof c.element.name !== "string");
  if (nameless >= 0) return `column ${nameless + 1} of its schema has no name`;
  let rows = 0n;
  for (let g = 0; g < metadata.row_groups.length; g++) {
    const n: unknown = metadata.row_groups[g]!.num_rows;
    if (n === undefined) return `row group ${g + 1} has no row count`;
    if (typeof n !== "bigint") return `row group ${g + 1} has a row count that is no integer (${said(n)})`;
    if (n < 0n) return `row group ${g + 1} says it holds ${n} rows`;
    rows += n;
  }
  const total: unknown = metadata.num_rows;
  if (rows !== total) {
    return `its row groups hold ${rows} rows, and its footer says ${typeof total === "bigint" ? total : said(total)}`;
  }
  return undefined;
}

/** A column chunk of a row group that is read, where it lies in the file and what its pages must hold. */
interface ChunkToCheck {
  column: string;
  start: number;
  end: number;
  /** The row group's rows: a column that is not repeated has one value (or null) a row. */
  rows: number;
  repeated: boolean;
  snappy: boolean;
  checked: boolean;
}

/**
 * The chunks of row group `g` that are read for `columns` (groupReaders), found where hyparquet looks
 * for them (the dictionary page's offset, else the first data page's), and lying inside the file's data.
 */
function chunksToCheck(metadata: FileMetaData, g: number, columns: readonly string[], fileSize: number) {
  const group = metadata.row_groups[g]!;
  const rows = Number(group.num_rows);
  // Nothing is read of a row group without rows.
  if (!(rows > 0)) return [];
  const schema = parquetSchema(metadata);
  const chunks: ChunkToCheck[] = [];
  for (const chunk of group.columns) {
    const meta = chunk.meta_data;
    // metadataChunks refuses these, in hyparquet's words.
    if (!meta || !columns.includes(meta.path_in_schema[0]!)) continue;
    const column = meta.path_in_schema.join(".");
    const start = Number(meta.dictionary_page_offset || meta.data_page_offset);
    const size = Number(meta.total_compressed_size);
    // PAR1, the chunks, the footer, its length and PAR1 again.
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(size) || start < 4 || size <= 0) {
      throw new Error(
        `column ${column}: its chunk's place in the file (offset ${start}, ${size} bytes) is not one`,
      );
    }
    if (start + size > fileSize - 8) {
      throw new Error(
        `column ${column}: its chunk (bytes ${start} to ${start + size}) runs past the file's data`,
      );
    }
    chunks.push({
      column,
      start,
      end: start + size,
      rows,
      repeated: isRepeated(schema, meta.path_in_schema),
      snappy: meta.codec === "SNAPPY",
      checked: false,
    });
  }
  return chunks;
}

function isRepeated(schema: SchemaTree, path: readonly string[]): boolean {
  let node: SchemaTree | undefined = schema;
  for (const name of path) {
    node = node?.children.find((c) => c.element.name === name);
    if (node?.element.repetition_type === "REPEATED") return true;
  }
  return false;
}

/**
 * `file` as groupReaders reads it, with every chunk in `chunks` checked page header by page header
 * (checkPages) in the bytes read for it, before hyparquet decodes them: only the headers are parsed, and
 * nothing is read twice. groupReaders reads each chunk in one piece.
 */
function pageChecked(file: AsyncBuffer, chunks: ChunkToCheck[]): AsyncBuffer {
  return {
    byteLength: file.byteLength,
    async slice(start: number, end = file.byteLength) {
      const bytes = await file.slice(start, end);
      for (const chunk of chunks) {
        if (chunk.checked || chunk.start < start || chunk.end > end) continue;
        if (chunk.end - start > bytes.byteLength) {
          throw new Error(`column ${chunk.column}: its chunk runs past the end of the file`);
        }
        checkPages(new DataView(bytes, chunk.start - start, chunk.end - chunk.start), chunk);
        chunk.checked = true;
      }
      return bytes;
    },
  };
}

/**
 * Decompressors for the codecs hyparquet reads only when given one (it reads Snappy itself): ZSTD is
 * polars' default and common in Spark and data-lake exports. GZIP and Brotli are Node's own zlib
 * (native; hyparquet-compressors' JavaScript Brotli is ten times slower), never making more than the
 * page's header says; ZSTD and LZ4 (Hadoop's framing or none) are hyparquet-compressors', by hyparquet's
 * author, as Node 20 has no zstd. hyparquet checks each page's length against its header.
 */
const compressors: Compressors = {
  GZIP: (input, length) => gunzipSync(input, { maxOutputLength: Math.max(length, 1) }),
  BROTLI: (input, length) => brotliDecompressSync(input, { maxOutputLength: Math.max(length, 1) }),
  ZSTD: (input) => decompressZstd(input),
  LZ4: decompressLz4,
  LZ4_RAW: decompressLz4Raw,
};

/** Snappy makes at most 64 bytes of a 3-byte copy: a page said to grow more is no Snappy page. */
const SNAPPY_MOST_GROWTH = 22;

/**
 * Walks a chunk's pages as hyparquet will, by their headers, and throws at the first header hyparquet
 * would mis-read: a size missing, negative or running past the chunk, a page type's own header or a
 * field of it missing, or, for a column that is not repeated, pages holding other than the row group's
 * rows. hyparquet takes what a header says: a data page v2 without its repetition_levels_byte_length
 * made it read its levels from an undefined position, byte 0 over and over, forever.
 */
function checkPages(view: DataView, chunk: ChunkToCheck): void {
  const reader = { view, offset: 0 };
  let values = 0;
  // A column that is not repeated is read page by page until it has its rows (what follows is not
  // read), a repeated one to its chunk's end, as hyparquet reads them.
  while (chunk.repeated ? reader.offset < view.byteLength - 1 : values < chunk.rows) {
    const at = reader.offset;
    if (at >= view.byteLength - 1) {
      throw new Error(
        `column ${chunk.column}: its pages hold ${values} values for its row group's ${chunk.rows} rows`,
      );
    }
    const fail: (why: string) => never = (why) => {
      throw new Error(`column ${chunk.column}: the page header at byte ${chunk.start + at} ${why}`);
    };
    const size = (name: string, v: unknown): number =>
      isSize(v)
        ? v
        : fail(
            v === undefined
              ? `has no ${name}`
              : typeof v === "number"
                ? `has ${name} ${v}`
                : `has a ${name} that is no 32-bit integer (${said(v)})`,
          );
    let header: ReturnType<typeof parquetHeader>;
    try {
      header = parquetHeader(reader);
    } catch (err) {
      fail(`is not readable: ${reason(err)}`);
    }
    const room = view.byteLength - reader.offset;
    const compressed = size("compressed_page_size", header.compressed_page_size);
    if (compressed > room) fail(`says its page is ${compressed} bytes, and its chunk has ${room} bytes left`);
    const uncompressed = size("uncompressed_page_size", header.uncompressed_page_size);
    if (chunk.snappy && uncompressed > SNAPPY_MOST_GROWTH * compressed + 8) {
      fail(`says its ${compressed} Snappy bytes are ${uncompressed} bytes uncompressed`);
    }
    if (header.type === "DATA_PAGE") {
      const page = header.data_page_header ?? fail("is a data page's, with no data_page_header");
      values += size("num_values", page.num_values);
    } else if (header.type === "DATA_PAGE_V2") {
      const page = header.data_page_header_v2 ?? fail("is a data page v2's, with no data_page_header_v2");
      const count = size("num_values", page.num_values);
      const nulls = size("num_nulls", page.num_nulls);
      const rows = size("num_rows", page.num_rows);
      if (nulls > count || rows > count)
        fail(`says its ${count} values hold ${nulls} nulls and ${rows} rows`);
      // hyparquet finds the definition levels, and the values, past these two.
      const levels =
        size("repetition_levels_byte_length", page.repetition_levels_byte_length) +
        size("definition_levels_byte_length", page.definition_levels_byte_length);
      if (levels > Math.min(compressed, uncompressed)) {
        fail(`says its levels are ${levels} bytes of a ${Math.min(compressed, uncompressed)}-byte page`);
      }
      if (page.is_compressed !== undefined && typeof page.is_compressed !== "boolean") {
        fail(`has is_compressed ${said(page.is_compressed)}, not a boolean`);
      }
      values += count;
    } else if (header.type === "DICTIONARY_PAGE") {
      const page =
        header.dictionary_page_header ?? fail("is a dictionary page's, with no dictionary_page_header");
      // A value takes a bit at least (a boolean); most take 4 bytes or more.
      if (size("num_values", page.num_values) > uncompressed * 8) {
        fail(`says its ${uncompressed} bytes hold ${page.num_values} values`);
      }
    } else {
      fail(`has a page type budgets do not read (${said(header.type)})`);
    }
    if (!chunk.repeated && values > chunk.rows) {
      fail(`brings the column to ${values} values, and its row group has ${chunk.rows} rows`);
    }
    reader.offset += compressed;
  }
}

function isSize(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/** A header's field as a message says it. */
function said(v: unknown): string {
  if (v === undefined) return "none";
  if (typeof v === "bigint") return `${v} as a 64-bit integer`;
  if (typeof v === "string") return JSON.stringify(v);
  if (v instanceof Uint8Array) return `${v.length} bytes`;
  return typeof v === "object" && v !== null ? (Array.isArray(v) ? "a list" : "a structure") : String(v);
}

/** How a cost column's values are read: a DECIMAL's scale (null when not DECIMAL), or float32. */
interface CostKind {
  decimalScale: number | null;
  float32: boolean;
  element: SchemaElement;
}

function costKind(element: SchemaElement): CostKind {
  const logical = element.logical_type?.type === "DECIMAL" ? element.logical_type : undefined;
  const decimal = element.converted_type === "DECIMAL" || logical !== undefined;
  return {
    decimalScale: decimal ? (logical?.scale ?? element.scale ?? 0) : null,
    float32: element.type === "FLOAT",
    element,
  };
}

/** A MAP column's names: its repeated group of entries, and their key and value fields. */
interface MapNames {
  element: SchemaElement;
  entries: string;
  key: string;
  value: string;
}

/** The names of a MAP column (a group annotated MAP of one repeated group of key and value). */
function mapOf(column: SchemaTree | undefined): MapNames | undefined {
  if (column === undefined) return undefined;
  const { element, children } = column;
  if (element.converted_type !== "MAP" && element.logical_type?.type !== "MAP") return undefined;
  const entries = children.length === 1 ? children[0]! : undefined;
  if (entries?.element.repetition_type !== "REPEATED" || entries.children.length !== 2) return undefined;
  return {
    element,
    entries: entries.element.name,
    key: entries.children[0]!.element.name,
    value: entries.children[1]!.element.name,
  };
}

/**
 * A MAP Tags value, read as its entries, as the JSON text a CSV export holds for it
 * (`{"team":"a","env":"dev"}`): a key written twice is then refused as it is there (hyparquet would
 * have made an object of the entries, the key kept once with its last value, in silence).
 */
function mapText(v: unknown, map: MapNames): unknown {
  const entries =
    typeof v === "object" && v !== null ? (v as Record<string, unknown>)[map.entries] : undefined;
  if (!Array.isArray(entries)) return v;
  const pairs = entries.map((e: Record<string, unknown> | null) => {
    const value = e?.[map.value];
    return `${JSON.stringify(String(e?.[map.key]))}:${value === null || value === undefined ? "null" : json(value)}`;
  });
  return `{${pairs.join(",")}}`;
}

/**
 * hyparquet turns a DECIMAL into a double (unscaled / 10^scale), which is not the exact amount past 15
 * significant digits, and has no option to keep it. So its DECIMAL cost columns are read with their
 * decimal annotation taken off: hyparquet then hands over the stored unscaled integer (INT32 as a
 * number, INT64 as a bigint, a byte array as its bytes) and the scale is applied here, exactly.
 * A BYTE_ARRAY decimal's bytes would be decoded as UTF-8 text, so then byte arrays are left as bytes,
 * but for text (isText), marked as such. A MAP Tags column (`tags`) is read without its MAP annotation
 * too, as its entries (mapText).
 */
function readOptions(metadata: FileMetaData, costs: readonly CostKind[], tags: MapNames | undefined) {
  const decimals = new Set(costs.filter((k) => k.decimalScale !== null).map((k) => k.element));
  const bytes = [...decimals].some((e) => e.type === "BYTE_ARRAY");
  const schema = metadata.schema.map((e): SchemaElement => {
    if (decimals.has(e) || e === tags?.element) {
      const { converted_type: _c, logical_type: _l, ...plain } = e;
      return plain;
    }
    if (isText(e)) {
      const { logical_type: _l, ...plain } = e;
      return { ...plain, converted_type: "UTF8" };
    }
    return e;
  });
  return { metadata: { ...metadata, schema }, utf8: !bytes };
}

/**
 * A byte array of text: not annotated, or annotated as text of some kind (parquet-mr and Avro write a
 * ProviderName or RegionId as ENUM). A JSON one is text too: hyparquet would parse it, and JSON.parse
 * keeps a key written twice once, where Tags holding a key twice are a malformed row.
 */
function isText(e: SchemaElement): boolean {
  return (
    e.type === "BYTE_ARRAY" &&
    (e.converted_type === undefined || TEXT_TYPES.has(e.converted_type)) &&
    (e.logical_type === undefined || TEXT_TYPES.has(e.logical_type.type))
  );
}

const TEXT_TYPES = new Set(["UTF8", "STRING", "ENUM", "JSON"]);

/** A DECIMAL's unscaled integer as hyparquet reads it without its annotation. */
function unscaledOf(v: unknown): number | bigint {
  if (typeof v === "number" || typeof v === "bigint") return v;
  if (!(v instanceof Uint8Array)) throw new Error("not a decimal number");
  // Big-endian two's complement. Most values fit in far fewer bytes than the column's width (16 for
  // DECIMAL(38, s)): past the sign's repeated bytes, up to 6 are summed as an exact double.
  const sign = v.length > 0 && v[0]! >= 0x80 ? 0xff : 0;
  let i = 0;
  while (i < v.length - 1 && v[i] === sign && (v[i + 1]! & 0x80) === (sign & 0x80)) i++;
  if (v.length - i <= 6) {
    let n = 0;
    for (let k = i; k < v.length; k++) n = n * 256 + v[k]!;
    return sign && v.length > i ? n - 2 ** (8 * (v.length - i)) : n;
  }
  let hex = "0x";
  for (let k = i; k < v.length; k++) hex += v[k]!.toString(16).padStart(2, "0");
  const n = BigInt(hex);
  return sign ? n - (1n << BigInt(8 * (v.length - i))) : n;
}

/** unscaled / 10^scale as text, for a malformed row's message. */
function decimalText(unscaled: number | bigint, scale: number): string {
  const units = BigInt(unscaled);
  const digits = (units < 0n ? -units : units).toString().padStart(scale + 1, "0");
  const text = scale > 0 ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return units < 0n ? `-${text}` : text;
}

/** What a decoder threw, on one line (hyparquet throws Errors; a thrown string or object is said too). */
function reason(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*\n\s*/g, " ") || (err instanceof Error ? err.name : "unknown error");
}

function str(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  const s = String(v);
  return s === "" || s === "NULL" ? null : s;
}

function show(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  // A DOUBLE's NaN or Infinity as such (JSON makes null of them).
  if (typeof v === "number") return String(v);
  return typeof v === "string" ? v : (json(v) ?? "");
}

/** JSON text of a value hyparquet read (a 64-bit integer as its digits). */
function json(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
}

/** ms since the epoch; null when missing; NaN when not a timestamp. */
function time(v: unknown): number | null {
  if (v === null || v === undefined || v === "" || v === "NULL") return null;
  if (v instanceof Date) return v.getTime();
  if (typeof v === "string") return parseTimestampText(v);
  return Number.NaN;
}

/** Tags' text (a value that is not text as its JSON) as the CSV reader takes it, throwing what it throws. */
function tagsOf(text: string): Record<string, string> {
  return text === "" || text === "NULL" ? {} : parseTags(text);
}
