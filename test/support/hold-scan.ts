/**
 * A process that starts a scan and never finishes it, for tests that kill it: `node --import tsx
 * test/support/hold-scan.ts <sqlite|postgres> <path or URL> <inventory> <scan id>`. Prints `running`
 * and the scan's start time (now: a stored scan may not be older than its inventory's latest) once the
 * scan is recorded, then waits until it is killed.
 */
import { openStore } from "../../src/store/open.js";

const [kind, where, inventory, id] = process.argv.slice(2) as [string, string, string, string];
const store = await openStore(
  kind === "sqlite" ? { kind: "sqlite", path: where } : { kind: "postgres", url: where },
);
const startedAt = new Date().toISOString();
await store.scans.start({ id, inventory, started_at: startedAt, policy_revision: "held", policies: [] });
process.stdout.write(`running ${startedAt}\n`);
setInterval(() => {}, 60_000);
