import { NotFoundError } from "../errors.js";
import type { SqlDb, SqlTransaction, SqlValue } from "../store/sql.js";
import { contentDigestLanes, digestHex } from "./fingerprint.js";
import type { FindingFilter, FindingRepository, ScanRecording } from "./store.js";
import type { Finding, FindingStatus, StoredFinding } from "./types.js";

const COLUMNS = [
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
  "action",
  "recommendation",
  "savings_monthly",
  "currency",
  "checks",
  "first_seen",
  "last_seen",
  "first_scan_id",
  "last_scan_id",
  "digest",
] as const;

/** Columns a later sighting refreshes; first_seen and first_scan_id never change. */
const REFRESHED = COLUMNS.filter(
  (c) => c !== "fingerprint" && c !== "first_seen" && c !== "first_scan_id",
).map((c) => `${c} = excluded.${c}`);

const RECORD = `INSERT INTO findings (${COLUMNS.join(", ")}, status) VALUES (${COLUMNS.map(() => "?").join(", ")}, 'open')
  ON CONFLICT (fingerprint) DO UPDATE SET ${REFRESHED.join(", ")},
  status = CASE WHEN findings.status = 'resolved' THEN 'open' ELSE findings.status END,
  resolved_at = CASE WHEN findings.status = 'resolved' THEN NULL ELSE findings.resolved_at END`;

/** A finding not stored yet; one stored under another inventory is left for RECORD to move. */
const INSERT_NEW = `INSERT INTO findings (${COLUMNS.join(", ")}, status) VALUES (${COLUMNS.map(() => "?").join(", ")}, 'open')
  ON CONFLICT (fingerprint) DO NOTHING`;

/** Rows per statement batch: big enough to amortise, small enough to keep memory flat. */
const BATCH = 2000;

/** Fingerprints per `IN (...)` list: always this many (the last one repeated), one statement text. */
const IN_LIST = 500;

function inList(fingerprints: readonly string[]): string[] {
  const out = fingerprints.slice();
  while (out.length < IN_LIST) out.push(fingerprints[fingerprints.length - 1]!);
  return out;
}

const PLACES = Array.from({ length: IN_LIST }, () => "?").join(", ");

// In both statements below `inventory || ''` (an expression, not the column) keeps SQLite's planner
// on the fingerprint index: without statistics it would walk the whole (inventory, status) index
// for every 500 fingerprints. The result is the same.

/** Findings seen again unchanged: where and when they were seen moves, nothing else. */
const SEEN_AGAIN = `UPDATE findings SET last_seen = ?, last_scan_id = ? WHERE inventory || '' = ? AND status IN ('open', 'excepted') AND fingerprint IN (${PLACES})`;

/** Findings of the inventory the scan did not see. */
const RESOLVE = `UPDATE findings SET status = 'resolved', resolved_at = ? WHERE inventory || '' = ? AND status IN ('open', 'excepted') AND last_scan_id <> ? AND fingerprint IN (${PLACES})`;

/** The statements that update findings by fingerprint lists (a test checks how SQLite plans them). */
export const BY_FINGERPRINT_STATEMENTS: readonly string[] = [SEEN_AGAIN, RESOLVE];

/** A scan's rows per commit: big commits write each index page once, not once per small batch. */
const COMMIT_EVERY = 100_000;

/** Batches of writes a scan may have sent and not seen done. */
const IN_FLIGHT = 8;

const STATUS_BITS = 3;
const OPEN = 0;
const EXCEPTED = 1;
const RESOLVED = 2;
const HAS_DIGEST = 4;
const SEEN = 8;
const STATUS_CODE: Record<string, number> = { open: OPEN, excepted: EXCEPTED, resolved: RESOLVED };

/**
 * What a scan knows of its inventory's stored findings, compact (a million findings are a few tens
 * of MB and little work for the garbage collector): fingerprint → slot, and per slot the stored
 * digest's lanes, the status, and whether this scan saw it.
 */
class KnownFindings {
  readonly index = new Map<string, number>();
  fingerprints: string[] = [];
  digestA = new Uint32Array(1024);
  digestB = new Uint32Array(1024);
  flags = new Uint8Array(1024);
  /** The add() call that last queued a write for the slot. */
  queuedIn = new Int32Array(1024);

