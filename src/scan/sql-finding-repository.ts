import { NotFoundError } from "../errors.js";
import { type Amount, formatAmount, parseAmount, ZERO } from "../money/exact.js";
import { packRow, RowPacker } from "../store/packed-rows.js";
import {
  placeholders,
  type SqlDb,
  type SqlTransaction,
  type SqlValue,
  storedAmount,
  storedJson,
} from "../store/sql.js";
import {
  digestEnd,
  digestHex,
  digestLanes,
  digestStart,
  digestText,
  foldEnd,
  lastValue,
  valueLanes,
} from "./fingerprint.js";
import { DROP_FINDING_INDEXES, FINDING_INDEXES, KIND_COLUMNS } from "./migrations.js";
import { scanLock } from "./sql-scan-repository.js";
import type {
  FindingFilter,
  FindingGroup,
  FindingRepository,
  FindingTotals,
  GroupTotals,
  PreparedFindings,
  PrunedFindings,
  ScanRecording,
} from "./store.js";
import type { Finding, FindingStatus, StoredFinding } from "./types.js";

/**
 * A finding's row (finding_rows): first what each finding has (SCAN_ROW), then what the scan gives
 * them all. What many findings share is in finding_kinds (KIND_COLUMNS), named by kind_id (see
 * FindingKinds); the `findings` view joins them back.
 */
const COLUMNS = [
  "fingerprint",
  "resource_id",
  "resource_name",
  "kind_id",
  "message",
  "checks",
  "savings_monthly",
  "digest",
  "inventory",
  "first_seen",
  "last_seen",
  "first_scan_id",
  "last_scan_id",
  "last_seq",
] as const;

/** Values per finding a scan sends (the rest are the scan's own, written into its statements). */
const SCAN_ROW = COLUMNS.indexOf("inventory");

/** An upsert of findings: values bound for every column, or the scan's own as SQL literals. */
function upsert(onConflict: "record" | "insert-new", scan?: ScanConstants): string {
  const values = COLUMNS.map((_, i) => (scan === undefined || i < SCAN_ROW ? "?" : scanLiteral(i, scan)));
  const head = `INSERT INTO finding_rows (${COLUMNS.join(", ")}, status) VALUES (${values.join(", ")}, 'open')`;
  if (onConflict === "insert-new") return `${head}\n  ON CONFLICT (fingerprint) DO NOTHING`;
  return `${head}
  ON CONFLICT (fingerprint) DO UPDATE SET ${REFRESHED.join(", ")},
  status = CASE WHEN finding_rows.status = 'resolved' THEN 'open' ELSE finding_rows.status END,
  resolved_at = CASE WHEN finding_rows.status = 'resolved' THEN NULL ELSE finding_rows.resolved_at END`;
}

interface ScanConstants {
  inventory: string;
  at: string;
  scanId: string;
  seq: number;
}

const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;

function scanLiteral(column: number, scan: ScanConstants): string {
  switch (COLUMNS[column]) {
    case "inventory":
      return quote(scan.inventory);
    case "first_seen":
    case "last_seen":
      return quote(scan.at);
    case "first_scan_id":
    case "last_scan_id":
      return quote(scan.scanId);
    case "last_seq":
      return String(scan.seq);
    default:
      throw new Error(`no scan value for column ${COLUMNS[column]}`);
  }
}

/** Columns a later sighting refreshes; first_seen and first_scan_id never change. */
const REFRESHED = COLUMNS.filter(
  (c) => c !== "fingerprint" && c !== "first_seen" && c !== "first_scan_id",
).map((c) => `${c} = excluded.${c}`);

/** Records a finding with every value bound (the per-row path). */
const RECORD = upsert("record");

/** Rows per statement batch: big enough to amortise, small enough to keep memory flat. */
const BATCH = 2000;

/** Fingerprints per `IN (...)` list: always this many (the last one repeated), one statement text. */
const IN_LIST = 500;

function inList(fingerprints: readonly string[]): string[] {
  const out = fingerprints.slice();
  while (out.length < IN_LIST) out.push(fingerprints[fingerprints.length - 1]!);
  return out;
}

const PLACES = placeholders(IN_LIST);

// In both statements below `inventory || ''` (an expression, not the column) keeps SQLite's planner
// on the fingerprint index: without statistics it would walk the whole (inventory, status) index
// for every 500 fingerprints. The result is the same.

/*
 * Sightings. A scan that finishes has resolved every open or excepted finding of its inventory it did
 * not see, so it saw all the others: finishing records the scan once, in finding_inventories
 * (confirmed_seq/_scan_id/_at), instead of moving last_seen on every finding it saw unchanged. Each
 * scan of an inventory takes the next sequence number; a row written by a scan carries its number
 * (last_seq). An open or excepted finding whose last_seq is below its inventory's confirmed_seq was
 * last seen by the confirmed scan; any other finding by what its row says. Reads apply this rule
 * (READ_COLUMNS); a finding leaving the rule (resolved) first gets the values it stood for written
 * into its row (MATERIALISE), and one entering it again by hand takes the newest number so no
 * earlier scan is taken to have seen it.
 */
const CONFIRMED = (column: string) =>
  `(SELECT c.${column} FROM finding_inventories c WHERE c.inventory = finding_rows.inventory)`;

/** SET clauses that write a finding's effective last_seen and last_scan_id into its row. */
const CONFIRMED_FOR_ROW = `status IN ('open', 'excepted') AND COALESCE(last_seq, 0) < COALESCE(${CONFIRMED("confirmed_seq")}, 0)`;
const MATERIALISE = `last_seen = CASE WHEN ${CONFIRMED_FOR_ROW} THEN ${CONFIRMED("confirmed_at")} ELSE last_seen END,
  last_scan_id = CASE WHEN ${CONFIRMED_FOR_ROW} THEN ${CONFIRMED("confirmed_scan_id")} ELSE last_scan_id END`;

/** The newest sequence number of an inventory (0 before its first scan). */
const NEWEST_SEQ =
  "COALESCE((SELECT c.next_seq FROM finding_inventories c WHERE c.inventory = finding_rows.inventory), 0)";

/** The columns a read selects, in order: a finding's as stored, and its effective sighting. */
const READ_NAMES = [
  "fingerprint",
  "inventory",
  "resource_id",
  "resource_name",
  ...KIND_COLUMNS,
  "message",
  "checks",
  "savings_monthly",
  "digest",
  "first_seen",
  "first_scan_id",
  "status",
  "resolved_at",
  "last_seen",
  "last_scan_id",
  "exception_id",
] as const;

const KINDS = new Set<string>(KIND_COLUMNS);

/** A finding's column as reads name it: f (finding_rows) or k (finding_kinds). */
function column(name: string): string {
  return KINDS.has(name) ? `k.${name}` : `f.${name}`;
}

/** A finding's columns as stored, with last_seen and last_scan_id as the sightings rule gives them. */
const READ_COLUMNS = READ_NAMES.map((c) => {
  const read = readColumn(c);
  return read === column(c) ? read : `${read} AS ${c}`;
}).join(", ");

/** A read column's value: as stored, or its effective sighting, or its exception while excepted. */
function readColumn(c: (typeof READ_NAMES)[number]): string {
  if (c === "last_seen" || c === "last_scan_id")
    return `CASE WHEN f.status IN ('open', 'excepted') AND COALESCE(f.last_seq, 0) < COALESCE(i.confirmed_seq, 0) THEN i.confirmed_${c === "last_seen" ? "at" : "scan_id"} ELSE f.${c} END`;
  // The covering exception is the finding's only while it is excepted (statements that reopen or
  // resolve a finding leave the column as it was).
  if (c === "exception_id") return "CASE WHEN f.status = 'excepted' THEN f.exception_id ELSE NULL END";
  return column(c);
}

/** Where each read column is in a row of values (READ_NAMES order). */
const AT = Object.fromEntries(READ_NAMES.map((c, i) => [c, i])) as Record<
  (typeof READ_NAMES)[number],
  number
>;

/** Findings with their kinds (what the `findings` view is, with finding_rows' rowid at hand). */
const FINDINGS_FROM = "finding_rows f JOIN finding_kinds k ON k.id = f.kind_id";

/** What a read joins to finding_rows f: its kind, and its inventory's confirmed scan. */
const READ_JOINS =
  "JOIN finding_kinds k ON k.id = f.kind_id LEFT JOIN finding_inventories i ON i.inventory = f.inventory";

const READ_FROM = `finding_rows f ${READ_JOINS}`;

/** Findings seen again unchanged, written out (only when a scan fails: a finished one confirms). */
const SEEN_AGAIN = `UPDATE finding_rows SET last_seen = ?, last_scan_id = ?, last_seq = ? WHERE inventory || '' = ? AND status IN ('open', 'excepted') AND fingerprint IN (${PLACES})`;

/** Findings of the inventory the scan did not see. */
const RESOLVE = `UPDATE finding_rows SET ${MATERIALISE}, status = 'resolved', resolved_at = ? WHERE inventory || '' = ? AND status IN ('open', 'excepted') AND last_scan_id <> ? AND fingerprint IN (${PLACES})`;

