import type { ActionableResource, ResourceActions } from "../../src/remediation/actions.js";

/** An in-memory cloud for executor unit tests: real state changes and a log of every change made. */
export function fakeCloud(resources: ActionableResource[]) {
  const state = new Map(resources.map((r) => [r.id, structuredClone(r)]));
  const snapshots = new Map<string, { id: string; resource: string }>();
  const log: string[] = [];
  let failNext: string | undefined;
  const change = (what: string, id: string, fn: (r: ActionableResource) => void) => {
    if (failNext === what) {
      failNext = undefined;
      throw new Error(`${what} failed: RequestLimitExceeded`);
    }
    const r = state.get(id);
    if (!r) throw new Error(`no resource ${id}`);
    fn(r);
    log.push(`${what} ${id}`);
  };
  const cloud: ResourceActions = {
    async describe(id) {
      const r = state.get(id);
      return r ? structuredClone(r) : undefined;
    },
    async findSnapshot(resourceId, { name }) {
      const s = snapshots.get(name);
      return s && s.resource === resourceId ? s.id : undefined;
    },
    async snapshot(resourceId, name) {
      const id = `snap-${snapshots.size + 1}`;
      change("snapshot", resourceId, () => snapshots.set(name, { id, resource: resourceId }));
      return id;
    },
    stop: async (id) =>
      change("stop", id, (r) => {
        r.state = "stopped";
        r.monthly_cost = "0";
      }),
    start: async (id) =>
      change("start", id, (r) => {
        r.state = "running";
        r.monthly_cost = r.specs?.instance_type === "m5.large" ? "70.08" : "140.16";
      }),
    resize: async (id, target) =>
      change("resize", id, (r) => {
        r.specs = { ...r.specs, instance_type: target };
      }),
    addTags: async (id, tags) =>
      change("tag", id, (r) => {
        r.tags = { ...r.tags, ...tags };
      }),
    terminate: async (id) =>
      change("terminate", id, (r) => {
        r.state = "terminated";
        r.monthly_cost = "0";
      }),
    deleteVolume: async (id) => change("delete", id, () => state.delete(id)),
  };
  return {
    cloud,
    log,
    state,
    snapshots,
    failOnce(what: string) {
      failNext = what;
    },
  };
}

export const ESTATE: ActionableResource[] = [
  {
    id: "i-idle",
    type: "compute/instance",
    state: "running",
    tags: { owner: "maria@company.com" },
    specs: { instance_type: "m5.xlarge" },
    monthly_cost: "140.16",
  },
  {
    id: "i-big",
    type: "compute/instance",
    state: "running",
    tags: {},
    specs: { instance_type: "m5.xlarge" },
    monthly_cost: "140.16",
  },
  {
    id: "i-untagged",
    type: "compute/instance",
    state: "running",
    tags: { project: "x" },
    monthly_cost: "30",
  },
  { id: "vol-orphan", type: "storage/volume", state: "available", tags: {}, monthly_cost: "40" },
  { id: "i-doomed", type: "compute/instance", state: "running", tags: {}, monthly_cost: "10.5" },
];
