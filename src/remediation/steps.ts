import { ENVIRONMENT_TAG } from "../engine/scope.js";
import { ownValue, setOwn } from "../objects.js";
import type { ActionableResource } from "./actions.js";
import { isGone } from "./actions.js";
import type { ExecutorDeps } from "./executor.js";
import { ownerNotice } from "./planner.js";
import type { RemediationTask } from "./types.js";

/** The steps of each remediation action, and how each recognises that its effect is already there. */

/** Stops a task without failing it (the resource is gone, an exception arrived). */
export class SkipTask extends Error {
  override readonly name = "SkipTask";
}

export interface Step {
  name: string;
  /** Whether the step's effect is already there (after a crash, or done by someone else); its detail if so. */
  already(r: ActionableResource | undefined): Promise<string | undefined> | string | undefined;
  act(r: ActionableResource | undefined): Promise<string>;
}

export interface Inspection {
  state: string | null;
  monthly_cost: string;
  currency: string;
  instance_type: string | null;
}

/** Running, in the words of instances (`running`) and databases (`available`). */
function isUp(state: string | undefined): boolean {
  return state === "running" || state === "available";
}

export function inspection(t: RemediationTask): Inspection {
  const detail = t.steps.find((s) => s.name === "inspect")?.detail;
  return detail
    ? (JSON.parse(detail) as Inspection)
    : { state: null, monthly_cost: "0", currency: t.currency, instance_type: null };
}

/**
 * A snapshot step's detail in words: the snapshot's id, or `no snapshot: why` where a handler said
 * `none (why)` (an instance with no volume has nothing to snapshot).
 */
export function snapshotWords(detail: string): string {
  const none = /^none \((.*)\)$/.exec(detail)?.[1];
  return none !== undefined ? `no snapshot: ${none}` : `snapshot ${detail}`;
}

export function resultText(t: RemediationTask): string {
  const detail = (name: string) => t.steps.find((s) => s.name === name)?.detail;
  const snap = detail("snapshot");
  const snapshot = snap === undefined ? "" : ` (${snapshotWords(snap)})`;
  switch (t.action) {
    case "stop":
      return `stopped${snapshot}`;
    case "resize":
      return `resized to ${t.params.target_type}${snapshot}`;
    case "tag":
      return detail("tag") ?? "tagged";
    case "terminate":
      return `terminated${snapshot}`;
    case "delete":
      return `volume deleted${snapshot}`;
    case "notify":
      return "owner notified";
  }
}