  private slot(fingerprint: string): number {
    const id = this.fingerprints.length;
    if (id === this.flags.length) {
      const grow = <T extends Uint32Array | Uint8Array | Int32Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      this.digestA = grow(this.digestA);
      this.digestB = grow(this.digestB);
      this.flags = grow(this.flags);
      this.queuedIn = grow(this.queuedIn);
    }
    this.fingerprints.push(fingerprint);
    this.index.set(fingerprint, id);
    return id;
  }

  /** A stored finding, as loaded before the scan. */
  load(fingerprint: string, digest: string | null, status: FindingStatus): void {
    const id = this.slot(fingerprint);
    const code = STATUS_CODE[status];
    // A status this code does not know is never taken for unchanged: it is rewritten.
    let flags = code === undefined ? RESOLVED : code;
    if (digest !== null && /^[0-9a-f]{16}$/.test(digest)) {
      this.digestA[id] = Number.parseInt(digest.slice(0, 8), 16);
      this.digestB[id] = Number.parseInt(digest.slice(8), 16);
      flags |= HAS_DIGEST;
    }
    this.flags[id] = flags;
  }

  /** A finding this scan inserts. */
  add(fingerprint: string, a: number, b: number, call: number): void {
    const id = this.slot(fingerprint);
    this.digestA[id] = a;
    this.digestB[id] = b;
    this.flags[id] = OPEN | HAS_DIGEST | SEEN;
    this.queuedIn[id] = call;
  }

  /** Stored with this content and not resolved: nothing to write but last_seen. */
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
  rewrite(id: number, a: number, b: number, call: number): void {
    const status = this.flags[id]! & STATUS_BITS;
    this.digestA[id] = a;
    this.digestB[id] = b;
    this.flags[id] = (status === RESOLVED ? OPEN : status) | HAS_DIGEST | SEEN;
    this.queuedIn[id] = call;
  }

  /** Open or excepted findings this scan did not see. */
  unseen(): string[] {
    const out: string[] = [];
    for (let id = 0; id < this.fingerprints.length; id++) {
      const flags = this.flags[id]!;
      if ((flags & SEEN) === 0 && (flags & STATUS_BITS) !== RESOLVED) out.push(this.fingerprints[id]!);
    }
    return out;
  }
}

