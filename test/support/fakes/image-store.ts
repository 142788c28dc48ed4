import { NotFoundError } from '../../../src/errors';
import type {
  BlobProvider,
  ImageOperation,
  ImageStore,
  ImageSummary,
  ImageTarget,
} from '../../../src/runtime/images';

/** An in-memory ImageStore: pulls "succeed" for names in `available`, with scripted progress. */
export class FakeImageStore implements ImageStore {
  readonly images = new Map<string, ImageSummary>();

  constructor(private readonly available: Record<string, ImageSummary> = {}) {}

  pull(reference: string, op: ImageOperation): Promise<ImageSummary> {
    const image = this.available[reference];
    if (image === undefined)
      return Promise.reject(new NotFoundError(`image ${reference} not found`));
    op.onEvent({ type: 'phase', text: `resolved ${reference}` });
    op.onEvent({ type: 'layer', digest: 'sha256:aaaa', size: 10, done: 0, state: 'downloading' });
    op.onEvent({ type: 'layer', digest: 'sha256:aaaa', size: 10, done: 10, state: 'downloaded' });
    op.onEvent({ type: 'layer', digest: 'sha256:aaaa', size: 10, done: 10, state: 'unpacked' });
    this.images.set(image.name, image);
    return Promise.resolve(image);
  }

  importArchive(): Promise<ImageSummary[]> {
    return Promise.reject(new NotFoundError('no archives in the fake'));
  }

  list(): Promise<ImageSummary[]> {
    return Promise.resolve([...this.images.values()]);
  }

  find(reference: string): Promise<string | undefined> {
    return Promise.resolve(this.images.has(reference) ? reference : undefined);
  }

  target(name: string): Promise<ImageTarget> {
    const image = this.images.get(name);
    if (image === undefined) return Promise.reject(new NotFoundError(`image ${name} not found`));
    return Promise.resolve({
      name,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: image.digest,
      size: 1,
    });
  }

  readBlob(): AsyncIterable<Uint8Array> {
    return {
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.reject(new NotFoundError('no blobs in the fake')),
      }),
    };
  }

  /** Reads the target blob whole from the provider (so tests see the provider used), then stores it. */
  async fetch(
    image: ImageTarget,
    provider: BlobProvider,
    op: ImageOperation,
  ): Promise<ImageSummary> {
    let bytes = 0;
    for await (const chunk of provider.open(image.digest, 0, op.signal)) bytes += chunk.length;
    op.onEvent({ type: 'phase', text: `read ${bytes} bytes of ${image.digest}` });
    op.onEvent({ type: 'layer', digest: 'sha256:bbbb', size: 10, done: 10, state: 'downloaded' });
    const summary = {
      name: image.name,
      digest: image.digest,
      size: image.size,
      platform: 'linux/amd64',
      createdMs: 0,
    };
    this.images.set(image.name, summary);
    return summary;
  }

  remove(reference: string): Promise<void> {
    if (!this.images.delete(reference)) {
      return Promise.reject(new NotFoundError(`image ${reference} not found`));
    }
    return Promise.resolve();
  }
}
