import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { posix, resolve } from "node:path";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import type { Command } from "commander";
import { buildProgram, runCli } from "../../src/cli/main.js";

// What `npm install costguard` gets is the packed file list, not the repository: a README link, a help
// text or a message naming a file that is not packed points a user at nothing. `npm pack --dry-run`
// lists the files without writing a tarball; --ignore-scripts keeps it from building dist/ again under
// the other tests (npm test builds it first; no path checked here is in dist/).

interface Packed {
  files: { path: string }[];
}

const packed = (
  JSON.parse(
    execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    }),
  ) as Packed[]
)[0]!.files.map((f) => f.path);
const files = new Set(packed);

/** Whether the package holds this path, as a file or as a folder with files in it. */
const ships = (path: string) => files.has(path) || packed.some((f) => f.startsWith(`${path}/`));

/** The relative targets of a markdown file's links, as paths from the package root. */
function linksOf(markdown: string): string[] {
  const text = readFileSync(markdown, "utf8");
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!.split("#")[0]!)
    .filter((target) => target !== "" && !/^[a-z][a-z+.-]*:/i.test(target))
    .map((target) => posix.normalize(posix.join(posix.dirname(markdown), target)).replace(/\/$/, ""));
}

/** Paths into the package's own folders that a text names (`docs/scan.md`, `file:examples/scan/x.jsonl`). */
const TOP = readdirSync(".", { withFileTypes: true })
  .filter((e) => e.isDirectory() && !e.name.startsWith(".") && e.name !== "node_modules")
  .map((e) => e.name);
const pathsIn = (text: string) =>
  [...text.matchAll(new RegExp(`(?<![\\w./-])(?:${TOP.join("|")})/[\\w./-]*[\\w-]`, "g"))].map((m) => m[0]);

/** Every command's --help text, subcommands too, as a user sees it. */
async function helpTexts(): Promise<Map<string, string>> {
  const quiet = {
    stdout: new PassThrough(),
    stderr: new PassThrough(),
    readStdin: () => "",
    cwd: ".",
    env: {},
  };
  const commands: string[][] = [[]];
  const walk = (command: Command, path: string[]) => {
    for (const sub of command.commands) {
      commands.push([...path, sub.name()]);
      walk(sub, [...path, sub.name()]);
    }
  };
  walk(buildProgram(quiet), []);
  const texts = new Map<string, string>();
  for (const command of commands) {
    const out = new PassThrough();
    let text = "";
    out.on("data", (c: Buffer) => {
      text += c.toString();
    });
    await runCli([...command, "--help"], { ...quiet, stdout: out });
    await new Promise((r) => setImmediate(r));
    texts.set(["costguard", ...command, "--help"].join(" "), text);
  }
  return texts;
}

test("the package holds what a user is pointed at first: the CLI, the built library, docs, examples", () => {
  for (const path of ["bin/costguard.js", "dist/src/index.js", "dist/src/index.d.ts", "README.md"])
    assert.ok(files.has(path), path);
  for (const folder of ["docs", "examples", "schema", "data"]) assert.ok(ships(folder), folder);
});

test("a consumer resolves costguard/package.json (tools read its version and bin that way)", () => {
  // The package resolving itself by name goes through its exports, as a consumer's require does.
  const require = createRequire(import.meta.url);
  assert.equal(require.resolve("costguard/package.json"), resolve("package.json"));
  assert.ok(files.has("package.json"));
});

test("the package holds no source maps: they would point at src/, which is not packed", () => {
  assert.deepEqual(
    packed.filter((f) => f.endsWith(".map")),
    [],
  );
});

test("every relative link in a packed markdown file leads to a packed file", () => {
  const dead = new Set<string>();
  for (const markdown of packed.filter((f) => f.endsWith(".md")))
    for (const target of linksOf(markdown)) if (!ships(target)) dead.add(`${markdown} → ${target}`);
  assert.deepEqual([...dead], []);
});

test("every path a --help text names is packed", async () => {
  const texts = await helpTexts();
  assert.ok(texts.size > 20, `${texts.size} help texts`);
  const dead: string[] = [];
  for (const [command, text] of texts)
    for (const path of pathsIn(text)) if (!ships(path)) dead.push(`${command}: ${path}`);
  assert.deepEqual(dead, []);
});

test("every docs/ page a message in the source names is packed", () => {
  const dead: string[] = [];
  const sources = readdirSync("src", { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
  for (const source of sources)
    for (const m of readFileSync(posix.join("src", source), "utf8").matchAll(/\bdocs\/[\w-]+\.md/g))
      if (!ships(m[0])) dead.push(`src/${source}: ${m[0]}`);
  assert.deepEqual(dead, []);
});
