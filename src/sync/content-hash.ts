import { createBLAKE3, type IHasher } from 'hash-wasm';

/** BLAKE3 of a file's whole content, the identity of a version: hashed as it streams by. */
export class ContentHash {
  private constructor(private readonly hasher: IHasher) {}

  static async create(): Promise<ContentHash> {
    const hasher = await createBLAKE3();
    hasher.init();
    return new ContentHash(hasher);
  }

  update(chunk: Uint8Array): void {
    this.hasher.update(chunk);
  }

  hex(): string {
    return this.hasher.digest('hex');
  }
}