/** Takes the inventory's next sequence number (read back with NEXT_SEQ). */
const TAKE_SEQ = `INSERT INTO finding_inventories (inventory, next_seq) VALUES (?, 1)
  ON CONFLICT (inventory) DO UPDATE SET next_seq = finding_inventories.next_seq + 1`;

const NEXT_SEQ = "SELECT next_seq FROM finding_inventories WHERE inventory = ?";

/** A finished scan saw every open or excepted finding of its inventory it did not resolve. */
const CONFIRM = `UPDATE finding_inventories SET confirmed_seq = ?, confirmed_scan_id = ?, confirmed_at = ?
  WHERE inventory = ? AND COALESCE(confirmed_seq, 0) < ?`;

/**
 * A failed scan keeps the findings it first wrote (what was recorded stays recorded), named as its
 * own (first_scan_id). The next completed scan that sees them is the first to find them, as far as
 * its NEW count, `--new-only` and `--new-in` go: its finish hands them on to it (first_seen stays
 * when they were first seen), in one statement, only when a failed scan of the inventory kept some
 * not yet handed on (most finishes read one small row of scans and write nothing more). Findings
 * the completed scan did not see, resolved by it, stay the failed scan's.
 */
async function handOn(tx: SqlTransaction, scanId: string, inventory: string): Promise<number> {
  const failed = await tx.all<{ id: string }>(
    "SELECT id FROM scans WHERE inventory = ? AND status = 'failed' AND findings_kept > 0 AND findings_kept_new_in IS NULL",
    [inventory],
  );
  if (failed.length === 0) return 0;
  const ids = failed.map((f) => f.id);
  const handed = await tx.run(
    `UPDATE finding_rows SET first_scan_id = ? WHERE inventory = ? AND status IN ('open', 'excepted') AND first_scan_id IN (${placeholders(ids.length)})`,
    [scanId, inventory, ...ids],
  );
  await tx.run(`UPDATE scans SET findings_kept_new_in = ? WHERE id IN (${placeholders(ids.length)})`, [
    scanId,
    ...ids,
  ]);
  return handed;
}

/** The statements that update findings by fingerprint lists (a test checks how SQLite plans them). */
export const BY_FINGERPRINT_STATEMENTS: readonly string[] = [SEEN_AGAIN, RESOLVE];

/** A scan's rows per commit: big commits write each index page once, not once per small batch. */
const COMMIT_EVERY = 100_000;

/**
 * Rows a scan must change before PostgreSQL's statistics of the findings table are refreshed at its
 * end: a first scan fills the table, and a planner that still thinks it empty (autovacuum off or not
 * come round yet) reads every finding for each page of `findings list` (0.6 s a page over 680,286
 * findings, against 8 ms with statistics).
 */
const ANALYZE_AFTER = 10_000;

/** Batches of writes a scan may have sent and not seen done. */
const IN_FLIGHT = 8;

const STATUS_BITS = 3;
const OPEN = 0;
const EXCEPTED = 1;
const RESOLVED = 2;
const HAS_DIGEST = 4;
const SEEN = 8;
/** Seen by this scan with the stored content: nothing written unless the scan fails. */
const UNCHANGED = 16;

/**
 * What a scan knows of its inventory's stored findings, compact (a million findings are a few tens
 * of MB and little work for the garbage collector): fingerprint → id, and per id the stored digest's
 * lanes, the status, and whether this scan saw it. The scanner's fingerprints (16 hex digits) are
 * kept as their two 32-bit halves in an open-addressing table, so loading and looking up a million
 * of them makes no strings; any other fingerprint goes in a Map.
 */
class KnownFindings {
  /** Findings known: ids 0..count-1. */
  count = 0;
  /** Per id: the fingerprint's halves (hex fingerprints), the stored digest, flags, the generation of queued rows its last row went into. */
  keyA = new Uint32Array(1024);
  keyB = new Uint32Array(1024);
  digestA = new Uint32Array(1024);
  digestB = new Uint32Array(1024);
  flags = new Uint8Array(1024);
  queuedIn = new Int32Array(1024);
  /** Fingerprints that are not 16 hex digits: fingerprint → id, and back. */
  private readonly otherIds = new Map<string, number>();
  private readonly otherNames = new Map<number, string>();
  /** The table: slot → id + 1 (0: empty), at (keyB & mask), probing on. */
  private slots = new Int32Array(2048);

  /** Room for `n` findings in all, grown once (a million findings loaded without copying arrays). */
  reserve(n: number): void {
    if (n > this.flags.length) {
      const grow = <T extends Uint32Array | Uint8Array | Int32Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(n);
        b.set(a);
        return b;
      };
      this.keyA = grow(this.keyA);
      this.keyB = grow(this.keyB);
      this.digestA = grow(this.digestA);
      this.digestB = grow(this.digestB);
      this.flags = grow(this.flags);
      this.queuedIn = grow(this.queuedIn);
    }
    // Room for an eighth more (the findings a rescan adds) before the table must grow.
    let size = this.slots.length;
    while (size * 0.6 < n + n / 8) size *= 2;
    if (size !== this.slots.length) this.rehash(size);
  }

  private rehash(size: number): void {
    this.slots = new Int32Array(size);
    const mask = size - 1;
    for (let id = 0; id < this.count; id++) {
      if (this.otherNames.has(id)) continue;
      let slot = this.keyB[id]! & mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
      this.slots[slot] = id + 1;
    }
  }

  /** The id of the finding whose fingerprint has halves a, b; undefined when unknown. */
  findKey(a: number, b: number): number | undefined {
    const slots = this.slots;
    const mask = slots.length - 1;
    for (let slot = b & mask; ; slot = (slot + 1) & mask) {
      const id = slots[slot]! - 1;
      if (id < 0) return undefined;
      if (this.keyA[id] === a && this.keyB[id] === b) return id;
    }
  }

  /** The id of a finding by its fingerprint; undefined when unknown. */
  find(fingerprint: string): number | undefined {
    if (parseFingerprint(fingerprint)) return this.findKey(fingerprintLanes[0]!, fingerprintLanes[1]!);
    return this.otherIds.get(fingerprint);
  }

  /** A new id for a hex fingerprint's halves (not known yet). */
  private newKey(a: number, b: number): number {
    const id = this.next();
    this.keyA[id] = a;
    this.keyB[id] = b;
    const mask = this.slots.length - 1;
    let slot = b & mask;
    while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
    this.slots[slot] = id + 1;
    return id;
  }

  private next(): number {
    if (this.count === this.flags.length) this.reserve(this.flags.length * 2);
    else if (this.count >= this.slots.length * 0.6) this.rehash(this.slots.length * 2);
    return this.count++;
  }

  /** A new id for a fingerprint (not known yet). */
  private newId(fingerprint: string): number {
    if (parseFingerprint(fingerprint)) return this.newKey(fingerprintLanes[0]!, fingerprintLanes[1]!);
    const id = this.next();
    this.otherIds.set(fingerprint, id);
    this.otherNames.set(id, fingerprint);
    return id;
  }

  /** Whether `id`'s fingerprint is 16 hex digits (kept as keyA/keyB). */
  hasKey(id: number): boolean {
    return !this.otherNames.has(id);
  }

  fingerprint(id: number): string {
    return (
      this.otherNames.get(id) ??
      this.keyA[id]!.toString(16).padStart(8, "0") + this.keyB[id]!.toString(16).padStart(8, "0")
    );
  }

  /**
   * A stored finding, as loaded before the scan, read in place from `text`: its fingerprint from
   * `at` to `digestAt - 1`, digest to `statusAt - 1`, status to `end`.
   */
  load(text: string, at: number, digestAt: number, statusAt: number, end: number): void {
    const id =
      digestAt - 1 - at === 16 && parseHex16(text, at)
        ? this.newKey(fingerprintLanes[0]!, fingerprintLanes[1]!)
        : this.newId(text.slice(at, digestAt - 1));
    // A status this code does not know is never taken for unchanged: it is rewritten.
    const length = end - statusAt;
    let flags = RESOLVED;
    if (length === 4 && text.startsWith("open", statusAt)) flags = OPEN;
    else if (length === 8 && text.startsWith("excepted", statusAt)) flags = EXCEPTED;
    if (statusAt - 1 - digestAt === 16 && parseHex16(text, digestAt)) {
      this.digestA[id] = fingerprintLanes[0]!;
      this.digestB[id] = fingerprintLanes[1]!;
      flags |= HAS_DIGEST;
    }
    this.flags[id] = flags;
  }

  /** A finding this scan inserts (by its fingerprint, or by its halves when `fingerprint` is undefined). */
  add(
    fingerprint: string | undefined,
    keyA: number,
    keyB: number,
    a: number,
    b: number,
    generation: number,
  ): void {
    const id = fingerprint === undefined ? this.newKey(keyA, keyB) : this.newId(fingerprint);
    this.digestA[id] = a;
    this.digestB[id] = b;
    this.flags[id] = OPEN | HAS_DIGEST | SEEN;
    this.queuedIn[id] = generation;
  }

  /** Stored with this content and not resolved: nothing to write (finishing confirms the sighting). */
  unchanged(id: number, a: number, b: number): boolean {
    const flags = this.flags[id]!;
    return (
      (flags & HAS_DIGEST) !== 0 &&
      (flags & STATUS_BITS) !== RESOLVED &&
      this.digestA[id] === a &&
      this.digestB[id] === b
    );
  }

  /** A finding this scan rewrites: a resolved one reopens, an excepted one stays excepted. */
  rewrite(id: number, a: number, b: number, generation: number): void {
    const status = this.flags[id]! & STATUS_BITS;
    this.digestA[id] = a;
    this.digestB[id] = b;
    this.flags[id] = (status === RESOLVED ? OPEN : status) | HAS_DIGEST | SEEN; // UNCHANGED cleared
    this.queuedIn[id] = generation;
  }

  /** Findings this scan saw unchanged (and wrote nothing for). */
  seenUnchanged(): string[] {
    const out: string[] = [];
    for (let id = 0; id < this.count; id++)
      if ((this.flags[id]! & UNCHANGED) !== 0) out.push(this.fingerprint(id));
    return out;
  }

  /** Open or excepted findings this scan did not see. */
  unseen(): string[] {
    const out: string[] = [];
    for (let id = 0; id < this.count; id++) {
      const flags = this.flags[id]!;
      if ((flags & SEEN) === 0 && (flags & STATUS_BITS) !== RESOLVED) out.push(this.fingerprint(id));
    }
    return out;
  }
}

