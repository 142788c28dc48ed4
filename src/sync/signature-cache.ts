import { randomBytes } from 'node:crypto';
import * as fsp from 'node:fs/promises';
import { join } from 'node:path';
import { hasCode } from '../fs';
import { blockSizeFor, type Signature } from './signature';

/** Files smaller than this have their signature computed when needed: it costs little. */
export const CACHED_SIGNATURE_BYTES = 1024 * 1024;

const MAGIC = 0x42534731; // "BSG1"
const HEADER_BYTES = 4 + 4 + 8 + 4;
/** Per block: the weak checksum, then the 128-bit strong hash. */
const BLOCK_BYTES = 4 + 16;
const HASH = /^[0-9a-f]{64}$/;

/**
 * Block signatures of the large files this node holds, on disk by content hash (`<hash>` in
 * `dir`). A fetch of a new version of a large file sends the signature of the copy here: read
 * back, it costs a small read instead of reading and hashing the whole copy (a third of the
 * time of a small edit to a 100 MiB file). Written as a fetched file's bytes go by (a file the
 * app here wrote has none until it is fetched). A cached signature is only a hint of what the
 * copy holds: if the copy changed since, the rebuilt file fails its content hash check and is
 * fetched again.
 */
export class SignatureCache {
  constructor(private readonly dir: string) {}

  /** The signature of content `hash` of `size` bytes, if it is cached and well formed. */
  async get(hash: string, size: number): Promise<Signature | undefined> {
    if (!HASH.test(hash) || size < CACHED_SIGNATURE_BYTES) return undefined;
    let bytes: Buffer;
    try {
      bytes = await fsp.readFile(join(this.dir, hash));
    } catch (err) {
      if (hasCode(err, 'ENOENT')) return undefined;
      throw err;
    }
    return decode(bytes, size);
  }

  /**
   * Stores a signature (a temp file renamed into place, not fsynced: a hint lost or torn by a
   * crash is checked by its length and recomputed).
   */
  async put(hash: string, signature: Signature): Promise<void> {
    if (!HASH.test(hash) || signature.fileSize < CACHED_SIGNATURE_BYTES) return;
    await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
    const temp = join(this.dir, `.${hash}.${randomBytes(4).toString('hex')}`);
    try {
      await fsp.writeFile(temp, encode(signature), { mode: 0o600 });
      await fsp.rename(temp, join(this.dir, hash));
    } finally {
      await fsp.rm(temp, { force: true });
    }
  }

  /** Forgets one signature (it did not describe the copy it was taken for). */
  async drop(hash: string): Promise<void> {
    if (HASH.test(hash)) await fsp.rm(join(this.dir, hash), { force: true });
  }

  /** Removes the signatures of content no file here has any more (and temp files). */
  async prune(live: (hash: string) => boolean): Promise<void> {
    let names: string[];
    try {
      names = await fsp.readdir(this.dir);
    } catch (err) {
      if (hasCode(err, 'ENOENT')) return;
      throw err;
    }
    for (const name of names) {
      if (HASH.test(name) && live(name)) continue;
      await fsp.rm(join(this.dir, name), { force: true });
    }
  }
}

function encode(signature: Signature): Buffer {
  const out = Buffer.alloc(HEADER_BYTES + signature.blocks.length * BLOCK_BYTES);
  out.writeUInt32BE(MAGIC, 0);
  out.writeUInt32BE(signature.blockSize, 4);
  out.writeDoubleBE(signature.fileSize, 8);
  out.writeUInt32BE(signature.blocks.length, 16);
  signature.blocks.forEach((block, i) => {
    const at = HEADER_BYTES + i * BLOCK_BYTES;
    out.writeUInt32BE(block.weak, at);
    out.write(block.strong, at + 4, 16, 'hex');
  });
  return out;
}

/** A signature as stored, if it is exactly what a file of `size` bytes has; else undefined. */
function decode(bytes: Buffer, size: number): Signature | undefined {
  if (bytes.length < HEADER_BYTES || bytes.readUInt32BE(0) !== MAGIC) return undefined;
  const blockSize = bytes.readUInt32BE(4);
  const fileSize = bytes.readDoubleBE(8);
  const count = bytes.readUInt32BE(16);
  if (
    blockSize !== blockSizeFor(size) ||
    fileSize !== size ||
    count !== Math.ceil(size / blockSize) ||
    bytes.length !== HEADER_BYTES + count * BLOCK_BYTES
  ) {
    return undefined;
  }
  const blocks: Signature['blocks'] = [];
  for (let i = 0; i < count; i++) {
    const at = HEADER_BYTES + i * BLOCK_BYTES;
    blocks.push({
      weak: bytes.readUInt32BE(at),
      strong: bytes.toString('hex', at + 4, at + 4 + 16),
    });
  }
  return { blockSize, fileSize, blocks };
}