export function sqlFindingRepository(db: SqlDb): FindingRepository {
  return {
    async beginScan(scanId, inventory, at) {
      const known = new KnownFindings();
      await db.each(
        "SELECT fingerprint, digest, status FROM findings WHERE inventory = ?",
        [inventory],
        (v) => known.load(v[0] as string, v[1] as string | null, v[2] as FindingStatus),
      );
      // Writes go through a transaction of their own, committed every COMMIT_EVERY rows; the
      // database stays free for the inventory's own reads (the sandbox reads the store it scans).
      let tx: SqlTransaction | undefined;
      let written = 0;
      let newFindings = 0;
      let finished = false;
      let call = 0;
      const lanes = new Uint32Array(2);
      let fresh: SqlValue[][] = [];
      let changed: SqlValue[][] = [];
      /** Fingerprints seen unchanged, not yet sent: only their last_seen and last_scan_id move. */
      let seen: string[] = [];
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
      const write = async (final = false) => {
        if (failure !== undefined) throw failure;
        const seenDue = final ? seen.length > 0 : seen.length >= IN_LIST;
        if (fresh.length === 0 && changed.length === 0 && !seenDue) return;
        const inserts = fresh;
        const rewrites = changed;
        fresh = [];
        changed = [];
        tx ??= await db.begin();
        const t = tx;
        while (seen.length >= IN_LIST || (final && seen.length > 0)) {
          const chunk = seen.length > IN_LIST ? seen.slice(0, IN_LIST) : seen;
          seen = seen.length > IN_LIST ? seen.slice(IN_LIST) : [];
          send(t.run(SEEN_AGAIN, [at, scanId, inventory, ...inList(chunk)]));
        }
        for (let start = 0; start < inserts.length; start += BATCH) {
          const chunk =
            start === 0 && inserts.length <= BATCH ? inserts : inserts.slice(start, start + BATCH);
          // Some may be stored under another inventory: the upsert moves those here, as record() does.
          send(
            t.runMany(INSERT_NEW, chunk, { orElse: RECORD }).then((inserted) => {
              newFindings += inserted;
            }),
          );
        }
        for (let start = 0; start < rewrites.length; start += BATCH)
          send(t.runMany(RECORD, rewrites.slice(start, start + BATCH)));
        written += inserts.length + rewrites.length;
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
          call++;
          for (let i = 0; i < findings.length; i++) {
            const f = findings[i]!;
            const recommendation = recommendationJson(f.recommendation);
            const checks = JSON.stringify(f.checks);
            contentDigestLanes(digestValues(f, recommendation, checks), lanes);
            const id = known.index.get(f.fingerprint);
            if (id === undefined) {
              known.add(f.fingerprint, lanes[0]!, lanes[1]!, call);
              fresh.push(toRow(f, inventory, at, scanId, recommendation, checks, lanes));
              continue;
            }
            if (known.queuedIn[id] === call) {
              // The same fingerprint twice in this batch: write the first before queueing the last.
              await write();
            }
            if (known.unchanged(id, lanes[0]!, lanes[1]!)) {
              known.flags[id]! |= SEEN;
              seen.push(f.fingerprint);
              continue;
            }
            known.rewrite(id, lanes[0]!, lanes[1]!, call);
            changed.push(toRow(f, inventory, at, scanId, recommendation, checks, lanes));
          }
          await write();
        },
        async finish() {
          if (finished) throw new Error("this scan's recording is finished");
          finished = true;
          await write(true);
          await settle(0);
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
            await done.commit();
            return { newFindings, resolvedFindings };
          } catch (err) {
            await done.rollback().catch(() => {});
            throw err;
          }
        },
        async abort() {
          if (finished) return;
          finished = true;
          // What was seen before the failure counts as seen (as when every batch was upserted).
          if (failure === undefined) await write(true).catch(() => {});
          await Promise.all(inflight);
          const open = tx;
          tx = undefined;
          // What was recorded stays recorded, as when each batch was committed on its own.
          if (open) await open.commit().catch(() => open.rollback().catch(() => {}));
        },
      };
      return recording;
    },
    async record(scanId, inventory, at, findings) {
      // One transaction for the whole call: commits, not rows, are what cost most.
      await db.transaction(async (tx) => {
        for (let start = 0; start < findings.length; start += BATCH) {
          const rows = uniqueByFingerprint(findings.slice(start, start + BATCH)).map((f) =>
            toRow(f, inventory, at, scanId),
          );
          await tx.runMany(RECORD, rows);
        }
      });
    },
    resolveUnseen: (scanId, inventory, at) =>
      db.run(
        "UPDATE findings SET status = 'resolved', resolved_at = ? WHERE inventory = ? AND status IN ('open', 'excepted') AND last_scan_id <> ?",
        [at, inventory, scanId],
      ),
    async countFirstSeen(scanId) {
      const row = await db.get<{ n: number | string }>(
        "SELECT COUNT(*) AS n FROM findings WHERE first_scan_id = ?",
        [scanId],
      );
      return Number(row?.n ?? 0);
    },
    async get(fingerprint) {
      const row = await db.get("SELECT * FROM findings WHERE fingerprint = ?", [fingerprint]);
      return row ? fromRow(row) : undefined;
    },
    async list(filter = {}) {
      const { where, params } = conditions(filter);
      if (filter.after !== undefined) {
        where.push("fingerprint > ?");
        params.push(filter.after);
      }
      params.push(filter.limit ?? 1000);
      const rows = await db.all(
        `SELECT * FROM findings${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY fingerprint LIMIT ?`,
        params,
      );
      return rows.map(fromRow);
    },
    async count(filter = {}) {
      const { where, params } = conditions(filter);
      const row = await db.get<{ n: number | string }>(
        `SELECT COUNT(*) AS n FROM findings${where.length ? ` WHERE ${where.join(" AND ")}` : ""}`,
        params,
      );
      return Number(row?.n ?? 0);
    },
    async setStatus(fingerprint, status, at) {
      const changed = await db.run("UPDATE findings SET status = ?, resolved_at = ? WHERE fingerprint = ?", [
        status,
        status === "resolved" ? at : null,
        fingerprint,
      ]);
      if (changed === 0) throw new NotFoundError(`no finding with fingerprint ${fingerprint}`);
    },
  };
}