/** Rows per query when a scan loads what it knows from SQLite (rowid ranges; a few MB each). */
const LOAD_CHUNK = 200_000;

/**
 * Loads an inventory's stored findings (fingerprint, digest, status) into `known` as a few long
 * strings, which costs a fraction of reading a million rows one by one. SQLite: in rowid ranges, in
 * table order (`inventory || ''` keeps the planner off the inventory index, whose order would cost a
 * random table read per row). PostgreSQL: one string for the inventory.
 */
async function loadKnown(
  db: Pick<SqlDb, "dialect" | "get">,
  inventory: string,
  known: KnownFindings,
): Promise<void> {
  const packed = (sep: string) =>
    `fingerprint || ${sep}(1) || COALESCE(digest, '') || ${sep}(1) || status, ${sep}(2)`;
  if (db.dialect === "postgres") {
    const count = await db.get<{ n: number | string }>(
      "SELECT COUNT(*) AS n FROM finding_rows WHERE inventory = ?",
      [inventory],
    );
    known.reserve(Number(count?.n ?? 0));
    const row = await db.get<{ packed: string | null }>(
      `SELECT string_agg(${packed("chr")}) AS packed FROM finding_rows WHERE inventory = ?`,
      [inventory],
    );
    if (row?.packed) unpack(row.packed, known);
    return;
  }
  const range = await db.get<{ lo: number | null; hi: number | null }>(
    "SELECT MIN(rowid) AS lo, MAX(rowid) AS hi FROM finding_rows",
  );
  if (range?.lo == null || range.hi == null) return;
  // Every query is sent at once: SQLite (the writer thread) runs the next while this thread unpacks
  // the last one's answer.
  const count = db.get<{ n: number | string }>("SELECT COUNT(*) AS n FROM finding_rows WHERE inventory = ?", [
    inventory,
  ]);
  const chunks: Promise<{ packed: string | null } | undefined>[] = [];
  for (let lo = range.lo - 1; lo < range.hi; lo += LOAD_CHUNK) {
    chunks.push(
      db.get<{ packed: string | null }>(
        `SELECT group_concat(${packed("char")}) AS packed FROM finding_rows WHERE rowid > ? AND rowid <= ? AND inventory || '' = ?`,
        [lo, lo + LOAD_CHUNK, inventory],
      ),
    );
  }
  // Each is awaited in order; all are marked handled now, so a failure is reported once, in order.
  for (const c of chunks) c.catch(() => {});
  known.reserve(Number((await count)?.n ?? 0));
  for (const chunk of chunks) {
    const row = await chunk;
    if (row?.packed) unpack(row.packed, known);
  }
}

/** fingerprint \x01 digest \x01 status, records separated by \x02. */
function unpack(packed: string, known: KnownFindings): void {
  let at = 0;
  while (at < packed.length) {
    const f1 = packed.indexOf("\u0001", at);
    const f2 = packed.indexOf("\u0001", f1 + 1);
    let end = packed.indexOf("\u0002", f2 + 1);
    if (end < 0) end = packed.length;
    known.load(packed, at, f1 + 1, f2 + 1, end);
    at = end + 1;
  }
}

