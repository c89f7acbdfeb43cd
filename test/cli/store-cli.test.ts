import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { type AddressInfo, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, test } from "node:test";
import Database from "better-sqlite3";
import pg from "pg";
import { formatSize } from "../../src/cli/commands/store.js";
import { MIGRATIONS } from "../../src/store/migrations.js";
import { connectTimeoutMs } from "../../src/store/postgres-db.js";
import { cli } from "../helpers/cli.js";
import { createTestDatabase, SHARED_DATABASE } from "../helpers/databases.js";

const POLICIES = resolve("examples/policies");

const dir = mkdtempSync(join(tmpdir(), "costguard-store-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("formatSize: bytes in decimal units, one decimal", () => {
  assert.equal(formatSize(0), "0 B");
  assert.equal(formatSize(999), "999 B");
  assert.equal(formatSize(1000), "1.0 kB");
  assert.equal(formatSize(453_541_888), "453.5 MB");
  assert.equal(formatSize(1_020_000_000), "1.0 GB");
});

test("store info and compact: where the store is, what it holds; the room given back", async () => {
  const db = join(dir, "info.db");
  // A replay's clock (--at) is not when the schema changed: migrations are stamped with the real time.
  const init = await cli(
    ["sandbox", "init", "--resources", "40", "--seed", "s", "--at", "2020-01-01", "--database", db],
    { cwd: dir },
  );
  assert.equal(init.code, 0, init.stderr);

  const info = await cli(["store", "info", "--database", db], { cwd: dir });
  assert.equal(info.code, 0, info.stderr);
  assert.match(
    info.stdout,
    new RegExp(`^Store {4}${db.replaceAll(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(SQLite\\)$`, "m"),
  );
  assert.match(info.stdout, /^Size {5}[\d.]+ (kB|MB) on disk; write-ahead log [\d.]+ (B|kB|MB); /m);
  assert.match(
    info.stdout,
    new RegExp(
      `^Schema {3}${MIGRATIONS.length} migrations, the latest ${MIGRATIONS[MIGRATIONS.length - 1]!.id} \\(applied `,
      "m",
    ),
  );
  assert.match(info.stdout, /^resources +40$/m);
  assert.match(info.stdout, /^Findings 0 open, 0 excepted, 0 resolved$/m);
  const applied = /\(applied (\S+)\)$/m.exec(info.stdout)?.[1];
  assert.ok(applied && Math.abs(Date.parse(applied) - Date.now()) < 3_600_000, `applied ${applied}`);

  // An upgrade: a migration early in the list applied after the others is the latest.
  const raw = new Database(db);
  raw
    .prepare("UPDATE schema_migrations SET applied_at = ? WHERE id = ?")
    .run("2099-01-01T00:00:00.000Z", MIGRATIONS[0]!.id);
  raw.close();
  const upgraded = await cli(["store", "info", "--database", db], { cwd: dir });
  assert.match(
    upgraded.stdout,
    new RegExp(
      `^Schema {3}${MIGRATIONS.length} migrations, the latest ${MIGRATIONS[0]!.id} \\(applied 2099-`,
      "m",
    ),
  );

  const json = await cli(["store", "info", "--database", db, "--format", "json"], { cwd: dir });
  assert.equal(json.code, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as { dialect: string; tables: { name: string; rows: number }[] };
  assert.equal(parsed.dialect, "sqlite");
  assert.equal(parsed.tables.find((t) => t.name === "resources")?.rows, 40);
  const compact = await cli(["store", "compact", "--database", db], { cwd: dir });
  assert.equal(compact.code, 0, compact.stderr);
  assert.match(
    compact.stdout,
    /^Compacted \S+info\.db \(VACUUM\) in [\d.]+ s: [\d.]+ (kB|MB) → [\d.]+ (kB|MB)\n$/,
  );
  const again = await cli(["store", "info", "--database", db], { cwd: dir });
  assert.match(again.stdout, /; nothing free inside$/m);
  assert.match(again.stdout, /^resources +40$/m, "every row kept");
  // Findings by status: resolved ones stay until pruned, and the line says how.
  const scan = async (at: string) => {
    const done = await cli(["scan", "-p", POLICIES, "-i", "sandbox", "--at", at, "--database", db], {
      cwd: dir,
    });
    assert.equal(done.code, 0, done.stderr);
  };
  await scan("2020-01-02");
  const smaller = [
    "sandbox",
    "init",
    "--resources",
    "10",
    "--seed",
    "t",
    "--at",
    "2020-01-03",
    "--database",
    db,
  ];
  assert.equal((await cli(smaller, { cwd: dir })).code, 0);
  await scan("2020-01-03");
  const counted = JSON.parse(
    (await cli(["store", "info", "--database", db, "--format", "json"], { cwd: dir })).stdout,
  ).findings as Record<string, number>;
  assert.ok(counted.open! > 0 && counted.resolved! > 0, JSON.stringify(counted));
  assert.equal(counted.excepted, 0);
  const withFindings = (await cli(["store", "info", "--database", db], { cwd: dir })).stdout;
  assert.match(
    withFindings,
    new RegExp(
      `^Findings ${counted.open} open, 0 excepted, ${counted.resolved} resolved \\(resolved ones stay until \`costguard findings prune --resolved-before AGE\` deletes them\\)$`,
      "m",
    ),
  );
});

test("store info: bad input is one clear line and exit 2", async () => {
  const missing = await cli(["store", "info", "--database", join(dir, "nope.db")], { cwd: dir });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^costguard: no store at \S+nope\.db: a stored scan creates it/);
  const compact = await cli(["store", "compact", "--database", join(dir, "nope.db")], { cwd: dir });
  assert.equal(compact.code, 2);
  assert.match(compact.stderr, /no store at/);
  const format = await cli(["store", "info", "--database", join(dir, "nope.db"), "--format", "xml"], {
    cwd: dir,
  });
  assert.equal(format.code, 2);
  assert.equal(format.stderr, "costguard: --format must be table or json, got xml\n");
});

