import { endianness } from "node:os";
import { CSV_STRUCTURE_WASM } from "./csv-structure-wasm.js";

/**
 * A streaming RFC 4180 CSV scanner over bytes. It finds field boundaries and hands each record to a
 * callback as offsets into the current buffer; nothing is decoded unless the consumer asks for it, which
 * is what makes ingest fast (the consumer decodes only the handful of FOCUS columns a budget needs).
 *
 * Field boundaries come from a WebAssembly SIMD pass (csv-structure.wat) that looks at 64 bytes at a
 * time; it stops at anything that is not a plain record (a line break inside quotes, a stray quote, a
 * lone carriage return), and the JavaScript scanner below reads that record, with the same results it
 * gives for every record when WebAssembly is not available (or `simd: false`).
 *
 * Memory stays bounded: only the unfinished tail of a chunk is carried over, and a record longer than
 * `maxRecordBytes` (an unterminated quote, say) stops the scan with an error.
 */
const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

/** Flag bits per field. */
const QUOTED = 1;
/** The quoted field may hold doubled quotes (`""`) that decode to one. */
const ESCAPED = 2;

/**
 * One record, valid only during the callback. Field `i` (0 ≤ i < count) is the bytes
 * `buf[start(i), end(i))`, without its quotes.
 */
export class CsvRecord {
  buf: Buffer = Buffer.alloc(0);
  /** Field tables: field i of this record is entry `base + i`. */
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  flags = new Uint8Array(64);
  base = 0;
  count = 0;
  /** Physical line the record starts on (1-based; the header is line 1). */
  line = 0;
  /** Set when the record is malformed: which field (0-based) and why. */
  errorField = -1;
  errorMessage = "";

  start(i: number): number {
    return this.starts[this.base + i]!;
  }

  end(i: number): number {
    return this.ends[this.base + i]!;
  }

  /** Whether the field was quoted (so `""` is an empty string, not a missing value). */
  quoted(i: number): boolean {
    return (this.flags[this.base + i]! & QUOTED) !== 0;
  }

  text(i: number): string {
    const s = this.buf.toString("utf8", this.start(i), this.end(i));
    return (this.flags[this.base + i]! & ESCAPED) !== 0 ? s.replaceAll('""', '"') : s;
  }

  /** Raw bytes as a latin1 string: a cheap exact key for caching decoded values. */
  key(i: number): string {
    return this.buf.toString("latin1", this.start(i), this.end(i));
  }

  grow(): void {
    const n = this.starts.length * 2;
    const s = new Int32Array(n);
    s.set(this.starts);
    this.starts = s;
    const e = new Int32Array(n);
    e.set(this.ends);
    this.ends = e;
    const f = new Uint8Array(n);
    f.set(this.flags);
    this.flags = f;
  }
}

export class CsvScanError extends Error {
  override readonly name = "CsvScanError";
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

export interface CsvScannerOptions {
  maxRecordBytes?: number;
  maxFields?: number;
  /** Line number of the first byte (a scan of a byte range of a file starts past line 1). */
  startLine?: number;
  /** Use the WebAssembly SIMD pass where available (default true); false: JavaScript only. */
  simd?: boolean;
}

// Neither the ES2023 lib nor @types/node 20 declares WebAssembly: the little used here.
declare namespace WebAssembly {
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports: object);
    readonly exports: object;
  }
  class Memory {
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
  class Global {
    value: unknown;
  }
}

interface StructureExports {
  memory: WebAssembly.Memory;
  layout(starts: number, ends: number, flags: number, records: number, capacity: number): void;
  scan(pos: number, end: number): number;
  stop: WebAssembly.Global;
  resume: WebAssembly.Global;
}

/** Why a SIMD pass stopped. */
const END_OF_INPUT = 0;
const TABLES_FULL = 2;
/** Fields the SIMD pass records per call (its tables take 13 bytes a field). */
const TABLE_FIELDS = 1 << 16;
const PAGE = 65536;

let structureModule: WebAssembly.Module | null | undefined;

/** The compiled SIMD pass, or null where WebAssembly (or its SIMD) is not available. */
function compiledStructure(): WebAssembly.Module | null {
  if (structureModule === undefined) {
    // The field tables are read through typed arrays in the host's byte order; WebAssembly's is little.
    if (endianness() !== "LE") structureModule = null;
    else
      try {
        structureModule = new WebAssembly.Module(Buffer.from(CSV_STRUCTURE_WASM, "base64"));
      } catch {
        structureModule = null;
      }
  }
  return structureModule;
}

/** One instance of the SIMD pass and views of its memory: input bytes first, then the field tables. */
class SimdStructure {
  private readonly exports: StructureExports;
  input: Buffer = Buffer.alloc(0);
  /** Bytes of input the memory holds. */
  private capacity = 0;
  readonly record = new CsvRecord();
  records = new Int32Array(0);