export function sqlFindingRepository(db: SqlDb): FindingRepository {
  return {
    async beginScan(scanId, inventory, at) {
      const known = new KnownFindings();
      // This scan's sequence number: rows it writes carry it; finishing confirms it.
      const seq = await db.transaction(async (t) => {
        await t.run(TAKE_SEQ, [inventory]);
        return Number((await t.get<{ next_seq: number | string }>(NEXT_SEQ, [inventory]))!.next_seq);
      });
      // SQLite: the scan's writer transaction opens now, on its own thread, and reads what the store
      // knows there, so this thread goes on judging resources meanwhile. (With one connection, in
      // memory, the transaction must not hold it: reads go through the handle.)
      let tx: SqlTransaction | undefined;
      let reader: Pick<SqlDb, "dialect" | "get"> = db;
      if (db.dialect === "sqlite") {
        const opened = await db.begin();
        if (opened.exclusive) await opened.commit();
        else tx = reader = opened;
      }
      let bulkLoad: boolean;
      try {
        await loadKnown(reader, inventory, known);
        // Into an empty SQLite store, the secondary indexes are built once at the end, not row by row.
        bulkLoad =
          db.dialect === "sqlite" &&
          known.count === 0 &&
          (await reader.get("SELECT 1 AS one FROM finding_rows LIMIT 1")) === undefined;
      } catch (err) {
        await tx?.rollback().catch(() => {});
        throw err;
      }
      const snapshot = knownSnapshot(known);
      // The scan's own values are written into its statements: each finding sends only its own.
      // (Statements live as long as the transaction's connection: SQLite's is the writer thread's.)
      const scan: ScanConstants = { inventory, at, scanId, seq };
      /** A finding not stored yet; one stored under another inventory is left for the upsert to move. */
      const insertNew = upsert("insert-new", scan);
      const record = upsert("record", scan);
      let indexesDropped = false;
      // Writes go through a transaction of their own, committed every COMMIT_EVERY rows; the
      // database stays free for the inventory's own reads (the sandbox reads the store it scans).
      let written = 0;
      /** Rows this scan wrote in all (inserted or rewritten). */
      let rowsWritten = 0;
      let newFindings = 0;
      let repeatedFindings = 0;
      let finished = false;
      /** The rows queued and not yet sent are generation `pending` (see KnownFindings.queuedIn). */
      let pending = 1;
      const lanes = new Uint32Array(2);
      // Rows queued: as values from add(); from addPrepared(), packed as the workers made them, to be
      // handed to the writer thread as one buffer each (a scan uses one or the other).
      let fresh: SqlValue[][] = [];
      let changed: SqlValue[][] = [];
      const freshPacked = new RowPacker(BATCH);
      const changedPacked = new RowPacker(BATCH);
      /** The kinds of findings given to add(); addPrepared()'s come made by their threads. */
      const ownKinds = new FindingKinds();
      // Kinds' rows queued: written before the findings that name them, in the same transaction.
      let kindRows: SqlValue[][] = [];
      const kindsQueued = new WeakSet<PreparedFindings>();
      const queueKinds = (kinds: readonly SqlValue[][]) => {
        for (const row of kinds) kindRows.push(row);
      };
      // Writes are sent without waiting for each (the transaction runs them in order, in SQLite on
      // another thread): the scan goes on judging resources meanwhile, a few batches ahead at most.
      const inflight: Promise<void>[] = [];
      let failure: unknown;
      const send = (p: Promise<unknown>) => {
        inflight.push(
          p.then(
            () => {},
            (err) => {
              failure ??= err;
            },
          ),
        );
      };
      const settle = async (keep: number) => {
        while (inflight.length > keep) await inflight.shift();
        if (failure !== undefined) throw failure;
      };
      /** Sends the queued rows; unless forced, only once there are a batch of them. */
      const write = async (force = true) => {
        if (failure !== undefined) throw failure;
        const queued = fresh.length + changed.length + freshPacked.length + changedPacked.length;
        if (queued === 0 || (!force && queued < BATCH)) return;
        pending++;
        const inserts = fresh;
        const rewrites = changed;
        fresh = [];
        changed = [];
        const insertsPacked = freshPacked.length > 0 ? freshPacked.take() : undefined;
        const rewritesPacked = changedPacked.length > 0 ? changedPacked.take() : undefined;
        const kinds = kindRows;
        kindRows = [];
        tx ??= await db.begin();
        const t = tx;
        if (bulkLoad && !indexesDropped) {
          indexesDropped = true;
          send(t.exec(DROP_FINDING_INDEXES));
        }
        for (let start = 0; start < kinds.length; start += BATCH)
          send(t.runMany(KIND_INSERT, kinds.slice(start, start + BATCH)));
        for (let start = 0; start < inserts.length; start += BATCH) {
          const chunk =
            start === 0 && inserts.length <= BATCH ? inserts : inserts.slice(start, start + BATCH);
          // Some may be stored under another inventory: the upsert moves those here, as record() does.
          send(
            t.runMany(insertNew, chunk, { orElse: record }).then((inserted) => {
              newFindings += inserted;
            }),
          );
        }
        if (insertsPacked)
          send(
            t.runMany(insertNew, insertsPacked, { orElse: record }).then((inserted) => {
              newFindings += inserted;
            }),
          );
        for (let start = 0; start < rewrites.length; start += BATCH)
          send(t.runMany(record, rewrites.slice(start, start + BATCH)));
        if (rewritesPacked) send(t.runMany(record, rewritesPacked));
        const sent =
          inserts.length + rewrites.length + (insertsPacked?.length ?? 0) + (rewritesPacked?.length ?? 0);
        written += sent;
        rowsWritten += sent;
        if (t.exclusive) {
          // The transaction holds the only connection: end it before the inventory reads again.
          tx = undefined;
          written = 0;
          await settle(0);
          await t.commit();
          return;
        }
        if (written >= COMMIT_EVERY) {
          written = 0;
          send(t.commitAndBegin());
        }
        await settle(IN_FLIGHT);
      };
      const recording: ScanRecording = {
        async add(findings) {
          if (finished) throw new Error("this scan's recording is finished");
          for (let i = 0; i < findings.length; i++) {
            const f = findings[i]!;
            digestFinding(f, lanes);
            const recommendation = digestedRecommendation;
            const checks = digestedChecks;
            const id = known.find(f.fingerprint);
            if (id !== undefined && (known.flags[id]! & SEEN) !== 0) repeatedFindings++;
            if (id === undefined) {
              known.add(f.fingerprint, 0, 0, lanes[0]!, lanes[1]!, pending);
              fresh.push(scanRow(f, recommendation, checks, lanes, ownKinds));
              queueKinds(ownKinds.take());
              continue;
            }
            if (known.queuedIn[id] === pending) {
              // The same fingerprint queued twice: write the first before queueing the last.
              await write();
            }
            if (known.unchanged(id, lanes[0]!, lanes[1]!)) {
              // Nothing written: finishing confirms this scan saw it (see CONFIRM).
              known.flags[id]! |= SEEN | UNCHANGED;
              continue;
            }
            known.rewrite(id, lanes[0]!, lanes[1]!, pending);
            changed.push(scanRow(f, recommendation, checks, lanes, ownKinds));
            queueKinds(ownKinds.take());
          }
          // Rows go out a batch at a time (PostgreSQL copies big batches: see postgres-copy.ts).
          await write(false);
        },
        snapshot,
        async addPrepared(p, from = 0) {
          if (finished) throw new Error("this scan's recording is finished");
          // Resuming a batch: what its first part queued is written before the rest is looked at.
          if (from > 0) await write();
          if (!kindsQueued.has(p)) {
            kindsQueued.add(p);
            queueKinds(p.kinds);
          }
          const starts = p.rowStarts;
          const row = (i: number) => p.rows.subarray(starts[i]!, starts[i + 1]!);
          let start = from === 0 ? 0 : p.fingerprintEnds[from - 1]!;
          for (let i = from; i < p.count; i++) {
            const end = p.fingerprintEnds[i]!;
            const keyA = p.keys[2 * i]!;
            const keyB = p.keys[2 * i + 1]!;
            const fingerprint = p.keyed[i] === 1 ? undefined : p.fingerprints.slice(start, end);
            start = end;
            const a = p.lanes[2 * i]!;
            const b = p.lanes[2 * i + 1]!;
            const hasRow = starts[i + 1]! > starts[i]!;
            const id = fingerprint === undefined ? known.findKey(keyA, keyB) : known.find(fingerprint);
            // Counted where it is settled, not when the call stops for its row (it comes again).
            const repeated = id !== undefined && (known.flags[id]! & SEEN) !== 0;
            if (id === undefined) {
              if (!hasRow) return i;
              known.add(fingerprint, keyA, keyB, a, b, pending);
              freshPacked.addBytes(row(i));
              continue;
            }
            if (known.queuedIn[id] === pending) await write();
            if (known.unchanged(id, a, b)) {
              if (repeated) repeatedFindings++;
              known.flags[id]! |= SEEN | UNCHANGED;
              continue;
            }
            if (!hasRow) return i;
            if (repeated) repeatedFindings++;
            known.rewrite(id, a, b, pending);
            changedPacked.addBytes(row(i));
          }
          await write(false);
          return undefined;
        },
        async finish() {
          if (finished) throw new Error("this scan's recording is finished");
          try {
            await write();
            await settle(0);
          } catch (err) {
            // A write the database refused: end the scan's transaction as a failed scan does.
            await end();
            throw err;
          }
          finished = true;
          const unseen = known.unseen();
          tx ??= await db.begin();
          const done = tx;
          tx = undefined;
          try {
            let resolvedFindings = 0;
            for (let start = 0; start < unseen.length; start += IN_LIST) {
              resolvedFindings += await done.run(RESOLVE, [
                at,
                inventory,
                scanId,
                ...inList(unseen.slice(start, start + IN_LIST)),
              ]);
            }
            if (indexesDropped) await done.exec(FINDING_INDEXES);
            newFindings += await handOn(done, scanId, inventory);
            await done.run(CONFIRM, [seq, scanId, at, inventory, seq]);
            await done.commit();
            // The scan is stored by now: a failed ANALYZE only costs the next reads their speed.
            if (db.dialect === "postgres" && rowsWritten + resolvedFindings >= ANALYZE_AFTER)
              await db.exec("ANALYZE finding_rows, finding_kinds").catch(() => {});
            return { newFindings, resolvedFindings, repeatedFindings };
          } catch (err) {
            await done.rollback().catch(() => {});
            throw err;
          }
        },
        abort: end,
      };
      /** Ends a scan that failed (abort, or a finish whose writes failed); the first call counts. */
      async function end(): Promise<void> {
        if (finished) return;
        finished = true;
        // What was seen before the failure counts as seen (as when every batch was upserted):
        // nothing confirms this scan, so what it saw unchanged is written out.
        if (failure === undefined) {
          await write().catch(() => {});
          const unchanged = known.seenUnchanged();
          if (unchanged.length > 0 && failure === undefined) {
            tx ??= await db.begin().catch(() => undefined);
            const t = tx;
            for (let start = 0; t && start < unchanged.length; start += IN_LIST)
              send(
                t.run(SEEN_AGAIN, [
                  at,
                  scanId,
                  seq,
                  inventory,
                  ...inList(unchanged.slice(start, start + IN_LIST)),
                ]),
              );
          }
        }
        await Promise.all(inflight);
        const open = tx;
        tx = undefined;
        // What was recorded stays recorded, as when each batch was committed on its own.
        if (open) {
          if (indexesDropped) await open.exec(FINDING_INDEXES).catch(() => {});
          await open.commit().catch(() => open.rollback().catch(() => {}));
        } else if (indexesDropped) await db.exec(FINDING_INDEXES).catch(() => {});
      }
      return recording;
    },
    async record(scanId, inventory, at, findings) {
      // One transaction for the whole call: commits, not rows, are what cost most.
      await db.transaction(async (tx) => {
        // Newer than any finished scan of the inventory: no confirmation stands for these rows.
        const newest = await tx.get<{ next_seq: number | string }>(NEXT_SEQ, [inventory]);
        const seq = Number(newest?.next_seq ?? 0);
        const findingKinds = new FindingKinds();
        for (let start = 0; start < findings.length; start += BATCH) {
          const rows = uniqueByFingerprint(findings.slice(start, start + BATCH)).map((f) =>
            fullRow(f, { inventory, at, scanId, seq }, findingKinds),
          );
          const kinds = findingKinds.take();
          if (kinds.length > 0) await tx.runMany(KIND_INSERT, kinds);
          await tx.runMany(RECORD, rows);
        }
      });
    },
    resolveUnseen: (scanId, inventory, at) =>
      db.run(
        `UPDATE finding_rows SET ${MATERIALISE}, status = 'resolved', resolved_at = ? WHERE inventory = ? AND status IN ('open', 'excepted') AND last_scan_id <> ?`,
        [at, inventory, scanId],
      ),
    async countFirstSeen(scanId) {
      const row = await db.get<{ n: number | string }>(
        "SELECT COUNT(*) AS n FROM finding_rows WHERE first_scan_id = ?",
        [scanId],
      );
      return Number(row?.n ?? 0);
    },
    async get(fingerprint) {
      return (await readFindings(db, "WHERE f.fingerprint = ?", [fingerprint]))[0];
    },
    async fingerprintsStartingWith(prefix, limit) {
      // substr, not LIKE: no wildcard to escape, and the same on both databases whatever the collation.
      const rows = await db.all<{ fingerprint: string }>(
        "SELECT fingerprint FROM finding_rows WHERE substr(fingerprint, 1, ?) = ? ORDER BY fingerprint LIMIT ?",
        [prefix.length, prefix, limit],
      );
      return rows.map((r) => r.fingerprint);
    },
    async kindValues(column, options = {}) {
      const { among, limit } = options;
      if (among?.length === 0) return [];
      const rows = await db.all<{ value: string }>(
        `SELECT DISTINCT ${column} AS value FROM finding_kinds WHERE ${column} IS NOT NULL${among === undefined ? "" : ` AND ${column} IN (${placeholders(among.length)})`} ORDER BY value${limit === undefined ? "" : " LIMIT ?"}`,
        [...(among ?? []), ...(limit === undefined ? [] : [limit])],
      );
      return rows.map((r) => r.value);
    },
    async list(filter = {}) {
      const { where, params, from } = conditions(filter, db.dialect);
      const bySavings = filter.order === "savings";
      if (filter.after !== undefined) {
        if (bySavings) throw new Error("`after` pages findings in fingerprint order only");
        where.push("f.fingerprint > ?");
        params.push(filter.after);
      }
      params.push(filter.limit ?? 1000);
      // Savings are exact decimal text; ordering reads them as numbers (ties in fingerprint order).
      const savings = `CAST(f.savings_monthly AS ${db.dialect === "postgres" ? "NUMERIC" : "REAL"}) DESC, `;
      const order = `ORDER BY ${bySavings ? savings : ""}f.fingerprint`;
      // The page is chosen among the rows first and joined to its kinds after: joining every
      // matching finding before sorting costs a third more on a million.
      const page = `(SELECT f.* FROM ${from} ${whereClause(where)} ${order} LIMIT ?) f`;
      return readFindings(db, order, params, undefined, `${page} ${READ_JOINS}`);
    },
    async count(filter = {}) {
      const { where, params, from } = conditions(filter, db.dialect);
      const row = await db.get<{ n: number | string }>(
        `SELECT COUNT(*) AS n FROM ${from} ${whereClause(where)}`,
        params,
      );
      return Number(row?.n ?? 0);
    },
    forEach(filter, onBatch, batchSize = 1000) {
      return keysetPages(db, filter, batchSize, readFindings, onBatch);
    },
    forEachJson(filter, onBatch, batchSize = 1000) {
      if (db.dialect === "sqlite") return keysetPages(db, filter, batchSize, readFindingsJson, onBatch);
      // PostgreSQL's JSON functions space their output: its findings are made and stringified here.
      return keysetPages(db, filter, batchSize, readFindings, (rows) =>
        onBatch(rows.map((f) => JSON.stringify(f))),
      );
    },
    async totals(filter = {}) {
      return (await savingsByGroup(db, filter, undefined)).total;
    },
    totalsBy(by, filter = {}) {
      return savingsByGroup(db, filter, by);
    },
    async setStatus(fingerprint, status, at) {
      const changed = await db.run(`${SET_STATUS} WHERE fingerprint = ?`, [
        ...statusValues(status, at),
        fingerprint,
      ]);
      if (changed === 0) throw new NotFoundError(`no finding with fingerprint ${fingerprint}`);
    },
    async setExceptions(byException) {
      const sql = `UPDATE finding_rows SET exception_id = ? WHERE status = 'excepted' AND fingerprint IN (${PLACES})`;
      return db.transaction(async (tx) => {
        let set = 0;
        for (const [exceptionId, fingerprints] of byException)
          for (let i = 0; i < fingerprints.length; i += IN_LIST)
            set += await tx.run(sql, [exceptionId, ...inList(fingerprints.slice(i, i + IN_LIST))]);
        return set;
      });
    },
    async moveStatus(fingerprints, from, to, at) {
      if (fingerprints.length === 0) return 0;
      const sql = `${SET_STATUS} WHERE status = ? AND fingerprint IN (${PLACES})`;
      return db.transaction(async (tx) => {
        let moved = 0;
        for (let i = 0; i < fingerprints.length; i += IN_LIST) {
          const chunk = inList(fingerprints.slice(i, i + IN_LIST));
          moved += await tx.run(sql, [...statusValues(to, at), from, ...chunk]);
        }
        return moved;
      });
    },
    async pruneResolved(before, options = {}) {
      const cutoff = new Date(before);
      if (Number.isNaN(cutoff.getTime())) throw new RangeError(`not a time: ${before}`);
      const at = cutoff.toISOString();
      const where = `status = 'resolved' AND resolved_at < ?${options.inventory === undefined ? "" : " AND inventory = ?"}`;
      const counts = await db.all<{ inventory: string; n: number | string }>(
        `SELECT inventory, COUNT(*) AS n FROM finding_rows WHERE ${where} GROUP BY inventory ORDER BY inventory`,
        options.inventory === undefined ? [at] : [at, options.inventory],
      );
      const pruned: PrunedFindings = { deleted: 0, byInventory: {}, busy: {} };
      for (const { inventory, n } of counts) {
        let deleted = Number(n);
        // A scan of the inventory holds it from start to end; one running now knows these findings.
        // A dry run looks for one the same way, letting go of the lock at once.
        const lock = await db.tryLock(scanLock(inventory));
        if (lock === undefined) {
          pruned.busy[inventory] = deleted;
          continue;
        }
        try {
          if (!options.dryRun)
            deleted = await db.run(
              "DELETE FROM finding_rows WHERE inventory = ? AND status = 'resolved' AND resolved_at < ?",
              [inventory, at],
            );
        } finally {
          await lock.release();
        }
        if (deleted === 0) continue;
        pruned.byInventory[inventory] = deleted;
        pruned.deleted += deleted;
      }
      return pruned;
    },
  };
}

