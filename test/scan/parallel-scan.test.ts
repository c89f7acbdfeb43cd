import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { subjectOf } from "../../src/exceptions/annotator.js";
import { buildExceptionIndex } from "../../src/exceptions/match.js";
import { fileProvider } from "../../src/inventory/file/file-provider.js";
import { MAX_LINE_CHARS } from "../../src/inventory/file/text-chunks.js";
import { generateEstate } from "../../src/inventory/sandbox/estate.js";
import type { Resource } from "../../src/inventory/types.js";
import { loadPolicies } from "../../src/policy/load.js";
import { loadPriceTables } from "../../src/pricing/load.js";
import { DEFAULT_DETECTORS } from "../../src/scan/detectors.js";
import { parallelJsonLines } from "../../src/scan/parallel-scan.js";
import { runScan, type ScanOptions, type ScanResult } from "../../src/scan/run-scan.js";
import { type ScanRecipe, scanContextFromRecipe, scanRecipe } from "../../src/scan/scan-recipe.js";
import type { Finding, StoredFinding } from "../../src/scan/types.js";
import { openStore } from "../../src/store/open.js";
import { cli } from "../helpers/cli.js";
import { approvedException } from "../helpers/exceptions.js";
import { PRICES } from "../helpers/scan-context.js";