/** The steps of each action, in order. */
export function stepsFor(t: RemediationTask, deps: ExecutorDeps, latest: () => RemediationTask): Step[] {
  const { cloud, config } = deps;
  const snapshotName = `costguard-${t.id}`;
  const inspect: Step = {
    name: "inspect",
    already: () => undefined,
    async act(r) {
      if (isGone(r)) throw new SkipTask("the resource no longer exists");
      const found: Inspection = {
        state: r!.state ?? null,
        monthly_cost: String(r!.monthly_cost ?? "0"),
        currency: r!.currency ?? t.currency,
        instance_type: r!.specs?.instance_type ?? null,
      };
      return JSON.stringify(found);
    },
  };
  const snapshot: Step = {
    name: "snapshot",
    // Only a snapshot step that began before (and was cut short) can have left a snapshot behind.
    already: (r) => {
      const began = latest().steps.find((s) => s.name === "snapshot" && s.status === "started");
      if (!began || isGone(r)) return undefined;
      return cloud.findSnapshot(t.resource_id, { name: snapshotName, since: began.at });
    },
    act: () => cloud.snapshot(t.resource_id, snapshotName),
  };
  const stop: Step = {
    name: "stop",
    already: (r) => (r?.state === "stopped" ? "already stopped" : undefined),
    async act() {
      await cloud.stop(t.resource_id);
      return "stopped";
    },
  };
  // What the inspect step found, read once it is stored (after this list was made).
  const wasRunning = () => isUp(inspection(latest()).state ?? undefined);

  switch (t.action) {
    case "notify":
      return [
        inspect,
        {
          name: "notify",
          already: () => undefined,
          async act() {
            await deps.notifier?.notify(
              ownerNotice(
                t,
                "violation",
                `${t.resource_id}: ${t.message} (${t.policy}/${t.rule}, ${t.severity})`,
              ),
            );
            return deps.notifier ? "owner notified" : "no notifier configured";
          },
        },
      ];
    case "tag": {
      // A missing `environment` is never filled with the placeholder (only with a `tagDefaults` value):
      // while it is missing, every namespaced policy applies (guardrails fail closed); `environment:
      // unassigned` would take the resource out of the production policies, and a limit finding
      // would "resolve" because costguard tagged it.
      /** Whether the environment tag is missing and `add` does not bring it. */
      const leftForOwner = (r: ActionableResource | undefined, add: Record<string, string>): boolean =>
        (t.params.missing_tags ?? []).includes(ENVIRONMENT_TAG) &&
        r?.tags?.[ENVIRONMENT_TAG] === undefined &&
        !(ENVIRONMENT_TAG in add);
      const wanted = (r: ActionableResource | undefined): Record<string, string> => {
        const have = r?.tags ?? {};
        const add: Record<string, string> = {};
        for (const key of t.params.missing_tags ?? []) {
          // Tag keys are the user's (`constructor` is one): only the resource's own tags count as there.
          if (ownValue(have, key) !== undefined) continue;
          const value =
            ownValue(config.tagDefaults, key) ??
            (key === ENVIRONMENT_TAG ? undefined : config.missingTagValue);
          if (value !== undefined) setOwn(add, key, value);
        }
        for (const [k, v] of Object.entries(config.addTags)) if (ownValue(have, k) !== v) setOwn(add, k, v);
        return add;
      };
      return [
        inspect,
        {
          name: "tag",
          already: (r) =>
            Object.keys(wanted(r)).length > 0
              ? undefined
              : leftForOwner(r, {})
                ? `nothing to add: ${ENVIRONMENT_TAG} is left for the owner (it decides which policies apply)`
                : "tags already present",
          async act(r) {
            const add = wanted(r);
            await cloud.addTags(t.resource_id, add);
            const left = leftForOwner(r, add)
              ? `; ${ENVIRONMENT_TAG} left for the owner (it decides which policies apply)`
              : "";
            return `added tags ${Object.entries(add)
              .map(([k, v]) => `${k}=${v}`)
              .join(", ")}${left}`;
          },
        },
      ];
    }
    case "stop":
      return [inspect, ...(config.safety.snapshotBeforeStop ? [snapshot] : []), stop];
    case "resize": {
      const target = t.params.target_type;
      const steps: Step[] = [inspect, ...(config.safety.snapshotBeforeResize ? [snapshot] : [])];
      const resize: Step = {
        name: "resize",
        already: (r) => (r?.specs?.instance_type === target ? `already ${target}` : undefined),
        async act() {
          if (!target) throw new Error("no resize target: the finding names no smaller type");
          await cloud.resize(t.resource_id, target);
          return `resized to ${target}`;
        },
      };
      if (cloud.resizesInPlace?.(t.resource_type)) {
        steps.push(resize);
        return steps;
      }
      steps.push(
        {
          name: "stop",
          already: (r) =>
            r?.state === "stopped" || r?.specs?.instance_type === target
              ? "stopped or already resized"
              : undefined,
          async act() {
            if (!target) throw new Error("no resize target: the finding names no smaller type");
            await cloud.stop(t.resource_id);
            return "stopped";
          },
        },
        resize,
        {
          name: "start",
          already: (r) =>
            !wasRunning() || isUp(r?.state) ? "running (or was not running before)" : undefined,
          async act() {
            await cloud.start(t.resource_id);
            return "started";
          },
        },
      );
      return steps;
    }
    case "terminate":
      return [
        inspect,
        snapshot,
        {
          name: "terminate",
          already: (r) => (isGone(r) ? "already terminated" : undefined),
          async act() {
            await cloud.terminate(t.resource_id);
            return "terminated";
          },
        },
      ];
    case "delete":
      return [
        inspect,
        snapshot,
        {
          name: "delete",
          already: (r) => (isGone(r) ? "already deleted" : undefined),
          async act() {
            await cloud.deleteVolume(t.resource_id);
            return "deleted";
          },
        },
      ];
  }
}