/**
 * A finding's status set by hand (exceptions). Leaving open/excepted: the row gets the sighting it
 * stood for. Entering them from resolved: the newest number, so no scan before now is taken to have
 * seen it. Its values: `statusValues`, then the WHERE clause's.
 */
const SET_STATUS = `UPDATE finding_rows SET ${MATERIALISE},
  last_seq = CASE WHEN status = 'resolved' AND ? <> 'resolved' THEN ${NEWEST_SEQ} ELSE last_seq END,
  status = ?, resolved_at = ?`;

function statusValues(status: FindingStatus, at: string): SqlValue[] {
  return [status, status, status === "resolved" ? at : null];
}

function uniqueByFingerprint(findings: readonly Finding[]): readonly Finding[] {
  const seen = new Map<string, Finding>();
  for (const f of findings) seen.set(f.fingerprint, f);
  return seen.size === findings.length ? findings : [...seen.values()];
}

/** Filter fields and the columns they match: one value (`=`) or a list (`IN`). */
const FILTERED = [
  ["status", "status"],
  ["inventory", "inventory"],
  ["resourceId", "resource_id"],
  ["policy", "policy"],
  ["severity", "severity"],
  ["team", "team"],
  ["account", "account"],
  ["region", "region"],
  ["firstScanId", "first_scan_id"],
  ["action", "action"],
] as const;

/**
 * A filter as SQL conditions on finding_rows f (and finding_kinds k), with what they read from:
 * FINDINGS_FROM when a condition is on a kind's column, finding_rows alone otherwise.
 */
function conditions(
  filter: FindingFilter,
  dialect: "sqlite" | "postgres",
): { where: string[]; params: SqlValue[]; from: string } {
  const where: string[] = [];
  const params: SqlValue[] = [];
  let kinds = false;
  for (const [field, name] of FILTERED) {
    const value = filter[field];
    if (value === undefined) continue;
    if (KINDS.has(name)) kinds = true;
    if (typeof value === "string") {
      where.push(`${column(name)} = ?`);
      params.push(value);
    } else {
      where.push(`${column(name)} IN (${placeholders(value.length)})`);
      params.push(...value);
    }
  }
  if (filter.resourceType !== undefined) {
    // Exact types, and categories (`compute/*`) by their first characters (no LIKE: a type's `_` or
    // `%` is itself). No type at all matches nothing.
    kinds = true;
    const exact = filter.resourceType.filter((t) => !t.endsWith("/*"));
    const either: string[] = [];
    if (exact.length > 0) {
      either.push(`k.resource_type IN (${placeholders(exact.length)})`);
      params.push(...exact);
    }
    for (const t of filter.resourceType) {
      if (!t.endsWith("/*")) continue;
      const prefix = t.slice(0, -1);
      either.push("substr(k.resource_type, 1, ?) = ?");
      params.push([...prefix].length, prefix);
    }
    where.push(either.length > 0 ? `(${either.join(" OR ")})` : "1 = 0");
  }
  if (filter.firstSeenBefore !== undefined) {
    // Instants are stored as toISOString writes them (UTC, milliseconds, 24 characters), so they
    // compare as text; the bound is one too.
    where.push("f.first_seen < ?");
    params.push(new Date(filter.firstSeenBefore).toISOString());
  }
  if (filter.resolvedAt !== undefined) {
    where.push("f.resolved_at = ? AND f.status = 'resolved'");
    params.push(new Date(filter.resolvedAt).toISOString());
  }
  if (filter.exceptionId !== undefined) {
    // As reads give it: the finding's only while it is excepted.
    where.push("f.exception_id = ? AND f.status = 'excepted'");
    params.push(filter.exceptionId);
  }
  if (filter.minSavings !== undefined) {
    // As ordering reads them: exact NUMERIC on PostgreSQL; SQLite has no decimal type, and its REAL
    // holds any saving to far below a cent.
    const as = dialect === "postgres" ? "NUMERIC" : "REAL";
    where.push(`CAST(f.savings_monthly AS ${as}) >= CAST(? AS ${as})`);
    params.push(filter.minSavings);
  }
  return { where, params, from: kinds ? FINDINGS_FROM : "finding_rows f" };
}