test("a database server that cannot be reached is the machine's failure (exit 3), a database that is not there bad input (2)", async () => {
  // A port nothing listens on: the connection is refused.
  const refused = await cli(["scans", "list"], {
    cwd: dir,
    env: { COSTGUARD_DATABASE_URL: "postgres://postgres@127.0.0.1:9/test" },
  });
  assert.equal(refused.code, 3, refused.stderr);
  assert.match(
    refused.stderr,
    /^costguard: cannot reach the database postgres:\/\/postgres@127\.0\.0\.1:9\/test: connect ECONNREFUSED 127\.0\.0\.1:9 \(is the server running, and are the URL's host and port right\?\)\n$/,
  );
});

test("a server that takes the connection and never answers is given up on after the URL's connect_timeout (exit 3)", async () => {
  // A listener that accepts and says nothing, as a hung server or a swallowing proxy does.
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => void sockets.add(socket));
  await new Promise<void>((done) => silent.listen(0, "127.0.0.1", done));
  const { port } = silent.address() as AddressInfo;
  try {
    const url = `postgres://postgres@127.0.0.1:${port}/x?connect_timeout=2`;
    for (const args of [
      ["store", "info"],
      ["scans", "list"],
    ]) {
      const r = await cli([...args, "--database", url], { cwd: dir });
      assert.equal(r.code, 3, r.stderr);
      assert.equal(
        r.stderr,
        `costguard: cannot reach the database ${url}: no answer within 2 s (connect_timeout in the URL sets the wait) (is the server running, and are the URL's host and port right?)\n`,
      );
    }
    const bad = await cli(
      ["store", "info", "--database", `postgres://postgres@127.0.0.1:${port}/x?connect_timeout=soon`],
      { cwd: dir },
    );
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /connect_timeout=soon in the URL is not a whole number of seconds\n$/);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise((done) => silent.close(done));
  }
});

