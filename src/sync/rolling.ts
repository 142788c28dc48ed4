/** Which weak checksums are worth a closer look (the receiver's blocks' sums, in a table). */
export interface WeakFilter {
  has(weak: number): boolean;
}

/**
 * rsync's weak checksum over a window of bytes: two 16-bit sums (`a` of the bytes, `b` of the
 * running sums of `a`), so that sliding the window by one byte is two additions, not a rehash.
 * Weak on purpose: it only says where a strong hash is worth computing.
 */
export class RollingChecksum {
  private a = 0;
  private b = 0;

  /** Rolls windows of `length` bytes. */
  constructor(private readonly length: number) {}

  /** Starts over on the window whose weak checksum is `weak`. */
  start(weak: number): void {
    this.a = weak & 0xffff;
    this.b = weak >>> 16;
  }

  /**
   * Slides the window that starts at `pos` in `bytes` one byte at a time until its checksum
   * passes `filter` or it starts at `stop`; returns where it starts then. The sender's hot loop:
   * a plain loop over locals, which ran several times faster than the same loop in a generator.
   */
  slide(bytes: Uint8Array, pos: number, stop: number, filter: WeakFilter): number {
    const n = this.length;
    let { a, b } = this;
    let at = pos;
    while (at < stop) {
      const out = bytes[at] ?? 0;
      a = (a - out + (bytes[at + n] ?? 0)) & 0xffff;
      b = (b - n * out + a) & 0xffff;
      at++;
      if (filter.has(((b << 16) | a) >>> 0)) break;
    }
    this.a = a;
    this.b = b;
    return at;
  }

  get value(): number {
    return ((this.b << 16) | this.a) >>> 0;
  }
}

/**
 * The weak checksum of one whole block: `b` is rsync's Σ(n-i)·xᵢ, summed eight bytes a turn in
 * 32-bit integer arithmetic (the hot loop of every signature, and of every jump of the sender's
 * window). The sums wrap, and only their low 16 bits are kept.
 */
export function weakChecksum(block: Uint8Array): number {
  let a = 0;
  let b = 0;
  const n = block.length;
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const x0 = block[i] ?? 0;
    const x1 = block[i + 1] ?? 0;
    const x2 = block[i + 2] ?? 0;
    const x3 = block[i + 3] ?? 0;
    const x4 = block[i + 4] ?? 0;
    const x5 = block[i + 5] ?? 0;
    const x6 = block[i + 6] ?? 0;
    const x7 = block[i + 7] ?? 0;
    b = (b + 8 * a + 8 * x0 + 7 * x1 + 6 * x2 + 5 * x3 + 4 * x4 + 3 * x5 + 2 * x6 + x7) | 0;
    a = (a + x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7) | 0;
  }
  for (; i < n; i++) {
    a = (a + (block[i] ?? 0)) | 0;
    b = (b + a) | 0;
  }
  return (((b & 0xffff) << 16) | (a & 0xffff)) >>> 0;
}
