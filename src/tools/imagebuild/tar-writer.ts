import { InvalidInputError } from '../../errors';

/** One entry of a tar archive. Owners are always root (uid/gid 0): images are built for root. */
export type TarEntry =
  | { type: 'file'; path: string; content: Buffer; mode?: number }
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'symlink'; path: string; target: string };

/** 2024-01-01T00:00:00Z. A fixed mtime makes archives byte-for-byte reproducible. */
export const FIXED_MTIME = 1_704_067_200;

const BLOCK = 512;
const NAME_MAX = 100;
const TYPE_FLAG = { file: '0', symlink: '2', dir: '5' } as const;
const DEFAULT_MODE = { file: 0o644, symlink: 0o777, dir: 0o755 } as const;

/**
 * Writes a ustar archive in the order given (callers sort; a layer wants parents first). Names or
 * link targets that do not fit ustar's 100-byte fields, or are not ASCII, get a PAX header; no
 * prefix-splitting, so one rule covers every long name. Ends with the two zero blocks.
 */
export function tarBytes(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    if (entry.path === '' || entry.path.startsWith('/')) {
      throw new InvalidInputError(`tar entry "${entry.path}" must be a relative path`);
    }
    const name = entry.type === 'dir' && !entry.path.endsWith('/') ? `${entry.path}/` : entry.path;
    const link = entry.type === 'symlink' ? entry.target : '';
    const pax = paxRecords(name, link);
    if (pax !== undefined) {
      parts.push(
        header({ name: paxName(name), type: 'x', size: pax.length, mode: 0o644, link: '' }),
      );
      parts.push(padded(pax));
    }
    const content = entry.type === 'file' ? entry.content : Buffer.alloc(0);
    parts.push(
      header({
        name,
        type: TYPE_FLAG[entry.type],
        size: content.length,
        mode:
          entry.type === 'symlink'
            ? DEFAULT_MODE.symlink
            : (entry.mode ?? DEFAULT_MODE[entry.type]),
        link,
      }),
    );
    if (content.length > 0) parts.push(padded(content));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

interface Header {
  name: string;
  type: string;
  size: number;
  mode: number;
  link: string;
}

function header(h: Header): Buffer {
  const buf = Buffer.alloc(BLOCK);
  // Fields that overflow were carried by the PAX record; ustar gets a truncated stand-in.
  buf.write(fitting(h.name), 0, NAME_MAX, 'utf8');
  writeOctal(buf, 100, 8, h.mode & 0o7777);
  writeOctal(buf, 108, 8, 0);
  writeOctal(buf, 116, 8, 0);
  writeOctal(buf, 124, 12, h.size);
  writeOctal(buf, 136, 12, FIXED_MTIME);
  buf.write(h.type, 156, 1, 'ascii');
  buf.write(fitting(h.link), 157, NAME_MAX, 'utf8');
  buf.write('ustar\u000000', 257, 8, 'ascii');
  buf.write('root', 265, 32, 'ascii');
  buf.write('root', 297, 32, 'ascii');
  writeOctal(buf, 329, 8, 0);
  writeOctal(buf, 337, 8, 0);
  let sum = 8 * 0x20; // the checksum field counts as spaces while summing
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += buf[i] ?? 0;
  buf.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return buf;
}

function writeOctal(buf: Buffer, offset: number, length: number, value: number): void {
  const text = value.toString(8);
  if (text.length > length - 1)
    throw new InvalidInputError(`tar field value ${value} is too large`);
  buf.write(`${text.padStart(length - 1, '0')}\u0000`, offset, length, 'ascii');
}

const fitsUstar = (s: string): boolean => s.length <= NAME_MAX && /^[\x20-\x7e]*$/.test(s);

function fitting(s: string): string {
  return fitsUstar(s) ? s : s.replace(/[^\x20-\x7e]/g, '_').slice(0, NAME_MAX);
}

function paxRecords(name: string, link: string): Buffer | undefined {
  const records: string[] = [];
  if (!fitsUstar(name)) records.push(paxRecord('path', name));
  if (!fitsUstar(link)) records.push(paxRecord('linkpath', link));
  return records.length === 0 ? undefined : Buffer.from(records.join(''), 'utf8');
}

/** "LEN key=value\n", where LEN counts its own digits too. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLength = Buffer.byteLength(body, 'utf8');
  let length = bodyLength + 1;
  while (String(length).length + bodyLength !== length) length = String(length).length + bodyLength;
  return `${length}${body}`;
}

function paxName(name: string): string {
  const base = name.replace(/\/$/, '').split('/').pop() ?? 'entry';
  return `PaxHeaders/${base}`;
}

function padded(data: Buffer): Buffer {
  const rest = data.length % BLOCK;
  return rest === 0 ? data : Buffer.concat([data, Buffer.alloc(BLOCK - rest)]);
}
