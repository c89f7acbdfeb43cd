import { InputError } from "../../errors.js";
import { parseQuantity, toBytes, toMillicores } from "./quantity.js";

/** What one pod asks the scheduler for, in exact integers. */
export interface PodResources {
  /** CPU request in millicores; null when no container states one (the cost can't be known). */
  cpuMillis: bigint | null;
  /** Memory request in bytes; null when no container states one. */
  memoryBytes: bigint | null;
  /** GPUs (extended resources named `*\/gpu`, e.g. nvidia.com/gpu). */
  gpus: bigint;
  /** Regular and init containers that state no CPU or no memory request (nor a limit to default from). */
  containersMissingRequests: number;
  containers: number;
}

interface Totals {
  cpu: bigint;
  memory: bigint;
  gpu: bigint;
}

const ZERO: Totals = { cpu: 0n, memory: 0n, gpu: 0n };

type Container = { name?: unknown; resources?: unknown; restartPolicy?: unknown };

/**
 * The effective request of a pod, the way the Kubernetes scheduler counts it:
 * - a container with limits but no requests requests its limits (API defaulting);
 * - app containers and sidecars (init containers with `restartPolicy: Always`) run together: they add up;
 * - a regular init container runs alone beside the sidecars started before it: its request plus
 *   theirs is one candidate;
 * - the pod requests the larger of the two, per resource, plus `spec.overhead` (RuntimeClass);
 * - pod-level `spec.resources.requests` (Kubernetes 1.32+) replace the container sum when present.
 */
export function podResources(podSpec: unknown, where: string): PodResources {
  if (!isObject(podSpec)) throw new InputError(`${where}: the pod spec is missing`);
  const containers = listOf(podSpec.containers, `${where}.containers`);
  const initContainers = listOf(podSpec.initContainers, `${where}.initContainers`);

  let missing = 0;
  let cpuStated = false;
  let memoryStated = false;
  const read = (c: Container, path: string): Totals => {
    const r = containerRequests(c, path);
    if (r.cpu === null || r.memory === null) missing++;
    if (r.cpu !== null) cpuStated = true;
    if (r.memory !== null) memoryStated = true;
    return { cpu: r.cpu ?? 0n, memory: r.memory ?? 0n, gpu: r.gpu };
  };

  let sidecars = ZERO;
  let initPeak = ZERO;
  initContainers.forEach((c, i) => {
    const own = read(c, `${where}.initContainers[${i}]`);
    if (c.restartPolicy === "Always") {
      sidecars = add(sidecars, own);
      initPeak = max(initPeak, sidecars);
    } else {
      initPeak = max(initPeak, add(sidecars, own));
    }
  });
  let app = sidecars;
  containers.forEach((c, i) => {
    app = add(app, read(c, `${where}.containers[${i}]`));
  });
  let total = max(app, initPeak);

  const podLevel = isObject(podSpec.resources) ? requestsOf(podSpec.resources, `${where}.resources`) : null;
  if (podLevel?.cpu != null) {
    total = { ...total, cpu: podLevel.cpu };
    cpuStated = true;
  }
  if (podLevel?.memory != null) {
    total = { ...total, memory: podLevel.memory };
    memoryStated = true;
  }
  if (isObject(podSpec.overhead)) {
    const o = podSpec.overhead;
    total = {
      cpu:
        total.cpu + (o.cpu === undefined ? 0n : toMillicores(parseQuantity(o.cpu, `${where}.overhead.cpu`))),
      memory:
        total.memory +
        (o.memory === undefined ? 0n : toBytes(parseQuantity(o.memory, `${where}.overhead.memory`))),
      gpu: total.gpu,
    };
  }
  return {
    cpuMillis: cpuStated ? total.cpu : null,
    memoryBytes: memoryStated ? total.memory : null,
    gpus: total.gpu,
    containersMissingRequests: missing,
    containers: containers.length + initContainers.length,
  };
}

/** A container's requests, each defaulting to its limit; null where neither is stated. */
function containerRequests(
  c: Container,
  where: string,
): { cpu: bigint | null; memory: bigint | null; gpu: bigint } {
  if (!isObject(c.resources)) return { cpu: null, memory: null, gpu: 0n };
  return requestsOf(c.resources, `${where}.resources`);
}

function requestsOf(
  resources: Record<string, unknown>,
  where: string,
): { cpu: bigint | null; memory: bigint | null; gpu: bigint } {
  const requests = isObject(resources.requests) ? resources.requests : EMPTY;
  const limits = isObject(resources.limits) ? resources.limits : EMPTY;
  let gpu = 0n;
  for (const name in requests) {
    if (name.endsWith("/gpu") && requests[name] != null)
      gpu += toBytes(parseQuantity(requests[name], `${where}.requests["${name}"]`));
  }
  for (const name in limits) {
    if (name.endsWith("/gpu") && requests[name] == null && limits[name] != null)
      gpu += toBytes(parseQuantity(limits[name], `${where}.limits["${name}"]`));
  }
  const cpu = requests.cpu ?? limits.cpu;
  const memory = requests.memory ?? limits.memory;
  return {
    cpu:
      cpu == null
        ? null
        : toMillicores(parseQuantity(cpu, `${where}.${requests.cpu == null ? "limits" : "requests"}.cpu`)),
    memory:
      memory == null
        ? null
        : toBytes(
            parseQuantity(memory, `${where}.${requests.memory == null ? "limits" : "requests"}.memory`),
          ),
    gpu,
  };
}

const EMPTY: Record<string, unknown> = Object.freeze({});

function add(a: Totals, b: Totals): Totals {
  return { cpu: a.cpu + b.cpu, memory: a.memory + b.memory, gpu: a.gpu + b.gpu };
}

function max(a: Totals, b: Totals): Totals {
  return { cpu: larger(a.cpu, b.cpu), memory: larger(a.memory, b.memory), gpu: larger(a.gpu, b.gpu) };
}

/** Math.max does not take bigints. */
function larger(a: bigint, b: bigint): bigint {
  if (a > b) return a;
  return b;
}

function listOf(value: unknown, where: string): Container[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new InputError(`${where} must be a list`);
  return value.map((c, i) => {
    if (!isObject(c)) throw new InputError(`${where}[${i}] must be an object`);
    return c as Container;
  });
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
