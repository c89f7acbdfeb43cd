import { statSync } from "node:fs";
import { extname, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { LineCounter, type ParsedNode, parseAllDocuments } from "yaml";
import { printable } from "../cli/table.js";
import { InputError, type PolicyProblem, PolicyValidationError } from "../errors.js";
import { NotUtf8TextError, readText, realPath, walkFolder } from "../files.js";
import {
  COLLECTION_KEY,
  collectionKeyAt,
  MAX_YAML_ALIASES,
  NESTED_TOO_DEEP,
  yamlTooDeep,
} from "../yaml-value.js";
import { checkPolicySet } from "./check-set.js";
import { policySchemaValidator } from "./schema.js";
import { schemaProblems } from "./schema-problems.js";
import { type DocPath, locateInNode } from "./source-map.js";
import { API_VERSIONS, type LoadedPolicy, type PolicyDocument, type PolicySource } from "./types.js";
import { kindOf, markValidated } from "./validated.js";

/** The file names a policy folder is read for (any case). */
export const POLICY_EXTENSIONS: ReadonlySet<string> = new Set([".yaml", ".yml", ".json"]);
/** Test suites beside policies (any case): not policies, found by `costguard test`. */
export const TEST_SUITE = /\.test\.(ya?ml|json)$/i;

export interface LoadResult {
  policies: LoadedPolicy[];
  /** Errors and warnings; `policies` holds only documents without errors. */
  problems: PolicyProblem[];
  files: string[];
}

export interface PolicyFileOptions {
  /**
   * A file a folder's walk passes over: the configuration in use (costguard.yaml), which `policies: .`
   * read as a policy, and refused. Named as a path itself it is read, as any file named is.
   */
  skip?: string | undefined;
}

/**
 * Lists the policy files under the given paths: files as named, folders recursively (sorted,
 * skipping hidden entries, node_modules, `*.test.yaml` suites and `options.skip`), through linked
 * folders too. A link back to a folder being read is a warning in `problems` (its files are read from
 * there).
 */
export function listPolicyFiles(
  paths: PolicyPaths,
  problems?: PolicyProblem[],
  options: PolicyFileOptions = {},
): string[] {
  const skip = options.skip === undefined ? undefined : realPath(options.skip);
  const out: string[] = [];
  for (const path of pathList(paths)) {
    let stat: ReturnType<typeof statSync>;
    try {
      stat = statSync(path);
    } catch {
      const problem = fileProblem(path, "no such file or folder");
      if (!problems) throw new PolicyValidationError([problem]);
      problems.push(problem);
      continue;
    }
    if (stat.isDirectory())
      walkFolder(
        path,
        (file, name) => {
          // In any case: `limits.YAML` is a policy file (skipped, its guardrails were silently absent).
          if (!POLICY_EXTENSIONS.has(extname(name).toLowerCase()) || TEST_SUITE.test(name)) return;
          if (skip === undefined || realPath(file) !== skip) out.push(file);
        },
        {
          onCycle: ({ link, target }) =>
            problems?.push({ ...fileProblem(displayPath(link), cycleText(target)), severity: "warning" }),
        },
      );
    else out.push(path);
  }
  // A file named twice (a folder and a file in it, overlapping globs, a symlink) is read once: read
  // twice, each of its policies was a "duplicate" of itself.
  const seen = new Set<string>();
  return out.filter((file) => {
    const real = realPath(file);
    if (seen.has(real)) return false;
    seen.add(real);
    return true;
  });
}

/** Where policies are: a file or folder path or file: URL, or a list of them. */
export type PolicyPaths = string | URL | readonly (string | URL)[];

/**
 * The paths a caller gave, as a list of strings: one path alone is a list of one (iterated, a string
 * was read as one path per character, `/` among them), a file: URL is its path.
 */
function pathList(paths: unknown): string[] {
  const list: unknown[] = typeof paths === "string" || paths instanceof URL ? [paths] : (paths as unknown[]);
  if (!Array.isArray(list))
    throw new InputError(
      `policy paths must be a path or a list of paths (files or folders), got ${kindOf(paths)}`,
    );
  return list.map((p, i) => {
    if (typeof p === "string") return p;
    if (p instanceof URL) {
      if (p.protocol === "file:") return fileURLToPath(p);
      throw new InputError(`policy path ${i}: ${p.href} is not a file: URL; policies are read from files`);
    }
    throw new InputError(`policy path ${i} must be a path (a string or a file: URL), got ${kindOf(p)}`);
  });
}

/** A link to a folder it is inside of, as a warning says it. */
export function cycleText(target: string): string {
  return `leads back to ${displayPath(target)}, a folder it is inside of (a link loops): not followed, what is there is read once already`;
}

/** Reads, parses and validates policy files; never throws for problems inside documents. */
export function readPolicies(paths: PolicyPaths, options: PolicyFileOptions = {}): LoadResult {
  const problems: PolicyProblem[] = [];
  const files = listPolicyFiles(paths, problems, options);
  const policies: LoadedPolicy[] = [];
  const empty: string[] = [];
  const skipped = new Set<string>();
  for (const file of files) {
    const display = displayPath(file);
    let text: string;
    try {
      text = readText(file);
    } catch (err) {
      problems.push(
        err instanceof NotUtf8TextError
          ? { ...fileProblem(display, NotUtf8TextError.REASON), line: err.line, column: 1 }
          : fileProblem(display, `cannot read file: ${(err as Error).message}`),
      );
      continue;
    }
    const before = [policies.length, problems.length];
    parsePolicyText(text, display, policies, problems);
    const added = problems.slice(before[1]);
    if (policies.length === before[0] && !added.some((p) => p.severity === "error")) {
      empty.push(display);
      // Each document skipped has said so already.
      if (added.length > 0) skipped.add(display);
    }
  }
  // Files that hold no policy (empty, only comments, or only other kinds of documents): beside others
  // a warning each; when none holds one, the set would enforce nothing (every request allowed, no
  // finding) and is an error.
  if (empty.length > 0 && empty.length === files.length)
    problems.push(
      fileProblem(
        empty.join(", "),
        `no policy in ${empty.length === 1 ? "it" : "any of them"} (empty, only comments or only other kinds of documents): nothing would be enforced`,
      ),
    );
  else
    for (const file of empty.filter((f) => !skipped.has(f)))
      problems.push({
        ...fileProblem(file, "holds no policy (it is empty, only comments or only other kinds of documents)"),
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
export function loadPolicies(
  paths: PolicyPaths,
  options: PolicyFileOptions = {},
): {
  policies: LoadedPolicy[];
  warnings: PolicyProblem[];
  /** Every policy file read, as the policies' sources name them, those that hold none too. */
  files: string[];
} {
  const list = pathList(paths);
  const result = readPolicies(list, options);
  const errors = result.problems.filter((p) => p.severity === "error");
  if (errors.length > 0) throw new PolicyValidationError(result.problems);
  if (result.files.length === 0 && errors.length === 0) {
    throw new PolicyValidationError([
      fileProblem(list.join(", "), "no policy files (.yaml, .yml, .json) found"),
    ]);
  }
  return { policies: result.policies, warnings: result.problems, files: result.files.map(displayPath) };
}

/** Parses the text of one policy file (YAML, multi-document YAML, or JSON) into documents. */
export function parsePolicyText(
  text: string,
  file: string,
  policies: LoadedPolicy[],
  problems: PolicyProblem[],
): void {
  const deep = yamlTooDeep(text);
  if (deep !== undefined) {
    problems.push({ file, ...deep, path: "", severity: "error", message: NESTED_TOO_DEEP });
    return;
  }
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
    const complexKey = collectionKeyAt(doc);
    if (complexKey !== undefined) {
      yamlProblem(complexKey, "not valid in a policy", COLLECTION_KEY);
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
      const other = otherKind(entry);
      if (other !== undefined) {
        const pos = source.locate([]);
        problems.push({
          file,
          line: pos.line,
          column: pos.column,
          path: `/${prefix.join("/")}`,
          severity: "warning",
          message: `not a costguard policy (${other}): skipped`,
          documentIndex: index,
        });
        index++;
        continue;
      }
      const found = validateDocument(entry, source);
      if (found.length > 0) problems.push(...found);
      else {
        markValidated(entry as object);
        policies.push({ document: entry as PolicyDocument, source });
      }
      index++;
    }
  }
}

/** API groups whose documents are costguard's (the guide's alias included). */
const OWN_GROUPS = new Set(API_VERSIONS.map((v) => v.slice(0, v.indexOf("/"))));

/**
 * What a document is when it is plainly something else — another API's kind, as a Kubernetes bundle
 * holds beside CostPolicy resources (`apiVersion: v1, kind: Namespace`) — as "apiVersion: v1, kind:
 * Namespace"; undefined for a costguard document or one that may be meant as one (no apiVersion or
 * kind, costguard's group, or the kind CostPolicy: a misspelling there is an error, not a skip).
 */
function otherKind(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
  const { apiVersion, kind } = value as { apiVersion?: unknown; kind?: unknown };
  if (typeof apiVersion !== "string" || typeof kind !== "string" || kind === "" || kind === "CostPolicy")
    return undefined;
  const slash = apiVersion.indexOf("/");
  const group = (slash < 0 ? apiVersion : apiVersion.slice(0, slash)).toLowerCase();
  if (OWN_GROUPS.has(group)) return undefined;
  return `apiVersion: ${shown(apiVersion)}, kind: ${shown(kind)}`;
}

/** Text from a document, for a message: printable, cut at 60 characters. */
function shown(text: string): string {
  const cut = text.length > 60 ? `${text.slice(0, 59)}…` : text;
  return printable(cut);
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
