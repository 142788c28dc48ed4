/**
 * rsync's weak checksum over a window of bytes: two 16-bit sums (of the bytes, and of the
 * running first sum), so that sliding the window by one byte is two additions, not a rehash.
 * Weak on purpose: it only says where a strong hash is worth computing.
 */
export class RollingChecksum {
  private a = 0;
  private b = 0;
  private length = 0;

  /**
   * Starts over on `window` (a whole block). `b` is the sum of the running sums of `a`, which is
   * rsync's Σ(n-i)·xᵢ; four bytes a turn in 32-bit integer arithmetic (the hot loop of both the
   * signature and every jump of the sender's window).
   */
  reset(window: Uint8Array): void {
    let a = 0;
    let b = 0;
    const n = window.length;
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const x0 = window[i] ?? 0;
      const x1 = window[i + 1] ?? 0;
      const x2 = window[i + 2] ?? 0;
      const x3 = window[i + 3] ?? 0;
      b = (b + 4 * a + 4 * x0 + 3 * x1 + 2 * x2 + x3) | 0;
      a = (a + x0 + x1 + x2 + x3) | 0;
    }
    for (; i < n; i++) {
      a = (a + (window[i] ?? 0)) | 0;
      b = (b + a) | 0;
    }
    this.a = a & 0xffff;
    this.b = b & 0xffff;
    this.length = n;
  }

  /** Slides the window one byte: `out` leaves at the front, `into` enters at the back. */
  roll(out: number, into: number): void {
    this.a = (this.a - out + into) & 0xffff;
    this.b = (this.b - this.length * out + this.a) & 0xffff;
  }

  get value(): number {
    return ((this.b << 16) | this.a) >>> 0;
  }
}

/** The weak checksum of one whole block. */
export function weakChecksum(block: Uint8Array): number {
  const rolling = new RollingChecksum();
  rolling.reset(block);
  return rolling.value;
}
