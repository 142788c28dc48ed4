import { NotFoundError } from '../errors';
import type { Logger } from '../log';
import { canonicalName, formatPlatform, hostPlatform } from '../registry';
import type {
  ImageContent,
  ImageEvent,
  ImageOperation,
  ImageSummary,
  ImageTarget,
  IngestPlan,
} from '../runtime/images';
import type { ContainerdClient } from './client';
import { resolveStoredImage, type StoredImage } from './image-records';
import { ingestImage } from './image-ingest';

export interface ContainerdImageStoreOptions {
  client: ContainerdClient;
  snapshotter: string;
  log: Logger;
}

/**
 * Budgie's image content on containerd: images live in containerd's content store, snapshotter
 * and image records, exactly as containerd's own pull leaves them, so `ctr` can run them too.
 * Where their bytes come from is the images room's business (src/images).
 */
export class ContainerdImageStore implements ImageContent {
  constructor(private readonly options: ContainerdImageStoreOptions) {}

  /** Stores the plan's image as containerd's own pull does (see ingestImage). */
  ingest(plan: IngestPlan, op: ImageOperation): Promise<void> {
    const { client, snapshotter, log } = this.options;
    const onEvent = (event: ImageEvent): void => {
      op.onEvent(event);
    };
    return ingestImage({ client, snapshotter, log, signal: op.signal, onEvent }, plan);
  }

  async summary(name: string, signal: AbortSignal): Promise<ImageSummary> {
    return toSummary(await this.stored(name, signal));
  }

  async target(name: string, signal?: AbortSignal): Promise<ImageTarget> {
    const record = await this.options.client.images.get(name, { signal });
    const target = record.target;
    if (target === undefined) throw new NotFoundError(`image ${name} has no target`);
    return { name, mediaType: target.mediaType, digest: target.digest, size: target.size };
  }

  readBlob(digest: string, offset: number, signal: AbortSignal): AsyncIterable<Uint8Array> {
    return this.options.client.content.read(digest, { offset, signal });
  }

  /** Which of `digests` the content store holds whole (for members asking before a registry). */
  async hasBlobs(digests: readonly string[], signal: AbortSignal): Promise<string[]> {
    const { client } = this.options;
    const held = await Promise.all(
      digests.map((digest) =>
        client.content.info(digest, { signal }).then(
          () => true,
          (err: unknown) => {
            if (err instanceof NotFoundError) return false;
            throw err;
          },
        ),
      ),
    );
    return digests.filter((_, i) => held[i] === true);
  }

  async list(): Promise<ImageSummary[]> {
    const { client, log } = this.options;
    const records = await client.images.list();
    const summaries: ImageSummary[] = [];
    for (const record of records) {
      try {
        summaries.push(toSummary(await resolveStoredImage(client, record)));
      } catch (err) {
        // Records made by other tools may lack this platform or some content: skip, not fail.
        log.debug('image not listed', { image: record.name, err });
      }
    }
    return summaries.sort((a, b) => a.name.localeCompare(b.name));
  }

  async remove(reference: string): Promise<void> {
    const name = await this.recordName(reference);
    // sync: containerd collects the image's content and snapshots before answering.
    await this.options.client.images.delete(name, { sync: true });
  }

  async find(reference: string, signal?: AbortSignal): Promise<string | undefined> {
    try {
      return await this.recordName(reference, signal);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  /** The stored record `reference` names: as written, or normalised (busybox → docker.io/…). */
  async recordName(reference: string, signal?: AbortSignal): Promise<string> {
    const { client } = this.options;
    const candidates = [reference];
    const normal = canonicalName(reference);
    if (normal !== reference) candidates.push(normal);
    for (const name of candidates) {
      try {
        await client.images.get(name, { signal });
        return name;
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    }
    throw new NotFoundError(`image ${reference} is not on this node (see 'budgie image ls')`);
  }

  /** The stored image for running containers: config, chain ID, platform. */
  async stored(reference: string, signal?: AbortSignal): Promise<StoredImage> {
    const { client } = this.options;
    const name = await this.recordName(reference, signal);
    return resolveStoredImage(client, await client.images.get(name, { signal }), hostPlatform(), {
      signal,
    });
  }
}

function toSummary(image: StoredImage): ImageSummary {
  return {
    name: image.name,
    digest: image.target.digest,
    size: image.size,
    platform: formatPlatform(image.platform),
    createdMs: image.createdMs,
  };
}