const AT = new Date("2026-06-01T00:00:00Z");
const dir = mkdtempSync(join(tmpdir(), "costguard-parallel-scan-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const recipe = scanRecipe(
  "file:estate.jsonl",
  loadPolicies([resolve("examples/policies")]).policies,
  loadPriceTables(),
  DEFAULT_DETECTORS,
  AT,
  "USD",
);

/**
 * An estate as JSON lines with what line splitting must get right: a byte-order mark, CRLF line ends,
 * blank lines, multi-byte characters (some straddling 64 KiB text chunks), and no final line feed.
 */
function estateLines(n: number): string[] {
  const lines: string[] = [];
  let i = 0;
  for (let seed = 0; lines.length < n; seed++) {
    for (const r of generateEstate({ resources: 500, seed: `parallel-${seed}`, at: AT }, PRICES)) {
      i++;
      const named = i % 7 === 0 ? { ...r, name: `équipe-données-${"€".repeat(i % 5)}-${i}` } : r;
      // Some without utilisation metrics, some without specs: what the scan could not judge is counted.
      const { metrics, ...bare } = named;
      const { specs, ...unspecified } = named;
      // And some gone (terminated, deleted): counted, judged on nothing.
      const gone = { ...named, state: r.type === "compute/instance" ? "terminated" : "deleted" };
      const chosen = i % 11 === 0 ? bare : i % 13 === 0 ? unspecified : i % 17 === 0 ? gone : named;
      lines.push(JSON.stringify({ ...chosen, id: `${r.id}-${seed}` }));
      if (i % 97 === 0) lines.push("");
      if (i % 131 === 0) lines.push("   ");
    }
  }
  return lines;
}

const fingerprints = (findings: readonly Finding[]) => findings.map((f) => f.fingerprint);

function writeEstate(name: string, lines: readonly string[]): string {
  const path = join(dir, name);
  const text = lines.map((l, i) => (i % 5 === 0 ? `${l}\r\n` : `${l}\n`)).join("");
  writeFileSync(path, `\uFEFF${text.slice(0, -1)}`);
  return path;
}

/** An approved conditional exception of mandatory-tags, reviewed; `fields` say what differs. */
const exception = approvedException;

interface Run {
  result?: ScanResult;
  error?: Error;
  streamed: Finding[];
  /** What `findingsText` received. */
  text: string;
}

async function scan(
  path: string,
  jobs: number,
  options: Partial<ScanOptions> & { recipe?: ScanRecipe; stream?: boolean; at?: Date } = {},
): Promise<Run> {
  const streamed: Finding[] = [];
  const text: string[] = [];
  const provider =
    jobs === 1
      ? fileProvider(path, { displayName: "estate.jsonl" })
      : parallelJsonLines({
          path,
          name: "estate.jsonl",
          jobs,
          recipe: options.recipe ?? recipe,
          pieceBytes: 8 * 1024, // a few hundred pieces
        });
  try {
    const result = await runScan({
      provider,
      // The workers get the recipe as made (clock AT); the context's clock is the scan's.
      context: scanContextFromRecipe({ ...recipe, at: options.at ?? AT }),
      scanId: options.at ? `scan-${options.at.getTime()}` : "scan-test",
      topCount: 25,
      ...(options.stream === false ? {} : { onFindings: (b) => void streamed.push(...b) }),
      ...(options.store ? { store: options.store } : {}),
      ...(options.exceptions ? { exceptions: options.exceptions } : {}),
      ...(options.findingsText
        ? {
            findingsText: {
              ...options.findingsText,
              write: (t) => void text.push(typeof t === "string" ? t : Buffer.from(t).toString()),
            },
          }
        : {}),
    });
    return { result, streamed, text: text.join("") };
  } catch (err) {
    return { error: err as Error, streamed, text: text.join("") };
  }
}

describe("a JSON-lines file scanned by worker threads", () => {
  const lines = estateLines(3000);
  const path = writeEstate("estate.jsonl", lines);

  test("gives the summary, top findings and streamed findings of one thread, in the same order", async () => {
    const one = await scan(path, 1);
    const three = await scan(path, 3);
    assert.ifError(one.error);
    assert.ifError(three.error);
    assert.equal(one.result!.summary.resources_scanned, 3000);
    const unmeasured = lines.filter((l) => {
      if (l.trim() === "") return false;
      const r = JSON.parse(l) as { type: string; state?: string; metrics?: unknown };
      const running = r.state === undefined || ["running", "available", "active"].includes(r.state);
      return ["compute/instance", "database/instance"].includes(r.type) && running && r.metrics === undefined;
    }).length;
    assert.ok(unmeasured > 50, `${unmeasured} running resources without metrics`);
    assert.equal(one.result!.summary.idle_unmeasured, unmeasured);
    const gone = lines.filter((l) => /"state":"(terminated|deleted)"/.test(l)).length;
    assert.ok(gone > 100, `${gone} resources gone`);
    assert.equal(one.result!.summary.resources_gone, gone);
    assert.ok(
      one.streamed.every(
        (f) =>
          !lines.some(
            (l) => l.includes(`"id":"${f.resource_id}"`) && /"state":"(terminated|deleted)"/.test(l),
          ),
      ),
      "nothing found on a resource gone",
    );
    assert.ok(
      (one.result!.summary.unverified_checks?.["resource-limits/max-instance-size specs.vcpus"] ?? 0) > 0,
      "instances without specs could not be held to the vCPU limit",
    );
    assert.ok(one.streamed.length > 1000, "the estate has findings");
    assert.deepEqual(three.result, one.result);
    assert.deepEqual(three.streamed, one.streamed);
    assert.ok(
      one.result!.top_findings.some((f) => f.resource_name?.startsWith("équipe")) ||
        one.streamed.some((f) => f.resource_name?.includes("€")),
      "multi-byte names come through",
    );
  });

  test("without anything reading findings, only tallies cross threads: same summary and top findings", async () => {
    const one = await scan(path, 1, { stream: false });
    const two = await scan(path, 2, { stream: false });
    assert.deepEqual(two.result, one.result);
    assert.deepEqual(two.streamed, []);
  });

  test("findings rendered as JSON or CSV by the workers make the text one thread writes", async () => {
    for (const format of ["json", "csv"] as const) {
      const findingsText = { format, write: () => {} };
      const one = await scan(path, 1, { stream: false, findingsText });
      const three = await scan(path, 3, { stream: false, findingsText });
      assert.ok(one.text.length > 100_000);
      assert.equal(three.text, one.text);
      assert.deepEqual(three.result, one.result);
    }
  });

  test("stores the same findings and scan record as one thread", async () => {
    const stored = async (jobs: number) => {
      const store = await openStore({ kind: "sqlite", path: join(dir, `store-${jobs}.db`) }, AT);
      try {
        const run = await scan(path, jobs, { store });
        assert.ifError(run.error);
        // A rescan 40 days later: findings seen again, orphaned volumes' ages moved.
        const later = new Date(AT.getTime() + 40 * 86_400_000);
        const rescan = await scan(path, jobs, { store, at: later });
        assert.ifError(rescan.error);
        const findings: StoredFinding[] = [];
        for (let after: string | undefined; ; ) {
          const page = await store.findings.list({ limit: 1000, ...(after ? { after } : {}) });
          findings.push(...page);
          if (page.length < 1000) break;
          after = page.at(-1)!.fingerprint;
        }
        return { run, rescan, findings, record: await store.scans.get("scan-test") };
      } finally {
        await store.close();
      }
    };
    const one = await stored(1);
    const two = await stored(2);
    assert.ok(one.findings.length >= one.rescan.result!.summary.findings);
    assert.deepEqual(two.findings, one.findings);
    assert.deepEqual(two.record, one.record);
    assert.deepEqual(two.run.result, one.run.result);
    assert.deepEqual(two.rescan.result, one.rescan.result);
    assert.notDeepEqual(one.rescan.result!.summary.by_policy, one.run.result!.summary.by_policy);
  });

  test("approved exceptions are matched by the threads that judge the resources: what one thread matches", async () => {
    const resources = lines.filter((l) => l.trim() !== "").map((l) => JSON.parse(l.replace(/^\uFEFF/, "")));
    const tagged = resources.find((r) => r.tags?.team && r.tags?.environment)!;
    const withAccount = resources.find((r) => typeof r.account === "string")!;
    const found = await scan(path, 1);
    const orphan = found.streamed.findLast((f) => f.policy === "orphaned-resource-detection")!;
    const approved = [
      // By tags (what only the thread that read a resource has), by type, by account, by resource id.
      exception("exc-tags", {
        selector: { tags: { team: tagged.tags.team, environment: tagged.tags.environment } },
      }),
      exception("exc-type", {
        policy: "resource-limits",
        policy_type: "ResourceLimit",
        selector: { type: "database/*" },
      }),
      exception("exc-account", {
        policy: "idle-resource-detection",
        policy_type: null,
        selector: { account: withAccount.account },
      }),
      exception("exc-one", {
        policy: "orphaned-resource-detection",
        policy_type: null,
        resource_id: orphan.resource_id,
        type: "permanent",
      }),
      // Expired before the scan's clock, and one not approved: neither covers anything.
      exception("exc-expired", {
        selector: { type: "*" },
        type: "temporary",
        expires_at: "2026-05-30T00:00:00Z",
      }),
      exception("exc-pending", { selector: { type: "*" }, status: "pending" }),
    ];
    const waived: (string | undefined)[] = [];
    const matched = async (jobs: number) => {
      const pairs: string[] = [];
      const run = await scan(path, jobs, {
        stream: false,
        exceptions: { approved, onExcepted: (fingerprint, id) => pairs.push(`${fingerprint} ${id}`) },
      });
      assert.ifError(run.error);
      waived.push(run.result?.summary.excepted_savings_monthly);
      return pairs;
    };
    const one = await matched(1);
    const three = await matched(3);
    assert.deepEqual(three, one);
    // What they take off the savings at stake is tallied where they are matched, alike on any thread.
    assert.ok(Number(waived[0]) > 0, String(waived[0]));
    assert.equal(waived[1], waived[0]);
    // The same as asking the index directly for each finding of a scan without exceptions, on the
    // resource (as read from the file) it was found on.
    const index = buildExceptionIndex(approved);
    const byId = new Map<string, Resource>();
    for (const l of lines) if (l.trim() !== "") byId.set((JSON.parse(l) as Resource).id, JSON.parse(l));
    const plain = await scan(path, 1, { stream: true });
    assert.ifError(plain.error);
    const expected: string[] = [];
    for (const f of plain.streamed) {
      const exc = index.find(subjectOf(byId.get(f.resource_id)!), f.policy, f.rule, AT);
      if (exc) expected.push(`${f.fingerprint} ${exc.id}`);
    }
    assert.deepEqual([...one].sort(), expected.sort());
    const by = (id: string) => one.filter((p) => p.endsWith(` ${id}`)).length;
    for (const id of ["exc-tags", "exc-type", "exc-account", "exc-one"]) assert.ok(by(id) > 0, id);
    assert.equal(by("exc-expired") + by("exc-pending"), 0);
  });

  test("a rescan that sees a resource twice, changed then as stored, stores what one thread stores", async () => {
    // The later sighting matches the stored row, so its thread prepares no row for it; by then the
    // earlier sighting has rewritten the row: the recording needs the row after all (judged again).
    const firstScan = await scan(path, 1, { stream: true });
    const target = firstScan.streamed.findLast((f) => f.source === "detector")!.resource_id;
    const at = lines.findIndex((l) => l.includes(`"id":"${target}"`));
    assert.ok(at > 100, "the resource is well into the file");
    const changed = JSON.stringify({ ...JSON.parse(lines[at]!), name: "renamed-for-the-test" });
    const rescanPath = writeEstate("estate-twice.jsonl", [lines[0]!, changed, ...lines.slice(1)]);
    const stored = async (jobs: number) => {
      const store = await openStore({ kind: "sqlite", path: join(dir, `twice-${jobs}.db`) }, AT);
      try {
        assert.ifError((await scan(path, jobs, { store, stream: false })).error);
        const later = new Date(AT.getTime() + 86_400_000);
        const rescan = await scan(rescanPath, jobs, { store, at: later, stream: false });
        assert.ifError(rescan.error);
        const findings = await store.findings.list({ resourceId: target });
        return { rescan: rescan.result, findings, count: await store.findings.count({}) };
      } finally {
        await store.close();
      }
    };
    const one = await stored(1);
    const two = await stored(2);
    assert.ok(one.findings.length > 0);
    assert.ok(
      one.findings.every((f) => f.resource_name !== "renamed-for-the-test"),
      "the last sighting wins",
    );
    assert.deepEqual(two.findings, one.findings);
    assert.deepEqual(two.rescan, one.rescan);
    assert.equal(two.count, one.count);
    // Each of the resource's findings came twice: the summary says so, on both paths alike.
    assert.equal(one.rescan?.summary.repeated_findings, one.findings.length);
  });

  test("a bad line in a later piece fails with the file's line number, as one thread does", async () => {
    for (const [bad, expected] of [
      ['{"id": "x", "type": "compute/instance", ', /estate\.jsonl:2801: not valid JSON/],
      ['{"type": "compute/instance"}', /^estate\.jsonl:2801 is not valid: missing `id`$/],
      [
        `{"id": "x", "type": "compute/instance", "name": "${"x".repeat(MAX_LINE_CHARS)}"}`,
        /^estate\.jsonl:2801: the line is longer than 64 MiB/,
      ],
    ] as const) {
      const broken = [...lines];
      broken[2800] = bad;
      const file = writeEstate("broken.jsonl", broken);
      const one = await scan(file, 1);
      const three = await scan(file, 3);
      assert.match(one.error?.message ?? "", expected);
      assert.equal(three.error?.message, one.error!.message);
      assert.equal(three.error!.name, one.error!.name);
      // What streamed before the failure: findings of lines before the bad one, in file order (each
      // path stops at the start of its batch that holds the bad line, so the counts may differ).
      const before = (await scan(writeEstate("before.jsonl", lines.slice(0, 2800)), 1)).streamed;
      for (const run of [one, three]) {
        assert.ok(run.streamed.length > 0 && run.streamed.length <= before.length);
        assert.deepEqual(fingerprints(run.streamed), fingerprints(before.slice(0, run.streamed.length)));
      }
    }
  });

  test("a failed scan is recorded as failed with the message of one thread", async () => {
    const broken = [...lines];
    broken[2800] = "{nope";
    const file = writeEstate("broken-store.jsonl", broken);
    const store = await openStore({ kind: "sqlite", path: join(dir, "failed.db") }, AT);
    try {
      const run = await scan(file, 2, { store });
      assert.match(run.error?.message ?? "", /^estate\.jsonl:2801: not valid JSON/);
      const record = await store.scans.get("scan-test");
      assert.equal(record?.status, "failed");
      assert.equal(record?.error, run.error!.message);
    } finally {
      await store.close();
    }
  });

  test("a worker whose policies differ from the scan's stops the scan", async () => {
    const other = scanRecipe(
      "file:estate.jsonl",
      loadPolicies([resolve("examples/guide-main")]).policies,
      recipe.priceTables,
      DEFAULT_DETECTORS,
      AT,
      "USD",
    );
    const run = await scan(path, 2, { recipe: other });
    assert.match(run.error?.message ?? "", /a scan worker compiled policy revision \w+, the scan has \w+/);
  });
});

describe("costguard scan --jobs", () => {
  const path = writeEstate("cli.jsonl", estateLines(400));
  const base = ["scan", "-p", resolve("examples/policies"), "-i", `file:${path}`, "--no-store"];
  const at = ["--at", "2026-06-01T00:00:00Z"];

  test("--jobs 2 prints what --jobs 1 prints (table, json without the scan id, csv)", async () => {
    for (const format of ["table", "json", "csv"]) {
      const one = await cli([...base, ...at, "--format", format, "--jobs", "1"], { cwd: dir });
      const two = await cli([...base, ...at, "--format", format, "--jobs", "2"], { cwd: dir });
      assert.equal(one.code, 0, one.stderr);
      assert.equal(two.code, 0, two.stderr);
      const withoutId = (s: string) => s.replace(/scan-\d{8}T\d{6}Z-[0-9a-f]{6}/g, "scan-ID");
      assert.equal(withoutId(two.stdout), withoutId(one.stdout));
      assert.ok(one.stdout.length > 1000);
    }
  });

  test("a stored scan with --jobs 2 stores what --jobs 1 stores, approved exceptions' statuses included", async () => {
    const stored = async (jobs: string, database: string) => {
      const run = await cli(
        [...base.filter((a) => a !== "--no-store"), ...at, "--database", database, "--jobs", jobs],
        {
          cwd: dir,
        },
      );
      assert.equal(run.code, 0, run.stderr);
      const store = await openStore({ kind: "sqlite", path: database }, AT);
      try {
        const findings = await store.findings.list({ limit: 10_000 });
        return { run, findings: findings.map(({ first_scan_id, last_scan_id, ...f }) => f) };
      } finally {
        await store.close();
      }
    };
    const one = await stored("1", join(dir, "cli-1.db"));
    const two = await stored("2", join(dir, "cli-2.db"));
    const summary = (s: string) => s.replace(/\(scan .*\)/, "");
    assert.equal(summary(two.run.stdout), summary(one.run.stdout));
    assert.match(one.run.stdout, /^Scanned 500 resources .*stored in.*\n\d+ findings: \d+ new, 0 resolved/);
    assert.ok(one.findings.length > 100);
    assert.deepEqual(two.findings, one.findings);
    assert.doesNotMatch(two.run.stderr, /one thread/);

    // Approved exceptions: one for a resource, one by a selector on tags, which only the thread that
    // read a resource has: the workers match them.
    const covered = one.findings.find((f) => f.policy === "mandatory-tags")!;
    const team = one.findings.find(
      (f) => f.policy === "resource-limits" && !f.team.includes("@") && !f.team.startsWith("CC-"),
    )!.team;
    for (const database of ["cli-1.db", "cli-2.db"]) {
      const store = await openStore({ kind: "sqlite", path: join(dir, database) }, AT);
      try {
        await store.exceptions.insert(
          exception("exc-1", { resource_id: covered.resource_id, type: "permanent" }),
        );
        await store.exceptions.insert(
          exception("exc-2", {
            policy: "resource-limits",
            policy_type: "ResourceLimit",
            selector: { tags: { team } },
          }),
        );
      } finally {
        await store.close();
      }
    }
    const againOne = await stored("1", join(dir, "cli-1.db"));
    const againTwo = await stored("2", join(dir, "cli-2.db"));
    assert.doesNotMatch(againTwo.run.stderr, /one thread/);
    assert.deepEqual(againTwo.findings, againOne.findings);
    const excepted = againTwo.findings.filter((f) => f.status === "excepted");
    const byResource = excepted.filter((f) => f.resource_id === covered.resource_id);
    const byTags = excepted.filter((f) => f.policy === "resource-limits");
    // The resource's mandatory-tags findings, and any resource-limits one of the team's (fingerprints
    // carry the file's path, so which resource and team are picked varies from run to run).
    assert.deepEqual(
      byResource.map((f) => f.fingerprint),
      one.findings
        .filter(
          (f) =>
            f.resource_id === covered.resource_id &&
            (f.policy === "mandatory-tags" || (f.policy === "resource-limits" && f.team === team)),
        )
        .map((f) => f.fingerprint),
    );
    assert.ok(byTags.length > 0 && byTags.every((f) => f.team === team));
    assert.equal(new Set([...byResource, ...byTags]).size, excepted.length);
  });

  test("bad --jobs values exit 2 with a clear message", async () => {
    for (const bad of ["0", "-1", "1.5", "two", "65"]) {
      const run = await cli([...base, "--jobs", bad], { cwd: dir });
      assert.equal(run.code, 2, `--jobs ${bad}`);
      assert.match(run.stderr, /--jobs must be auto or a whole number from 1 to 64, got /);
    }
    const empty = await cli([...base, "--jobs", ""], { cwd: dir });
    assert.equal(empty.code, 2);
    assert.equal(empty.stderr, "costguard: --jobs needs a value\n");
  });

  test("--jobs above 1 on an inventory other than a JSON-lines file exits 2; auto scans it on one thread", async () => {
    const yaml = join(dir, "estate.yaml");
    writeFileSync(yaml, "- {id: i-1, type: compute/instance, tags: {}}\n");
    const run = await cli(
      ["scan", "-p", resolve("examples/policies"), "-i", `file:${yaml}`, "--no-store", "--jobs", "2"],
      {
        cwd: dir,
      },
    );
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--jobs 2 applies to a JSON-lines file/);
    const auto = await cli(["scan", "-p", resolve("examples/policies"), "-i", `file:${yaml}`, "--no-store"], {
      cwd: dir,
    });
    assert.equal(auto.code, 0, auto.stderr);
    assert.match(auto.stdout, /^Scanned 1 resource from/);
    // Refused before anything is made: no store, no demo sandbox in a folder that had none.
    const empty = mkdtempSync(join(dir, "no-sandbox-"));
    const sandbox = await cli(
      ["scan", "-p", resolve("examples/policies"), "-i", "sandbox", "--no-store", "--jobs", "2"],
      { cwd: empty },
    );
    assert.equal(sandbox.code, 2);
    assert.equal(
      sandbox.stderr,
      "costguard: --jobs 2 applies to a JSON-lines file on disk, uncompressed (--inventory file:PATH.jsonl); sandbox is scanned by one thread (use --jobs 1 or auto)\n",
    );
    assert.deepEqual(readdirSync(empty), []);
    // A gzip file holds JSON lines, but cannot be split: said as such, not as "not JSON lines".
    const gz = join(dir, "estate.jsonl.gz");
    writeFileSync(gz, gzipSync('{"id": "i-1", "type": "compute/instance", "tags": {}}\n'));
    const zipped = await cli(
      ["scan", "-p", resolve("examples/policies"), "-i", `file:${gz}`, "--no-store", "--jobs", "2"],
      { cwd: dir },
    );
    assert.equal(zipped.code, 2);
    assert.match(zipped.stderr, /--jobs 2 applies to a JSON-lines file on disk, uncompressed/);
  });
});
