/**
 * A process that starts a scan and never finishes it, for tests that kill it: `node --import tsx
 * test/support/hold-scan.ts <sqlite|postgres> <path or URL> <inventory> <scan id>`. Prints `running`
 * once the scan is recorded, then waits until it is killed.
 */
import { openStore } from "../../src/store/open.js";

const [kind, where, inventory, id] = process.argv.slice(2) as [string, string, string, string];
const store = await openStore(
  kind === "sqlite" ? { kind: "sqlite", path: where } : { kind: "postgres", url: where },
);
await store.scans.start({
  id,
  inventory,
  started_at: "2026-05-01T00:00:00.000Z",
  policy_revision: "held",
  policies: [],
});
process.stdout.write("running\n");
setInterval(() => {}, 60_000);
