import { ConflictError, InputError } from "../../errors.js";
import { formatAmount, monthlyFromHourly, parseAmount, times } from "../../money/exact.js";
import { closest } from "../../policy/suggest.js";
import type { PriceLookup } from "../../scan/prices.js";
import { SANDBOX_SNAPSHOT_GB_MONTH_USD } from "../aws-catalog.js";
import { checkTag, MAX_TAGS } from "../tag-rules.js";
import type { Resource } from "../types.js";
import { instanceSpecs } from "./estate.js";
import { seededRandom } from "./random.js";

export const SANDBOX_ACTIONS = ["stop", "start", "resize", "snapshot", "terminate", "delete", "tag"] as const;
export type SandboxAction = (typeof SANDBOX_ACTIONS)[number];

export interface ActionRequest {
  action: SandboxAction;
  id: string;
  /** resize: the new instance type (`m5.large`, or `db.m5.large` for a database). */
  instanceType?: string;
  /**
   * tag: tags to set; a null value removes the tag. snapshot: tags the snapshot gets beside the
   * source's (remediation's marker, SAFETY_SNAPSHOT_TAG).
   */
  tags?: Record<string, string | null>;
}

export interface ActionOutcome {
  /** Resources whose state the action changed, as they are afterwards (written back by the caller). */
  changed: Resource[];
  /** Resources the action created (a snapshot). */
  created: Resource[];
  /** False when the resource was already in the requested state: acting twice is harmless. */
  applied: boolean;
  message: string;
}

const COMPUTE = "compute/instance";
const DATABASE = "database/instance";
const VOLUME = "storage/volume";

/**
 * What an action does to the simulated cloud, as a pure function: the target (and, for terminate,
 * the volumes attached to it) in, the changed and created resources out. It follows the cloud's
 * rules: an instance must be stopped to be resized and a database available (resized in place), an
 * attached volume cannot be deleted, a terminated instance cannot be started.
 */
export function planAction(
  target: Resource,
  attached: readonly Resource[],
  req: ActionRequest,
  at: Date,
  prices: PriceLookup,
): ActionOutcome {
  const when = at.toISOString();
  const gone = target.state === "terminated" || target.state === "deleted";
  const same = (message: string): ActionOutcome => ({ changed: [], created: [], applied: false, message });
  const done = (r: Resource, message: string, extra: Resource[] = []): ActionOutcome => ({
    changed: [r, ...extra],
    created: [],
    applied: true,
    message,
  });

  if (gone) {
    if ((req.action === "terminate" || req.action === "delete") && !req.tags)
      return same(`${target.id} is already ${target.state}`);
    throw new ConflictError(`${target.id} is ${target.state}: it cannot be acted on`);
  }

  switch (req.action) {
    case "stop": {
      requireType(target, [COMPUTE, DATABASE], "stop");
      if (target.state === "stopped") return same(`${target.id} is already stopped`);
      return done({ ...target, state: "stopped", stopped_at: when }, `${target.id} stopped`);
    }
    case "start": {
      requireType(target, [COMPUTE, DATABASE], "start");
      const up = target.type === DATABASE ? "available" : "running";
      if (target.state === up) return same(`${target.id} is already ${up}`);
      const next: Resource = { ...target, state: up };
      delete next.stopped_at;
      return done(next, `${target.id} started`);
    }
    case "resize":
      return resize(target, req, prices, done);
    case "snapshot":
      // As EBS: an instance's snapshot is of its volumes, and one with none has nothing to snapshot.
      if (target.type === COMPUTE && !attached.some((v) => v.attached_to === target.id))
        return same(`${target.id} has no volume attached: nothing to snapshot`);
      return snapshot(target, attached, when, req.tags);
    case "terminate": {
      requireType(target, [COMPUTE, DATABASE], "terminate");
      const final = target.type === DATABASE ? "deleted" : "terminated";
      const volumes = attached
        .filter((v) => v.attached_to === target.id && v.state !== "deleted")
        .map(
          (v): Resource =>
            v.specs?.delete_on_termination === true
              ? { ...v, state: "deleted", attached_to: null, deleted_at: when }
              : { ...v, state: "available", attached_to: null, detached_at: when },
        );
      const named = volumes.map((v) => `${v.id} ${v.state === "deleted" ? "deleted" : "detached"}`);
      return done(
        { ...target, state: final, terminated_at: when },
        `${target.id} ${final}${named.length ? `; attached volumes: ${named.join(", ")}` : ""}`,
        volumes,
      );
    }
    case "delete": {
      if (target.type === COMPUTE)
        throw new InputError(`${target.id} is an instance: terminate it instead of deleting it`);
      if (target.type === VOLUME && target.attached_to)
        throw new ConflictError(`${target.id} is attached to ${target.attached_to}: detach it first`);
      return done({ ...target, state: "deleted", deleted_at: when }, `${target.id} deleted`);
    }
    case "tag": {
      const changes = req.tags ?? {};
      if (Object.keys(changes).length === 0)
        throw new InputError("tag needs at least one tag (key=value or key=)");
      const tags: Record<string, string> = { ...(target.tags ?? {}) };
      for (const [k, v] of Object.entries(changes)) {
        checkTag(k, v);
        if (v === null) delete tags[k];
        else tags[k] = v;
      }
      if (Object.keys(tags).length > MAX_TAGS)
        throw new InputError(
          `${target.id} would have ${Object.keys(tags).length} tags: the cloud allows ${MAX_TAGS} a resource`,
        );
      if (JSON.stringify(tags) === JSON.stringify(target.tags ?? {}))
        return same(`${target.id} already has those tags`);
      return done({ ...target, tags }, `${target.id} tagged (${Object.keys(changes).join(", ")})`);
    }
  }
}

