import { randomBytes } from "node:crypto";
import { InputError } from "../errors.js";
import { EXCEPTED_STRIDE, exceptionIndexOf } from "../exceptions/scan-path.js";
import type { PolicyException } from "../exceptions/types.js";
import type { InventoryProgress, InventoryProvider } from "../inventory/types.js";
import { parseAmount } from "../money/exact.js";
import type { Severity } from "../policy/types.js";
import { keyTooLong, oversizedKey } from "../store/limits.js";
import type { Store } from "../store/store.js";
import { typeCoverage } from "./coverage.js";
import { exceptedByOf, type FindingsFormat, renderFindings } from "./finding-text.js";
import type { ScanContext } from "./findings.js";
import { judgeBatch } from "./judge-batch.js";
import type { JudgedInventory, KnownState } from "./parallel-scan.js";
import type { PreparedFindings, ScanRecording } from "./store.js";
import { ScanTally } from "./summary.js";
import type { Finding, ScanSummary } from "./types.js";

export interface ScanOptions {
  /** Where resources come from: judged here, batch by batch, or already judged (in worker threads). */
  provider: InventoryProvider | JudgedInventory;
  context: ScanContext;
  /** Where findings, the scan record and the lifecycle are kept; nothing is stored when absent. */
  store?: Store;
  /** Receives every batch of findings as it is found (streamed output). */
  onFindings?: (findings: readonly Finding[]) => void | Promise<void>;
  /** Stops the scan between batches (its reason is the error): a stored scan is kept as failed. */
  signal?: AbortSignal;
  /**
   * Receives every batch of findings as text in `format`, in order (streamed output): rendered by the
   * thread that judged them, so findings judged by a worker thread reach the output as text alone.
   */
  findingsText?: { format: FindingsFormat; write: (text: string | Uint8Array) => void | Promise<void> };
  onProgress?: (p: InventoryProgress) => void;
  /**
   * Approved exceptions: each finding one covers at the scan's clock (`context.at`) is handed to
   * `onExcepted`, once for each time the scan found it, with its severity (the scan itself stores
   * findings as found; the caller marks them). Matched on the
   * thread that judged the resource, a worker's included, since selectors match the resource's tags.
   */
  exceptions?: {
    approved: readonly PolicyException[];
    onExcepted: (fingerprint: string, exceptionId: string, severity: Severity) => void;
  };
  /**
   * Called once every resource is judged, while the store finishes recording (the rows still on
   * their way, what the scan no longer saw resolved, indexes built): a first scan of a million
   * resources spends seconds there. Gets how many findings the scan made.
   */
  onStoring?: (findings: number) => void;
  /**
   * Called once the scan has begun — recorded in the store and holding its inventory when stored —
   * before any finding: output that opens a document (json) waits for it, so a scan refused at its
   * start (another scan of the inventory running) writes nothing.
   */
  onStarted?: () => void;
  /**
   * How long to wait for another scan of the same inventory to finish before giving up (default 0:
   * refused at once); `onWaiting` hears once of the scan waited for.
   */
  lockTimeoutMs?: number;
  onWaiting?: (running: string) => void;
  topCount?: number;
  scanId?: string;
  /**
   * A stored scan that read no resources while findings of its inventory are open would resolve
   * them all — the mark of an export that came out empty or credentials that see nothing, more
   * often than of an estate torn down. Such a scan fails (nothing resolved) unless this is set.
   */
  allowEmpty?: boolean;
}

export interface ScanResult {
  id: string;
  inventory: string;
  started_at: string;
  finished_at: string;
  stored: boolean;
  policy_revision: string;
  policies: string[];
  summary: ScanSummary;
  top_findings: Finding[];
}

function withoutMemo(context: ScanContext): ScanContext {
  const { memo: _, ...rest } = context;
  return rest;
}

/**
 * Runs one scan: streams the inventory through the findings of every resource, streams findings to
 * the output and the store, then resolves what the store knew but this scan no longer saw.
 * The scan's clock is `context.at`; the history records it as started_at and finished_at.
 */
