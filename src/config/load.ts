import { existsSync, lstatSync, readlinkSync, statSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { parseAllDocuments } from "yaml";
import { InputError } from "../errors.js";
import { type ExceptionConfig, parseExceptionConfig } from "../exceptions/config.js";
import { readText } from "../files.js";
import { channelProblem, parseChannel } from "../notify/channels.js";
import { callerOptions } from "../objects.js";
import { closest } from "../policy/suggest.js";
import { parseRemediationConfig, type RemediationConfig } from "../remediation/config.js";
import { MAX_YAML_ALIASES, NESTED_TOO_DEEP, QUIET_YAML, yamlTooDeep } from "../yaml-value.js";

export const CONFIG_FILE = "costguard.yaml";
export const CONFIG_ENV = "COSTGUARD_CONFIG";
/** The top-level keys of costguard.yaml; `notify` is read by the notification config. */
const SECTIONS = ["policies", "database", "exceptions", "remediation", "people", "notify"];

/**
 * costguard.yaml: settings shared by commands (documented in docs/exceptions.md and
 * docs/remediation.md). Paths in it are relative to the file. Sections other features own are kept
 * as they are written, for them to check.
 */
export interface CostguardConfig {
  /** The file read, or null when none was found (all defaults). */
  file: string | null;
  policies: string[];
  database: string | undefined;
  exceptions: ExceptionConfig;
  remediation: RemediationConfig;
  /** How to reach the people named in exceptions and as owners: name → channel. */
  people: Readonly<Record<string, string>>;
  sections: Readonly<Record<string, unknown>>;
}

/**
 * Which configuration file applies: `--config PATH`, else COSTGUARD_CONFIG (set and not empty), else
 * ./costguard.yaml if it exists; undefined for none. A file named by the flag or the variable must
 * exist and be a file; the error says which named it.
 */
export function configFilePath(options: {
  flag?: string | undefined;
  env: NodeJS.ProcessEnv;
  cwd: string;
}): string | undefined {
  if (options.flag !== undefined && options.flag.trim() === "")
    throw new InputError("--config needs a value: a costguard.yaml file");
  const fromEnv = options.env[CONFIG_ENV]?.trim() ? options.env[CONFIG_ENV] : undefined;
  const named = options.flag ?? fromEnv;
  if (named === undefined) {
    const local = resolve(options.cwd, CONFIG_FILE);
    if (existsSync(local)) return local;
    // A link that leads nowhere is a configuration meant and lost: read as none, the defaults (the
    // default store, no policies) were used without a word.
    const target = linkTarget(local);
    if (target !== undefined)
      throw new InputError(
        `${local} is a link to ${target}, which does not exist: mend or remove the link (without it costguard uses the defaults)`,
      );
    return undefined;
  }
  const source = options.flag !== undefined ? `--config ${named}` : `${CONFIG_ENV}=${named}`;
  const path = resolve(options.cwd, named);
  if (!existsSync(path)) {
    const target = linkTarget(path);
    throw new InputError(
      target === undefined
        ? `${source}: no such configuration file`
        : `${source}: a link to ${target}, which does not exist`,
    );
  }
  if (statSync(path).isDirectory())
    throw new InputError(`${source} is a folder: name its costguard.yaml file`);
  return path;
}

/** Where the link at `path` leads (absolute), when `path` is a link; undefined otherwise. */
function linkTarget(path: string): string | undefined {
  try {
    if (!lstatSync(path).isSymbolicLink()) return undefined;
    return resolve(dirname(path), readlinkSync(path));
  } catch {
    return undefined;
  }
}

/**
 * Finds and reads the configuration: `--config PATH`, else COSTGUARD_CONFIG, else ./costguard.yaml
 * if it exists, else the defaults. A named file that is missing is an error. Without `env` or `cwd`,
 * the process's own.
 */
export function loadConfig(
  options: { flag?: string | undefined; env?: NodeJS.ProcessEnv | undefined; cwd?: string | undefined } = {},
): CostguardConfig {
  const given = callerOptions(options, "loadConfig", "{flag, env, cwd}");
  const path = configFilePath({
    flag: given.flag,
    env: given.env ?? process.env,
    cwd: given.cwd ?? process.cwd(),
  });
  if (path === undefined) return parseConfig({}, null);
  return parseConfig(readConfigFile(path) ?? {}, path);
}

/** The value of the one YAML document in the file at `path` (undefined when it holds none). */
function readConfigFile(path: string): unknown {
  // Merge keys (`<<: *defaults`) as policies, suites, requests and inventories take them.
  const text = readText(path);
  const deep = yamlTooDeep(text);
  if (deep !== undefined) throw new InputError(`${path}:${deep.line}:${deep.column}: ${NESTED_TOO_DEEP}`);
  const docs = parseAllDocuments(text, { ...QUIET_YAML, merge: true });
  const found = Array.isArray(docs) ? docs : [];
  // yaml's own words were "Source contains multiple documents; please use YAML.parseAllDocuments()":
  // a Kubernetes manifest named costguard.yaml, say, read as the configuration.
  if (found.length > 1)
    throw new InputError(
      `${path} holds ${found.length} YAML documents (--- separates them); costguard's configuration is one mapping, in one document`,
    );
  const doc = found[0];
  if (doc === undefined) return undefined;
  try {
    if (doc.errors[0] !== undefined) throw doc.errors[0];
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    throw new InputError(`${path}: not valid YAML: ${(err as Error).message.split("\n")[0]}`);
  }
}

export function parseConfig(value: unknown, file: string | null): CostguardConfig {
  const where = file ?? "configuration";
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new InputError(`${where}: the configuration must be a mapping`);
  const obj = value as Record<string, unknown>;
  // A misspelt section (`polices:`) would otherwise be ignored and its defaults used without a word.
  for (const key of Object.keys(obj))
    if (!SECTIONS.includes(key)) {
      const hint = closest(key, SECTIONS);
      throw new InputError(
        `${where}: unknown key \`${key}\`${hint ? ` (did you mean \`${hint}\`?)` : ""}; the keys are ${SECTIONS.join(", ")}`,
      );
    }
  const base = file ? dirname(file) : process.cwd();
  const at = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  let policies: string[] = [];
  if (obj.policies !== undefined) {
    const list = typeof obj.policies === "string" ? [obj.policies] : obj.policies;
    if (!Array.isArray(list) || list.some((p) => typeof p !== "string"))
      throw new InputError(`${where}: policies must be a path or a list of paths`);
    // An empty path is a slip (an unset variable), not the configuration's own folder.
    if ((list as string[]).some((p) => p.trim() === ""))
      throw new InputError(`${where}: policies holds an empty path: name a policy file or folder`);
    policies = (list as string[]).map(at);
  }
  if (obj.database !== undefined && typeof obj.database !== "string")
    throw new InputError(`${where}: database must be a SQLite path or a postgres:// URL`);
  if (typeof obj.database === "string" && obj.database.trim() === "")
    throw new InputError(
      `${where}: database is empty: give a SQLite path or a postgres:// URL, or leave the key out for ./.costguard/costguard.db`,
    );
  const database = typeof obj.database === "string" ? configDatabase(obj.database, at) : undefined;
  const sections = { ...obj };
  for (const k of ["policies", "database", "exceptions", "remediation", "people"]) delete sections[k];
  try {
    const exceptions = parseExceptionConfig(obj.exceptions);
    const remediation = parseRemediationConfig(obj.remediation);
    const people = parsePeople(obj.people);
    for (const [at, list] of [
      ["exceptions.channels", exceptions.channels],
      ["remediation.channels", remediation.channels],
    ] as const)
      for (const c of list) checkChannel(c, at);
    return Object.freeze({ file, policies, database, exceptions, remediation, people, sections });
  } catch (err) {
    if (err instanceof InputError) throw new InputError(`${where}: ${err.message}`);
    throw err;
  }
}

/**
 * `database:` with a SQLite path in any of the forms the store takes (`PATH`, `sqlite:PATH`,
 * `sqlite://PATH`, `file:PATH`, `file://PATH`) made absolute against the file's folder: a relative
 * `sqlite://data/cg.db` was the working folder's. A postgres:// URL, `:memory:` and what the store
 * refuses (another scheme, no path) are left as written, for it to use or refuse.
 */
function configDatabase(text: string, at: (path: string) => string): string {
  if (/^postgres(ql)?:\/\//i.test(text)) return text;
  const path = text.replace(/^(sqlite|file):(\/\/)?/i, "");
  if (path.trim() === "" || path === ":memory:" || /^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return text;
  return at(path);
}

function checkChannel(text: string, where: string): void {
  if (parseChannel(text) === null)
    throw new InputError(`${where}: '${text}' is not a channel (${channelProblem(text)})`);
}

function parsePeople(value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value))
    throw new InputError("people must be a mapping of names to channels (carol: email:carol@company.com)");
  const out: Record<string, string> = {};
  for (const [name, channel] of Object.entries(value)) {
    if (typeof channel !== "string") throw new InputError(`people.${name} must be a channel`);
    checkChannel(channel, `people.${name}`);
    out[name] = channel;
  }
  return out;
}
