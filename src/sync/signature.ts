import { createXXHash128, type IHasher } from 'hash-wasm';
import { weakChecksum } from './rolling';

/** rsync's bounds: blocks of about √size, never smaller than 700 bytes nor larger than 128 KiB. */
const MIN_BLOCK = 700;
const MAX_BLOCK = 128 * 1024;

/**
 * What the receiver knows of its copy of a file, block by block: enough for the sender to say
 * "you have this already" without either side sending the bytes.
 */
export interface Signature {
  blockSize: number;
  /** Bytes of the receiver's copy; its last block may be short. */
  fileSize: number;
  /** Per block: the weak rolling checksum and a 128-bit strong hash (hex). */
  blocks: { weak: number; strong: string }[];
}

/** The block size for a file of `size` bytes, as rsync picks it (√size, a multiple of 8). */
export function blockSizeFor(size: number): number {
  const root = Math.ceil(Math.sqrt(size) / 8) * 8;
  return Math.min(MAX_BLOCK, Math.max(MIN_BLOCK, root));
}

/**
 * One hasher for every block hash: each use is synchronous (init, update, digest with no await
 * between), so concurrent transfers can share it, and a WASM instance is not made per file.
 */
let shared: Promise<IHasher> | undefined;

/** The strong hash of a block. xxh3-128 here; whole files are checked with SHA-256 besides. */
export async function strongHasher(): Promise<(block: Uint8Array) => string> {
  shared ??= createXXHash128();
  const hasher = await shared;
  return (block) => {
    hasher.init();
    hasher.update(block);
    return hasher.digest('hex');
  };
}

/**
 * A signature built from a file's bytes as they are read, in blocks of `blockSize`: only the
 * block that straddles two chunks is copied, the others are hashed in place.
 */
class SignatureBuilder {
  private readonly blocks: Signature['blocks'] = [];
  /** Fewer than a block of bytes carried over from the last chunk. */
  private pending: Buffer | undefined;
  private fileSize = 0;

  private constructor(
    private readonly blockSize: number,
    private readonly strong: (block: Uint8Array) => string,
  ) {}

  static async create(blockSize: number): Promise<SignatureBuilder> {
    return new SignatureBuilder(blockSize, await strongHasher());
  }

  update(chunk: Uint8Array): void {
    const { blockSize } = this;
    this.fileSize += chunk.length;
    let at = 0;
    if (this.pending !== undefined) {
      const need = blockSize - this.pending.length;
      if (chunk.length < need) {
        this.pending = Buffer.concat([this.pending, chunk]);
        return;
      }
      this.add(Buffer.concat([this.pending, chunk.subarray(0, need)]));
      at = need;
      this.pending = undefined;
    }
    while (chunk.length - at >= blockSize) {
      this.add(chunk.subarray(at, at + blockSize));
      at += blockSize;
    }
    if (at < chunk.length) this.pending = Buffer.from(chunk.subarray(at));
  }

  finish(): Signature {
    if (this.pending !== undefined) this.add(this.pending);
    this.pending = undefined;
    return { blockSize: this.blockSize, fileSize: this.fileSize, blocks: this.blocks };
  }

  private add(block: Uint8Array): void {
    this.blocks.push({ weak: weakChecksum(block), strong: this.strong(block) });
  }
}

/**
 * The signature of a file read as a stream of chunks, in blocks of `blockSize`. Each chunk is
 * done with before the next is asked for: a source may reuse its buffer.
 */
export async function signatureOf(
  source: AsyncIterable<Uint8Array>,
  blockSize: number,
): Promise<Signature> {
  const builder = await SignatureBuilder.create(blockSize);
  for await (const chunk of source) builder.update(chunk);
  return builder.finish();
}