export async function runScan(given: ScanOptions): Promise<ScanResult> {
  // The provider's name is the inventory the findings are kept under, and part of their fingerprints:
  // a context made for another name is bound to it (with fresh working memory, whose rule hashes
  // carry the inventory).
  const options: ScanOptions =
    given.context.inventory === given.provider.name
      ? given
      : { ...given, context: withoutMemo({ ...given.context, inventory: given.provider.name }) };
  const { provider, context, store } = options;
  const id = options.scanId ?? newScanId(context.at);
  const at = context.at.toISOString();
  const policySet = context.decider.policySet;
  const tally = new ScanTally(context.currency, options.topCount ?? 10);
  const policies = [...policySet.policyNames];

  if (store) {
    // Inventory names are indexed (see MAX_KEY_BYTES); a file's is its path.
    const nameBytes = oversizedKey(provider.name);
    if (nameBytes !== undefined)
      throw new InputError(
        `the inventory's name is ${keyTooLong(nameBytes, "a stored scan's inventory name")}: give a shorter one with --inventory-name`,
      );
    await store.scans.start(
      {
        id,
        inventory: provider.name,
        started_at: at,
        policy_revision: policySet.revision,
        policies,
      },
      {
        ...(options.lockTimeoutMs ? { waitMs: options.lockTimeoutMs } : {}),
        ...(options.onWaiting ? { onWaiting: options.onWaiting } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );
  }
  options.onStarted?.();
  let recording: ScanRecording | undefined;
  /** What the recording knows, for threads preparing rows: set once the recording has begun. */
  const known: KnownState = { loading: store !== undefined };
  const batches =
    "judge" in provider
      ? judgedBatches(provider, options, tally, store !== undefined, known)
      : batchesJudgedHere(provider, options, tally);
  try {
    // Threads start judging (their first pieces) while the store loads what it knows.
    const first = "judge" in provider && store ? batches.next() : undefined;
    // Awaited below; marked handled now, so a failure to begin the recording leaves no rejection unheard.
    first?.catch(() => {});
    recording = store ? await store.findings.beginScan(id, provider.name, at) : undefined;
    known.snapshot = recording?.snapshot;
    known.loading = false;
    const text = options.findingsText;
    for await (const batch of first ? startingWith(first, batches) : batches) {
      options.signal?.throwIfAborted();
      if (text && batch.text !== undefined) await text.write(batch.text);
      const batchFindings = batch.findings;
      if (batchFindings !== undefined && batchFindings.length > 0 && options.onFindings)
        await options.onFindings(batchFindings);
      const excepted = batch.excepted;
      if (excepted !== undefined)
        for (let i = 0; i < excepted.length; i += EXCEPTED_STRIDE)
          options.exceptions!.onExcepted(excepted[i]!, excepted[i + 1]!, excepted[i + 2] as Severity);
      // Written as they come, while young: the recording commits in big transactions.
      if (recording && batch.prepared) await recordPrepared(recording, batch);
      else if (recording && batchFindings !== undefined && batchFindings.length > 0)
        await recording.add(batchFindings);
    }
    // Interrupted after the last batch: not finished either (finishing would resolve what it missed).
    options.signal?.throwIfAborted();
    if (store && !options.allowEmpty && tally.resources === 0 && tally.gone === 0)
      await refuseEmptyScan(store, provider.name);
    // Before resolving what it did not see: a scan that lost its inventory to another resolves nothing.
    if (store) await store.scans.checkHeld(id);
    if (recording) options.onStoring?.(tally.findings);
    const stored = recording ? await recording.finish() : null;
    const summary = tally.summary(stored, typeCoverage(policySet.rules, context.detectors));
    if (store && stored && stored.repeatedFindings > 0) await savingsAsStored(store, provider.name, summary);
    if (store) await store.scans.complete(id, at, summary);
    return {
      id,
      inventory: provider.name,
      started_at: at,
      finished_at: at,
      stored: store !== undefined,
      policy_revision: policySet.revision,
      policies,
      summary,
      top_findings: tally.topFindings(),
    };
  } catch (err) {
    // Stops threads still judging (a generator that has not finished runs its cleanup).
    known.loading = false;
    await batches.return(undefined).catch(() => {});
    await recording?.abort().catch(() => {});
    if (store) await store.scans.fail(id, at, (err as Error).message ?? String(err)).catch(() => {});
    throw err;
  }
}

/**
 * The savings at stake of a stored scan whose records shared ids, as the store kept them. The tally
 * counts every record it judged, a resource listed twice twice; the store keeps one finding per
 * fingerprint (the last), and after the scan its inventory's open and excepted findings are those it
 * saw: the summary, its history and `findings summary` then say one amount. Only scans with repeats
 * pay for the read.
 */
async function savingsAsStored(store: Store, inventory: string, summary: ScanSummary): Promise<void> {
  const { groups, total } = await store.findings.totalsBy("team", {
    inventory,
    status: ["open", "excepted"],
  });
  const currency = summary.currency;
  summary.savings_monthly = total.savings_monthly[currency] ?? "0";
  summary.savings_by_team = Object.fromEntries(
    groups
      .map((g) => [g.group ?? "unassigned", g.savings_monthly[currency] ?? "0"] as const)
      .filter(([, amount]) => parseAmount(amount) > 0n)
      .sort((a, b) => {
        const d = parseAmount(b[1]) - parseAmount(a[1]);
        return d > 0n ? 1 : d < 0n ? -1 : 0;
      }),
  );
}

/** Fails a scan that read nothing when finishing it would resolve the inventory's open findings. */
async function refuseEmptyScan(store: Store, inventory: string): Promise<void> {
  const open = await store.findings.totals({ inventory, status: ["open", "excepted"] });
  if (open.count === 0) return;
  throw new InputError(
    `${inventory} gave no resources, and ${open.count.toLocaleString("en-US")} finding${open.count === 1 ? " of it is" : "s of it are"} open: finishing this scan would resolve ${open.count === 1 ? "it" : "them all"}. Nothing was resolved. If the estate really is empty now, scan again with --allow-empty`,
  );
}

/**
 * Records a piece's prepared batches. A batch may lack a row the recording needs (a finding seen
 * earlier in this scan with other content, then stored-unchanged here): the piece is judged again on
 * this thread with every row, and the recording goes on from that finding.
 */
async function recordPrepared(recording: ScanRecording, batch: JudgedBatch): Promise<void> {
  let prepared = batch.prepared!;
  for (let k = 0; k < prepared.length; k++) {
    const missing = await recording.addPrepared(prepared[k]!);
    if (missing === undefined) continue;
    const full = batch.rejudge?.().prepared;
    if (full === undefined || full.length !== prepared.length)
      throw new Error("a piece judged again did not give the same batches: cannot record it");
    prepared = full;
    if ((await recording.addPrepared(prepared[k]!, missing)) !== undefined)
      throw new Error("a piece judged with every row still lacks one: cannot record it");
  }
}

/** `rest` with its first result already asked for. */
async function* startingWith<T>(
  first: Promise<IteratorResult<T>>,
  rest: AsyncGenerator<T>,
): AsyncGenerator<T> {
  const r = await first;
  if (r.done) return;
  yield r.value;
  yield* rest;
}

/** A batch's findings, and the same rendered as text when the output asks for text. */
interface JudgedBatch {
  findings: Finding[] | undefined;
  text: string | Uint8Array | undefined;
  /** The findings prepared for the recording where they were judged (instead of `findings`). */
  prepared?: PreparedFindings[] | undefined;
  /** The same batch judged again with every row prepared (see recordPrepared). */
  rejudge?: (() => { prepared?: PreparedFindings[] | undefined }) | undefined;
  /** Findings an approved exception covers: fingerprint, exception id and severity in turn. */
  excepted?: string[] | undefined;
}

/** Resources judged on this thread into the tally: yields each batch's findings. */
async function* batchesJudgedHere(
  provider: InventoryProvider,
  options: ScanOptions,
  tally: ScanTally,
): AsyncGenerator<JudgedBatch> {
  const readOptions = options.onProgress ? { onProgress: options.onProgress } : {};
  const format = options.findingsText?.format;
  const approved = options.exceptions?.approved;
  const exceptions = approved?.length ? exceptionIndexOf(approved) : undefined;
  // Findings are made only when something takes them (the output, onFindings, the store).
  const wanted = format !== undefined || options.onFindings !== undefined || options.store !== undefined;
  for await (const resources of provider.read(readOptions)) {
    const findings: Finding[] = [];
    const excepted: string[] | undefined = exceptions ? [] : undefined;
    judgeBatch(
      resources,
      options.context,
      tally,
      wanted ? findings : undefined,
      exceptions && { index: exceptions, now: options.context.at, out: excepted! },
    );
    yield {
      findings,
      text:
        format && findings.length > 0 ? renderFindings(format, findings, exceptedByOf(excepted)) : undefined,
      excepted,
    };
  }
}

/**
 * Pieces judged elsewhere, merged into the tally in inventory order: yields each piece's findings,
 * which only cross threads when something here needs them as objects (onFindings, the store), and
 * their text when the output takes text.
 */
async function* judgedBatches(
  inventory: JudgedInventory,
  options: ScanOptions,
  tally: ScanTally,
  storing: boolean,
  known: KnownState,
): AsyncGenerator<JudgedBatch> {
  const pieces = inventory.judge({
    context: options.context,
    findings: options.onFindings !== undefined,
    render: options.findingsText?.format,
    // The store's rows are made where the findings were judged: only bytes cross threads.
    prepare: storing,
    exceptions: options.exceptions?.approved,
    known,
    topCount: options.topCount ?? 10,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  for await (const piece of pieces) {
    tally.merge(piece.partial);
    yield piece;
  }
}

/** Scan ids sort by time: `scan-20260601T000000Z-3f9a1c`. */
export function newScanId(at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return `scan-${stamp}-${randomBytes(3).toString("hex")}`;
}
