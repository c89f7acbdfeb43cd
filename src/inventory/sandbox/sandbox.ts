import { closeSync, existsSync, openSync, rmSync } from "node:fs";
import { dirname } from "node:path";
import { ConflictError, InputError, NotFoundError } from "../../errors.js";
import { makeFolders } from "../../files.js";
import { type Amount, formatAmount, parseAmount } from "../../money/exact.js";
import type { PriceLookup } from "../../scan/prices.js";
import type { Store } from "../../store/store.js";
import { CLOCK_SKEW_MS } from "../../time/clock.js";
import type { InventoryProvider, Resource } from "../types.js";
import { type ActionOutcome, type ActionRequest, planAction } from "./actions.js";
import { generateEstate } from "./estate.js";
import { type PendingBilling, writeFocusBilling } from "./focus-billing.js";
import { currentMonthlyCost } from "./running-cost.js";

/** The store partition the sandbox's simulated cloud lives in. */
export const SANDBOX_SOURCE = "sandbox";
const PAGE = 1000;
const ACTOR = "costguard:sandbox";

export interface SandboxInitOptions {
  resources: number;
  seed: string;
  at: Date;
  /** Where to write the matching FOCUS billing file; none when undefined. */
  billingPath?: string;
  billingDays?: number;
  actor?: string;
  /**
   * Aborted (Ctrl-C): stops between pages of the estate and resources of the billing, with the old
   * estate and billing file as they were; rejects with the signal's reason.
   */
  signal?: AbortSignal;
  /** Told as the estate is stored and as its billing is written: resources done of `total`. */
  onProgress?: (p: { phase: "estate" | "billing"; done: number; total: number }) => void;
}

export interface SandboxInitResult {
  resources: number;
  seed: string;
  billing: { path: string; rows: number } | null;
}

/** Replaces the sandbox estate with a freshly generated one (same seed, same estate). */
export async function initSandbox(
  store: Store,
  prices: PriceLookup,
  options: SandboxInitOptions,
): Promise<SandboxInitResult> {
  // A path the billing file cannot be written to fails the command at once, before the estate is made.
  if (options.billingPath) billingFileWritable(options.billingPath);
  const estate = generateEstate({ resources: options.resources, seed: options.seed, at: options.at }, prices);
  const at = options.at.toISOString();
  // The billing is written first, beside its place: a file that cannot be written whole (a full disk)
  // fails the command with the old estate and its billing as they were; it takes its place once the
  // new estate is stored.
  let pending: PendingBilling | undefined;
  if (options.billingPath) {
    const onProgress = options.onProgress;
    pending = await writeFocusBilling(options.billingPath, estate, {
      at: options.at,
      days: options.billingDays ?? 30,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(onProgress
        ? { onProgress: (done: number) => onProgress({ phase: "billing", done, total: estate.length }) }
        : {}),
    });
  }
  try {
    // Held as a scan of the sandbox holds it: on PostgreSQL a scan reads the estate page by page, each
    // page as committed when it is read, and would see half the old estate and half the new one.
    const lock = await holdSandbox(store, "re-create the sandbox");
    await store
      .transaction(async (tx) => {
        await tx.resources.clear(SANDBOX_SOURCE);
        for (let i = 0; i < estate.length; i += PAGE) {
          options.signal?.throwIfAborted();
          await tx.resources.put(SANDBOX_SOURCE, estate.slice(i, i + PAGE), at);
          options.onProgress?.({
            phase: "estate",
            done: Math.min(i + PAGE, estate.length),
            total: estate.length,
          });
        }
        await tx.settings.set("sandbox.seed", options.seed, at);
        await tx.settings.set("sandbox.created_at", at, at);
        await tx.audit.append({
          at,
          actor: options.actor ?? ACTOR,
          action: "sandbox.init",
          subject_type: "sandbox",
          subject_id: SANDBOX_SOURCE,
          details: { resources: estate.length, seed: options.seed },
        });
      })
      .finally(() => lock.release());
  } catch (err) {
    pending?.discard();
    throw err;
  }
  pending?.commit();
  const billing = pending ? { path: pending.path, rows: pending.rows } : null;
  return { resources: estate.length, seed: options.seed, billing };
}

