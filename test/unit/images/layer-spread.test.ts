import { describeSpread, spreadLayers } from '../../../src/images/layer-spread';
import type { BlobSource } from '../../../src/runtime/images';
import { UnavailableError } from '../../../src/errors';
import { silentLogger } from '../../../src/log';
import type { BlobHolder } from '../../../src/runtime/images';

const LAYER = 'application/vnd.oci.image.layer.v1.tar+gzip';
const layer = (n: number, size: number) => ({
  mediaType: LAYER,
  digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
  size,
});
const bytesOf = (size: number): Buffer => Buffer.from(Array.from({ length: size }, (_, i) => i));

/** A member holding `layers`: serves each in 4-byte chunks, failing after `failAfter` bytes. */
function member(
  name: string,
  layers: readonly { digest: string; size: number }[],
  failAfter = Infinity,
) {
  const reads: { digest: string; offset: number }[] = [];
  const holder: BlobHolder = {
    name,
    has: new Set(layers.map((l) => l.digest)),
    provider: {
      async *open(digest, offset, signal) {
        reads.push({ digest, offset });
        const size = layers.find((l) => l.digest === digest)?.size ?? 0;
        const bytes = bytesOf(size);
        for (let i = offset; i < size; i += 4) {
          if (i - offset >= failAfter) throw new UnavailableError(`${name} went away`);
          signal.throwIfAborted();
          yield bytes.subarray(i, i + 4);
        }
        await Promise.resolve();
      },
    },
  };
  return { holder, reads };
}

function registry() {
  const reads: { digest: string; offset: number }[] = [];
  async function* serve(size: number, offset: number): AsyncGenerator<Uint8Array> {
    yield await Promise.resolve(bytesOf(size).subarray(offset));
  }
  const source: BlobSource = (descriptor, offset) => {
    reads.push({ digest: descriptor.digest, offset });
    return Promise.resolve(serve(descriptor.size, offset));
  };
  return { source, reads };
}

async function readAll(source: BlobSource, d: { digest: string; size: number }): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  const it = await source({ ...d, mediaType: LAYER }, 0, new AbortController().signal);
  for await (const c of it) chunks.push(c);
  return Buffer.concat(chunks);
}

describe('spreadLayers', () => {
  it('spreads layers that several members hold over them, largest first', async () => {
    const layers = [layer(1, 40), layer(2, 30), layer(3, 20), layer(4, 10)];
    const a = member('a', layers);
    const b = member('b', layers);
    const reg = registry();
    const spread = spreadLayers(layers, [a.holder, b.holder], reg.source, silentLogger());
    expect(describeSpread(spread, 'the registry')).toBe(
      '4 layers from members (a 2, b 2), 0 from the registry',
    );
    for (const l of layers) expect(await readAll(spread.source, l)).toEqual(bytesOf(l.size));
    // 40 to a, 30 to b, 20 to b (30 < 40), 10 to a (40 < 50): 50 bytes each.
    expect(a.reads.map((r) => r.digest)).toEqual([layer(1, 0).digest, layer(4, 0).digest]);
    expect(b.reads.map((r) => r.digest)).toEqual([layer(2, 0).digest, layer(3, 0).digest]);
    expect(reg.reads).toEqual([]);
  });

  it('goes to the registry only for layers no member holds', async () => {
    const layers = [layer(1, 8), layer(2, 8)];
    const a = member('a', [layers[0]!]);
    const reg = registry();
    const spread = spreadLayers(layers, [a.holder], reg.source, silentLogger());
    expect(describeSpread(spread, 'the registry')).toBe(
      '1 layer from members (a 1), 1 from the registry',
    );
    expect(await readAll(spread.source, layers[1]!)).toEqual(bytesOf(8));
    expect(await readAll(spread.source, layers[0]!)).toEqual(bytesOf(8));
    expect(reg.reads).toEqual([{ digest: layers[1]!.digest, offset: 0 }]);
    expect(a.reads).toEqual([{ digest: layers[0]!.digest, offset: 0 }]);
  });

  it('resumes a blob where a failing member stopped: the next holder, then the registry', async () => {
    const l = layer(1, 40);
    const a = member('a', [l], 8);
    const b = member('b', [l], 16);
    const reg = registry();
    const spread = spreadLayers([l], [a.holder, b.holder], reg.source, silentLogger());
    expect(await readAll(spread.source, l)).toEqual(bytesOf(40));
    expect(a.reads).toEqual([{ digest: l.digest, offset: 0 }]);
    expect(b.reads).toEqual([{ digest: l.digest, offset: 8 }]);
    expect(reg.reads).toEqual([{ digest: l.digest, offset: 24 }]);
    // A failed member is not asked for that blob again (a resumed write opens it anew).
    await readAll(spread.source, l);
    expect(a.reads).toHaveLength(1);
  });

  it('does not fail over when the pull is cancelled', async () => {
    const l = layer(1, 40);
    const stop = new AbortController();
    const a: BlobHolder = {
      name: 'a',
      has: new Set([l.digest]),
      provider: {
        // eslint-disable-next-line require-yield
        async *open() {
          stop.abort();
          await Promise.resolve();
          throw new Error('cancelled');
        },
      },
    };
    const reg = registry();
    const spread = spreadLayers([l], [a], reg.source, silentLogger());
    const it = await spread.source(l, 0, stop.signal);
    await expect(
      (async () => {
        for await (const c of it) expect(c).toBeUndefined();
      })(),
    ).rejects.toThrow('cancelled');
    expect(reg.reads).toEqual([]);
  });

  it('without members, everything comes from the fallback', async () => {
    const reg = registry();
    const spread = spreadLayers([layer(1, 8)], [], reg.source, silentLogger());
    expect(spread.fromMembers.size).toBe(0);
    expect(spread.fromFallback).toBe(1);
    expect(await readAll(spread.source, layer(1, 8))).toEqual(bytesOf(8));
    expect(reg.reads).toHaveLength(1);
  });
});

describe('spreadLayers with a silent member', () => {
  it('reads the blob elsewhere when a member sends nothing for idleMs', async () => {
    const l = layer(1, 16);
    const cancelled: boolean[] = [];
    const silent: BlobHolder = {
      name: 'silent',
      has: new Set([l.digest]),
      provider: {
        async *open(_digest, _offset, signal) {
          yield bytesOf(16).subarray(0, 4);
          // Then nothing, as from a member whose cable was pulled, until the read is cancelled.
          await new Promise<void>((resolve) => {
            signal.addEventListener('abort', () => {
              cancelled.push(true);
              resolve();
            });
          });
          throw new UnavailableError('cancelled');
        },
      },
    };
    const b = member('b', [l]);
    const reg = registry();
    const spread = spreadLayers([l], [silent, b.holder], reg.source, silentLogger(), 30);
    expect(await readAll(spread.source, l)).toEqual(bytesOf(16));
    expect(cancelled).toEqual([true]);
    expect(b.reads).toEqual([{ digest: l.digest, offset: 4 }]);
  });

  it('does not count the time the consumer holds a chunk against the member', async () => {
    const l = layer(1, 12);
    const a = member('a', [l]);
    const reg = registry();
    const spread = spreadLayers([l], [a.holder], reg.source, silentLogger(), 20);
    const chunks: Uint8Array[] = [];
    for await (const c of await spread.source(l, 0, new AbortController().signal)) {
      chunks.push(c);
      await new Promise((r) => setTimeout(r, 40));
    }
    expect(Buffer.concat(chunks)).toEqual(bytesOf(12));
    expect(reg.reads).toEqual([]);
  });
});
