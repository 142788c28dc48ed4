import { NotFoundError } from '../../../src/errors';
import type { ImageOperation, ImageStore, ImageSummary } from '../../../src/runtime/images';

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

  remove(reference: string): Promise<void> {
    if (!this.images.delete(reference)) {
      return Promise.reject(new NotFoundError(`image ${reference} not found`));
    }
    return Promise.resolve();
  }
}
