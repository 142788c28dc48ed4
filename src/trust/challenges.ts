import { randomBytes } from 'node:crypto';

export interface ChallengeOptions {
  now: () => number;
  /** How long a nonce may wait for its Join. */
  ttlMs?: number;
  /** Outstanding nonces kept at most; the oldest are dropped first, so a flood costs memory once. */
  max?: number;
  /**
   * Outstanding nonces kept per source address at most; its own oldest go first, so one host
   * asking in a loop cannot push out the nonces of a node that is joining.
   */
  maxPerSource?: number;
}

const NONCE_BYTES = 32;

/**
 * Single-use nonces for join proofs. A nonce is forgotten when it is used (whether or not the
 * proof was good), when it expires, or when too many are outstanding: a proof is never accepted
 * twice, which is what makes a sniffed proof useless.
 */
export class ChallengeStore {
  private readonly issued = new Map<string, { expires: number; source: string }>();
  private readonly ttlMs: number;
  private readonly max: number;
  private readonly maxPerSource: number;

  constructor(private readonly options: ChallengeOptions) {
    this.ttlMs = options.ttlMs ?? 60_000;
    this.max = options.max ?? 1024;
    this.maxPerSource = options.maxPerSource ?? 8;
  }

  /** A nonce for a caller at `source` (its address, without the port). */
  issue(source: string): Buffer {
    this.sweep();
    const nonce = randomBytes(NONCE_BYTES);
    // Insertion order is age: the first of the source's entries is its oldest.
    const own = [...this.issued].filter(([, v]) => v.source === source);
    for (const [key] of own.slice(0, Math.max(0, own.length - this.maxPerSource + 1))) {
      this.issued.delete(key);
    }
    this.issued.set(nonce.toString('hex'), { expires: this.options.now() + this.ttlMs, source });
    for (const key of this.issued.keys()) {
      if (this.issued.size <= this.max) break;
      this.issued.delete(key);
    }
    return nonce;
  }

  /** True once per nonce that was issued here and has not expired. */
  consume(nonce: Uint8Array): boolean {
    const key = Buffer.from(nonce).toString('hex');
    const entry = this.issued.get(key);
    this.issued.delete(key);
    return entry !== undefined && entry.expires > this.options.now();
  }

  private sweep(): void {
    const now = this.options.now();
    for (const [key, { expires }] of this.issued) {
      if (expires <= now) this.issued.delete(key);
    }
  }
}
