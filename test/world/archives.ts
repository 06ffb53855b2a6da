/**
 * Real package files, built in memory: a gzipped tar for npm, zips for a Python wheel and a Java
 * jar. Enough of each format for the real clients (npm, pnpm, yarn, pip, Maven) to accept them.
 */
import { createHash } from "node:crypto";
import { deflateRawSync, gzipSync } from "node:zlib";

export interface Entry {
  name: string;
  content: string | Buffer;
}

const bytes = (content: string | Buffer) => (typeof content === "string" ? Buffer.from(content) : content);

/** A fixed time for every entry: the same input always gives the same archive (and checksums). */
const MTIME = Date.UTC(2026, 0, 1) / 1000;

function tarHeader(name: string, size: number): Buffer {
  const header = Buffer.alloc(512);
  const field = (offset: number, length: number, value: string) =>
    header.write(value, offset, length, "ascii");
  const octal = (offset: number, length: number, value: number) =>
    field(offset, length, `${value.toString(8).padStart(length - 1, "0")}\0`);
  field(0, 100, name);
  octal(100, 8, 0o644);
  octal(108, 8, 0);
  octal(116, 8, 0);
  octal(124, 12, size);
  octal(136, 12, MTIME);
  field(148, 8, "        "); // the checksum counts its own field as spaces
  field(156, 1, "0");
  field(257, 6, "ustar\0");
  field(263, 2, "00");
  let sum = 0;
  for (const byte of header) sum += byte;
  field(148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return header;
}

/** A ustar archive, gzipped: what `npm pack` produces. */
export function tgz(entries: readonly Entry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const data = bytes(entry.content);
    parts.push(tarHeader(entry.name, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts));
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

export function crc32(data: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** A zip archive (deflated entries, one central directory): wheels and jars are zips. */
export function zip(entries: readonly Entry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  // 2026-01-01 00:00 in MS-DOS format.
  const dosTime = 0;
  const dosDate = ((2026 - 1980) << 9) | (1 << 5) | 1;
  for (const entry of entries) {
    const name = Buffer.from(entry.name);
    const data = bytes(entry.content);
    const compressed = deflateRawSync(data);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8);
    local.writeUInt16LE(dosTime, 10);
    local.writeUInt16LE(dosDate, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x0314, 4); // made by: Unix, 2.0
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(dosTime, 12);
    central.writeUInt16LE(dosDate, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, compressed);
    centrals.push(central, name);
    offset += local.length + name.length + compressed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

export const digest = (algorithm: string, data: Buffer, encoding: "hex" | "base64" | "base64url" = "hex") =>
  createHash(algorithm).update(data).digest(encoding);

/** A wheel (PEP 427): the files, plus METADATA, WHEEL and a RECORD with every file's hash. */
export function wheel(o: { name: string; version: string; summary: string; files: readonly Entry[] }): {
  filename: string;
  content: Buffer;
} {
  const dist = `${o.name.replace(/-/g, "_")}-${o.version}`;
  const info = `${dist}.dist-info`;
  const files: Entry[] = [
    ...o.files,
    {
      name: `${info}/METADATA`,
      content: `Metadata-Version: 2.1\nName: ${o.name}\nVersion: ${o.version}\nSummary: ${o.summary}\n`,
    },
    {
      name: `${info}/WHEEL`,
      content:
        "Wheel-Version: 1.0\nGenerator: bitbucket-aws-oidc-test-world\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    },
  ];
  const record = [
    ...files.map((f) => {
      const data = bytes(f.content);
      return `${f.name},sha256=${digest("sha256", data, "base64url")},${data.length}`;
    }),
    `${info}/RECORD,,`,
  ].join("\n");
  return {
    filename: `${dist}-py3-none-any.whl`,
    content: zip([...files, { name: `${info}/RECORD`, content: `${record}\n` }]),
  };
}