/** JSON of a frozen part many findings share (a recommendation, checks), made and hashed once. */
interface SharedPart {
  json: string;
  a: number;
  b: number;
  /** For shared checks: the message that goes with them, and its lanes. */
  message?: string;
  ma?: number;
  mb?: number;
}

const sharedParts = new WeakMap<object, SharedPart>();
const partLanes = new Uint32Array(2);

function sharedPart(o: object): SharedPart {
  let part = sharedParts.get(o);
  if (part === undefined) {
    const json = JSON.stringify(o);
    valueLanes(json, partLanes);
    part = { json, a: partLanes[0]!, b: partLanes[1]! };
    sharedParts.set(o, part);
  }
  return part;
}

/** JSON of a part: made once for a frozen (shared) one, and its lanes fed to the digest. */
function digestPart(o: object): string {
  if (!Object.isFrozen(o)) {
    const json = JSON.stringify(o);
    digestText(json);
    return json;
  }
  const part = sharedPart(o);
  digestLanes(part.a, part.b);
  return part.json;
}

/** The recommendation's and checks' JSON of the last digestFinding call. */
let digestedRecommendation = "";
let digestedChecks = "";

// The lanes of the finding's kind (see FindingKinds), folded from the same values' lanes as its
// digest, so naming its kind hashes nothing more.
let kindA = 0;
let kindB = 0;
/** The kind's lanes of the last digestFinding call. */
const kindLanes = new Uint32Array(2);

function kindValue(): void {
  kindA = Math.imul(kindA ^ lastValue[0]!, 0x01000193);
  kindB = Math.imul(kindB ^ lastValue[1]!, 0x01000f93);
}

/**
 * The digest of what a later sighting may refresh, except where and when it was seen, into `out`;
 * leaves the recommendation's and checks' JSON in digestedRecommendation / digestedChecks, and the
 * lanes of the finding's kind in kindLanes.
 */
function digestFinding(f: Finding, out: Uint32Array): void {
  digestStart();
  kindA = 0x811c9dc5;
  kindB = 0x050c5d1f;
  digestText(f.resource_id);
  digestText(f.resource_type);
  kindValue();
  digestText(f.resource_name);
  digestText(f.provider);
  kindValue();
  digestText(f.account);
  kindValue();
  digestText(f.region);
  kindValue();
  digestText(f.team);
  kindValue();
  digestText(f.policy);
  kindValue();
  digestText(f.rule);
  kindValue();
  digestText(f.source);
  kindValue();
  const checksPart = Object.isFrozen(f.checks) ? sharedPart(f.checks) : undefined;
  if (checksPart !== undefined && checksPart.message === undefined) {
    valueLanes(f.message, partLanes);
    checksPart.message = f.message;
    checksPart.ma = partLanes[0]!;
    checksPart.mb = partLanes[1]!;
  }
  if (checksPart !== undefined && checksPart.message === f.message)
    digestLanes(checksPart.ma!, checksPart.mb!);
  else digestText(f.message);
  digestText(f.severity);
  kindValue();
  digestText(f.enforcement);
  kindValue();
  digestText(f.recommendation.action);
  kindValue();
  digestedRecommendation = digestPart(f.recommendation);
  kindValue();
  digestText(f.savings_monthly);
  digestText(f.currency);
  kindValue();
  if (checksPart !== undefined) {
    digestLanes(checksPart.a, checksPart.b);
    digestedChecks = checksPart.json;
  } else digestedChecks = digestPart(f.checks);
  digestEnd(out);
  foldEnd(kindA, kindB, kindLanes);
}

const recordLanes = new Uint32Array(2);
const utf8Encoder = new TextEncoder();

/*
 * A snapshot of the stored digests for other threads: an open-addressing hash table in shared memory,
 * keyed by the fingerprint's 64 bits (the scanner's fingerprints are 16 hex digits; others are left
 * out and always get their row). Slot i: words 4i..4i+3 = fingerprint lanes, digest lanes; byte i of
 * the occupancy array after the words says whether it is used. Only open and excepted findings with a
 * digest are in it: those a scan may find unchanged.
 */
const fingerprintLanes = new Uint32Array(2);

/** The two 32-bit halves of a 16-hex-digit fingerprint into fingerprintLanes; false for any other. */
function parseFingerprint(fingerprint: string): boolean {
  return fingerprint.length === 16 && parseHex16(fingerprint, 0);
}

/** 16 lowercase hex digits of `text` from `start` as two 32-bit halves into fingerprintLanes. */
function parseHex16(text: string, start: number): boolean {
  let a = 0;
  let b = 0;
  for (let i = 0; i < 16; i++) {
    const c = text.charCodeAt(start + i);
    const v = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (v < 0) return false;
    if (i < 8) a = ((a << 4) | v) >>> 0;
    else b = ((b << 4) | v) >>> 0;
  }
  fingerprintLanes[0] = a;
  fingerprintLanes[1] = b;
  return true;
}

function knownSnapshot(known: KnownFindings): SharedArrayBuffer | undefined {
  let eligible = 0;
  for (let id = 0; id < known.count; id++) {
    const flags = known.flags[id]!;
    if ((flags & HAS_DIGEST) !== 0 && (flags & STATUS_BITS) !== RESOLVED) eligible++;
  }
  if (eligible === 0) return undefined;
  let slots = 1024;
  while (slots * 0.7 < eligible) slots *= 2;
  const buffer = new SharedArrayBuffer(slots * 17);
  const words = new Uint32Array(buffer, 0, slots * 4);
  const used = new Uint8Array(buffer, slots * 16, slots);
  const mask = slots - 1;
  for (let id = 0; id < known.count; id++) {
    const flags = known.flags[id]!;
    if ((flags & HAS_DIGEST) === 0 || (flags & STATUS_BITS) === RESOLVED) continue;
    if (!known.hasKey(id)) continue;
    const b = known.keyB[id]!;
    let slot = b & mask;
    while (used[slot] !== 0) slot = (slot + 1) & mask;
    used[slot] = 1;
    words[4 * slot] = known.keyA[id]!;
    words[4 * slot + 1] = b;
    words[4 * slot + 2] = known.digestA[id]!;
    words[4 * slot + 3] = known.digestB[id]!;
  }
  return buffer;
}

/** Whether the snapshot holds the fingerprint with halves a, b and the digest in `lanes`. */
function inSnapshot(words: Uint32Array, used: Uint8Array, a: number, b: number, lanes: Uint32Array): boolean {
  const mask = used.length - 1;
  for (let slot = b & mask; used[slot] !== 0; slot = (slot + 1) & mask) {
    if (words[4 * slot] === a && words[4 * slot + 1] === b)
      return words[4 * slot + 2] === lanes[0] && words[4 * slot + 3] === lanes[1];
  }
  return false;
}

/**
 * Prepares findings for `ScanRecording.addPrepared` where they were judged: each one's digest and
 * its own row values (JSON, UTF-8), so the recording thread only looks fingerprints up and decodes
 * the rows it writes. With the recording's `snapshot`, a finding stored with the same digest gets no
 * row (a rescan writes nothing for it).
 */
