import { open, type FileHandle } from 'node:fs/promises';
import { InvalidInputError } from '../errors';

/** Where a regular file's bytes sit inside a tar archive. */
export interface TarEntry {
  offset: number;
  size: number;
}

const BLOCK = 512;

/**
 * Reads a tar's headers only (ustar, PAX `path`/`size` records, GNU long names), skipping file
 * bodies, and returns the regular files by path. Image archives are read by random access after
 * this, so a multi-gigabyte archive costs one pass over its headers, not a copy.
 */
export async function indexTar(path: string): Promise<Map<string, TarEntry>> {
  const fh = await open(path, 'r');
  try {
    return await scan(fh, path);
  } finally {
    await fh.close();
  }
}

async function scan(fh: FileHandle, path: string): Promise<Map<string, TarEntry>> {
  const entries = new Map<string, TarEntry>();
  const { size: fileSize } = await fh.stat();
  const header = Buffer.alloc(BLOCK);
  let pos = 0;
  let longName: string | undefined;
  let pax: Map<string, string> | undefined;
  while (pos + BLOCK <= fileSize) {
    await readExactly(fh, header, pos);
    if (header.every((b) => b === 0)) break;
    if (!checksumOk(header)) {
      throw new InvalidInputError(`${path}: not a tar archive (bad header at byte ${pos})`);
    }
    const type = String.fromCharCode(header[156] ?? 0);
    const body = pos + BLOCK;
    const size = sizeOf(pax?.get('size'), header, path, pos);
    // Every entry lies within the file, so the next header is always further on: a crafted size
    // (negative, huge, not a number) can neither loop the scan nor point past the end.
    if (body + size > fileSize) {
      throw new InvalidInputError(
        `${path}: tar entry at byte ${pos} says ${size} bytes, past the end of the archive (truncated or not a tar)`,
      );
    }
    const name = normalise(pax?.get('path') ?? longName ?? headerName(header));
    if (type === 'x') {
      pax = parsePax(await readBody(fh, body, size));
    } else if (type === 'L') {
      longName = (await readBody(fh, body, size)).toString('utf8').replace(/\0+$/, '');
    } else {
      if (type === '0' || type === '\0' || type === '7') entries.set(name, { offset: body, size });
      pax = undefined;
      longName = undefined;
    }
    pos = body + Math.ceil(size / BLOCK) * BLOCK;
  }
  return entries;
}

/** An entry's size: a PAX `size` record's if any, else the header's; a non-negative safe integer. */
function sizeOf(paxSize: string | undefined, header: Buffer, path: string, pos: number): number {
  const size = paxSize === undefined ? octal(header, 124, 12) : Number(paxSize);
  if (
    (paxSize !== undefined && !/^[0-9]+$/.test(paxSize)) ||
    !Number.isSafeInteger(size) ||
    size < 0
  ) {
    throw new InvalidInputError(
      `${path}: tar entry at byte ${pos} has size ${JSON.stringify(paxSize ?? size)}; expected a whole number of bytes`,
    );
  }
  return size;
}

async function readExactly(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  const { bytesRead } = await fh.read(buf, 0, buf.length, position);
  if (bytesRead !== buf.length) throw new InvalidInputError('tar archive is truncated');
}

async function readBody(fh: FileHandle, position: number, size: number): Promise<Buffer> {
  if (size > 1024 * 1024) throw new InvalidInputError('tar archive has an oversized header record');
  const buf = Buffer.alloc(size);
  await readExactly(fh, buf, position);
  return buf;
}

function headerName(h: Buffer): string {
  const name = cString(h, 0, 100);
  const prefix = h.subarray(257, 263).toString('latin1').startsWith('ustar')
    ? cString(h, 345, 155)
    : '';
  return prefix === '' ? name : `${prefix}/${name}`;
}

function cString(h: Buffer, start: number, length: number): string {
  const field = h.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString('utf8');
}

function octal(h: Buffer, start: number, length: number): number {
  const field = h.subarray(start, start + length);
  // GNU base-256 for sizes of 8 GiB and more.
  if (((field[0] ?? 0) & 0x80) !== 0) {
    let value = 0;
    for (let i = 1; i < field.length; i++) value = value * 256 + (field[i] ?? 0);
    return value;
  }
  const text = cString(h, start, length).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function checksumOk(h: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (h[i] ?? 0);
  return sum === octal(h, 148, 8);
}

/** PAX records: "LEN key=value\n" repeated. */
function parsePax(buf: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let pos = 0;
  while (pos < buf.length) {
    const space = buf.indexOf(0x20, pos);
    if (space === -1) break;
    const len = parseInt(buf.subarray(pos, space).toString('ascii'), 10);
    if (!Number.isFinite(len) || len <= 0) break;
    const record = buf.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) out.set(record.slice(0, eq), record.slice(eq + 1));
    pos += len;
  }
  return out;
}

function normalise(name: string): string {
  return name.replace(/^\.\//, '').replace(/\/+$/, '');
}