/** Removes the sandbox estate; returns how many resources it held. */
export async function resetSandbox(store: Store, at: Date, actor = ACTOR): Promise<number> {
  // As initSandbox: a scan of the sandbox sees it whole or not at all, a run acts on it whole.
  const lock = await holdSandbox(store, "reset the sandbox");
  return store
    .transaction(async (tx) => {
      const removed = await tx.resources.clear(SANDBOX_SOURCE);
      await tx.settings.delete("sandbox.seed");
      await tx.settings.delete("sandbox.created_at");
      await tx.settings.set("sandbox.reset_at", at.toISOString(), at.toISOString());
      await tx.audit.append({
        at: at.toISOString(),
        actor,
        action: "sandbox.reset",
        subject_type: "sandbox",
        subject_id: SANDBOX_SOURCE,
        details: { removed },
      });
      return removed;
    })
    .finally(() => lock.release());
}

/**
 * What init and reset hold while they replace the estate: the scan lock (a scan sees the estate whole,
 * before or after) and the acting lock `run --execute` and `remediate --execute` hold (a run that
 * scanned and planned on one estate would act on the next: its tasks on resources gone, or on
 * another estate's of the same id). Either held elsewhere refuses the change, nothing done.
 */
async function holdSandbox(store: Store, doing: string): Promise<{ release(): Promise<void> }> {
  const scan = await store.scans.hold(SANDBOX_SOURCE, doing);
  let acting: Awaited<ReturnType<Store["tasks"]["tryActing"]>>;
  try {
    acting = await store.tasks.tryActing(SANDBOX_SOURCE);
  } catch (err) {
    await scan.release();
    throw err;
  }
  if (acting === undefined) {
    await scan.release();
    throw new ConflictError(
      `cannot ${doing}: a run is acting on it (run or remediate with --execute); run this again when the run has finished (it planned on the estate as it is, and would act on the one that replaced it)`,
    );
  }
  const held = acting;
  return {
    async release() {
      try {
        await held.release();
      } finally {
        await scan.release();
      }
    },
  };
}

/**
 * Carries out an action on the simulated cloud: the state change, any created snapshot and an audit
 * entry are written in one transaction, so a later scan sees exactly what happened.
 *
 * As of `at` when given: refused when the resource last changed later (its history only moves
 * forward). Without it, as of `now()` read inside the transaction, once the resource's last change
 * is read there: an action that waited for another on the same resource to commit is dated after
 * it, not refused for a time taken before it waited. A last change ahead of now by no more than
 * two machines' clocks differ is taken as now.
 */
export async function actOnSandbox(
  store: Store,
  prices: PriceLookup,
  req: ActionRequest,
  options: { at?: Date; now?: () => Date; actor?: string },
): Promise<ActionOutcome> {
  return store.transaction(async (tx) => {
    // Held until it commits: another action on it waits, then reads what this one left.
    const found = await tx.resources.get(SANDBOX_SOURCE, req.id, { lock: true });
    if (!found) throw new NotFoundError(`the sandbox has no resource ${req.id}`);
    const target = found.resource;
    const last = Date.parse(found.updated_at);
    let when = options.at;
    if (when === undefined) {
      const now = (options.now ?? (() => new Date()))();
      when = last > now.getTime() && last <= now.getTime() + CLOCK_SKEW_MS ? new Date(last) : now;
    }
    const at = when.toISOString();
    if (when.getTime() < last)
      throw new InputError(
        `cannot ${req.action} ${req.id} as of ${at}${options.at === undefined ? " (now)" : ""}: it last changed as of ${found.updated_at}, and the sandbox's history only moves forward. Act as of that time or later.`,
      );
    const needsVolumes =
      target.type === "compute/instance" && (req.action === "terminate" || req.action === "snapshot");
    const attached = needsVolumes ? await attachedVolumes(tx, target.id) : [];
    const outcome = planAction(target, attached, req, when, prices);
    const writes = [...outcome.changed, ...outcome.created];
    if (writes.length > 0) await tx.resources.put(SANDBOX_SOURCE, writes, at);
    // A terminated instance's volumes: each deleted (delete on termination) or detached, and said so
    // in its own entry, so the volume's history (audit list --subject vol-…) has it.
    const volumes =
      req.action === "terminate" ? outcome.changed.filter((r) => r.type === "storage/volume") : [];
    const gone = volumes.filter((v) => v.state === "deleted").map((v) => v.id);
    const detached = volumes.filter((v) => v.state !== "deleted").map((v) => v.id);
    await tx.audit.append({
      at,
      actor: options.actor ?? ACTOR,
      action: `resource.${req.action}`,
      subject_type: "resource",
      subject_id: req.id,
      details: {
        source: SANDBOX_SOURCE,
        applied: outcome.applied,
        message: outcome.message,
        // As stored: the book's name of the type, whatever case it was given in.
        ...(req.instanceType
          ? {
              to: outcome.changed[0]?.specs?.instance_type ?? target.specs?.instance_type ?? req.instanceType,
              from: target.specs?.instance_type,
            }
          : {}),
        ...(req.tags ? { tags: req.tags } : {}),
        ...(outcome.created.length ? { created: outcome.created.map((r) => r.id) } : {}),
        ...(volumes.length ? { volumes: { deleted: gone, detached } } : {}),
        before: target.state ?? null,
        after: outcome.changed[0]?.state ?? target.state ?? null,
      },
    });
    for (const v of volumes) {
      const deleted = v.state === "deleted";
      await tx.audit.append({
        at,
        actor: options.actor ?? ACTOR,
        action: deleted ? "resource.delete" : "resource.detach",
        subject_type: "resource",
        subject_id: v.id,
        details: {
          source: SANDBOX_SOURCE,
          applied: true,
          message: `${v.id} ${deleted ? "deleted (delete on termination)" : "detached"} by terminating ${req.id}`,
          by: { action: "terminate", id: req.id },
          before: attached.find((a) => a.id === v.id)?.state ?? null,
          after: v.state ?? null,
        },
      });
    }
    return outcome;
  });
}