function uniqueByFingerprint(findings: readonly Finding[]): readonly Finding[] {
  const seen = new Map<string, Finding>();
  for (const f of findings) seen.set(f.fingerprint, f);
  return seen.size === findings.length ? findings : [...seen.values()];
}

function conditions(filter: FindingFilter): { where: string[]; params: SqlValue[] } {
  const where: string[] = [];
  const params: SqlValue[] = [];
  if (filter.status !== undefined) {
    const statuses: readonly FindingStatus[] =
      typeof filter.status === "string" ? [filter.status] : filter.status;
    where.push(`status IN (${statuses.map(() => "?").join(", ")})`);
    params.push(...statuses);
  }
  if (filter.inventory !== undefined) {
    where.push("inventory = ?");
    params.push(filter.inventory);
  }
  if (filter.resourceId !== undefined) {
    where.push("resource_id = ?");
    params.push(filter.resourceId);
  }
  if (filter.policy !== undefined) {
    where.push("policy = ?");
    params.push(filter.policy);
  }
  return { where, params };
}

/** JSON of the frozen recommendations many findings share (tag keys, notify), made once. */
const sharedJson = new WeakMap<object, string>();

function recommendationJson(r: Finding["recommendation"]): string {
  if (!Object.isFrozen(r)) return JSON.stringify(r);
  let json = sharedJson.get(r);
  if (json === undefined) {
    json = JSON.stringify(r);
    sharedJson.set(r, json);
  }
  return json;
}

/** What a later sighting may refresh, except where and when it was seen: the digest's input. */
function digestValues(f: Finding, recommendation: string, checks: string): (string | null)[] {
  return [
    f.resource_id,
    f.resource_type,
    f.resource_name,
    f.provider,
    f.account,
    f.region,
    f.team,
    f.policy,
    f.rule,
    f.source,
    f.message,
    f.severity,
    f.enforcement,
    f.recommendation.action,
    recommendation,
    f.savings_monthly,
    f.currency,
    checks,
  ];
}

const recordLanes = new Uint32Array(2);

function toRow(
  f: Finding,
  inventory: string,
  at: string,
  scanId: string,
  recommendation = recommendationJson(f.recommendation),
  checks = JSON.stringify(f.checks),
  lanes?: Uint32Array,
): SqlValue[] {
  if (!lanes) {
    lanes = recordLanes;
    contentDigestLanes(digestValues(f, recommendation, checks), lanes);
  }
  return [
    f.fingerprint,
    inventory,
    f.resource_id,
    f.resource_type,
    f.resource_name,
    f.provider,
    f.account,
    f.region,
    f.team,
    f.policy,
    f.rule,
    f.source,
    f.message,
    f.severity,
    f.enforcement,
    f.recommendation.action,
    recommendation,
    f.savings_monthly,
    f.currency,
    checks,
    at,
    at,
    scanId,
    scanId,
    digestHex(lanes[0]!, lanes[1]!),
  ];
}

function fromRow(r: Record<string, unknown>): StoredFinding {
  return {
    fingerprint: r.fingerprint as string,
    inventory: r.inventory as string,
    resource_id: r.resource_id as string,
    resource_type: r.resource_type as string,
    resource_name: (r.resource_name as string | null) ?? null,
    provider: (r.provider as string | null) ?? null,
    account: (r.account as string | null) ?? null,
    region: (r.region as string | null) ?? null,
    team: r.team as string,
    policy: r.policy as string,
    rule: r.rule as string,
    source: r.source as StoredFinding["source"],
    message: r.message as string,
    severity: r.severity as StoredFinding["severity"],
    enforcement: r.enforcement as StoredFinding["enforcement"],
    recommendation: JSON.parse(r.recommendation as string) as StoredFinding["recommendation"],
    savings_monthly: r.savings_monthly as string,
    currency: r.currency as string,
    checks: JSON.parse(r.checks as string) as StoredFinding["checks"],
    status: r.status as FindingStatus,
    first_seen: r.first_seen as string,
    last_seen: r.last_seen as string,
    resolved_at: (r.resolved_at as string | null) ?? null,
    first_scan_id: r.first_scan_id as string,
    last_scan_id: r.last_scan_id as string,
  };
}