test("connectTimeoutMs: the URL's connect_timeout as libpq reads it, else 10 s", () => {
  const base = "postgres://u@h/db";
  assert.equal(connectTimeoutMs(base), 10_000);
  assert.equal(connectTimeoutMs(`${base}?connect_timeout=30`), 30_000);
  assert.equal(
    connectTimeoutMs(`${base}?sslmode=disable&connect_timeout=1`),
    2_000,
    "at least 2 s, as libpq",
  );
  assert.equal(connectTimeoutMs(`${base}?connect_timeout=0`), 0, "0: wait for ever, as libpq");
});

test("store info and compact on PostgreSQL: the URL without its password, VACUUM (ANALYZE) of each table", {
  skip: SHARED_DATABASE !== "postgres" && "PostgreSQL unreachable (outside CI)",
}, async () => {
  const db = await createTestDatabase("postgres");
  try {
    const init = await cli(["sandbox", "init", "--resources", "30", "--seed", "p", "--database", db.url], {
      cwd: dir,
    });
    assert.equal(init.code, 0, init.stderr);
    const info = await cli(["store", "info", "--database", db.url], { cwd: dir });
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /^Store {4}postgres:\/\/\S+ \(PostgreSQL\)$/m);
    assert.match(info.stdout, /^Size {5}[\d.]+ (kB|MB): costguard's tables with their indexes$/m);
    assert.match(info.stdout, /^resources +30$/m);
    const compact = await cli(["store", "compact", "--database", db.url], { cwd: dir });
    assert.equal(compact.code, 0, compact.stderr);
    assert.match(
      compact.stdout,
      /^Vacuumed postgres:\/\/\S+ \(VACUUM \(ANALYZE\) of each table\) in [\d.]+ s: /,
    );
  } finally {
    await db.drop();
  }
});

