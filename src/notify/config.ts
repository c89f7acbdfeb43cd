import { dirname, isAbsolute, join, resolve } from "node:path";
import { loadConfig } from "../config/load.js";
import { InputError } from "../errors.js";
import { callerOptions } from "../objects.js";
import { redactUrl } from "../store/open.js";
import { channelProblem, parseChannel } from "./channels.js";

/** SMTP server for `email:` channels. */
export interface SmtpConfig {
  host: string;
  port: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  user: string | null;
  pass: string | null;
}

/** Everything notifications need (documented in docs/notifications.md). */
export interface NotifyConfig {
  /**
   * SQLite file of the outbox and the threshold ledger, or `store`: costguard's store (the embedded
   * database, or PostgreSQL with COSTGUARD_DATABASE_URL, shared by every server using it).
   */
  outbox: string;
  slack: {
    /** Incoming-webhook URL per channel (`#finops`), and `default` for channels not listed. */
    webhooks: Readonly<Record<string, string>>;
  };
  email: { smtp: SmtpConfig | null; from: string };
  /** URL per webhook name (`webhook:finops-bot`). */
  webhooks: Readonly<Record<string, string>>;
  /** Where alerts go whose threshold names no channels (the guide's `action: notify` without any). */
  defaultChannels: readonly string[];
  retry: {
    /** First retry delay; each failure doubles it, up to maxDelayMs. Delivery never gives up. */
    initialDelayMs: number;
    maxDelayMs: number;
    /** How long a deliverer holds a claimed message before another may take it. */
    leaseMs: number;
    /** Timeout of one HTTP or SMTP attempt. */
    timeoutMs: number;
    /** Sends per delivery run (a digest is one send). */
    batch: number;
  };
  /** Most remediation notices per digest (one message per channel and kind); 1 sends each alone. */
  digest: number;
}

/** `notify.outbox: store`: the outbox lives in costguard's store (the --database in use). */
export const STORE_OUTBOX = "store";

export const NOTIFY_DEFAULTS: NotifyConfig = {
  outbox: join(".costguard", "notify.db"),
  slack: { webhooks: {} },
  email: { smtp: null, from: "costguard@localhost" },
  webhooks: {},
  defaultChannels: [],
  retry: { initialDelayMs: 30_000, maxDelayMs: 3_600_000, leaseMs: 60_000, timeoutMs: 10_000, batch: 100 },
  digest: 500,
};

export interface NotifyConfigSources {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** `--config FILE`; else COSTGUARD_CONFIG; else ./costguard.yaml when it exists. */
  file?: string | undefined;
  /** Flags win over everything. */
  flags?: { outbox?: string | undefined; smtp?: string | undefined };
}

/**
 * Resolves the notification config: defaults < config file (its `notify:` section) < COSTGUARD_*
 * environment variables < flags. The result is validated and frozen.
 */
