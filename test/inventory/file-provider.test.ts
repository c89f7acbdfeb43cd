import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { stringify } from "yaml";
import { InputError } from "../../src/errors.js";
import { fileProvider } from "../../src/inventory/file/file-provider.js";
import { MAX_LINE_CHARS, pieceLines } from "../../src/inventory/file/text-chunks.js";
import { readYamlItems } from "../../src/inventory/file/yaml-stream.js";
import type { InventoryProgress, Resource } from "../../src/inventory/types.js";

const dir = mkdtempSync(join(tmpdir(), "costguard-file-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function readAll(path: string, onProgress?: (p: InventoryProgress) => void): Promise<Resource[]> {
  const out: Resource[] = [];
  for await (const batch of fileProvider(path).read(onProgress ? { onProgress } : {})) out.push(...batch);
  return out;
}

const ESTATE: Resource[] = [
  {
    id: "i-0a1",
    type: "compute/instance",
    name: "payments-api-01",
    provider: "aws",
    account: "210987654321",
    region: "us-east-1",
    state: "running",
    tags: { "cost-center": "CC-104233", owner: "maria@company.com", "kubernetes.io/name": "api" },
    specs: { vcpus: 4, memory_gb: 16, instance_family: "general-purpose", instance_type: "m5.xlarge" },
    hourly_cost: "0.192",
    metrics: { avg_cpu_percent: 1.5, avg_network_bytes: 340000, window_days: 7 },
  },
  {
    id: "vol-0b2",
    type: "storage/volume",
    name: 'data "quoted", with comma',
    state: "available",
    created_at: "2026-01-01T00:00:00.000Z",
    detached_at: "2026-05-01T00:00:00.000Z",
    specs: { size_gb: 500, volume_type: "ssd" },
    monthly_cost: "40",
  },
  {
    id: "db-3",
    type: "database/instance",
    specs: { storage_gb: 2000, vcpus: 16 },
    tags: { project: "ünïcødé ✓" },
  },
];

describe("file:PATH inventory: the same estate in every format", () => {
  const jsonl = ESTATE.map((r) => JSON.stringify(r)).join("\n");
  const csvHeader = [
    "id,type,name,provider,account,region,state,created_at,detached_at,tags,specs.vcpus,specs.memory_gb,specs.instance_family,specs.instance_type,specs.size_gb,specs.volume_type,specs.storage_gb,hourly_cost,monthly_cost,metrics.avg_cpu_percent,metrics.avg_network_bytes,metrics.window_days",
  ];
  const csvRow = (r: Resource) =>
    [
      r.id,
      r.type,
      r.name ?? "",
      r.provider ?? "",
      r.account ?? "",
      r.region ?? "",
      r.state ?? "",
      r.created_at ?? "",
      r.detached_at ?? "",
      r.tags ? JSON.stringify(r.tags) : "",
      r.specs?.vcpus ?? "",
      r.specs?.memory_gb ?? "",
      r.specs?.instance_family ?? "",
      r.specs?.instance_type ?? "",
      r.specs?.size_gb ?? "",
      r.specs?.volume_type ?? "",
      r.specs?.storage_gb ?? "",
      r.hourly_cost ?? "",
      r.monthly_cost ?? "",
      r.metrics?.avg_cpu_percent ?? "",
      r.metrics?.avg_network_bytes ?? "",
      r.metrics?.window_days ?? "",
    ]
      .map((c) => (/[",\n]/.test(String(c)) ? `"${String(c).replace(/"/g, '""')}"` : String(c)))
      .join(",");
  const files: [string, string][] = [
    ["estate.jsonl", `${jsonl}\n`],
    ["estate-crlf.ndjson", `\r\n${jsonl.replace(/\n/g, "\r\n\r\n")}\r\n`],
    ["estate-lines.json", jsonl],
    ["estate-array.json", JSON.stringify(ESTATE, null, 2)],
    ["estate-compact.json", JSON.stringify(ESTATE)],
    ["estate.yaml", `# the estate\n${stringify(ESTATE)}`],
    ["estate-docs.yml", ESTATE.map((r) => `---\n${stringify(r)}`).join("")],
    // A JSON array saved as YAML: a top-level flow sequence, cut into its items as it comes.
    ["estate-array.yaml", JSON.stringify(ESTATE, null, 2)],
    ["estate-flow.yml", `# the estate\n${stringify(ESTATE, { collectionStyle: "flow" })}`],
    ["estate.csv", `${[...csvHeader, ...ESTATE.map(csvRow)].join("\r\n")}\r\n`],
    // A trailing comma on every line, as spreadsheets save an empty last column.
    ["estate-trailing.csv", `${[...csvHeader, ...ESTATE.map(csvRow)].join(",\n")},\n`],
  ];
  for (const [name, text] of files) {
    test(name, async () => assert.deepEqual(await readAll(write(name, text)), ESTATE));
    test(`${name}, gzipped: named .gz, or not (by its first bytes)`, async () => {
      assert.deepEqual(await readAll(write(`${name}.gz`, gzipSync(text))), ESTATE);
      assert.deepEqual(await readAll(write(`gz-${name}`, gzipSync(text))), ESTATE);
    });
    // Opening a pipe to look at its first bytes took its writer's data, and a second open waited forever.
    test(`${name} from a named pipe: read once, as it comes`, async (t) => {
      const fifo = join(dir, `fifo-${name}`);
      if (spawnSync("mkfifo", [fifo]).status !== 0) return t.skip("mkfifo is not available");
      const writing = (async () => {
        const writer = await open(fifo, "w");
        try {
          await writer.write(text);
        } finally {
          await writer.close();
        }
      })();
      const [read] = await Promise.all([readAll(fifo), writing]);
      assert.deepEqual(read, ESTATE);
    });
  }
});

// `file:/dev/stdin < estate.jsonl`: the descriptor stands for a regular file, with no extension to
// tell its format by, and was refused ("cannot tell the format"); piped, it was read as JSON lines.
test("a descriptor's name (/dev/stdin, /dev/fd/N, /proc/self/fd/N) for a regular file reads as JSON lines, gzipped too", async (t) => {
  if (!existsSync("/proc/self/fd")) return t.skip("no /proc/self/fd here");
  const jsonl = `${ESTATE.map((r) => JSON.stringify(r)).join("\n")}\n`;
  for (const [file, text] of [
    ["fd.jsonl", jsonl],
    ["fd.jsonl.gz", gzipSync(jsonl)],
  ] as const) {
    const fd = openSync(write(file, text), "r");
    try {
      for (const path of [`/dev/fd/${fd}`, `/proc/self/fd/${fd}`])
        assert.deepEqual(await readAll(path), ESTATE, `${path} for ${file}`);
    } finally {
      closeSync(fd);
    }
  }
});

// An export that came out empty read as an estate of nothing (exit 0) in JSON and YAML, where an empty
// .csv was refused: each format that can write an empty estate ([], a header alone) must write it.
test("a JSON, YAML or CSV inventory with no text is refused; [] (or a CSV header) is the empty estate; JSON lines may be empty", async () => {
  for (const [file, text, message] of [
    ["empty.json", "", /empty\.json: no JSON in the file \(it is empty\): .*an empty estate is \[\]$/],
    ["blank.json", " \n\n", /blank\.json: no JSON in the file/],
    ["empty.json.gz", gzipSync(""), /empty\.json\.gz: no JSON in the file/],
    [
      "empty.yaml",
      "",
      /empty\.yaml: no YAML in the file \(it is empty, or comments alone\): .*an empty estate is \[\]$/,
    ],
    ["comments.yml", "# the estate\n\n", /comments\.yml: no YAML in the file/],
    ["empty.csv", "", /empty\.csv: no CSV header line \(the file is empty\)/],
  ] as const)
    await assert.rejects(
      readAll(write(file, text)),
      (e: Error) => e instanceof InputError && message.test(e.message),
      file,
    );
  for (const [file, text] of [
    ["none.json", "[]\n"],
    ["none.yaml", "# nothing yet\n[]\n"],
    ["none.csv", "id,type\n"],
    ["none.jsonl", ""],
    ["none.jsonl.gz", gzipSync("")],
  ] as const)
    assert.deepEqual(await readAll(write(file, text)), [], file);
});

test("YAML numbers are decimal: 1e3, 017 and 12.5 are numbers; 0x1f in a tag stays the text written", async () => {
  const got = await readAll(
    write(
      "decimal.yaml",
      "- {id: a, type: a/b, monthly_cost: 1e3, hourly_cost: 12.5, specs: {vcpus: 017}, tags: {build: 0x1f}}\n",
    ),
  );
  assert.deepEqual(
    [got[0]?.monthly_cost, got[0]?.hourly_cost, got[0]?.specs?.vcpus, got[0]?.tags?.build],
    [1000, 12.5, 17, "0x1f"],
  );
});

describe("file:PATH inventory: streaming", () => {
  test("a JSON array larger than one read chunk, with tricky strings across chunk boundaries", async () => {
    const many: Resource[] = Array.from({ length: 12000 }, (_, i) => ({
      id: `i-${i}`,
      type: "compute/instance",
      name: `name with ] and } and "quotes" \\ back\\slash ✓ ${"é".repeat(i % 7)}`,
      tags: { note: "[{]}".repeat(i % 5) },
      specs: { vcpus: (i % 16) + 1 },
    }));
    const path = write("big.json", `[\n${many.map((r) => `  ${JSON.stringify(r)}`).join(",\n")}\n]\n`);
    const progress: InventoryProgress[] = [];
    const got = await readAll(path, (p) => progress.push(p));
    assert.equal(got.length, 12000);
    assert.deepEqual(got[8765], many[8765]);
    assert.deepEqual(got.at(-1), many.at(-1));
    assert.ok(progress.length > 1, "progress reported per chunk");
    assert.equal(progress.at(-1)!.done, progress.at(-1)!.total);
    assert.equal(progress.at(-1)!.resources, 12000);
  });

  // Parsed whole, a 24 MB one took 1.6 GB and 72 s (a block list of the same: 152 MB).
  test("a YAML top-level flow sequence (a JSON array saved as .yaml) is read an item at a time", async () => {
    const many: Resource[] = Array.from({ length: 4000 }, (_, i) => ({
      id: `i-${i}`,
      type: "compute/instance",
      name: `name with ], } and "quotes" \\ and 'it''s' # not a comment ${i}`,
      tags: { note: "[{]}".repeat(i % 5) },
      specs: { vcpus: (i % 16) + 1 },
    }));
    const body = many.map((r) => `  ${JSON.stringify(r)}`).join(",\n");
    const path = write("big-flow.yaml", `# exported\n[\n${body}, # the last\n]\n# done\n`);
    const progress: InventoryProgress[] = [];
    const got = await readAll(path, (p) => progress.push(p));
    assert.deepEqual(got, many);
    assert.ok(progress.length > 1, "items read as the text comes, not once the whole sequence is parsed");
    const batches: string[] = [];
    for await (const batch of readYamlItems(path, "big-flow.yaml"))
      batches.push(...batch.map((b) => b.where));
    assert.deepEqual(batches.slice(0, 2), ["big-flow.yaml:3", "big-flow.yaml:4"]);
  });

  test("a flow sequence's items keep YAML's meaning: anchors, merge keys, quotes, documents after it", async () => {
    const text = [
      "--- [ &t {id: a, type: a/b, tags: {team: x}}, {<<: *t, id: b},",
      "  {id: c, type: a/b, name: it's, note: 'a, ]', list: [1, {k: \"v]\"}]}",
      "] # end",
      "---",
      "- id: d",
      "  type: a/b",
    ].join("\n");
    const got = await readAll(write("flow-mixed.yaml", text));
    assert.deepEqual(
      got.map((r) => [r.id, r.tags, r.name]),
      [
        ["a", { team: "x" }, undefined],
        ["b", { team: "x" }, undefined],
        ["c", undefined, "it's"],
        ["d", undefined, undefined],
      ],
    );
  });

  test("JSON lines over many read chunks: ASCII stretches, multi-byte characters split across chunks", async () => {
    // Runs of pure-ASCII lines between lines full of 2-, 3- and 4-byte characters, so chunk
    // boundaries fall inside multi-byte characters and ASCII chunks follow non-ASCII ones.
    const many: Resource[] = Array.from({ length: 9000 }, (_, i) => ({
      id: `r-${i}`,
      type: "storage/volume",
      name: i % 1000 < 40 ? `${"é✓𝄞".repeat((i % 13) + 1)}-${i}` : `plain-${"x".repeat(i % 97)}`,
      specs: { size_gb: i },
    }));
    const text = `\uFEFF${many.map((r) => JSON.stringify(r)).join("\r\n")}\n`;
    const got = await readAll(write("mixed.jsonl", text));
    assert.equal(got.length, many.length);
    assert.deepEqual(got, many);
  });

  test("bytes that are not UTF-8 are refused naming their line, wherever a chunk ends, never read as U+FFFD", async () => {
    // A truncated 3-byte sequence (E2 82) followed by ASCII, placed across the first chunk's end
    // (64 KiB), the first read's (1 MiB) and elsewhere; the lines before it hold multi-byte
    // characters and a real U+FFFD. `lines` ends with the broken line and one block after it.
    const KIB = 1024;
    for (const at of [
      64 * KIB - 3,
      64 * KIB - 2,
      64 * KIB - 1,
      64 * KIB,
      64 * KIB + 1,
      200 * KIB + 5,
      1024 * KIB - 2,
      1024 * KIB - 1,
    ]) {
      const lines: Buffer[] = [];
      let size = 0;
      for (let i = 0; ; i++) {
        const head = Buffer.from(
          `{"id":"r-${i}","type":"storage/volume","name":"${i % 3 === 0 ? "é✓�" : ""}`,
        );
        if (size + head.length + 200 < at) {
          const line = Buffer.concat([head, Buffer.from(`${"p".repeat(i % 150)}"}\n`)]);
          lines.push(line);
          size += line.length;
          continue;
        }
        const pad = at - size - head.length;
        lines.push(
          Buffer.concat([head, Buffer.from("p".repeat(pad)), Buffer.from([0xe2, 0x82]), Buffer.from('"}\n')]),
        );
        // A megabyte after it: the next read fills the whole read buffer, where the bytes before were.
        lines.push(Buffer.from('{"id":"after","type":"storage/volume"}\n'.repeat(28_000)));
        break;
      }
      const path = write("broken.jsonl", Buffer.concat(lines));
      // The bytes shown are those of the chunk that holds them (the quote after them may be the next one's).
      await assert.rejects(
        readAll(path),
        (e: Error) =>
          e instanceof InputError &&
          e.message.includes(`broken.jsonl:${lines.length - 1}: the line is not UTF-8 text (bytes e2 82`) &&
          e.message.endsWith(
            "inventories are UTF-8; convert the file (iconv -f WINDOWS-1252 -t UTF-8, say, for a spreadsheet's export) or mend the damaged bytes",
          ),
        `broken bytes at ${at}`,
      );
    }
    // Latin-1 text, as a spreadsheet exports it; and a file that ends inside a character.
    const latin = write("latin.csv", Buffer.from("id,type,name\ni-1,compute/instance,caf\xe9\n", "latin1"));
    await assert.rejects(readAll(latin), /latin\.csv:2: field 3 is not UTF-8 text/);
    const cut = write(
      "cut.yaml",
      Buffer.concat([
        Buffer.from("- id: i-1\n  type: compute/instance\n  name: x"),
        Buffer.from([0xe2, 0x82]),
      ]),
    );
    await assert.rejects(
      readAll(cut),
      /cut\.yaml:3: the line is not UTF-8 text \(the file ends inside a character\)/,
    );
    const array = write(
      "latin.json",
      Buffer.from('[\n{"id": "i-1", "type": "compute/instance",\n "name": "caf\xe9"}]', "latin1"),
    );
    await assert.rejects(readAll(array), /latin\.json:3: the line is not UTF-8 text \(bytes e9 22 7d 5d\)/);
  });

  test("a piece of a file read by a worker thread names the line of bytes that are not UTF-8 as the whole file does", () => {
    const bytes = Buffer.concat([
      Buffer.from('{"id":"a","name":"é"}\n{"id":"b"}\n{"id":"c","name":"'),
      Buffer.from([0xff]),
      Buffer.from('"}\n'),
    ]);
    assert.throws(
      () => [...pieceLines(bytes, 100, false, "estate.jsonl")],
      /^InputError: estate\.jsonl:102: the line is not UTF-8 text \(bytes ff 22 7d 0a\)/,
    );
  });

  test("an id of 2,048 bytes, an ARN's longest, is read", async () => {
    const id = `arn:aws:ec2:us-east-1:123456789012:instance/${"i".repeat(2048 - 44)}`;
    const [r] = await readAll(write("arn.jsonl", `${JSON.stringify({ id, type: "a/b" })}\n`));
    assert.equal(Buffer.byteLength(r!.id), 2048);
  });

  test("a backslash before u0000 is text, not NUL: read as it is written", async () => {
    const [r] = await readAll(write("not-nul.jsonl", '{"id":"a","type":"a/b","name":"x\\\\u0000"}\n'));
    assert.equal(r!.name, "x\\u0000");
  });

  test("an empty array and an empty lines file are empty inventories", async () => {
    assert.deepEqual(await readAll(write("empty.json", " [ ] ")), []);
    assert.deepEqual(await readAll(write("empty.jsonl", "\n\n")), []);
    // A CSV's header names its columns: the header alone is an empty estate, no header no inventory.
    assert.deepEqual(await readAll(write("header-only.csv", "id,type\n")), []);
    for (const [name, text] of [
      ["empty.csv", ""],
      ["blank.csv", "\n\r\n"],
    ])
      await assert.rejects(
        readAll(write(name!, text!)),
        new RegExp(
          `${name!.replace(".", "\\.")}: no CSV header line \\(the file is empty\\): a CSV inventory starts with a header naming at least the columns id and type`,
        ),
      );
  });
});

test("CSV: a tags column of JSON and tags.KEY columns add up when they agree", async () => {
  const path = write(
    "tags-both.csv",
    'id,type,tags.team,tags\nx,a/b,web,"{""team"":""web"",""owner"":""a@b.c""}"\n',
  );
  assert.deepEqual(await readAll(path), [{ id: "x", type: "a/b", tags: { team: "web", owner: "a@b.c" } }]);
});

test("CSV: columns named like Object's own members are plain fields, and touch nothing shared", async () => {
  const path = write(
    "members.csv",
    "id,type,constructor.x,tags.constructor,specs.hasOwnProperty\nx,a/b,1,c,2\n",
  );
  assert.deepEqual(await readAll(path), [
    {
      id: "x",
      type: "a/b",
      constructor: { x: "1" },
      tags: { constructor: "c" },
      specs: { hasOwnProperty: "2" },
    },
  ]);
  assert.equal((Object as unknown as Record<string, unknown>).x, undefined);
});

test("costs as text with an exponent or as numbers, and unknown dates or costs as null, are read", async () => {
  const text = [
    '{"id":"a","type":"compute/instance","hourly_cost":"1.5e-2","currency":"EUR","state":"stopped"}',
    '{"id":"b","type":"storage/volume","monthly_cost":0,"hourly_cost":null,"created_at":null,"detached_at":null,"attached_to":null}',
  ].join("\n");
  const [a, b] = await readAll(write("nullable.jsonl", `${text}\n`));
  assert.equal(a!.hourly_cost, "1.5e-2");
  assert.equal(b!.monthly_cost, 0);
  assert.equal(b!.created_at, null);
  // Zero written with a sign is zero, as text as it is as a number; the largest cost read is read.
  const zeros =
    '{"id":"c","type":"a/b","hourly_cost":"-0"}\n{"id":"d","type":"a/b","hourly_cost":-0,"monthly_cost":"1e12"}\n';
  const [c, d] = await readAll(write("zeros.jsonl", zeros));
  assert.equal(c!.hourly_cost, "-0");
  assert.equal(d!.monthly_cost, "1e12");
});

describe("file:PATH inventory: bad input says where", () => {
  const cases: [string, string | Buffer, RegExp][] = [
    ["bad.jsonl", '{"id":"a","type":"compute/instance"}\n{"id":"b",\n', /bad\.jsonl:2: not valid JSON/],
    ["noid.jsonl", '{"type":"compute/instance"}\n', /noid\.jsonl:1 is not valid: missing `id`/],
    ["notype.jsonl", '{"id":"x"}\n', /notype\.jsonl:1 is not valid: missing `type`/],
    ["badtype.jsonl", '{"id":"x","type":"instance"}\n', /category\/kind/],
    [
      "badmetric.jsonl",
      '{"id":"x","type":"a/b","metrics":{"avg_cpu_percent":"low"}}\n',
      /metrics\.avg_cpu_percent/,
    ],
    [
      "negmetric.jsonl",
      '{"id":"x","type":"a/b"}\n{"id":"y","type":"a/b","metrics":{"avg_network_bytes":-1}}\n',
      /negmetric\.jsonl:2 is not valid: `metrics\.avg_network_bytes` must be a number, zero or more/,
    ],
    [
      "negmetric.csv",
      "id,type,metrics.avg_cpu_percent\nx,a/b,-3\n",
      /negmetric\.csv:2 is not valid: `metrics\.avg_cpu_percent`/,
    ],
    // Read only when a finding needs them, these failed a scan, or passed it, by whether a resource was idle.
    [
      "badcost.jsonl",
      '{"id":"x","type":"a/b","hourly_cost":"0.1"}\n{"id":"y","type":"a/b","monthly_cost":"1,234.50"}\n',
      /badcost\.jsonl:2 is not valid: `monthly_cost` is `"1,234.50"`: a running cost is an amount of zero or more/,
    ],
    [
      "boolcost.jsonl",
      '{"id":"x","type":"a/b","monthly_cost":true}\n',
      /`monthly_cost` is `true`: a running cost/,
    ],
    [
      "hugecost.jsonl",
      '{"id":"x","type":"a/b","hourly_cost":"1e999999999"}\n',
      /`hourly_cost` is `"1e999999999"`: a running cost is an amount/,
    ],
    // Past the largest cost read: as text (once read, its 400 digits filled every total) and as a
    // number JSON cannot hold (read as Infinity, and once named `null` in the message).
    [
      "farcost.jsonl",
      '{"id":"x","type":"a/b","hourly_cost":"1e400"}\n',
      /`hourly_cost` is `"1e400"`: a running cost is an amount of zero or more, at most 1,000,000,000,000, e\.g\. "0\.096"$/,
    ],
    [
      "infcost.jsonl",
      '{"id":"x","type":"a/b","monthly_cost":1e400}\n',
      /`monthly_cost` is a number too large to read: a running cost/,
    ],
    ["negcost.csv", "id,type,hourly_cost\nx,a/b,-0.5\n", /negcost\.csv:2 is not valid: `hourly_cost`/],
    // Number() reads hexadecimal and binary: a CSV cell of 0x40 was 64 vCPUs.
    [
      "hex.csv",
      "id,type,specs.vcpus\nx,a/b,0x40\n",
      /hex\.csv:2: specs\.vcpus `0x40` is not a number \(decimal/,
    ],
    [
      "currency.jsonl",
      '{"id":"x","type":"a/b","currency":"dollars"}\n',
      /`currency` must be a three-letter code/,
    ],
    [
      "state.jsonl",
      '{"id":"x","type":"a/b","state":5}\n',
      /state\.jsonl:1 is not valid: `state` must be string/,
    ],
    ["idnum.jsonl", '{"id":5,"type":"a/b"}\n', /`id` must be text \(quote it: "5"\), not a number/],
    // A refused value nested some thousands deep: showing it (as JSON, or String() of a list) ran out
    // of stack (exit 3).
    ...[3000, 100_000].flatMap((levels): [string, string, RegExp][] => {
      const deep = `${"[".repeat(levels)}${"]".repeat(levels)}`;
      const shown = levels === 3000 ? `\`${"[".repeat(40)}…\`` : "a list";
      return [
        [
          `id-${levels}.jsonl`,
          `{"id":${deep},"type":"a/b"}\n`,
          /:1 is not valid: `id` must be text, not a list$/,
        ],
        [
          `cost-${levels}.jsonl`,
          `{"id":"a","type":"a/b","hourly_cost":${deep}}\n`,
          new RegExp(`:1 is not valid: \`hourly_cost\` is ${shown.replace(/\[/g, "\\[")}: a running cost is`),
        ],
      ];
    }),
    ["idempty.jsonl", '{"id":"","type":"a/b"}\n', /`id` must not be empty/],
    ["scalar.jsonl", "5\n", /scalar\.jsonl:1 is not valid: a resource must be an object/],
    [
      "array.jsonl",
      '[{"id":"a","type":"a/b"}]\n',
      /array\.jsonl:1 is not valid: it holds a JSON array, and the file is read as JSON lines: one resource, an object, per line\. A JSON array belongs in a file named \.json/,
    ],
    // An export's wrapper around the list, and JSON spread over lines, read as JSON lines.
    [
      "wrapped.jsonl",
      '{"Items":[{"id":"a","type":"a/b"}]}\n',
      /wrapped\.jsonl:1 is not valid: it holds "Items", a list, where a resource belongs: .*; take the list out of its wrapper, e\.g\. jq -c '\.Items\[\]'$/,
    ],
    [
      "wrapped.yaml",
      "resources:\n  - id: a\n    type: a/b\n",
      /wrapped\.yaml:1 is not valid: it holds "resources", a list, where a resource belongs: .*\(see docs\/scan\.md\)$/,
    ],
    // Other inputs costguard reads, given as an inventory.
    [
      "plan.jsonl",
      '{"format_version":"1.2","resource_changes":[]}\n',
      /plan\.jsonl:1 is not valid: this is a Terraform plan, not a resource: check it with costguard plan PLAN\.json/,
    ],
    [
      "pod.yaml",
      "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\n",
      /pod\.yaml:1 is not valid: this is a Kubernetes object \(kind Pod\), not a resource: the admission webhook decides workloads/,
    ],
    [
      "pretty.json",
      '{\n  "id": "a",\n  "type": "a/b"\n}\n',
      /pretty\.json:1: not valid JSON: .* \(a line of only `\{`: JSON lines hold one whole object per line, as jq -c writes them/,
    ],
    [
      "pretty-array.jsonl",
      '[\n  {"id": "a", "type": "a/b"}\n]\n',
      /pretty-array\.jsonl:1: not valid JSON: .* \(a line of only `\[`: a JSON array spread over lines; in a file named \.json it is read as one\)$/,
    ],
    [
      "later.jsonl",
      '{"id":"a","type":"a/b"}\n[1]\n',
      /later\.jsonl:2 is not valid: a resource must be an object/,
    ],
    // Read only by the orphaned-volume detector, so on an instance it passed unread.
    [
      "date.jsonl",
      '{"id":"x","type":"compute/instance","created_at":"2025-02-30"}\n',
      /date\.jsonl:1 is not valid: `created_at` is `"2025-02-30"`: not a date/,
    ],
    [
      "detached.csv",
      "id,type,detached_at\nx,storage/volume,yesterday\n",
      /detached\.csv:2 is not valid: `detached_at`/,
    ],
    ["open.json", '[{"id":"a","type":"a/b"}', /not closed/],
    ["trailing.json", '[{"id":"a","type":"a/b"}] x', /after the closing/],
    // Separators JSON does not allow (an export spliced or cut by hand) were read past in silence.
    [
      "nocomma.json",
      '[{"id":"a","type":"a/b"}\n {"id":"b","type":"a/b"}]',
      /nocomma\.json:2: a comma is missing/,
    ],
    ["twocommas.json", '[{"id":"a","type":"a/b"},,{"id":"b","type":"a/b"}]', /twocommas\.json:1: two commas/],
    ["lastcomma.json", '[{"id":"a","type":"a/b"},\n]', /lastcomma\.json:2: a comma before the closing \]/],
    ["firstcomma.json", '[,{"id":"a","type":"a/b"}]', /firstcomma\.json:1: a comma before the first element/],
    // A top-level flow sequence is cut into items: what is wrong still names the file's line and column.
    [
      "flow-item.yaml",
      '[\n{"id": "a", "type": "a/b"},\n{"id": "b" "type": "a/b"}\n]\n',
      /flow-item\.yaml:3: not valid YAML, column 12: Unexpected double-quoted-scalar token$/,
    ],
    [
      "flow-spec.yaml",
      '[\n{"id": "a", "type": "a/b"},\n\n{"id": "b", "type": "a/b", "specs": {"vcpus": "x"}}]',
      /flow-spec\.yaml:4 is not valid: `specs\.vcpus` must be number/,
    ],
    [
      "flow-open.yaml",
      '[{"id": "a", "type": "a/b"},\n',
      /flow-open\.yaml:1: not valid YAML: the flow sequence/,
    ],
    [
      "flow-after.yaml",
      "[{id: a, type: a/b}] x\n",
      /flow-after\.yaml:1: not valid YAML, column 22: text after the \]/,
    ],
    [
      "flow-commas.yaml",
      "[{id: a, type: a/b},\n , {id: b, type: a/b}]",
      /flow-commas\.yaml:2: not valid YAML: no item/,
    ],
    [
      "flow-close.yaml",
      "[{id: a, type: a/b}}",
      /flow-close\.yaml:1: not valid YAML, column 20: \} closes the \[/,
    ],
    // YAML 1.2 read these as 16, 15, Infinity and NaN; numbers are decimal, as JSON's and CSV's are.
    [
      "hex.yaml",
      "- id: a\n  type: a/b\n- id: b\n  type: a/b\n  monthly_cost: 0x10\n",
      /hex\.yaml:3 is not valid: `monthly_cost` is `"0x10"`: a running cost is an amount/,
    ],
    [
      "octal.yaml",
      "- id: a\n  type: a/b\n  hourly_cost: 0o17\n",
      /octal\.yaml:1 is not valid: `hourly_cost` is `"0o17"`/,
    ],
    [
      "inf.yaml",
      "- {id: a, type: a/b, monthly_cost: .inf}\n",
      /inf\.yaml:1 is not valid: `monthly_cost` is `"\.inf"`/,
    ],
    [
      "nan.yaml",
      "- id: a\n  type: a/b\n  metrics: {avg_cpu_percent: .NaN}\n",
      /nan\.yaml:1 is not valid: `metrics\.avg_cpu_percent` must be a number/,
    ],
    [
      "hexspec.yaml",
      "- id: a\n  type: a/b\n  specs: {vcpus: 0x10}\n",
      /hexspec\.yaml:1 is not valid: `specs\.vcpus` must be number/,
    ],
    ["bad.yaml", "- id: a\n  type: a/b\n- id: [b\n", /bad\.yaml:3: not valid YAML/],
    // The file's line, not the item's (the library counts from the item, and once said "line 6" too).
    [
      "flow.yaml",
      "- id: a\n  type: a/b\n- id: b\n  type: a/b\n  specs:\n    vcpus: 4\n    memory_gb: [1, 2\n  name: x\n",
      /flow\.yaml:8: not valid YAML, column 3: Flow sequence in block collection must be sufficiently indented and end with a \]$/,
    ],
    [
      "alias.yaml",
      "- id: a\n  type: a/b\n- id: b\n  type: a/b\n  specs:\n    vcpus: 4\n    memory_gb: *nope\n",
      /alias\.yaml:7: the alias \*nope names no anchor defined before it/,
    ],
    // A JSON array's elements are named by their line, as every other format names its records.
    [
      "element.json",
      '[{"id":"a","type":"a/b"},\n\n{"id":"b","type":"a/b","specs":{"vcpus":"x"}}]',
      /element\.json:3 is not valid: `specs\.vcpus` must be number/,
    ],
    [
      "element2.json",
      '[{"id":"a","type":"a/b"},\n{"id":"b",\n "type":"a/b",\n "specs":{"vcpus":4,}}]',
      /element2\.json:4: not valid JSON, column 21: Expected double-quoted property name in JSON$/,
    ],
    ["nohead.csv", "name,type\nx,a/b\n", /header needs at least the columns id and type$/],
    [
      "semicolons.csv",
      "id;type;state\nx;a/b;running\n",
      /columns id and type \(its one column, "id;type;state", holds ";": costguard reads comma-separated values\)$/,
    ],
    ["capitals.csv", "ID,Type\nx,a/b\n", /columns id and type \(names are lowercase: found ID, Type\)$/],
    ["badnum.csv", "id,type,specs.vcpus\nx,a/b,many\n", /badnum\.csv:2: specs\.vcpus `many` is not a number/],
    ["ragged.csv", "id,type\nx,a/b,extra\n", /not valid CSV/],
    [
      "emptytag.csv",
      "id,type,tags.\nx,a/b,v\n",
      /emptytag\.csv:1: the CSV header's column `tags\.` has an empty name after its dot/,
    ],
    ["leadingdot.csv", "id,type,.x\nx,a/b,v\n", /column `\.x` has an empty name before its dot/],
    // Its values were kept under a field named "" (a `state` lost to a header cell left blank).
    [
      "unnamed.csv",
      "id,type,\nx,a/b,\ny,a/b,stopped\n",
      /unnamed\.csv:3: column 3 holds "stopped" but the header names it nothing: name the column or empty it$/,
    ],
    ["twice.csv", "id,type,id\nx,a/b,y\n", /twice\.csv:1: the CSV header names the column `id` twice/],
    [
      "both.csv",
      "id,type,specs,specs.vcpus\nx,a/b,big,4\n",
      /both\.csv:1: the CSV header has both `specs` and `specs\.vcpus`/,
    ],
    [
      "tagclash.csv",
      'id,type,tags.team,tags\nx,a/b,web,"{""team"":""ops""}"\n',
      /tagclash\.csv:2: tags\.team is given twice, as `web` and `ops`/,
    ],
    [
      "tagtext.csv",
      "id,type,tags,tags.team\nx,a/b,hello,web\n",
      /tagtext\.csv:2: the tags column is not a JSON object/,
    ],
    ["tagarray.csv", 'id,type,tags\nx,a/b,"[1]"\n', /tagarray\.csv:2: the tags column is not a JSON object/],
    ["estate.txt", "{}", /cannot tell the format/],
    // Either would write into every object's prototype in the process.
    [
      "proto.csv",
      "id,type,__proto__.polluted\nx,a/b,yes\n",
      /proto\.csv:1: the CSV header's column `__proto__\.polluted` names `__proto__`, which is not a field/,
    ],
    [
      "protoTags.csv",
      'id,type,tags\nx,a/b,"{""__proto__"":{""owner"":""x""}}"\n',
      /protoTags\.csv:2: the tags column names `__proto__`, which is not a tag/,
    ],
    // As Windows PowerShell 5 writes with `>`.
    [
      "utf16.jsonl",
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"id":"a","type":"a/b"}\n', "utf16le")]),
      /utf16\.jsonl is UTF-16 \(it starts with that byte-order mark\); inventories are UTF-8: convert it/,
    ],
    [
      "utf16.csv",
      Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from("id,type\n", "utf16le").swap16()]),
      /utf16\.csv is UTF-16/,
    ],
    // Without a mark (iconv -t UTF-16LE writes none): the CSV "needed the columns id and type", the
    // YAML "held a NUL", and JSON's message quoted the NUL bytes.
    [
      "bare16.csv",
      Buffer.from("id,type\na,a/b\n", "utf16le"),
      /bare16\.csv looks like UTF-16LE without a byte-order mark \(NUL bytes between its first characters\); inventories are UTF-8: convert it \(iconv -f UTF-16LE -t UTF-8, or PowerShell's Out-File -Encoding utf8\)$/,
    ],
    [
      "bare16.yaml",
      Buffer.from("- id: a\n  type: a/b\n", "utf16le").swap16(),
      /bare16\.yaml looks like UTF-16BE/,
    ],
    [
      "bare16.jsonl",
      Buffer.from('{"id":"a","type":"a/b"}\n', "utf16le"),
      /bare16\.jsonl looks like UTF-16LE/,
    ],
    ["bare16.json", Buffer.from('[{"id":"a","type":"a/b"}]', "utf16le"), /bare16\.json looks like UTF-16LE/],
    [
      "bare32.jsonl",
      Buffer.from(Array.from(Buffer.from('{"id":"a"}\n')).flatMap((c) => [c, 0, 0, 0])),
      /bare32\.jsonl looks like UTF-32LE/,
    ],
    // V8 quotes the text in its message: a control character is shown, not sent to the terminal.
    [
      "ctl.jsonl",
      '{"id":\u001b[8m"a"}\n',
      /ctl\.jsonl:1: not valid JSON: Unexpected token '\\x1b', "\{"id":\\x1b\[8m"a"\}" is not valid JSON$/,
    ],
    [
      "ctl.json",
      '[{"id":\u0007"a"}]',
      /ctl\.json:1: not valid JSON: Unexpected token '\\x07', "\{"id":\\x07"a"\}" is not valid JSON$/,
    ],
    // Compressed: named, not read as text that is not UTF-8 (`iconv -f WINDOWS-1252` was the advice).
    [
      "bzip2.jsonl",
      Buffer.from("BZh91AY&SY\x00\x01", "latin1"),
      /bzip2\.jsonl is compressed with bzip2: costguard reads inventories as text or gzip; decompress it \(bunzip2 -k\), or gzip it instead$/,
    ],
    [
      "zstd.csv",
      Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0]),
      /zstd\.csv is compressed with zstd: .* \(zstd -d\)/,
    ],
    [
      "zip.yaml",
      Buffer.from("PK\x03\x04\x14\x00", "latin1"),
      /zip\.yaml is compressed with zip: .*unzip it and name the file inside$/,
    ],
    [
      "cut.jsonl.gz",
      gzipSync('{"id":"a","type":"a/b"}\n'.repeat(100)).subarray(0, 30),
      /cut\.jsonl\.gz: not a valid gzip file: unexpected end of file$/,
    ],
    [
      "utf16.jsonl.gz",
      gzipSync(
        Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('{"id":"a","type":"a/b"}\n', "utf16le")]),
      ),
      /utf16\.jsonl\.gz is UTF-16 \(it starts with that byte-order mark\)/,
    ],
    // NUL in any text: PostgreSQL refused the scan's rows as a database error (exit 3), SQLite kept them.
    [
      "nul.jsonl",
      '{"id":"a","type":"a/b"}\n{"id":"b","type":"a/b","tags":{"team":"x\\u0000y"}}\n',
      /nul\.jsonl:2 is not valid: `tags\.team` holds a NUL character \(U\+0000\): no cloud allows one, and the store cannot keep it$/,
    ],
    [
      "nul.json",
      '[{"id":"a","type":"a/b","name":"\\u0000"}]',
      /nul\.json:1 is not valid: `name` holds a NUL/,
    ],
    ["nulKey.json", '[{"id":"a","type":"a/b","tags":{"\\u0000":"x"}}]', /`tags\."\\u0000"` holds a NUL/],
    // Ids are indexed: PostgreSQL refused a 9,000-byte one as a database error (exit 3).
    [
      "longId.jsonl",
      `${JSON.stringify({ id: "é".repeat(1025), type: "a/b" })}\n`,
      /longId\.jsonl:1 is not valid: `id` is 2,050 bytes: an id is at most 2,048 \(an ARN's longest\)/,
    ],
    ["nul.csv", "id,type,name\na,a/b,x\0y\n", /nul\.csv:2 is not valid: `name` holds a NUL/],
    ["nul.yaml", '- id: a\n  type: a/b\n  name: "x\\0"\n', /nul\.yaml:1 is not valid: `name` holds a NUL/],
    // Half a surrogate pair: SQLite stored three replacement characters for it, PostgreSQL one.
    [
      "half.jsonl",
      '{"id":"a","type":"a/b","tags":{"ok":"\\ud83d\\ude00"}}\n{"id":"b","type":"a/b","name":"x\\ud800y"}\n',
      /half\.jsonl:2 is not valid: `name` holds half a UTF-16 surrogate pair \(an escape such as \\ud800 without its other half\), which is no character: fix the export$/,
    ],
    [
      "half.json",
      '[{"id":"a","type":"a/b","tags":{"\\uDC00":"x"}}]',
      /half\.json:1 is not valid: `tags\."\\udc00"` holds half/,
    ],
    [
      "half.yaml",
      '- id: a\n  type: a/b\n  name: "\\udbff"\n',
      /half\.yaml:1 is not valid: `name` holds half/,
    ],
    // Nesting past MAX_NESTING where a record is walked for the above (JSON holding an escaped emoji,
    // YAML whose anchors, each 250 levels deep, hold one another): the walk recursed (exit 3). A few
    // anchors only: the yaml library builds such a value in time growing as their square.
    ...[
      [3000, 12],
      [100_000, 60],
    ].flatMap(([levels, anchors]): [string, string, RegExp][] => {
      const deep = `${"[".repeat(levels!)}${"]".repeat(levels!)}`;
      const json = `{"id":"a","type":"a/b","specs":{"x":${deep}},"name":"\\ud83d\\ude00"}`;
      const chain = Array.from(
        { length: anchors! },
        (_, k) => `    a${k}: &a${k} ${"[".repeat(250)}${k === 0 ? "" : `*a${k - 1}`}${"]".repeat(250)}\n`,
      ).join("");
      const why = (name: string, line: number) =>
        new RegExp(`${name}:${line} is not valid: its lists and maps nest more than 256 levels deep`);
      const yaml = `deep-${anchors! * 250}.yaml`;
      return [
        [`deep-${levels}.jsonl`, `{"id":"b","type":"a/b"}\n${json}\n`, why(`deep-${levels}\\.jsonl`, 2)],
        [`deep-${levels}.json`, `[${json}]`, why(`deep-${levels}\\.json`, 1)],
        [yaml, `- id: a\n  type: a/b\n  specs:\n${chain}`, why(yaml.replace(".", "\\."), 1)],
      ];
    }),
  ];
  for (const [name, text, message] of cases) {
    test(name, async () => {
      const path = write(name, text);
      await assert.rejects(readAll(path), (err: Error) => {
        assert.ok(err instanceof InputError, `${err.name}: ${err.message}`);
        assert.match(err.message, message);
        return true;
      });
    });
  }

  test("a record longer than 64 MiB is refused as it grows, not held (V8 cannot hold 512 MiB)", async () => {
    const first = '{"id":"a","type":"a/b"}';
    const long = `{"id":"b","type":"a/b","tags":{"note":"${"x".repeat(MAX_LINE_CHARS)}"}}`;
    const longCases: [string, string, RegExp][] = [
      [
        "long.jsonl",
        `${first}\n${long}\n`,
        /\/long\.jsonl:2: the line is longer than 64 MiB, more than any one record needs: not read$/,
      ],
      // A JSON array on one line in a file read as JSON lines (`jq -c . estate.json > estate.jsonl`).
      [
        "one-line.jsonl",
        `[${first},${long}]\n`,
        /\/one-line\.jsonl:1: .* it starts with \[: a JSON array on one line belongs in a file named \.json/,
      ],
      [
        "long.json",
        `[\n${first},\n${long}]\n`,
        /\/long\.json:3: the element starting here is longer than 64 MiB/,
      ],
      ["long.yaml", `- id: a\n  type: a/b\n- ${long}\n`, /\/long\.yaml:3: the line is longer than 64 MiB/],
    ];
    for (const [name, text, message] of longCases) {
      const path = write(name, text);
      await assert.rejects(readAll(path), (err: Error) => {
        assert.ok(err instanceof InputError, `${name}: ${err.name}: ${err.message}`);
        assert.match(err.message, message, name);
        return true;
      });
      rmSync(path);
    }
  });
});