export async function attachedVolumes(tx: Store, instanceId: string): Promise<Resource[]> {
  const out: Resource[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await tx.resources.list(SANDBOX_SOURCE, {
      type: "storage/volume",
      limit: PAGE,
      ...(after === undefined ? {} : { after }),
    });
    for (const v of page) if (v.attached_to === instanceId) out.push(v);
    if (page.length < PAGE) return out;
    after = page[page.length - 1]!.id;
  }
}

/** The sandbox as an inventory: every resource that still exists, in pages from the store. */
export function sandboxProvider(store: Store): InventoryProvider {
  return {
    name: SANDBOX_SOURCE,
    async *read(options = {}) {
      const total = await store.resources.count(SANDBOX_SOURCE);
      let after: string | undefined;
      let done = 0;
      for (;;) {
        options.signal?.throwIfAborted();
        const page = await store.resources.list(SANDBOX_SOURCE, {
          limit: PAGE,
          ...(after === undefined ? {} : { after }),
        });
        if (page.length === 0) return;
        done += page.length;
        yield page;
        options.onProgress?.({ resources: done, done, total });
        if (page.length < PAGE) return;
        after = page[page.length - 1]!.id;
      }
    },
  };
}

export interface SandboxOverview {
  seed: string | null;
  created_at: string | null;
  resources: number;
  gone: number;
  by_type: Record<string, Record<string, number>>;
  monthly_cost: string;
  currency: string;
}

/** Counts by type and state and the estate's running monthly cost (what `sandbox show` prints). */
export async function sandboxOverview(store: Store): Promise<SandboxOverview> {
  const byType: Record<string, Record<string, number>> = {};
  let monthly: Amount = 0n;
  let count = 0;
  for await (const page of sandboxProvider(store).read()) {
    for (const r of page) {
      count++;
      const states = byType[r.type] ?? {};
      byType[r.type] = states;
      const state = r.state ?? "unknown";
      states[state] = (states[state] ?? 0) + 1;
      // As remediation and the billing file count it: a stopped database goes on paying for its storage.
      monthly += parseAmount(currentMonthlyCost(r, null));
    }
  }
  const all = await store.resources.count(SANDBOX_SOURCE, { includeGone: true });
  return {
    seed: (await store.settings.get("sandbox.seed")) ?? null,
    created_at: (await store.settings.get("sandbox.created_at")) ?? null,
    resources: count,
    gone: all - count,
    by_type: byType,
    monthly_cost: formatAmount(monthly),
    currency: "USD",
  };
}

function billingFileWritable(path: string): void {
  try {
    makeFolders(dirname(path));
    const existed = existsSync(path);
    closeSync(openSync(path, "a"));
    // Made only to find out: the file appears when its content is written whole.
    if (!existed) rmSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === "EISDIR" ? "it is a folder" : e.message;
    throw new InputError(`cannot write the billing file ${path}: ${why}`);
  }
}