export function prepareFindings(
  findings: readonly Finding[],
  kinds: FindingKinds,
  snapshot?: SharedArrayBuffer,
): PreparedFindings {
  const slots = snapshot === undefined ? 0 : snapshot.byteLength / 17;
  const words = snapshot === undefined ? undefined : new Uint32Array(snapshot, 0, slots * 4);
  const used = snapshot === undefined ? undefined : new Uint8Array(snapshot, slots * 16, slots);
  const count = findings.length;
  const lanes = new Uint32Array(2 * count);
  const fingerprintEnds = new Uint32Array(count);
  const keys = new Uint32Array(2 * count);
  const keyed = new Uint8Array(count);
  const rowStarts = new Uint32Array(count + 1);
  // A row is ~130 bytes; with a snapshot (a rescan) most findings get none.
  let rows = new Uint8Array(Math.max(1024, count * (snapshot === undefined ? 160 : 32)));
  let fingerprints = "";
  let at = 0;
  for (let i = 0; i < count; i++) {
    const f = findings[i]!;
    digestFinding(f, recordLanes);
    lanes[2 * i] = recordLanes[0]!;
    lanes[2 * i + 1] = recordLanes[1]!;
    const hex = parseFingerprint(f.fingerprint);
    if (hex) {
      keyed[i] = 1;
      keys[2 * i] = fingerprintLanes[0]!;
      keys[2 * i + 1] = fingerprintLanes[1]!;
    } else fingerprints += f.fingerprint;
    fingerprintEnds[i] = fingerprints.length;
    if (hex && words !== undefined && inSnapshot(words, used!, keys[2 * i]!, keys[2 * i + 1]!, recordLanes)) {
      rowStarts[i + 1] = at;
      continue;
    }
    const packed = packRow(scanRow(f, digestedRecommendation, digestedChecks, recordLanes, kinds));
    for (;;) {
      const r = utf8Encoder.encodeInto(packed, rows.subarray(at));
      if (r.read === packed.length) {
        at += r.written;
        break;
      }
      const bigger = new Uint8Array(Math.max(rows.length * 2, at + packed.length * 3));
      bigger.set(rows.subarray(0, at));
      rows = bigger;
    }
    rowStarts[i + 1] = at;
  }
  return {
    count,
    fingerprints,
    fingerprintEnds,
    keys,
    keyed,
    lanes,
    rows: rows.subarray(0, at),
    rowStarts,
    kinds: kinds.take(),
  };
}

/** What many findings share, kept once: their kinds (KIND_COLUMNS). */
const KIND_INSERT = `INSERT INTO finding_kinds (id, ${KIND_COLUMNS.join(", ")}) VALUES (${placeholders(KIND_COLUMNS.length + 1)}) ON CONFLICT (id) DO NOTHING`;

/** Kinds a thread has met before it forgets them all (and sends them again, which costs nothing wrong). */
const KINDS_REMEMBERED = 500_000;

/** Ids of kinds met, by their two lanes (numbers: no string is made per finding). */
class KindIds {
  private readonly ids = new Map<number, Map<number, string>>();
  private size = 0;

  get(a: number, b: number): string | undefined {
    return this.ids.get(a)?.get(b);
  }

  /** A new kind's id (not met before). */
  add(a: number, b: number): string {
    if (this.size >= KINDS_REMEMBERED) {
      this.ids.clear();
      this.size = 0;
    }
    const id = BigInt.asIntN(64, (BigInt(a) << 32n) | BigInt(b)).toString();
    let byB = this.ids.get(a);
    if (byB === undefined) {
      byB = new Map();
      this.ids.set(a, byB);
    }
    byB.set(b, id);
    this.size++;
    return id;
  }
}

/**
 * The kinds of one scan's findings (or one `record` call's), as one thread makes their rows. A kind's
 * id is a 64-bit hash of its values (their lanes folded as a digest folds them; as decimal text, which
 * SQLite and PostgreSQL store as an integer), so every thread names a kind alike without asking the
 * store; two kinds collide with the odds of two fingerprints. The first time this thread meets a kind,
 * its row is queued to be inserted (ON CONFLICT DO NOTHING: another thread or an earlier scan may have
 * stored it) before any finding naming it is written. Made per scan, never shared between scans: a
 * kind whose row a failed scan never wrote is sent again by the next. Kinds no finding names any more
 * stay (a few thousand in an estate, changed only by policies, teams and prices).
 */
export class FindingKinds {
  private readonly kinds = new KindIds();
  /** Rows of kinds met for the first time, not yet taken. */
  private kindRows: SqlValue[][] = [];

  /** The id of the kind of `f` as digestFinding last left it (kindLanes). */
  kind(f: Finding, recommendation: string): string {
    const a = kindLanes[0]!;
    const b = kindLanes[1]!;
    let id = this.kinds.get(a, b);
    if (id === undefined) {
      id = this.kinds.add(a, b);
      this.kindRows.push([
        id,
        f.resource_type,
        f.provider,
        f.account,
        f.region,
        f.team,
        f.policy,
        f.rule,
        f.source,
        f.severity,
        f.enforcement,
        f.recommendation.action,
        f.currency,
        recommendation,
      ]);
    }
    return id;
  }

  /** The rows queued since the last call. */
  take(): SqlValue[][] {
    const out = this.kindRows;
    this.kindRows = [];
    return out;
  }
}

/** A finding's own values, in COLUMNS order up to SCAN_ROW. */
function scanRow(
  f: Finding,
  recommendation: string,
  checks: string,
  lanes: Uint32Array,
  kinds: FindingKinds,
): SqlValue[] {
  return [
    f.fingerprint,
    f.resource_id,
    f.resource_name,
    kinds.kind(f, recommendation),
    f.message,
    checks,
    f.savings_monthly,
    digestHex(lanes[0]!, lanes[1]!),
  ];
}

/** Every column's value, for statements that bind them all. */
function fullRow(f: Finding, scan: ScanConstants, kinds: FindingKinds): SqlValue[] {
  digestFinding(f, recordLanes);
  const row = scanRow(f, digestedRecommendation, digestedChecks, recordLanes, kinds);
  row.push(scan.inventory, scan.at, scan.at, scan.scanId, scan.scanId, scan.seq);
  return row;
}

const whereClause = (where: readonly string[]) => (where.length ? `WHERE ${where.join(" AND ")}` : "");

/**
 * Findings read by `SELECT READ_COLUMNS FROM READ_FROM <rest>` as rows of values, not objects (a
 * million findings read in half the time). With `key`, its column is selected first and `last` is
 * told the last row's value (the next page starts after it).
 */
async function readFindings(
  db: Pick<SqlDb, "each">,
  rest: string,
  params: readonly SqlValue[],
  key?: { column: string; last: (value: SqlValue) => void },
  /** What to read from instead of READ_FROM: finding_rows (or a selection of them) as f, joined likewise. */
  source = READ_FROM,
): Promise<StoredFinding[]> {
  const out: StoredFinding[] = [];
  const first = key ? 1 : 0;
  let last: unknown;
  await db.each(
    `SELECT ${key ? `${key.column}, ` : ""}${READ_COLUMNS} FROM ${source} ${rest}`,
    params,
    (v) => {
      last = v[0];
      out.push(fromValues(v, first));
    },
  );
  if (key && out.length > 0) key.last(last as SqlValue);
  return out;
}

/**
 * Every finding a filter matches, `batchSize` at a time, in keyset pages in the order the database
 * reads fastest: SQLite's table order (rowid; the fingerprint index would cost a random table read per
 * finding), PostgreSQL's fingerprint index. The next page is read once `onBatch` has resolved, none
 * once it returns false. Returns how many were read.
 */
async function keysetPages<T>(
  db: SqlDb,
  filter: FindingFilter,
  batchSize: number,
  read: (
    db: SqlDb,
    rest: string,
    params: readonly SqlValue[],
    key: { column: string; last: (value: SqlValue) => void },
  ) => Promise<T[]>,
  onBatch: (batch: T[]) => Promise<boolean | undefined> | boolean | undefined,
): Promise<number> {
  const key = db.dialect === "sqlite" ? "f.rowid" : "f.fingerprint";
  let after: SqlValue | undefined;
  let total = 0;
  for (;;) {
    const { where, params } = conditions(filter, db.dialect);
    if (after !== undefined) {
      where.push(`${key} > ?`);
      params.push(after);
    }
    params.push(batchSize);
    const batch = await read(db, `${whereClause(where)} ORDER BY ${key} LIMIT ?`, params, {
      column: key,
      last: (value) => {
        after = value;
      },
    });
    if (batch.length === 0) return total;
    total += batch.length;
    const more = batch.length === batchSize;
    if ((await onBatch(batch)) === false || !more) return total;
  }
}

/**
 * A finding as the JSON text JSON.stringify makes of the object fromValues builds, made by SQLite: the
 * same keys in the same order, recommendation and checks as the JSON they are stored as, and SQLite
 * escapes strings as JSON.stringify does (text it stores holds no half surrogate pair, the one
 * difference). Tested against JSON.stringify on hostile text.
 */
const READ_JSON = `json_object(${(
  [
    "fingerprint",
    "inventory",
    "resource_id",
    "resource_type",
    "resource_name",
    "provider",
    "account",
    "region",
    "team",
    "policy",
    "rule",
    "source",
    "message",
    "severity",
    "enforcement",
    "recommendation",
    "savings_monthly",
    "currency",
    "checks",
    "status",
    "first_seen",
    "last_seen",
    "resolved_at",
    "first_scan_id",
    "last_scan_id",
    "exception_id",
  ] as const satisfies readonly (keyof StoredFinding)[]
)
  .map((c) => `'${c}', ${c === "recommendation" || c === "checks" ? `json(${column(c)})` : readColumn(c)}`)
  .join(", ")})`;

