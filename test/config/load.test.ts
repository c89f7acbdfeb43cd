import assert from "node:assert/strict";
import { cpSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { configFilePath, loadConfig } from "../../src/config/load.js";
import { loadNotifyConfig } from "../../src/notify/config.js";
import { listPolicyFiles, loadPolicies } from "../../src/policy/load.js";
import { parseRemediationConfig } from "../../src/remediation/config.js";
import { createPolicyReloader } from "../../src/server/policy-reloader.js";
import { DAY_MS, HOUR_MS } from "../../src/time/duration.js";

/** A folder of its own holding `text` as its costguard.yaml. */
function configFolder(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "costguard-config-load-"));
  writeFileSync(join(dir, "costguard.yaml"), text);
  return dir;
}

const load = (dir: string) => {
  loadConfig({ env: {}, cwd: dir });
  loadNotifyConfig({ env: {}, cwd: dir });
};

test("every numeric setting refuses NaN and infinity (.nan disabled the share cap: 'cap NaN')", () => {
  for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
    assert.throws(
      () => parseRemediationConfig({ safety: { maxActionsPercent: value } }),
      /^InputError: remediation\.safety\.maxActionsPercent must be a number from 0 to 100$/,
      String(value),
    );
  const settings = [
    "remediation: {safety: {maxActionsPercent: V}}",
    "remediation: {safety: {maxActions: V}}",
    "remediation: {maxAttempts: V}",
    "remediation: {grace: {medium: V}}",
    "remediation: {finalWarning: {high: V}}",
    "exceptions: {reviewIntervalDays: V}",
    "exceptions: {expiringWithinDays: V}",
    "notify: {digest: V}",
    "notify: {retry: {initialDelaySeconds: V}}",
    "notify: {retry: {maxDelaySeconds: V}}",
    "notify: {retry: {leaseSeconds: V}}",
    "notify: {retry: {timeoutSeconds: V}}",
    "notify: {email: {smtp: {host: mail.example.com, port: V}}}",
  ];
  for (const setting of settings)
    for (const value of [".nan", ".inf", "-.inf"]) {
      const text = `${setting.replace("V", value)}\n`;
      assert.throws(() => load(configFolder(text)), /InputError/, text);
    }
});

test("notify.outbox: a relative path is relative to the configuration file, as database: is", () => {
  const dir = configFolder("notify: {outbox: data/notify.db}\ndatabase: data/cg.db\n");
  const elsewhere = mkdtempSync(join(tmpdir(), "costguard-config-cwd-"));
  const file = join(dir, "costguard.yaml");
  const env = { COSTGUARD_CONFIG: file };
  assert.equal(loadNotifyConfig({ env, cwd: elsewhere }).outbox, join(dir, "data", "notify.db"));
  assert.equal(loadConfig({ env, cwd: elsewhere }).database, join(dir, "data", "cg.db"));
  // From the environment or a flag, a path is the working folder's, as before; `store` is no path.
  assert.equal(
    loadNotifyConfig({ env: { ...env, COSTGUARD_NOTIFY_OUTBOX: "o.db" }, cwd: elsewhere }).outbox,
    join(elsewhere, "o.db"),
  );
  assert.equal(
    loadNotifyConfig({ env, cwd: elsewhere, flags: { outbox: "f.db" } }).outbox,
    join(elsewhere, "f.db"),
  );
  writeFileSync(file, "notify: {outbox: store}\n");
  assert.equal(loadNotifyConfig({ env, cwd: elsewhere }).outbox, "store");
  writeFileSync(file, "notify: {outbox: /var/lib/costguard/notify.db}\n");
  assert.equal(loadNotifyConfig({ env, cwd: elsewhere }).outbox, "/var/lib/costguard/notify.db");
});

test("database: a SQLite path in any form is relative to the configuration file; a postgres:// URL is as written", () => {
  const dir = configFolder("");
  const file = join(dir, "costguard.yaml");
  const elsewhere = mkdtempSync(join(tmpdir(), "costguard-config-cwd-"));
  const database = (value: string) => {
    writeFileSync(file, `database: ${JSON.stringify(value)}\n`);
    return loadConfig({ env: { COSTGUARD_CONFIG: file }, cwd: elsewhere }).database;
  };
  const mine = join(dir, "data", "cg.db");
  // sqlite:// and file:// were skipped as URLs, then had their scheme taken off by the store: the
  // working folder's data/cg.db.
  for (const form of [
    "data/cg.db",
    "./data/cg.db",
    "sqlite:data/cg.db",
    "sqlite://data/cg.db",
    "file:data/cg.db",
    "file://data/cg.db",
    "SQLITE://data/cg.db",
  ])
    assert.equal(database(form), mine, form);
  for (const form of ["sqlite:///srv/cg.db", "file:///srv/cg.db", "/srv/cg.db"])
    assert.equal(database(form), "/srv/cg.db", form);
  for (const form of [
    "postgres://u@db:5432/cg",
    "postgresql://u:p@db/cg?sslmode=require",
    ":memory:",
    "sqlite::memory:",
  ])
    assert.equal(database(form), form, form);
});

test("merge keys (<<: *anchor) are taken, as in policies ('remediation.finalWarning.<< is not a known setting')", () => {
  const text = [
    "remediation:",
    "  grace: &g {high: 12h, medium: 2d, low: 10d}",
    "  finalWarning:",
    "    <<: *g",
    "    medium: 1d",
    "notify:",
    "  retry: {<<: {initialDelaySeconds: 5}, maxDelaySeconds: 60}",
    "",
  ].join("\n");
  const dir = configFolder(text);
  const { remediation } = loadConfig({ env: {}, cwd: dir });
  assert.deepEqual(remediation.finalWarning, {
    critical: 0,
    high: 12 * HOUR_MS,
    medium: DAY_MS,
    low: 10 * DAY_MS,
  });
  assert.equal(loadNotifyConfig({ env: {}, cwd: dir }).retry.initialDelayMs, 5000);
});