test("PostgreSQL: a command reading a store does not make one, in an empty database or one shared with other tables", {
  skip: SHARED_DATABASE !== "postgres" && "PostgreSQL unreachable (outside CI)",
}, async () => {
  const db = await createTestDatabase("postgres");
  const tables = async () => {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      return (
        await c.query(
          "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
        )
      ).rows.map((r: { table_name: string }) => r.table_name);
    } finally {
      await c.end();
    }
  };
  try {
    // An empty database: reading it says there is no store, and makes none.
    for (const args of [
      ["audit", "list"],
      ["findings", "list"],
      ["scans", "list"],
      ["store", "info"],
      ["sandbox", "show"],
      ["exceptions", "list"],
      ["notify", "list", "--outbox", "store"],
    ]) {
      const r = await cli([...args, "--database", db.url], { cwd: dir });
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stdout}`);
      assert.match(r.stderr, /^costguard: no store at postgres:\/\/\S+: \S/);
    }
    assert.deepEqual(await tables(), []);
    // A database shared with another program's tables (by design on PostgreSQL): reading it still
    // says there is no store; a stored scan makes one beside them.
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await c.query("CREATE TABLE invoices (id INT)");
    await c.end();
    const read = await cli(["audit", "list", "--database", db.url], { cwd: dir });
    assert.equal(read.code, 2, read.stdout);
    assert.match(read.stderr, /no store at postgres:/);
    // Another tool's schema_migrations: no store to read, and none can be made beside it.
    const rails = new pg.Client({ connectionString: db.url });
    await rails.connect();
    await rails.query(
      "CREATE TABLE schema_migrations (version TEXT PRIMARY KEY); INSERT INTO schema_migrations VALUES ('20240101093000')",
    );
    await rails.end();
    const readRails = await cli(["findings", "list", "--database", db.url], { cwd: dir });
    assert.equal(readRails.code, 2, readRails.stdout);
    assert.match(readRails.stderr, /no store at postgres:/);
    const scanRails = await cli(["scan", "-p", "examples/policies", "-i", "sandbox", "--database", db.url], {
      cwd: process.cwd(),
    });
    assert.equal(scanRails.code, 2, scanRails.stdout);
    assert.match(
      scanRails.stderr,
      /it has a schema_migrations table of another tool's \(Rails, golang-migrate \.\.\.\), left as it is/,
    );
    assert.deepEqual(await tables(), ["invoices", "schema_migrations"]);
  } finally {
    await db.drop();
  }
});

test("a SQLite file without a store is no store to read: said, and left byte for byte as it was", async () => {
  const files: Record<string, (db: Database.Database) => void> = {
    "empty.db": () => {},
    // A database whose tables were all dropped: a header and free pages.
    "emptied.db": (db) => db.exec("CREATE TABLE t (x); DROP TABLE t;"),
    // The notification outbox's own file: costguard's migrations, but not a store's.
    "outbox.db": (db) =>
      db.exec(
        "CREATE TABLE schema_migrations (id TEXT PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL); INSERT INTO schema_migrations VALUES ('notify-0001-outbox', 'outbox', '2026-01-01T00:00:00Z'); CREATE TABLE notify_outbox (id TEXT PRIMARY KEY);",
      ),
    // Another tool's migrations table (Rails keeps versions, no id).
    "rails.db": (db) =>
      db.exec(
        "CREATE TABLE schema_migrations (version TEXT PRIMARY KEY); INSERT INTO schema_migrations VALUES ('20240101093000'); CREATE TABLE users (id INTEGER PRIMARY KEY);",
      ),
  };
  for (const [name, make] of Object.entries(files)) {
    const file = join(dir, name);
    if (name === "empty.db") writeFileSync(file, "");
    else {
      const db = new Database(file);
      make(db);
      db.close();
    }
    const before = readFileSync(file);
    for (const [args, creates] of [
      [["audit", "list"], "a stored scan creates it"],
      [["findings", "list"], "a stored scan creates it"],
      [["store", "info"], "a stored scan creates it"],
      [["sandbox", "show"], "costguard sandbox init creates one"],
      [["exceptions", "list"], "the first exception requested creates it"],
      [["exceptions", "report"], "the first exception requested creates it"],
      [["exceptions", "show", "exc-1"], "the first exception requested creates it"],
    ] as const) {
      const r = await cli([...args, "--database", file], { cwd: dir });
      assert.equal(r.code, 2, `${name} ${args.join(" ")}: ${r.stdout}`);
      assert.match(
        r.stderr,
        name === "rails.db"
          ? /^costguard: cannot open the database .*rails\.db: it is another program's SQLite database \(its tables: schema_migrations, users\), left as it is/
          : new RegExp(`^costguard: no store at .*${name.replace(".", "\\.")}: ${creates}`),
      );
    }
    assert.ok(readFileSync(file).equals(before), `${name} unchanged`);
  }
  // A stored scan refuses the other tool's file too, rather than fail on its table.
  const rails = join(dir, "rails.db");
  const scan = await cli(["scan", "-p", "examples/policies", "-i", "sandbox", "--database", rails], {
    cwd: process.cwd(),
  });
  assert.equal(scan.code, 2, scan.stdout);
  assert.match(
    scan.stderr,
    /it is another program's SQLite database \(its tables: schema_migrations, users\), left as it is/,
  );
});

test("in a folder with nothing stored, every command that only reads says so and leaves the folder empty", async () => {
  const empty = mkdtempSync(join(tmpdir(), "costguard-nothing-"));
  for (const [args, says] of [
    [["sandbox", "show"], /^costguard: no store at \S+costguard\.db: costguard sandbox init creates one/],
    [
      ["exceptions", "list"],
      /^costguard: no store at \S+costguard\.db: the first exception requested creates it/,
    ],
    [["exceptions", "report"], /^costguard: no store at \S+costguard\.db: the first exception requested/],
    [
      ["notify", "list"],
      /^costguard: no notification outbox at \S+notify\.db: the first notification queued creates it/,
    ],
    [
      ["notify", "list", "--outbox", "store"],
      /^costguard: no store at \S+costguard\.db: the first notification queued/,
    ],
  ] as const) {
    const r = await cli([...args], { cwd: empty });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stdout}`);
    assert.match(r.stderr, says);
    assert.deepEqual(readdirSync(empty), [], `${args.join(" ")} made nothing`);
  }
  // A store's own file given as the outbox holds no outbox: said, and left byte for byte.
  const made = await cli(["sandbox", "init", "--resources", "5", "--seed", "1"], { cwd: empty });
  assert.equal(made.code, 0, made.stderr);
  const store = join(empty, ".costguard", "costguard.db");
  const before = readFileSync(store);
  const r = await cli(["notify", "list", "--outbox", store], { cwd: empty });
  assert.equal(r.code, 2, r.stdout);
  assert.match(
    r.stderr,
    /^costguard: \S+costguard\.db is costguard's store, not a notification outbox file: --outbox store/,
  );
  assert.ok(readFileSync(store).equals(before));
  // With a store there, they read it.
  const list = await cli(["exceptions", "list"], { cwd: empty });
  assert.equal(list.code, 0, list.stderr);
  assert.equal(list.stdout, "no exceptions\n");
  rmSync(empty, { recursive: true, force: true });
});

