import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, test } from "node:test";
import { migrate } from "../../src/store/migrate.js";
import { MIGRATIONS } from "../../src/store/migrations.js";
import { openStore } from "../../src/store/open.js";
import { openPostgresDb } from "../../src/store/postgres-db.js";
import { openSqliteDb } from "../../src/store/sqlite-db.js";
import type { Store } from "../../src/store/store.js";
import { type CliRun, cli } from "../helpers/cli.js";
import {
  createTestDatabase,
  POSTGRES_ADMIN_URL,
  SHARED_DATABASE,
  type TestDatabase,
} from "../helpers/databases.js";

const BIN = resolve("bin/costguard.js");

/** `text` matched as it is in a RegExp. */
const literally = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/**
 * Another user to read as: root's file permissions are no bar, so as root the child runs as nobody;
 * any other user is barred by them, and runs it as itself.
 */
const reader = (() => {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(spawnSync("id", [flag, "nobody"], { encoding: "utf8" }).stdout.trim());
  return { uid: id("-u"), gid: id("-g") };
})();

/** The built costguard (npm test builds dist/ first), run as `reader`. */
function costguardAs(args: readonly string[], cwd: string): CliRun {
  const run = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "", FORCE_COLOR: "0", COSTGUARD_DATABASE_URL: "" },
    ...reader,
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const why = Number.isNaN(reader.uid)
  ? "no user nobody to read as"
  : costguardAs(["--version"], "/").status !== 0
    ? "the user nobody cannot run costguard from this checkout"
    : undefined;

describe("a SQLite store this user may not write", { skip: why ?? false }, () => {
  let base: string;
  let folder: string;
  let file: string;
  /** What the folder holds, to see that reading left nothing beside the store. */
  const listing = () => readdirSync(folder).sort();

  before(async () => {
    base = mkdtempSync(join(tmpdir(), "costguard-read-only-"));
    chmodSync(base, 0o755);
    folder = join(base, "store");
    mkdirSync(folder);
    file = join(folder, "costguard.db");
    const made = await cli(["scan", "-p", "examples/policies", "-i", "sandbox", "--database", file], {
      cwd: process.cwd(),
    });
    assert.equal(made.code, 0, made.stderr);
  });
  after(() => {
    if (!base) return;
    chmodSync(folder, 0o755); // for a user other than root to empty it
    rmSync(base, { recursive: true, force: true });
  });

  const reads = (fingerprint: string) => [
    ["findings", "list"],
    ["findings", "summary"],
    ["findings", "show", fingerprint],
    ["scans", "list"],
    ["scans", "show"],
    ["store", "info"],
    ["audit", "list"],
    ["exceptions", "list"],
  ];

  /** Every command that only reads, run on the store: each reads it, and none leaves a file beside it. */
  const readsAll = () => {
    const before = listing();
    const listed = costguardAs(["findings", "list", "--format", "json", "--database", file], base);
    assert.equal(listed.status, 0, listed.stderr);
    const { findings } = JSON.parse(listed.stdout) as { findings: { fingerprint: string }[] };
    assert.ok(findings.length > 0);
    for (const args of reads(findings[0]!.fingerprint)) {
      const run = costguardAs([...args, "--database", file], base);
      assert.equal(run.status, 0, `${args.join(" ")}: ${run.stderr}`);
      assert.equal(run.stderr, "", args.join(" "));
    }
    assert.deepEqual(listing(), before, "nothing made beside the store (-wal, -shm, lock files)");
  };

  /** An audit entry written by `writer`, which a reader must find (in the write-ahead log while it is open). */
  const approvalLogged = (writer: Store, id: string) =>
    writer.audit.append({
      at: new Date().toISOString(),
      actor: "carol",
      action: "exception.approved",
      subject_type: "exception",
      subject_id: id,
      details: {},
    });

  /** A symlink to the store from a folder anyone may write (removed by the test that made it). */
  const linkFromOpenFolder = () => {
    const links = join(base, "links");
    mkdirSync(links, { mode: 0o777 });
    chmodSync(links, 0o777);
    const link = join(links, "store.db");
    symlinkSync(file, link);
    return { links, link };
  };

  test("commands that only read read another user's store in a folder they may not write", () => {
    chmodSync(file, 0o644);
    chmodSync(folder, 0o555);
    readsAll();
  });

  test("...and a file they may not write in a folder they may, leaving no -wal or -shm of theirs", () => {
    chmodSync(file, 0o444);
    chmodSync(folder, 0o777);
    readsAll();
  });

  test("...and what a connection open on it has in its write-ahead log", async () => {
    chmodSync(file, 0o644);
    chmodSync(folder, 0o755);
    const writer = await openStore({ kind: "sqlite", path: file });
    try {
      await approvalLogged(writer, "exc-in-the-log");
      assert.ok(listing().includes("costguard.db-wal"), "the entry is in the write-ahead log");
      const run = costguardAs(["audit", "list", "--format", "json", "--database", file], base);
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /exc-in-the-log/);
    } finally {
      await writer.close();
    }
  });

  test("...and through a symlink to it, what a connection has in the write-ahead log beside the real file", async () => {
    chmodSync(file, 0o644);
    chmodSync(folder, 0o755);
    const { links, link } = linkFromOpenFolder();
    const writer = await openStore({ kind: "sqlite", path: file });
    try {
      await approvalLogged(writer, "exc-through-a-link");
      const run = costguardAs(["audit", "list", "--format", "json", "--database", link], base);
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /exc-through-a-link/);
    } finally {
      await writer.close();
      rmSync(links, { recursive: true, force: true });
    }
  });

  test("a store named through a symlink from a folder this user may write is read-only when its real folder is not", () => {
    chmodSync(file, 0o666);
    chmodSync(folder, 0o555);
    const { links, link } = linkFromOpenFolder();
    try {
      const bytes = readFileSync(file);
      const run = costguardAs(["store", "compact", "--database", link], base);
      assert.equal(run.status, 2, run.stderr);
      assert.match(
        run.stderr,
        new RegExp(
          `^costguard: cannot write to the store ${literally(link)}: it is read-only here \\(this user may not write to its folder ${literally(folder)},`,
        ),
      );
      assert.deepEqual(readFileSync(file), bytes);
      assert.deepEqual(readdirSync(links), ["store.db"], "nothing made beside the link");
    } finally {
      chmodSync(file, 0o644);
      rmSync(links, { recursive: true, force: true });
    }
  });

  test("commands that write say it is read-only, naming it, and change nothing", () => {
    chmodSync(file, 0o644);
    chmodSync(folder, 0o555);
    const bytes = readFileSync(file);
    for (const args of [
      ["findings", "prune", "--resolved-before", "1d"],
      ["findings", "prune", "--resolved-before", "1d", "--dry-run"],
      ["store", "compact"],
      ["scan", "-p", resolve("examples/policies"), "-i", "sandbox"],
    ]) {
      const run = costguardAs([...args, "--database", file], base);
      assert.equal(run.status, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(
        run.stderr,
        new RegExp(
          `^costguard: cannot write to the store ${literally(file)}: it is read-only here \\(this user may not write to (the file|its folder)[^)]*\\); run this as a user who may write to the store and its folder`,
        ),
        args.join(" "),
      );
    }
    assert.deepEqual(readFileSync(file), bytes);
  });

  test("a store a migration behind is not read but said to need one writable open, naming the command", async () => {
    const old = join(folder, "old.db");
    chmodSync(folder, 0o755);
    const db = openSqliteDb(old);
    await migrate(db, MIGRATIONS.slice(0, -1), new Date());
    await db.close();
    chmodSync(old, 0o444);
    const run = costguardAs(["findings", "list", "--database", old], base);
    assert.equal(run.status, 2, run.stderr);
    assert.equal(
      run.stderr,
      `costguard: the store ${old} is a migration behind this costguard (${MIGRATIONS.at(-1)!.id}): upgrading it writes to it, which this user may not (this user may not write to the file); run costguard store info on it once as a user who may write to it, which upgrades it, then read it again\n`,
    );
  });
});

