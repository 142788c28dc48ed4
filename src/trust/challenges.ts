import { randomBytes } from 'node:crypto';

export interface ChallengeOptions {
  now: () => number;
  /** How long a nonce may wait for its Join. */
  ttlMs?: number;
  /** Outstanding nonces kept at most; the oldest are dropped first, so a flood costs memory once. */
  max?: number;
}

const NONCE_BYTES = 32;

/**
 * Single-use nonces for join proofs. A nonce is forgotten when it is used (whether or not the
 * proof was good), when it expires, or when too many are outstanding: a proof is never accepted
 * twice, which is what makes a sniffed proof useless.
 */
export class ChallengeStore {
  private readonly issued = new Map<string, number>();
  private readonly ttlMs: number;
  private readonly max: number;

  constructor(private readonly options: ChallengeOptions) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.max = options.max ?? 1024;
  }

  issue(): Buffer {
    this.sweep();
    const nonce = randomBytes(NONCE_BYTES);
    this.issued.set(nonce.toString('hex'), this.options.now() + this.ttlMs);
    for (const key of this.issued.keys()) {
      if (this.issued.size <= this.max) break;
      this.issued.delete(key);
    }
    return nonce;
  }

  /** True once per nonce that was issued here and has not expired. */
  consume(nonce: Uint8Array): boolean {
    const key = Buffer.from(nonce).toString('hex');
    const expires = this.issued.get(key);
    this.issued.delete(key);
    return expires !== undefined && expires > this.options.now();
  }

  private sweep(): void {
    const now = this.options.now();
    for (const [key, expires] of this.issued) {
      if (expires <= now) this.issued.delete(key);
    }
  }
}
