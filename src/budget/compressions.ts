/**
 * Compressed formats a billing export or an inventory may come in that costguard does not read (it
 * reads gzip), by their first bytes (or, for an inventory, the extensions they are saved under): named,
 * rather than read as text that is not UTF-8.
 */
export const OTHER_COMPRESSIONS = [
  {
    name: "bzip2",
    magic: Buffer.from("BZh", "latin1"),
    extensions: [".bz2", ".bzip2"],
    fix: "decompress it (bunzip2 -k), or gzip it instead",
  },
  {
    name: "zstd",
    magic: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
    extensions: [".zst", ".zstd"],
    fix: "decompress it (zstd -d), or gzip it instead",
  },
  {
    name: "xz",
    magic: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
    extensions: [".xz"],
    fix: "decompress it (xz -dk), or gzip it instead",
  },
  {
    name: "zip",
    magic: Buffer.from([0x50, 0x4b, 0x03, 0x04]),
    extensions: [".zip"],
    fix: "unzip it and name the CSV or Parquet file inside",
  },
];