describe("a PostgreSQL store this user may only read", {
  skip: SHARED_DATABASE !== "postgres" && "PostgreSQL unreachable (outside CI)",
}, () => {
  const role = `costguard_reader_${randomBytes(4).toString("hex")}`;
  let current: TestDatabase;
  let old: TestDatabase;
  /** The database's URL as the role that may only read it. */
  const asReader = (db: TestDatabase) => {
    const url = new URL(db.url);
    url.username = role;
    return url.toString();
  };
  const grantReading = async (db: TestDatabase) => {
    const admin = openPostgresDb(db.url);
    try {
      await admin.exec(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
    } finally {
      await admin.close();
    }
  };

  before(async () => {
    const admin = openPostgresDb(POSTGRES_ADMIN_URL);
    try {
      await admin.exec(`CREATE ROLE ${role} LOGIN`);
    } finally {
      await admin.close();
    }
    current = await createTestDatabase("postgres");
    const made = await cli(["scan", "-p", "examples/policies", "-i", "sandbox", "--database", current.url], {
      cwd: process.cwd(),
    });
    assert.equal(made.code, 0, made.stderr);
    await grantReading(current);
    old = await createTestDatabase("postgres");
    const db = openPostgresDb(old.url);
    try {
      await migrate(db, MIGRATIONS.slice(0, -1), new Date());
    } finally {
      await db.close();
    }
    await grantReading(old);
  });
  after(async () => {
    await current?.drop();
    await old?.drop();
    const admin = openPostgresDb(POSTGRES_ADMIN_URL);
    try {
      await admin.exec(`DROP ROLE IF EXISTS ${role}`);
    } finally {
      await admin.close();
    }
  });

  test("commands that only read read it", async () => {
    for (const args of [
      ["findings", "list"],
      ["scans", "list"],
      ["store", "info"],
      ["audit", "list"],
    ]) {
      const run = await cli([...args, "--database", asReader(current)], { cwd: process.cwd() });
      assert.equal(run.code, 0, `${args.join(" ")}: ${run.stderr}`);
    }
  });

  test("one a migration behind is said to need one open by a user who may write, as on SQLite", async () => {
    const run = await cli(["findings", "list", "--database", asReader(old)], { cwd: process.cwd() });
    assert.equal(run.code, 2, run.stderr);
    // The server's reason, in its words (which its version chooses).
    assert.match(
      run.stderr,
      new RegExp(
        `^costguard: the store ${literally(asReader(old))} is a migration behind this costguard \\(${MIGRATIONS.at(-1)!.id}\\): upgrading it writes to it, which this user may not \\([^)]+\\); run costguard store info on it once as a user who may write to it, which upgrades it, then read it again\n$`,
      ),
    );
  });
});
