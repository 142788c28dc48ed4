import { createHash } from 'node:crypto';
import { providerOrigin } from '../../../src/images/provider-origin';
import { DigestMismatchError } from '../../../src/registry';
import type { BlobProvider } from '../../../src/runtime/images';

const doc = Buffer.from('{"schemaVersion":2}');
const digest = `sha256:${createHash('sha256').update(doc).digest('hex')}`;
const descriptor = {
  mediaType: 'application/vnd.oci.image.config.v1+json',
  digest,
  size: doc.length,
};

/** Serves `bytes` in 4-byte chunks from the offset asked, and records the offsets. */
function provider(bytes: Buffer) {
  const offsets: number[] = [];
  const p: BlobProvider = {
    async *open(_digest, offset) {
      offsets.push(offset);
      for (let i = offset; i < bytes.length; i += 4) yield bytes.subarray(i, i + 4);
      await Promise.resolve();
    },
  };
  return { p, offsets };
}

describe('providerOrigin', () => {
  it('reads a document whole and checks it against its digest', async () => {
    const { p } = provider(doc);
    await expect(providerOrigin(p, 'the peer').read(descriptor)).resolves.toEqual(doc);
  });

  it('refuses a document whose bytes do not match the digest', async () => {
    const forged = Buffer.from(doc.toString().replace('2', '3'));
    const { p } = provider(forged);
    await expect(providerOrigin(p, 'the peer').read(descriptor)).rejects.toThrow(
      DigestMismatchError,
    );
  });

  it('stops reading a document that runs past its size', async () => {
    const { p } = provider(Buffer.concat([doc, Buffer.alloc(64)]));
    await expect(providerOrigin(p, 'the peer').read(descriptor)).rejects.toThrow(
      /more than \d+ bytes/,
    );
  });

  it('streams layers from the offset asked, so a broken download resumes', async () => {
    const { p, offsets } = provider(doc);
    const chunks: Uint8Array[] = [];
    const stream = await providerOrigin(p, 'the peer').source(
      descriptor,
      8,
      new AbortController().signal,
    );
    for await (const c of stream) chunks.push(c);
    expect(Buffer.concat(chunks)).toEqual(doc.subarray(8));
    expect(offsets).toEqual([8]);
  });
});