  constructor(module: WebAssembly.Module) {
    this.exports = new WebAssembly.Instance(module, {}).exports as unknown as StructureExports;
  }

  /** Makes room for `bytes` of input (and the 64 bytes after them the pass reads). */
  reserve(bytes: number): void {
    if (bytes <= this.capacity) return;
    const capacity = Math.ceil((bytes + 64) / PAGE) * PAGE;
    const tables = TABLE_FIELDS * 13;
    const memory = this.exports.memory;
    const pages = (capacity + tables) / PAGE - memory.buffer.byteLength / PAGE;
    if (pages > 0) memory.grow(pages);
    const buffer = memory.buffer;
    const starts = capacity;
    const ends = starts + TABLE_FIELDS * 4;
    const records = ends + TABLE_FIELDS * 4;
    const flags = records + TABLE_FIELDS * 4;
    this.exports.layout(starts, ends, flags, records, TABLE_FIELDS);
    this.input = Buffer.from(buffer, 0, capacity);
    this.record.buf = this.input;
    this.record.starts = new Int32Array(buffer, starts, TABLE_FIELDS);
    this.record.ends = new Int32Array(buffer, ends, TABLE_FIELDS);
    this.record.flags = new Uint8Array(buffer, flags, TABLE_FIELDS);
    this.records = new Int32Array(buffer, records, TABLE_FIELDS);
    this.capacity = capacity - 64;
  }

  /** Whole plain records from `pos` to `end` of the input: how many (see csv-structure.wat). */
  scan(pos: number, end: number): number {
    return this.exports.scan(pos, end);
  }

  get stop(): number {
    return this.exports.stop.value as number;
  }

  /** Offset after the last whole record the last scan found. */
  get resume(): number {
    return this.exports.resume.value as number;
  }
}

export class CsvScanner {
  private carry: Buffer | null = null;
  /** Offset of the next line feed in the current buffer (-1: not searched yet). */
  private nextLF = -1;
  private line = 1;
  private readonly record = new CsvRecord();
  private readonly simd: SimdStructure | null;
  private readBuffer: Buffer | null = null;
  private readonly maxRecordBytes: number;
  private readonly maxFields: number;
  /** Bytes seen so far (for progress and the byte-scan comparison). */
  bytes = 0;
  /**
   * Whether a UTF-8 byte-order mark may still start the input: only at the start of a file, never in
   * a range of one. Excel's "CSV UTF-8" and some cloud exports begin with one; before a quoted first
   * field it made the header unreadable (`\uFEFF"AvailabilityZone"` is not a quoted field).
   */
  private atStart: boolean;

  constructor(
    private readonly onRecord: (record: CsvRecord) => void,
    options: CsvScannerOptions = {},
  ) {
    this.maxRecordBytes = options.maxRecordBytes ?? 16 * 1024 * 1024;
    this.maxFields = options.maxFields ?? 4096;
    this.line = options.startLine ?? 1;
    this.atStart = options.startLine === undefined;
    const module = options.simd === false ? null : compiledStructure();
    this.simd = module === null ? null : new SimdStructure(module);
  }

  /** Bytes of an unfinished record held back for the next chunk (0: the input so far ends a record). */
  get pendingBytes(): number {
    return this.carry?.length ?? 0;
  }

  /** The line the next record starts on. */
  get nextLine(): number {
    return this.line;
  }

  push(input: Buffer): void {
    this.bytes += input.length;
    const chunk = this.withoutBom(input);
    if (this.simd !== null) {
      this.pushSimd(this.simd, chunk);
      return;
    }
    let buf = chunk;
    if (this.carry !== null) {
      // Finish the carried record with the chunk's first line only, rather than copying the whole chunk.
      const nl = chunk.indexOf(LF);
      if (nl < 0) buf = Buffer.concat([this.carry, chunk]);
      else {
        const head = Buffer.concat([this.carry, chunk.subarray(0, nl + 1)]);
        const used = this.scan(head, false);
        // Whatever of the head is left (a quoted line break: the record goes on) starts the buffer.
        buf =
          used === head.length
            ? chunk.subarray(nl + 1)
            : Buffer.concat([head.subarray(used), chunk.subarray(nl + 1)]);
      }
      this.carry = null;
    }
    const used = this.scan(buf, false);
    if (used < buf.length) {
      if (buf.length - used > this.maxRecordBytes) {
        throw new CsvScanError(
          `a record runs past ${this.maxRecordBytes} bytes (an unterminated quote?)`,
          this.line,
        );
      }
      this.carry = Buffer.from(buf.subarray(used));
    }
  }

