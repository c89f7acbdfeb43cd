import { readdirSync, statSync } from "node:fs";
import { extname, join, relative } from "node:path";
import { LineCounter, type ParsedNode, parseAllDocuments } from "yaml";
import { type PolicyProblem, PolicyValidationError } from "../errors.js";
import { readText } from "../files.js";
import { MAX_YAML_ALIASES } from "../yaml-value.js";
import { checkPolicySet } from "./check-set.js";
import { policySchemaValidator } from "./schema.js";
import { schemaProblems } from "./schema-problems.js";
import { type DocPath, locateInNode } from "./source-map.js";
import type { LoadedPolicy, PolicyDocument, PolicySource } from "./types.js";

const POLICY_EXTENSIONS = new Set([".yaml", ".yml", ".json"]);
const TEST_SUITE = /\.test\.(ya?ml|json)$/;

export interface LoadResult {
  policies: LoadedPolicy[];
  /** Errors and warnings; `policies` holds only documents without errors. */
  problems: PolicyProblem[];
  files: string[];
}

/**
 * Lists the policy files under the given paths: files as named, folders recursively (sorted,
 * skipping hidden entries, node_modules and `*.test.yaml` suites).
 */
export function listPolicyFiles(paths: readonly string[], problems?: PolicyProblem[]): string[] {
  const out: string[] = [];
  for (const path of paths) {
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(path);
    } catch {
      const problem = fileProblem(path, "no such file or folder");
      if (!problems) throw new PolicyValidationError([problem]);
      problems.push(problem);
      continue;
    }
    if (stat.isDirectory()) walk(path, out);
    else out.push(path);
  }
  return out;
}

function walk(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  )) {
    if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) walk(full, out);
    else if (POLICY_EXTENSIONS.has(extname(entry.name)) && !TEST_SUITE.test(entry.name)) out.push(full);
  }
}

/** Reads, parses and validates policy files; never throws for problems inside documents. */
export function readPolicies(paths: readonly string[]): LoadResult {
  const problems: PolicyProblem[] = [];
  const files = listPolicyFiles(paths, problems);
  const policies: LoadedPolicy[] = [];
  const empty: string[] = [];
  for (const file of files) {
    const display = displayPath(file);
    let text: string;
    try {
      text = readText(file);
    } catch (err) {
      problems.push(fileProblem(display, `cannot read file: ${(err as Error).message}`));
      continue;
    }
    const before = [policies.length, problems.length];
    parsePolicyText(text, display, policies, problems);
    if (policies.length === before[0] && problems.length === before[1]) empty.push(display);
  }
  // Files that hold no policy (empty, or only comments): beside others a warning each; when none
  // holds one, the set would enforce nothing (every request allowed, no finding) and is an error.
  if (empty.length > 0 && empty.length === files.length)
    problems.push(
      fileProblem(
        empty.join(", "),
        `no policy in ${empty.length === 1 ? "it" : "any of them"} (empty or only comments): nothing would be enforced`,
      ),
    );
  else
    for (const file of empty)
      problems.push({
        ...fileProblem(file, "holds no policy (it is empty or only comments)"),
        severity: "warning",
      });
  problems.push(...checkPolicySet(policies));
  problems.sort((a, b) => (a.file === b.file ? a.line - b.line || a.column - b.column : 0));
  const broken = new Set(problems.filter((p) => p.severity === "error").map((p) => p.file));
  return {
    policies: policies.filter((p) => !broken.has(p.source.file) || !hasErrorIn(problems, p)),
    problems,
    files,
  };
}

function hasErrorIn(problems: PolicyProblem[], policy: LoadedPolicy): boolean {
  return problems.some(
    (p) => p.severity === "error" && p.file === policy.source.file && p.documentIndex === policy.source.index,
  );
}

/**
 * Loads policies and fails with every problem at once if any document is invalid.
 * Warnings (contradictions) are returned beside the policies.
 */
export function loadPolicies(paths: readonly string[]): {
  policies: LoadedPolicy[];
  warnings: PolicyProblem[];
} {
  const result = readPolicies(paths);
  const errors = result.problems.filter((p) => p.severity === "error");
  if (errors.length > 0) throw new PolicyValidationError(result.problems);
  if (result.files.length === 0 && errors.length === 0) {
    throw new PolicyValidationError([
      fileProblem(paths.join(", "), "no policy files (.yaml, .yml, .json) found"),
    ]);
  }
  return { policies: result.policies, warnings: result.problems };
}

/** Parses the text of one policy file (YAML, multi-document YAML, or JSON) into documents. */
export function parsePolicyText(
  text: string,
  file: string,
  policies: LoadedPolicy[],
  problems: PolicyProblem[],
): void {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: false, merge: true });
  if (!Array.isArray(docs)) return; // an empty stream
  let index = 0;
  /** A problem with the YAML itself at `offset` of the text, in the current document. */
  const yamlProblem = (offset: number, what: string, message: string) => {
    const pos = lineCounter.linePos(offset);
    problems.push({
      file,
      line: pos.line,
      column: pos.col,
      path: "",
      severity: "error",
      message: `${what}: ${firstLine(message)}`,
      documentIndex: index,
    });
  };
  for (const doc of docs) {
    if (doc.errors.length > 0) {
      for (const err of doc.errors) yamlProblem(err.pos[0], "not valid YAML/JSON", err.message);
      index++;
      continue;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
    } catch (err) {
      // The library's guard against a few lines of aliases expanding into gigabytes: the file's fault.
      yamlProblem(doc.range[0], "not valid YAML", (err as Error).message);
      index++;
      continue;
    }
    if (value === null || value === undefined) continue; // an empty document, e.g. a trailing ---
    const root = doc.contents as ParsedNode | null;
    const entries = Array.isArray(value) ? value.map((v, i) => [v, [i]] as const) : [[value, []] as const];
    for (const [entry, prefix] of entries) {
      const source: PolicySource = {
        file,
        index,
        locate: (path: DocPath, atKey = false) =>
          locateInNode(root, lineCounter, [...prefix, ...path], atKey),
      };
      const found = validateDocument(entry, source);
      if (found.length > 0) problems.push(...found);
      else policies.push({ document: entry as PolicyDocument, source });
      index++;
    }
  }
}

function validateDocument(value: unknown, source: PolicySource): PolicyProblem[] {
  const validate = policySchemaValidator();
  if (validate(value)) return [];
  return schemaProblems(validate.errors ?? [], source);
}

function fileProblem(file: string, message: string): PolicyProblem {
  return { file, line: 0, column: 0, path: "", severity: "error", message };
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? text;
}

function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith("..") ? file : rel;
}