function requireType(target: Resource, types: readonly string[], action: string): void {
  if (!types.includes(target.type))
    throw new InputError(`cannot ${action} ${target.id}: it is a ${target.type}, not ${types.join(" or ")}`);
}

function resize(
  target: Resource,
  req: ActionRequest,
  prices: PriceLookup,
  done: (r: Resource, message: string) => ActionOutcome,
): ActionOutcome {
  requireType(target, [COMPUTE, DATABASE], "resize");
  const wanted = req.instanceType;
  if (!wanted) throw new InputError("resize needs the target instance type (--to TYPE)");
  const isDb = target.type === DATABASE;
  // Type and class names are matched in any case (`M5.LARGE`, `DB.M5.LARGE`), as the book matches
  // them, and stored as the book names them: the same type is never a resize.
  const dbClass = isDb && /^db\./i.test(wanted);
  const shape = prices.instanceType(dbClass ? wanted.slice("db.".length) : wanted);
  if (!shape || (isDb && !dbClass)) {
    // A size misspelt within a series the book knows (`m5.xlarg`): name the closest of that series.
    const lower = wanted.toLowerCase();
    const series = (isDb ? lower.replace(/^db\./, "") : lower).split(".")[0]!;
    const sizes = prices.seriesTypes(series).map((t) => (isDb ? `db.${t.instance_type}` : t.instance_type));
    const near = isDb && sizes.includes(`db.${lower}`) ? `db.${lower}` : closest(lower, sizes);
    throw new InputError(
      `unknown ${isDb ? "database instance class" : "instance type"} ${wanted}${near ? ` (did you mean ${near}?)` : ""}`,
    );
  }
  const canonical = isDb ? `db.${shape.instance_type}` : shape.instance_type;
  if (!isDb && target.state !== "stopped")
    throw new ConflictError(
      `${target.id} is ${target.state}: stop it before resizing (the cloud requires it)`,
    );
  // RDS changes a database's class in place while it runs, and cannot change a stopped one.
  if (isDb && target.state !== "available")
    throw new ConflictError(
      `${target.id} is ${target.state}: a database is resized while it is available (RDS cannot change a stopped one); start it first`,
    );
  if (String(target.specs?.instance_type ?? "").toLowerCase() === canonical)
    return { changed: [], created: [], applied: false, message: `${target.id} is already ${canonical}` };
  const oldVcpus = (target.specs?.vcpus as number | undefined) ?? shape.vcpus;
  const specs = { ...target.specs, ...instanceSpecs(shape), instance_type: canonical };
  let hourly = shape.hourly;
  let monthly = monthlyFromHourly(hourly);
  if (isDb) {
    const engine = String(target.specs?.engine ?? "postgres");
    const dbHourly = prices.databaseHourly(canonical, engine);
    const estimate = prices.estimate({ ...target, region: "us-east-1", specs });
    if (dbHourly === undefined || !estimate)
      throw new InputError(`the price book has no ${engine} price for database class ${canonical}`);
    hourly = dbHourly;
    monthly = estimate.monthly;
  }
  const next: Resource = {
    ...target,
    specs,
    hourly_cost: formatAmount(hourly),
    monthly_cost: formatAmount(monthly),
  };
  if (!shape.gpus) delete next.specs!.gpus;
  // The same work on fewer (or more) vCPUs: utilisation scales with the inverse of the size.
  if (target.metrics?.avg_cpu_percent !== undefined) {
    const scaled = Math.min(100, (target.metrics.avg_cpu_percent * oldVcpus) / shape.vcpus);
    next.metrics = { ...target.metrics, avg_cpu_percent: Math.round(scaled * 100) / 100 };
  }
  return done(next, `${target.id} resized from ${target.specs?.instance_type ?? "?"} to ${canonical}`);
}

function snapshot(
  target: Resource,
  attached: readonly Resource[],
  when: string,
  extra: Readonly<Record<string, string | null>> = {},
): ActionOutcome {
  let size: number;
  if (target.type === VOLUME) size = (target.specs?.size_gb as number) ?? 0;
  else if (target.type === DATABASE) size = (target.specs?.storage_gb as number) ?? 0;
  else if (target.type === COMPUTE)
    size = attached
      .filter((v) => v.attached_to === target.id)
      .reduce((n, v) => n + ((v.specs?.size_gb as number) ?? 0), 0);
  else throw new InputError(`cannot snapshot ${target.id}: it is a ${target.type}`);
  const monthly = times(parseAmount(SANDBOX_SNAPSHOT_GB_MONTH_USD), size);
  // Deterministic: the same snapshot request at the same instant names the same snapshot.
  const id = `snap-${seededRandom(`${target.id}|${when}`).hex(17)}`;
  const tags: Record<string, string> = { ...(target.tags ?? {}) };
  for (const [k, v] of Object.entries(extra)) if (v !== null) tags[k] = v;
  const snap: Resource = {
    id,
    type: "storage/snapshot",
    name: `${target.name ?? target.id}-snap`,
    provider: target.provider ?? "aws",
    state: "completed",
    created_at: when,
    tags,
    specs: { size_gb: size, source: target.id },
    hourly_cost: formatAmount((monthly + 365n) / 730n),
    monthly_cost: formatAmount(monthly),
    currency: target.currency ?? "USD",
  };
  if (target.account !== undefined) snap.account = target.account;
  if (target.region !== undefined) snap.region = target.region;
  return {
    changed: [],
    created: [snap],
    applied: true,
    message: `${target.id} snapshotted as ${id} (${size} GB)`,
  };
}