/** Findings as JSON texts (READ_JSON), read as readFindings reads them (SQLite only). */
async function readFindingsJson(
  db: Pick<SqlDb, "each">,
  rest: string,
  params: readonly SqlValue[],
  key: { column: string; last: (value: SqlValue) => void },
): Promise<string[]> {
  const out: string[] = [];
  let last: unknown;
  try {
    await db.each(`SELECT ${key.column}, ${READ_JSON} FROM ${READ_FROM} ${rest}`, params, (v) => {
      last = v[0];
      out.push(v[1] as string);
    });
  } catch (err) {
    // SQLite names no row whose stored JSON is damaged: the page read as objects names it.
    if (/malformed JSON/i.test((err as Error).message ?? "")) await readFindings(db, rest, params, key);
    throw err;
  }
  if (out.length > 0) key.last(last as SqlValue);
  return out;
}

/**
 * The count and savings at stake of the findings a filter matches, as a scan's summary counts them:
 * per resource the largest of its findings' savings (a resource both idle and oversized is stopped or
 * resized, not both), summed exactly here (SQLite has no decimal type to sum money in); with `by`,
 * the same per value of that column too (a resource counts in each group it has findings in), from
 * the same rows.
 */
async function savingsByGroup(
  db: SqlDb,
  filter: FindingFilter,
  by: FindingGroup | undefined,
): Promise<{ groups: GroupTotals[]; total: FindingTotals }> {
  const { where, params, from: filtered } = conditions(filter, db.dialect);
  const from = by !== undefined && KINDS.has(by) ? FINDINGS_FROM : filtered;
  // A resource is where it is (provider, account, region), its type and its id, in its inventory: as
  // a scan's summary counts each record, so `prod-db` in two accounts or regions is two databases,
  // and an instance and a volume sharing an id are two resources. Where and what it is are its
  // finding's kind's: each kind is given a slot (its place, type and currency) from the few kinds,
  // and a resource is its slot and its inventory and id, joined by the database into one text (the
  // inventory's length first, so no two pairs make the same text) — nothing more joined per row: a
  // million findings are summed in about half the time it took to join three texts a row here.
  // Keyed by the id as the database gives it, the same in both reads: a String() a row costs.
  const slotOfKind = new Map<unknown, number>();
  const slots: { place: number; currency: string }[] = [];
  const places = new Map<string, number>();
  const slotNumbers = new Map<string, number>();
  const number = (numbers: Map<string, number>, text: string) => {
    let n = numbers.get(text);
    if (n === undefined) {
      n = numbers.size;
      numbers.set(text, n);
    }
    return n;
  };
  const currencies = new Set<string>();
  await db.each(
    "SELECT id, provider, account, region, resource_type, currency FROM finding_kinds",
    [],
    ([id, provider, account, region, type, currency]) => {
      const place = number(places, JSON.stringify([provider ?? null, account ?? null, region ?? null, type]));
      const slot = number(slotNumbers, `${place}:${String(currency)}`);
      slots[slot] = { place, currency: String(currency) };
      slotOfKind.set(id, slot);
      currencies.add(String(currency));
    },
  );
  // With several currencies a resource counts once however many it has findings in.
  const byCurrency = currencies.size > 1;
  const resource = "length(f.inventory) || ':' || f.inventory || f.resource_id";
  const amounts = new Map<string, Amount>();
  const whole: Tally = { count: 0, largest: [] };
  const groups = new Map<string | null, Tally>();
  const add = (t: Tally, slot: number, key: string, amount: Amount) => {
    t.count++;
    let largest = t.largest[slot];
    if (largest === undefined) {
      largest = new Map();
      t.largest[slot] = largest;
    }
    const seen = largest.get(key);
    if (seen === undefined || amount > seen) largest.set(key, amount);
  };
  await db.each(
    `SELECT ${resource}, f.kind_id, f.savings_monthly${by === undefined ? "" : `, ${by === "exception" ? readColumn("exception_id") : column(by)}`} FROM ${from} ${whereClause(where)}`,
    params,
    ([place, kind, saving, value]) => {
      const key = String(place);
      const slot = slotOfKind.get(kind)!;
      const text = String(saving);
      // Savings repeat (a few hundred distinct over a million findings): each is parsed once.
      let amount = amounts.get(text);
      if (amount === undefined) {
        amount = parseAmount(storedAmount(text, () => `the savings of a finding of ${resourceNamed(key)}`));
        if (amounts.size < 8192) amounts.set(text, amount);
      }
      add(whole, slot, key, amount);
      if (by === undefined) return;
      const name = value === null || value === undefined ? null : String(value);
      let g = groups.get(name);
      if (g === undefined) {
        g = { count: 0, largest: [] };
        groups.set(name, g);
      }
      add(g, slot, key, amount);
    },
  );
  /** A tally's savings per currency, and how many resources it holds. */
  const summed = (t: Tally) => {
    const sums = new Map<string, Amount>();
    // With one currency a slot is a place and type, and each key in it one resource; with several,
    // a resource has a key in each currency it has findings in.
    const distinct = byCurrency ? new Set<string>() : undefined;
    let resources = 0;
    for (const [slot, largest] of t.largest.entries()) {
      if (largest === undefined) continue;
      const { place, currency } = slots[slot]!;
      let sum = sums.get(currency) ?? ZERO;
      for (const [key, saving] of largest) {
        distinct?.add(`${place}:${key}`);
        sum += saving;
      }
      sums.set(currency, sum);
      resources += largest.size;
    }
    const savings: Record<string, string> = {};
    for (const [currency, sum] of [...sums].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      savings[currency] = formatAmount(sum);
    return { sums, savings, resources: distinct?.size ?? resources };
  };
  const all = summed(whole);
  // Groups in order of savings in one currency (the first by name of those present; most stores
  // have one), then of findings.
  const [main = ""] = Object.keys(all.savings);
  const ranked = [...groups].map(([group, g]) => {
    const { sums, savings, resources } = summed(g);
    return { group, count: g.count, resources, savings_monthly: savings, worth: sums.get(main) ?? ZERO };
  });
  ranked.sort(
    (a, b) =>
      (a.worth < b.worth ? 1 : a.worth > b.worth ? -1 : 0) ||
      b.count - a.count ||
      ((a.group ?? "") < (b.group ?? "") ? -1 : (a.group ?? "") > (b.group ?? "") ? 1 : 0),
  );
  return {
    groups: ranked.map(({ worth: _, ...g }) => g),
    total: { count: whole.count, savings_monthly: all.savings },
  };
}

/** Findings counted, and per slot (place, type and currency) and resource the largest saving among them. */
interface Tally {
  count: number;
  /** By slot (an array: a slot is a small number, looked up on every row). */
  largest: (Map<string, Amount> | undefined)[];
}

/** A finding from a row of READ_NAMES values starting at `o`. */
function fromValues(v: readonly unknown[], o: number): StoredFinding {
  const text = (c: (typeof READ_NAMES)[number]) => v[o + AT[c]] as string;
  const orNull = (c: (typeof READ_NAMES)[number]) => (v[o + AT[c]] as string | null | undefined) ?? null;
  return {
    fingerprint: text("fingerprint"),
    inventory: text("inventory"),
    resource_id: text("resource_id"),
    resource_type: text("resource_type"),
    resource_name: orNull("resource_name"),
    provider: orNull("provider"),
    account: orNull("account"),
    region: orNull("region"),
    team: text("team"),
    policy: text("policy"),
    rule: text("rule"),
    source: text("source") as StoredFinding["source"],
    message: text("message"),
    severity: text("severity") as StoredFinding["severity"],
    enforcement: text("enforcement") as StoredFinding["enforcement"],
    recommendation: storedJson<StoredFinding["recommendation"]>(
      text("recommendation"),
      () => `the recommendation of finding ${text("fingerprint")}`,
    ),
    savings_monthly: storedAmount(
      text("savings_monthly"),
      () => `the savings of finding ${text("fingerprint")}`,
    ),
    currency: text("currency"),
    checks: storedJson<StoredFinding["checks"]>(
      text("checks"),
      () => `the checks of finding ${text("fingerprint")}`,
    ),
    status: text("status") as FindingStatus,
    first_seen: text("first_seen"),
    last_seen: text("last_seen"),
    resolved_at: orNull("resolved_at"),
    first_scan_id: text("first_scan_id"),
    last_scan_id: text("last_scan_id"),
    exception_id: orNull("exception_id"),
  };
}

/** `resource in inventory` from a totals key (the inventory's length, `:`, the inventory, the resource id). */
function resourceNamed(key: string): string {
  const at = key.indexOf(":");
  const length = Number(key.slice(0, at));
  return `${key.slice(at + 1 + length)} in ${key.slice(at + 1, at + 1 + length)}`;
}
