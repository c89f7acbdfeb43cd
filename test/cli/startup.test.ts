import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
import { pathToFileURL } from "node:url";

const dir = mkdtempSync(join(tmpdir(), "costguard-startup-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The packages a costguard command loads, as a module hook sees them resolved. */
function packagesLoaded(args: string[]): string[] {
  const hooks = join(dir, "hooks.mjs");
  writeFileSync(
    hooks,
    `export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)/.exec(r.url);
  if (m) process.stderr.write("loaded " + m[1] + "\\n");
  return r;
}\n`,
  );
  const register = join(dir, "register.mjs");
  writeFileSync(
    register,
    `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
  );
  const run = spawnSync(
    process.execPath,
    ["--import", pathToFileURL(register).href, resolve("bin/costguard.js"), ...args],
    {
      encoding: "utf8",
    },
  );
  // evaluate exits 1 on a deny: a decision made, not a failure.
  assert.ok(run.status === 0 || run.status === 1, run.stderr);
  return [...new Set([...run.stderr.matchAll(/^loaded (\S+)$/gm)].map((m) => m[1]!))].sort();
}

test("a command loads only what it uses: no server, PostgreSQL driver, mailer, Parquet reader or AWS SDK for a decision", () => {
  const request = join(dir, "request.json");
  writeFileSync(request, JSON.stringify({ type: "compute/instance", specs: { instance_type: "m5.large" } }));
  for (const args of [["--version"], ["evaluate", "--policies", resolve("examples/policies"), request]]) {
    const loaded = packagesLoaded(args);
    assert.ok(loaded.includes("commander"), `the hook saw packages load: ${loaded.join(", ")}`);
    const heavy = loaded.filter((p) =>
      /^(fastify|prom-client|fast-json-stringify|pg|pg-copy-streams|nodemailer|hyparquet|@aws-sdk\/.*)$/.test(
        p,
      ),
    );
    assert.deepEqual(heavy, [], `${args[0]} loaded ${heavy.join(", ")}`);
  }
});
