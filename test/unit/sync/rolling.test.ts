import fc from 'fast-check';
import { RollingChecksum, weakChecksum } from '../../../src/sync/rolling';

/** rsync's definition, written out: a = Σxᵢ, b = Σ(n-i)·xᵢ, both mod 2¹⁶. */
function reference(block: Uint8Array): number {
  let a = 0;
  let b = 0;
  block.forEach((x, i) => {
    a += x;
    b += (block.length - i) * x;
  });
  return (((b % 0x10000) << 16) | (a % 0x10000)) >>> 0;
}

describe('the weak rolling checksum', () => {
  it('is rsync sum of a block, whatever its length (the unrolled loop included)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (block) => {
        expect(weakChecksum(block)).toBe(reference(block));
      }),
    );
    // Long runs of 0xff overflow a 32-bit sum many times over.
    const big = new Uint8Array(200_000).fill(0xff);
    expect(weakChecksum(big)).toBe(reference(big));
  });

  it('after sliding by any number of bytes, equals the sum of the window afresh', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 2, maxLength: 400 }),
        fc.integer({ min: 1, max: 64 }),
        (data, size) => {
          const n = Math.min(size, data.length - 1);
          const rolling = new RollingChecksum(n);
          rolling.start(weakChecksum(data.subarray(0, n)));
          const never = { has: () => false };
          for (let at = 0; at + n < data.length; at++) {
            expect(rolling.slide(data, at, at + 1, never)).toBe(at + 1);
            expect(rolling.value).toBe(weakChecksum(data.subarray(at + 1, at + 1 + n)));
          }
        },
      ),
    );
  });

  it('slides to the first window whose sum passes the filter, or to where it is told to stop', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 2, maxLength: 400 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 0, max: 400 }),
        (data, size, pick) => {
          const n = Math.min(size, data.length - 1);
          const last = data.length - n;
          const wanted = 1 + (pick % last);
          const filter = {
            has: (weak: number) => weak === weakChecksum(data.subarray(wanted, wanted + n)),
          };
          const first = Array.from({ length: last }, (_, at) => at + 1).find((at) =>
            filter.has(weakChecksum(data.subarray(at, at + n))),
          );
          const rolling = new RollingChecksum(n);
          rolling.start(weakChecksum(data.subarray(0, n)));
          const at = rolling.slide(data, 0, last, filter);
          expect(at).toBe(first ?? last);
          expect(rolling.value).toBe(weakChecksum(data.subarray(at, at + n)));
        },
      ),
    );
  });
});