test("a store made by a newer costguard is refused by every command with exit 2 (bad input to this version), not 1", async () => {
  const db = join(dir, "newer.db");
  const init = await cli(
    ["sandbox", "init", "--resources", "5", "--seed", "n", "--no-billing", "--database", db],
    {
      cwd: dir,
    },
  );
  assert.equal(init.code, 0, init.stderr);
  const raw = new Database(db);
  raw
    .prepare("INSERT INTO schema_migrations (id, description, applied_at) VALUES (?, ?, ?)")
    .run("scan-0016-future", "from a newer costguard", "2030-01-01T00:00:00.000Z");
  raw.close();
  for (const args of [
    ["store", "info"],
    ["scans", "list"],
    ["store", "compact"],
    ["scan", "-p", POLICIES, "-i", "sandbox"],
  ]) {
    const r = await cli([...args, "--database", db], { cwd: dir });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(
      r.stderr,
      "costguard: the database has migrations this costguard does not know (scan-0016-future): it was created by a newer version\n",
    );
  }
});

test("another program's SQLite file is refused as a store or outbox and left as it was", async () => {
  const file = join(dir, "app.db");
  const app = new Database(file);
  app.exec(
    "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO users (name) VALUES ('ada');",
  );
  app.close();
  for (const args of [
    ["store", "info", "--database", file],
    ["scan", "-p", "examples/policies", "-i", "sandbox", "--database", file],
    ["notify", "list", "--outbox", file],
  ]) {
    const r = await cli(args, { cwd: process.cwd() });
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, /it is another program's SQLite database \(its tables: users\), left as it is/);
  }
  // Before, costguard's tables were added beside the program's and the file switched to WAL.
  const after = new Database(file, { readonly: true });
  const tables = after.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
  const mode = after.pragma("journal_mode", { simple: true });
  after.close();
  assert.deepEqual(tables, ["users"]);
  assert.equal(mode, "delete");
});

test("a write while another process holds SQLite's write lock past the busy timeout: exit 1 saying what to do", async () => {
  const db = join(dir, "busy.db");
  const init = await cli(
    ["sandbox", "init", "--resources", "5", "--seed", "b", "--no-billing", "--database", db],
    {
      cwd: dir,
    },
  );
  assert.equal(init.code, 0, init.stderr);
  const reader = new Database(db, { readonly: true });
  const { id } = reader.prepare("SELECT id FROM resources LIMIT 1").get() as { id: string };
  reader.close();
  // Another connection (a stored scan's writer, say) holds the lock for longer than the 5 s SQLite waits.
  const writer = new Database(db);
  try {
    writer.exec("BEGIN IMMEDIATE");
    const busy = await cli(["sandbox", "act", "tag", id, "--tag", "a=b", "--database", db], { cwd: dir });
    assert.equal(busy.code, 1, busy.stderr);
    assert.match(
      busy.stderr,
      /^costguard: the store is busy: another costguard process is writing to the SQLite file and did not finish within 5 s .*Run this again when it has finished\. Several processes writing at once is what PostgreSQL is for/,
    );
    writer.exec("ROLLBACK");
  } finally {
    writer.close();
  }
  const again = await cli(["sandbox", "act", "tag", id, "--tag", "a=b", "--database", db], { cwd: dir });
  assert.equal(again.code, 0, again.stderr);
});
