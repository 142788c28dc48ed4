import { gunzipSync } from 'node:zlib';

/** One entry as a tar reader sees it, after applying any PAX record. */
export interface ReadEntry {
  path: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  uname: string;
  linkname: string;
  content: Buffer;
}

/**
 * A deliberately separate, minimal tar reader (ustar + PAX path/linkpath), so the writer is
 * checked against an independent reading of the format rather than against itself.
 */
export function readTar(archive: Buffer): ReadEntry[] {
  const entries: ReadEntry[] = [];
  let pos = 0;
  let pax = new Map<string, string>();
  for (;;) {
    const h = archive.subarray(pos, pos + 512);
    if (h.length < 512) throw new Error(`truncated at ${pos}`);
    if (h.every((b) => b === 0)) break;
    const stored = parseInt(text(h, 148, 8), 8);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i]!;
    if (sum !== stored) throw new Error(`bad checksum at ${pos}`);
    if (text(h, 257, 6) !== 'ustar') throw new Error(`not ustar at ${pos}`);
    const size = parseInt(text(h, 124, 12), 8);
    const type = String.fromCharCode(h[156]!);
    const content = archive.subarray(pos + 512, pos + 512 + size);
    pos += 512 + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      pax = parsePax(content);
      continue;
    }
    entries.push({
      path: pax.get('path') ?? text(h, 0, 100),
      type,
      mode: parseInt(text(h, 100, 8), 8),
      uid: parseInt(text(h, 108, 8), 8),
      gid: parseInt(text(h, 116, 8), 8),
      mtime: parseInt(text(h, 136, 12), 8),
      uname: text(h, 265, 32),
      linkname: pax.get('linkpath') ?? text(h, 157, 100),
      content: Buffer.from(content),
    });
    pax = new Map();
  }
  if (!archive.subarray(pos).every((b) => b === 0) || archive.length - pos < 1024) {
    throw new Error('archive does not end in two zero blocks');
  }
  return entries;
}

export function readTarGz(archive: Buffer): ReadEntry[] {
  return readTar(gunzipSync(archive));
}

function text(h: Buffer, start: number, length: number): string {
  const field = h.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

function parsePax(buf: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < buf.length) {
    const space = buf.indexOf(0x20, pos);
    const length = parseInt(buf.subarray(pos, space).toString('ascii'), 10);
    const record = buf.subarray(space + 1, pos + length);
    if (record[record.length - 1] !== 0x0a) throw new Error('PAX record length is wrong');
    const kv = record.subarray(0, -1).toString('utf8');
    const eq = kv.indexOf('=');
    out.set(kv.slice(0, eq), kv.slice(eq + 1));
    pos += length;
  }
  return out;
}
