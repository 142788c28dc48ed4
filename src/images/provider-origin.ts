import { InvalidInputError } from '../errors';
import type { Descriptor } from '../oci/image-codecs';
import { DigestMismatchError } from '../registry';
import { checkDigest } from '../registry/verify';
import type { BlobProvider } from '../runtime/images';
import type { BlobOrigin } from './image-plan';

/** Indexes, manifests and configs are small (containerd caps manifests at 4 MiB). */
const DOCUMENT_LIMIT = 16 << 20;

/**
 * A BlobProvider (a cluster member) as an ingest origin. Documents are checked against their
 * digest here, before they are decoded and trusted; layers are checked by containerd, which
 * refuses to commit a write whose bytes do not match the expected digest.
 */
export function providerOrigin(provider: BlobProvider, what: string): BlobOrigin {
  return {
    what,
    read: async (d: Descriptor) => {
      if (d.size > DOCUMENT_LIMIT) {
        throw new InvalidInputError(
          `${what}: document ${d.digest} is ${d.size} bytes, more than the ${DOCUMENT_LIMIT} allowed`,
        );
      }
      const controller = new AbortController();
      const chunks: Buffer[] = [];
      let length = 0;
      for await (const chunk of provider.open(d.digest, 0, controller.signal)) {
        length += chunk.length;
        // A sender that runs on past the size would otherwise fill memory before the check.
        if (length > d.size) {
          controller.abort();
          throw new DigestMismatchError(`${what}: blob ${d.digest}`, `more than ${d.size} bytes`);
        }
        chunks.push(Buffer.from(chunk));
      }
      const bytes = Buffer.concat(chunks);
      if (bytes.length !== d.size) {
        throw new DigestMismatchError(
          `${what}: blob ${d.digest}`,
          `${bytes.length} bytes, expected ${d.size}`,
        );
      }
      checkDigest(bytes, d.digest, `${what}: blob ${d.digest}`);
      return bytes;
    },
    source: (descriptor, offset, signal) =>
      Promise.resolve(provider.open(descriptor.digest, offset, signal)),
  };
}
