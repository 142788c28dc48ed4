/**
 * rsync's weak checksum over a window of bytes: two 16-bit sums (of the bytes, and of the
 * running first sum), so that sliding the window by one byte is two additions, not a rehash.
 * Weak on purpose: it only says where a strong hash is worth computing.
 */
export class RollingChecksum {
  private a = 0;
  private b = 0;
  private length = 0;

  /** Starts over on `window` (a whole block). */
  reset(window: Uint8Array): void {
    let a = 0;
    let b = 0;
    const n = window.length;
    for (let i = 0; i < n; i++) {
      const byte = window[i] ?? 0;
      a += byte;
      b += (n - i) * byte;
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