  /**
   * Reads the next chunk straight into the scanner's memory, saving the copy `push` makes: `read` fills
   * the start of `target` and returns how many bytes it wrote, 0 at the end of the input. Returns that
   * number. (The JavaScript-only scanner reads into a buffer of its own and pushes it.)
   */
  pushRead(read: (target: Buffer) => number, size = 1024 * 1024): number {
    const simd = this.simd;
    if (simd === null) {
      this.readBuffer ??= Buffer.allocUnsafe(size);
      const n = read(this.readBuffer.subarray(0, size));
      if (n > 0) this.push(this.readBuffer.subarray(0, n));
      return n;
    }
    const carried = this.carry?.length ?? 0;
    simd.reserve(carried + size);
    const n = read(simd.input.subarray(carried, carried + size));
    if (n === 0) return 0;
    this.bytes += n;
    const bom = this.atStart ? bomLength(simd.input.subarray(carried, carried + n)) : 0;
    this.atStart = false;
    if (bom > 0) simd.input.copyWithin(carried, carried + bom, carried + n);
    if (n === bom) return n;
    if (this.carry !== null) simd.input.set(this.carry, 0);
    this.carry = null;
    this.scanInput(simd, carried + n - bom);
    return n;
  }

  /** The first chunk without a leading byte-order mark; any later chunk as it is. */
  private withoutBom(chunk: Buffer): Buffer {
    if (!this.atStart || chunk.length === 0) return chunk;
    this.atStart = false;
    return chunk.subarray(bomLength(chunk));
  }

  /** The carried bytes and the chunk go into the SIMD pass's memory, and records are read from there. */
  private pushSimd(simd: SimdStructure, chunk: Buffer): void {
    const carried = this.carry?.length ?? 0;
    const len = carried + chunk.length;
    simd.reserve(len);
    const input = simd.input;
    if (this.carry !== null) input.set(this.carry, 0);
    input.set(chunk, carried);
    this.carry = null;
    this.scanInput(simd, len);
  }

  /** Scans the first `len` bytes of the SIMD input and carries what is left of them. */
  private scanInput(simd: SimdStructure, len: number): void {
    const input = simd.input;
    const used = this.scanSimd(simd, len);
    if (used < len) {
      if (len - used > this.maxRecordBytes) {
        throw new CsvScanError(
          `a record runs past ${this.maxRecordBytes} bytes (an unterminated quote?)`,
          this.line,
        );
      }
      this.carry = Buffer.from(input.subarray(used, len));
    }
  }

  /** Scans whole records from the SIMD input's first `len` bytes; returns how many bytes were consumed. */
  private scanSimd(simd: SimdStructure, len: number): number {
    const rec = simd.record;
    const records = simd.records;
    let pos = 0;
    while (pos < len) {
      const rows = simd.scan(pos, len);
      let base = 0;
      for (let k = 0; k < rows; k++) {
        const next = records[k]!;
        rec.base = base;
        rec.count = next - base;
        rec.line = this.line++;
        rec.errorField = -1;
        base = next;
        if (rec.count > this.maxFields) {
          throw new CsvScanError(`more than ${this.maxFields} fields in one record`, rec.line);
        }
        // A blank line is no record.
        if (rec.count === 1 && rec.start(0) === rec.end(0) && !rec.quoted(0)) continue;
        this.onRecord(rec);
      }
      pos = simd.resume;
      const stop = simd.stop;
      if (stop === END_OF_INPUT) break;
      if (stop === TABLES_FULL && rows > 0) continue;
      // A record the SIMD pass does not take (or one with more fields than its tables hold): the
      // JavaScript scanner reads it from the same bytes.
      this.record.buf = simd.input;
      this.nextLF = -1;
      const next = this.scanRecord(simd.input, pos, len, false);
      if (next < 0) break;
      pos = next;
    }
    return pos;
  }

  end(): void {
    if (this.carry !== null) {
      const buf = this.carry;
      this.carry = null;
      this.scan(buf, true);
    }
  }

  /** Scans whole records from `buf`; returns how many bytes were consumed. */
  private scan(buf: Buffer, final: boolean): number {
    const len = buf.length;
    const rec = this.record;
    rec.buf = buf;
    this.nextLF = -1;
    let pos = 0;
    while (pos < len) {
      const next = this.scanRecord(buf, pos, len, final);
      if (next < 0) return pos;
      pos = next;
    }
    return pos;
  }

