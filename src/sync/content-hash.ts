import { createBLAKE3, type IHasher } from 'hash-wasm';

/** Hashers done with, for the next file: a WASM instance per file costs more than small files. */
const free: IHasher[] = [];
const MAX_FREE = 16;

/** BLAKE3 of a file's whole content, the identity of a version: hashed as it streams by. */
export class ContentHash {
  private constructor(private readonly hasher: IHasher) {}

  static async create(): Promise<ContentHash> {
    const hasher = free.pop() ?? (await createBLAKE3());
    hasher.init();
    return new ContentHash(hasher);
  }

  update(chunk: Uint8Array): void {
    this.hasher.update(chunk);
  }

  /** The digest; the hasher goes back to the pool, so `update` must not follow. */
  hex(): string {
    const digest = this.hasher.digest('hex');
    if (free.length < MAX_FREE) free.push(this.hasher);
    return digest;
  }
}
