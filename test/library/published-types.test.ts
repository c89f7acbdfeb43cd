import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";

// A consumer type-checking costguard's .d.ts (skipLibCheck false) has costguard's dependencies, not
// its devDependencies: a public declaration that imports a package typed only by an @types/ devDependency
// (big.js, pg, nodemailer) fails with TS7016 there. Node's own modules are the consumer's @types/node.
// Reads the built declarations (npm test builds dist/ first).

const pkg = JSON.parse(readFileSync("package.json", "utf8")) as { dependencies: Record<string, string> };

/** The package a bare specifier names: `@aws-sdk/client-ec2`, `nodemailer` for `nodemailer/lib/mailer`. */
const packageOf = (spec: string) =>
  spec
    .split("/")
    .slice(0, spec.startsWith("@") ? 2 : 1)
    .join("/");

/** Whether a package installed here ships its own declarations (types/typings, or types in exports). */
function shipsTypes(name: string): boolean {
  const manifest = JSON.parse(readFileSync(join("node_modules", name, "package.json"), "utf8")) as Record<
    string,
    unknown
  >;
  return (
    typeof manifest.types === "string" ||
    typeof manifest.typings === "string" ||
    JSON.stringify(manifest.exports ?? {}).includes('"types"') ||
    existsSync(join("node_modules", name, "index.d.ts"))
  );
}

test("the public declarations import no package typed only by a devDependency", () => {
  const start = resolve("dist/src/index.d.ts");
  assert.ok(existsSync(start), "build first (npm run build)");
  const seen = new Set<string>();
  const bare = new Map<string, string>();
  const todo = [start];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, "utf8");
    for (const m of text.matchAll(/(?:from|import\()\s*"([^"]+)"/g)) {
      const spec = m[1]!;
      if (spec.startsWith(".")) todo.push(resolve(dirname(file), spec.replace(/\.js$/, ".d.ts")));
      else bare.set(spec, file);
    }
  }
  const builtins = new Set(builtinModules);
  const wrong = [...bare]
    .filter(([spec]) => !spec.startsWith("node:") && !builtins.has(spec))
    .map(([spec, file]) => [packageOf(spec), file] as const)
    .filter(([name]) => !(name in pkg.dependencies) || !shipsTypes(name))
    .map(([name, file]) => `${name} (in ${file.slice(resolve("dist").length + 1)})`);
  assert.deepEqual(wrong, []);
});