  /** One record from `pos`; returns the offset after it, or -1 when the buffer ends inside it. */
  private scanRecord(buf: Uint8Array, pos: number, len: number, final: boolean): number {
    const rec = this.record;
    rec.count = 0;
    rec.line = this.line;
    rec.errorField = -1;
    let lines = 0;
    let p = pos;
    for (;;) {
      if (rec.count >= this.maxFields) {
        throw new CsvScanError(`more than ${this.maxFields} fields in one record`, rec.line);
      }
      if (rec.count === rec.starts.length) rec.grow();
      const f = rec.count;
      if (p < len && buf[p] === QUOTE) {
        const s = p + 1;
        let q = s;
        let escaped = 0;
        for (;;) {
          // Native search: quoted fields hold most of a FOCUS row's bytes (descriptions, ids, tags).
          q = buf.indexOf(QUOTE, q);
          if (q < 0) {
            if (!final) return -1;
            rec.starts[f] = s;
            rec.ends[f] = len;
            rec.flags[f] = QUOTED;
            rec.count++;
            this.fail(f, "unterminated quoted field");
            this.line += lines + countLines(buf, s, len);
            this.emit();
            return len;
          }
          if (q + 1 < len && buf[q + 1] === QUOTE) {
            escaped = ESCAPED;
            q += 2;
            continue;
          }
          if (q + 1 >= len && !final) return -1;
          break;
        }
        // Line breaks inside a quoted field are rare: count them only when the next one is before q.
        if (this.nextLF < s) this.nextLF = nextLineFeed(buf, s, len);
        if (this.nextLF < q) {
          lines += countLines(buf, s, q);
          this.nextLF = nextLineFeed(buf, q, len);
        }
        rec.starts[f] = s;
        rec.ends[f] = q;
        rec.flags[f] = QUOTED | escaped;
        rec.count++;
        p = q + 1;
        if (p >= len) return this.finish(lines, len);
        const c = buf[p];
        if (c === COMMA) {
          p++;
          continue;
        }
        if (c === LF) return this.finish(lines + 1, p + 1);
        // CRLF, or a lone CR (old Mac line ends) as after an unquoted field: a FOCUS row ends in
        // quoted Tags, and its records ran together.
        if (c === CR) {
          if (p + 1 < len && buf[p + 1] === LF) return this.finish(lines + 1, p + 2);
          if (p + 1 >= len && !final) return -1;
          return this.finish(lines + 1, p + 1);
        }
        // Junk after a closing quote: report it and resynchronise at the end of the line.
        this.fail(f, "unexpected text after a closing quote");
        const nl = indexOfByte(buf, LF, p, len);
        if (nl < 0 && !final) return -1;
        return this.finish(lines + 1, nl < 0 ? len : nl + 1);
      }
      const s = p;
      while (p < len) {
        const c = buf[p]!;
        // One well-predicted test for ordinary bytes: every delimiter is at most a comma (44).
        if (c <= COMMA && (c === COMMA || c === LF || c === CR || c === QUOTE)) break;
        p++;
      }
      if (p >= len) {
        if (!final) return -1;
        rec.starts[f] = s;
        rec.ends[f] = p;
        rec.flags[f] = 0;
        rec.count++;
        return this.finish(lines, p);
      }
      const c = buf[p];
      rec.starts[f] = s;
      rec.ends[f] = p;
      rec.flags[f] = 0;
      rec.count++;
      if (c === COMMA) {
        p++;
        continue;
      }
      if (c === LF) return this.finish(lines + 1, p + 1);
      if (c === CR) {
        if (p + 1 < len && buf[p + 1] === LF) return this.finish(lines + 1, p + 2);
        if (p + 1 >= len && !final) return -1;
        return this.finish(lines + 1, p + 1);
      }
      // A quote inside an unquoted field.
      this.fail(f, "a quote inside an unquoted field");
      const nl = indexOfByte(buf, LF, p, len);
      if (nl < 0 && !final) return -1;
      return this.finish(lines + 1, nl < 0 ? len : nl + 1);
    }
  }

  private fail(field: number, message: string): void {
    if (this.record.errorField < 0) {
      this.record.errorField = field;
      this.record.errorMessage = message;
    }
  }

  private finish(lines: number, next: number): number {
    this.line += lines;
    this.emit();
    return next;
  }

  private emit(): void {
    const rec = this.record;
    // A blank line is no record.
    if (rec.count === 1 && rec.start(0) === rec.end(0) && !rec.quoted(0) && rec.errorField < 0) return;
    this.onRecord(rec);
  }
}

function indexOfByte(buf: Uint8Array, byte: number, from: number, to: number): number {
  const i = buf.indexOf(byte, from);
  return i < 0 || i >= to ? -1 : i;
}

function nextLineFeed(buf: Uint8Array, from: number, len: number): number {
  const i = buf.indexOf(LF, from);
  return i < 0 ? len : i;
}

function countLines(buf: Uint8Array, from: number, to: number): number {
  let n = 0;
  let i = indexOfByte(buf, LF, from, to);
  while (i >= 0) {
    n++;
    i = indexOfByte(buf, LF, i + 1, to);
  }
  return n;
}

/** 3 when `bytes` begin with the UTF-8 byte-order mark (EF BB BF), else 0. */
function bomLength(bytes: Uint8Array): number {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
}