describe("file:PATH inventory: YAML anchors, aliases and merge keys", () => {
  test("an item may merge a template an earlier item of the same document defines", async () => {
    const text = [
      "# a template, then items that merge it",
      "- &web",
      "  id: i-20",
      "  type: compute/instance",
      "  tags: &webtags {team: web, environment: production}",
      "  specs: {instance_type: m5.large}",
      "- <<: *web",
      "  id: i-21",
      "- id: i-22",
      "  type: storage/volume",
      "  tags: *webtags",
      "- &web",
      "  id: i-23",
      "  type: compute/instance",
      "  tags: *webtags",
      "  specs: {instance_type: m5.8xlarge}",
      "- <<: *web",
      "  id: i-24",
      "  state: stopped",
    ].join("\n");
    const got = await readAll(write("anchors.yaml", `${text}\n`));
    const tags = { team: "web", environment: "production" };
    assert.deepEqual(got, [
      { id: "i-20", type: "compute/instance", tags, specs: { instance_type: "m5.large" } },
      { id: "i-21", type: "compute/instance", tags, specs: { instance_type: "m5.large" } },
      { id: "i-22", type: "storage/volume", tags },
      { id: "i-23", type: "compute/instance", tags, specs: { instance_type: "m5.8xlarge" } },
      // The alias names the latest anchor of that name.
      {
        id: "i-24",
        type: "compute/instance",
        tags,
        specs: { instance_type: "m5.8xlarge" },
        state: "stopped",
      },
    ]);
  });

  test("an alias takes the latest anchor of its name before it, through templates built on templates", async () => {
    const text = [
      "- {id: a, type: a/b, tags: &x {v: one}}",
      "- id: b",
      "  type: a/b",
      "  tags: &y",
      "    <<: *x",
      "    w: two",
      "- {id: c, type: a/b, tags: &x {v: three}}",
      "- {id: d, type: c/d, tags: *y}",
      "- {id: e, type: c/d, tags: *x}",
    ].join("\n");
    const got = await readAll(write("chain.yaml", `${text}\n`));
    assert.deepEqual(
      got.map((r) => [r.id, r.tags]),
      [
        ["a", { v: "one" }],
        ["b", { v: "one", w: "two" }],
        ["c", { v: "three" }],
        ["d", { v: "one", w: "two" }],
        ["e", { v: "three" }],
      ],
    );
  });

  test("many items between a template and its use, across read chunks", async () => {
    const items = Array.from(
      { length: 4000 },
      (_, i) => `- <<: *base\n  id: i-${i}\n  name: "${"n".repeat(40)}"`,
    );
    const text = `- &base {id: i-base, type: compute/instance, tags: {team: web}}\n${items.join("\n")}\n`;
    const got = await readAll(write("many-anchored.yaml", text));
    assert.equal(got.length, 4001);
    assert.deepEqual(got[4000], {
      id: "i-3999",
      type: "compute/instance",
      tags: { team: "web" },
      name: "n".repeat(40),
    });
  });

  test("items that each anchor their own parts (as YAML dumpers write shared values) read past the bound", async () => {
    const items = Array.from(
      { length: 300 },
      (_, i) => `- id: i-${i}\n  type: compute/instance\n  tags: &id${i} {team: web}\n  name: n${i}`,
    );
    const path = write("self-anchored.yaml", `${items.join("\n")}\n- {id: last, type: a/b, tags: *id299}\n`);
    // A bound of 1 KiB keeps only the last few anchored items.
    const got: unknown[] = [];
    for await (const batch of readYamlItems(path, "self-anchored.yaml", undefined, 1024)) got.push(...batch);
    assert.equal(got.length, 301);
    assert.deepEqual((got[300] as { value: unknown }).value, {
      id: "last",
      type: "a/b",
      tags: { team: "web" },
    });
    // An alias to an anchor let go says so.
    writeFileSync(path, `${items.join("\n")}\n- {id: last, type: a/b, tags: *id0}\n`);
    await assert.rejects(
      (async () => {
        for await (const _ of readYamlItems(path, "self-anchored.yaml", undefined, 1024));
      })(),
      /self-anchored\.yaml:1201: the alias \*id0 names an anchor more than 4 MiB of anchored items back/,
    );
  });

  const lol = ["- id: x", "  type: a/b", "  tags:", "    a: &a [x, x, x, x, x, x, x, x, x, x]"];
  for (const [k, prev] of [
    ["b", "a"],
    ["c", "b"],
    ["d", "c"],
  ])
    lol.push(`    ${k}: &${k} [${Array(10).fill(`*${prev}`).join(", ")}]`);
  const bad: [string, string, RegExp][] = [
    // Aliases that multiply past the library's bound: refused as input, not a crash.
    ["laughs.yaml", `${lol.join("\n")}\n`, /laughs\.yaml:1: not valid YAML: Excessive alias count/],
    // YAML scopes anchors to their document.
    [
      "other-doc.yaml",
      "- &t {id: a, type: a/b}\n---\n- <<: *t\n  id: b\n",
      /other-doc\.yaml:3: the alias \*t names no anchor/,
    ],
    [
      "undefined.yaml",
      "- id: a\n  type: a/b\n  tags: *nowhere\n",
      // The alias's own line, not its item's first.
      /undefined\.yaml:3: the alias \*nowhere names no anchor/,
    ],
    [
      "later.yaml",
      "- <<: *t\n  id: b\n- &t {id: a, type: a/b}\n",
      /later\.yaml:1: the alias \*t names no anchor/,
    ],
  ];
  for (const [name, text, message] of bad) {
    test(name, async () => {
      await assert.rejects(readAll(write(name, text)), (err: Error) => {
        assert.ok(err instanceof InputError, `${err.name}: ${err.message}`);
        assert.match(err.message, message);
        return true;
      });
    });
  }
});