test("a ./costguard.yaml link that leads nowhere is an error naming the link and its target, not no configuration", () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-config-link-"));
  symlinkSync("shared/costguard.yaml", join(dir, "costguard.yaml"));
  const message = `${join(dir, "costguard.yaml")} is a link to ${join(dir, "shared", "costguard.yaml")}, which does not exist: mend or remove the link`;
  // It was read as no configuration at all: scan used the default store.
  for (const read of [
    () => loadConfig({ env: {}, cwd: dir }),
    () => loadNotifyConfig({ env: {}, cwd: dir }),
    () => configFilePath({ env: {}, cwd: dir }),
  ])
    assert.throws(read, (err: Error) => err.name === "InputError" && err.message.startsWith(message));
  // Mended, the link is the configuration.
  mkdirSync(join(dir, "shared"));
  writeFileSync(join(dir, "shared", "costguard.yaml"), "database: ./mine.db\n");
  assert.equal(configFilePath({ env: {}, cwd: dir }), join(dir, "costguard.yaml"));
});

test("a configuration named by --config or COSTGUARD_CONFIG that is a link to nowhere names its target", () => {
  const dir = mkdtempSync(join(tmpdir(), "costguard-config-named-link-"));
  symlinkSync("mounted/costguard.yaml", join(dir, "team.yaml"));
  const target = join(dir, "mounted", "costguard.yaml");
  assert.throws(
    () => configFilePath({ flag: "team.yaml", env: {}, cwd: dir }),
    (err: Error) =>
      err.name === "InputError" &&
      err.message === `--config team.yaml: a link to ${target}, which does not exist`,
  );
  assert.throws(
    () => configFilePath({ env: { COSTGUARD_CONFIG: "team.yaml" }, cwd: dir }),
    (err: Error) => err.message === `COSTGUARD_CONFIG=team.yaml: a link to ${target}, which does not exist`,
  );
  // A name that is nothing at all is still said so.
  assert.throws(
    () => configFilePath({ flag: "nope.yaml", env: {}, cwd: dir }),
    (err: Error) => err.message === "--config nope.yaml: no such configuration file",
  );
});

test("a configuration of several YAML documents is refused in words, not yaml's 'please use parseAllDocuments()'", () => {
  for (const [text, n] of [
    ["database: a.db\n---\ndatabase: b.db\n", 2],
    ["apiVersion: v1\nkind: Namespace\n---\napiVersion: v1\nkind: Service\n---\n", 3],
  ] as const) {
    const dir = configFolder(text);
    const message = `${join(dir, "costguard.yaml")} holds ${n} YAML documents (--- separates them); costguard's configuration is one mapping, in one document`;
    for (const read of [
      () => loadConfig({ env: {}, cwd: dir }),
      () => loadNotifyConfig({ env: {}, cwd: dir }),
    ])
      assert.throws(read, (err: Error) => err.name === "InputError" && err.message === message, text);
  }
  // One document, opened with --- or not, and none at all, are as before.
  assert.equal(
    loadConfig({ env: {}, cwd: configFolder("---\ndatabase: /srv/a.db\n") }).database,
    "/srv/a.db",
  );
  assert.equal(loadConfig({ env: {}, cwd: configFolder("# nothing yet\n") }).database, undefined);
  assert.throws(
    () => loadConfig({ env: {}, cwd: configFolder("database: [\n") }),
    /costguard\.yaml: not valid YAML: Flow sequence in block collection must be sufficiently indented/,
  );
});

test("a policy folder's walk passes over the file given as skip (the configuration in use), the server's reloads too", () => {
  const dir = configFolder("policies: .\n");
  cpSync(resolve("examples/policies/resource-limits-policy.yaml"), join(dir, "limits.yaml"));
  const skip = { skip: join(dir, "costguard.yaml") };
  assert.deepEqual(listPolicyFiles([dir], [], skip), [join(dir, "limits.yaml")]);
  assert.deepEqual(
    loadPolicies([dir], skip).policies.map((p) => p.document.metadata.name),
    ["resource-limits"],
  );
  assert.equal(createPolicyReloader({ paths: [dir], policyFiles: skip }).current().policies, 1);
  // Without it, or named as a file, it is read (and is no policy).
  assert.deepEqual(listPolicyFiles([dir]), [join(dir, "costguard.yaml"), join(dir, "limits.yaml")]);
  assert.deepEqual(listPolicyFiles([join(dir, "costguard.yaml")], [], skip), [join(dir, "costguard.yaml")]);
});

test("a configuration that is a link: its paths are relative to the link's folder, as the path is given", () => {
  const shared = configFolder("database: data/cg.db\npolicies: policies\nnotify: {outbox: data/notify.db}\n");
  const project = mkdtempSync(join(tmpdir(), "costguard-config-project-"));
  symlinkSync(join(shared, "costguard.yaml"), join(project, "costguard.yaml"));
  const config = loadConfig({ env: {}, cwd: project });
  assert.equal(config.file, join(project, "costguard.yaml"));
  assert.equal(config.database, join(project, "data", "cg.db"));
  assert.deepEqual(config.policies, [join(project, "policies")]);
  assert.equal(loadNotifyConfig({ env: {}, cwd: project }).outbox, join(project, "data", "notify.db"));
});