export function loadNotifyConfig(given: Partial<NotifyConfigSources> = {}): NotifyConfig {
  const options = callerOptions(given, "loadNotifyConfig", "{cwd, env, file, flags}");
  // Without `cwd` or `env`, the process's own.
  const sources: NotifyConfigSources = {
    ...options,
    cwd: options.cwd ?? process.cwd(),
    env: options.env ?? process.env,
  };
  const { cwd, env } = sources;
  const config: NotifyConfig = structuredClone(NOTIFY_DEFAULTS);
  // The whole file is read and checked, as every other command reads it: a list, or a misspelt
  // `polices:`, passed notify deliver and send without a word while notify list refused it.
  const file = loadConfig({ flag: sources.file, env, cwd });
  if (file.file !== null) applyFile(config, file.file, file.sections.notify);

  // Environment.
  if (env.COSTGUARD_NOTIFY_OUTBOX) config.outbox = env.COSTGUARD_NOTIFY_OUTBOX;
  if (env.COSTGUARD_SMTP_URL) config.email.smtp = parseSmtp(env.COSTGUARD_SMTP_URL, "COSTGUARD_SMTP_URL");
  if (env.COSTGUARD_SMTP_FROM) config.email.from = address(env.COSTGUARD_SMTP_FROM, "COSTGUARD_SMTP_FROM");
  if (env.COSTGUARD_NOTIFY_DEFAULT_CHANNELS)
    config.defaultChannels = env.COSTGUARD_NOTIFY_DEFAULT_CHANNELS.split(",")
      .map((c) => c.trim())
      .filter(Boolean);
  const slack = { ...config.slack.webhooks };
  const hooks = { ...config.webhooks };
  for (const [key, value] of Object.entries(env)) {
    if (!value) continue;
    if (key === "COSTGUARD_SLACK_WEBHOOK_URL") slack.default = value;
    else if (key.startsWith("COSTGUARD_SLACK_WEBHOOK_"))
      slack[`#${envName(key, "COSTGUARD_SLACK_WEBHOOK_")}`] = value;
    else if (key.startsWith("COSTGUARD_WEBHOOK_")) hooks[envName(key, "COSTGUARD_WEBHOOK_")] = value;
  }
  config.slack.webhooks = slack;
  config.webhooks = hooks;

  // Flags.
  if (sources.flags?.outbox) config.outbox = sources.flags.outbox;
  if (sources.flags?.smtp) config.email.smtp = parseSmtp(sources.flags.smtp, "--smtp");

  if (config.outbox.trim() === "")
    throw new InputError("notify.outbox is empty: give a file path or `store`");
  if (config.outbox !== ":memory:" && config.outbox !== STORE_OUTBOX && !isAbsolute(config.outbox))
    config.outbox = resolve(cwd, config.outbox);
  for (const channel of config.defaultChannels) {
    if (parseChannel(channel) === null)
      throw new InputError(`notify.defaultChannels: not a channel: ${channel} (${channelProblem(channel)})`);
  }
  for (const [name, url] of [...Object.entries(config.slack.webhooks), ...Object.entries(config.webhooks)]) {
    // Checked whole here, not at each send: `http://` or a port past 65535 failed every delivery
    // with "Invalid URL", retried for ever.
    if (!isHttpUrl(url))
      throw new InputError(
        `notify: the URL for ${name} must be an http(s) URL with a host, got ${redactUrl(url)}`,
      );
  }
  return deepFreeze(config);
}

/** `COSTGUARD_WEBHOOK_FINOPS_BOT` → `finops-bot` (channel names are matched the same way). */
function envName(key: string, prefix: string): string {
  return key.slice(prefix.length).toLowerCase().replaceAll("_", "-");
}

/** The `notify:` section (`notify`) of the configuration file `path` over the defaults. */
function applyFile(config: NotifyConfig, path: string, notify: unknown): void {
  if (notify === undefined || notify === null) return;
  const n = object(notify, `${path}: notify`);
  onlyKeys(n, ["outbox", "slack", "email", "webhooks", "defaultChannels", "retry", "digest"], path, "notify");
  if (n.outbox !== undefined) {
    const outbox = string(n.outbox, `${path}: notify.outbox`);
    // A path in the file is relative to the file, as `database:` is: run from another folder (cron),
    // the outbox was another file there, and what waited in the first was never delivered.
    config.outbox =
      outbox === STORE_OUTBOX || outbox === ":memory:" || isAbsolute(outbox)
        ? outbox
        : resolve(dirname(path), outbox);
  }
  if (n.slack !== undefined) {
    const s = object(n.slack, `${path}: notify.slack`);
    onlyKeys(s, ["webhooks"], path, "notify.slack");
    config.slack.webhooks = strings(s.webhooks ?? {}, `${path}: notify.slack.webhooks`);
  }
  if (n.email !== undefined) {
    const e = object(n.email, `${path}: notify.email`);
    onlyKeys(e, ["smtp", "from"], path, "notify.email");
    if (e.smtp !== undefined) {
      config.email.smtp =
        typeof e.smtp === "string"
          ? parseSmtp(e.smtp, `${path}: notify.email.smtp`)
          : smtpObject(e.smtp, path);
    }
    if (e.from !== undefined) config.email.from = address(e.from, `${path}: notify.email.from`);
  }
  if (n.webhooks !== undefined) config.webhooks = strings(n.webhooks, `${path}: notify.webhooks`);
  if (n.defaultChannels !== undefined) {
    const list = n.defaultChannels;
    if (!Array.isArray(list) || list.some((c) => typeof c !== "string"))
      throw new InputError(`${path}: notify.defaultChannels must be a list of channels`);
    config.defaultChannels = list as string[];
  }
  if (n.digest !== undefined) {
    if (typeof n.digest !== "number" || !Number.isInteger(n.digest) || n.digest < 1 || n.digest > 10_000)
      throw new InputError(`${path}: notify.digest must be a whole number from 1 to 10000 (1: no digests)`);
    config.digest = n.digest;
  }
  if (n.retry !== undefined) {
    const r = object(n.retry, `${path}: notify.retry`);
    onlyKeys(
      r,
      ["initialDelaySeconds", "maxDelaySeconds", "leaseSeconds", "timeoutSeconds"],
      path,
      "notify.retry",
    );
    const seconds = (k: string) => {
      const v = r[k];
      if (v === undefined) return undefined;
      if (typeof v !== "number" || !(v > 0) || v > MAX_RETRY_SECONDS)
        throw new InputError(
          `${path}: notify.retry.${k} must be a positive number of seconds, at most ${MAX_RETRY_SECONDS} (a week)`,
        );
      return v * 1000;
    };
    config.retry.initialDelayMs = seconds("initialDelaySeconds") ?? config.retry.initialDelayMs;
    config.retry.maxDelayMs = seconds("maxDelaySeconds") ?? config.retry.maxDelayMs;
    config.retry.leaseMs = seconds("leaseSeconds") ?? config.retry.leaseMs;
    config.retry.timeoutMs = seconds("timeoutSeconds") ?? config.retry.timeoutMs;
    // A lease that ends while its attempt may still run lets a second deliverer send the message too.
    if (config.retry.leaseMs <= config.retry.timeoutMs)
      throw new InputError(
        `${path}: notify.retry.leaseSeconds (${config.retry.leaseMs / 1000}) must be longer than timeoutSeconds (${config.retry.timeoutMs / 1000}): a deliverer holds a message longer than one attempt may take`,
      );
  }
}

/** The longest retry delay, lease or attempt timeout (Node's timers end at ~24.8 days). */
const MAX_RETRY_SECONDS = 604_800;

/** `smtp://user:pass@host:587` or `smtps://host` (TLS from the start, port 465 by default). */
export function parseSmtp(text: string, where: string): SmtpConfig {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InputError(`${where}: not an smtp:// or smtps:// URL`);
  }
  if (url.protocol !== "smtp:" && url.protocol !== "smtps:")
    throw new InputError(`${where}: not an smtp:// or smtps:// URL`);
  if (url.hostname === "") throw new InputError(`${where}: names no server (smtp://HOST:PORT)`);
  const secure = url.protocol === "smtps:";
  return {
    host: url.hostname,
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    user: url.username ? decodeURIComponent(url.username) : null,
    pass: url.password ? decodeURIComponent(url.password) : null,
  };
}

function smtpObject(value: unknown, path: string): SmtpConfig {
  const o = object(value, `${path}: notify.email.smtp`);
  onlyKeys(o, ["host", "port", "secure", "user", "pass"], path, "notify.email.smtp");
  const port = o.port === undefined ? 587 : o.port;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new InputError(`${path}: notify.email.smtp.port must be a port number (1 to 65535)`);
  return {
    host: string(o.host, `${path}: notify.email.smtp.host`),
    port,
    secure: o.secure === true,
    user: o.user === undefined ? null : string(o.user, `${path}: notify.email.smtp.user`),
    pass: o.pass === undefined ? null : string(o.pass, `${path}: notify.email.smtp.pass`),
  };
}

/** A key the section does not know is a mistake (`slack: {webhook: ...}` sent nothing, said nothing). */
function onlyKeys(o: Record<string, unknown>, known: readonly string[], path: string, section: string): void {
  for (const key of Object.keys(o))
    if (!known.includes(key))
      throw new InputError(`${path}: unknown key ${section}.${key} (known: ${known.join(", ")})`);
}

/** A sender address, `finops@example.com` or `FinOps <finops@example.com>`. */
function address(v: unknown, where: string): string {
  const text = string(v, where);
  if (!/^(?:[^<>@]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/.test(text.trim()))
    throw new InputError(
      `${where}: not an email address (finops@example.com or "FinOps <finops@example.com>"), got ${JSON.stringify(text)}`,
    );
  return text;
}

function object(v: unknown, where: string): Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v))
    throw new InputError(`${where} must be a mapping`);
  return v as Record<string, unknown>;
}

function string(v: unknown, where: string): string {
  if (typeof v !== "string" || v === "") throw new InputError(`${where} must be a non-empty string`);
  return v;
}

function strings(v: unknown, where: string): Record<string, string> {
  const o = object(v, where);
  for (const [k, x] of Object.entries(o)) string(x, `${where}.${k}`);
  return o as Record<string, string>;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object") {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
}
