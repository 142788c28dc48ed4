import { Readable } from 'node:stream';
import { openImageArchive, type ImageArchive } from '../archive/image-archive';
import { NotFoundError, UnavailableError } from '../errors';
import type { Logger } from '../log';
import { decodeJson, Index, type Descriptor } from '../oci/image-codecs';
import {
  formatPlatform,
  hostPlatform,
  imageRecordName,
  parseReference,
  type RegistryClient,
  type ResolvedImage,
} from '../registry';
import type {
  BlobPeers,
  BlobProvider,
  ImageEvent,
  ImageOperation,
  ImageStore,
  ImageSummary,
  ImageTarget,
} from '../runtime/images';
import type { ContainerdClient } from './client';
import { resolveStoredImage, type StoredImage } from './image-records';
import { ingestImage, type BlobSource, type IngestPlan } from './image-ingest';
import { planFromOrigin } from './image-plan';
import { describeSpread, spreadLayers } from './layer-spread';
import { providerOrigin } from './provider-origin';

export interface ContainerdImageStoreOptions {
  client: ContainerdClient;
  registry: RegistryClient;
  snapshotter: string;
  log: Logger;
  /** Cluster members asked for blobs before the registry; none when absent. */
  peers?: BlobPeers;
}

/**
 * Budgie's ImageStore on containerd: images live in containerd's content store, snapshotter and
 * image records, exactly as containerd's own pull leaves them, so `ctr` can run them too.
 */
export class ContainerdImageStore implements ImageStore {
  constructor(private readonly options: ContainerdImageStoreOptions) {}

  /**
   * Resolves with the registry (or, when it cannot be reached, with a member's record of the same
   * name), then reads every layer a member holds from members and only the rest from the registry.
   */
  async pull(reference: string, op: ImageOperation): Promise<ImageSummary> {
    const ref = parseReference(reference);
    op.onEvent({ type: 'phase', text: `resolving ${ref.toString()}` });
    const registry = this.options.registry;
    const fromRegistry: BlobSource = (descriptor, offset, signal) =>
      registry.fetchBlob(ref, descriptor, { signal, offset });
    let plan: IngestPlan;
    try {
      const resolved = await registry.resolve(ref, { signal: op.signal });
      op.onEvent({
        type: 'phase',
        text: `${resolved.name}: ${resolved.layers.length} layers for ${formatPlatform(resolved.platform)}`,
      });
      plan = registryPlan(resolved, fromRegistry);
    } catch (err) {
      if (!(err instanceof UnavailableError)) throw err;
      const found = await this.options.peers?.lookup(imageRecordName(ref), op.signal);
      if (found === undefined) throw err;
      op.onEvent({
        type: 'phase',
        text: `${found.target.name}: registry unreachable, resolved by member ${found.from}`,
      });
      plan = await planFromOrigin(
        providerOrigin(found.provider, `member ${found.from}`),
        found.target.name,
        found.target,
      );
    }
    await this.ingest(op, await this.shareLayers(plan, fromRegistry, 'the registry', op));
    return this.summary(plan.name, op.signal);
  }

  async importArchive(archivePath: string, op: ImageOperation): Promise<ImageSummary[]> {
    const archive = await openImageArchive(archivePath);
    if (archive.images.length === 0) throw new NotFoundError(`${archivePath} holds no images`);
    const summaries: ImageSummary[] = [];
    for (const image of archive.images) {
      const name = canonicalName(image.name);
      op.onEvent({ type: 'phase', text: `importing ${name}` });
      await this.ingest(op, await archivePlan(archive, name, image.target));
      summaries.push(await this.summary(name, op.signal));
    }
    return summaries;
  }

  async fetch(
    image: ImageTarget,
    provider: BlobProvider,
    op: ImageOperation,
  ): Promise<ImageSummary> {
    const target = { mediaType: image.mediaType, digest: image.digest, size: image.size };
    const plan = await planFromOrigin(providerOrigin(provider, 'the peer'), image.name, target);
    op.onEvent({
      type: 'phase',
      text: `${image.name}: ${plan.layers.length} layers from the peer`,
    });
    await this.ingest(op, await this.shareLayers(plan, plan.source, 'the peer', op));
    return this.summary(image.name, op.signal);
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

  /**
   * The plan with its layers read from the members that hold them, spread over several at once;
   * `fallback` serves what no member holds. Layers already here are not asked about.
   */
  private async shareLayers(
    plan: IngestPlan,
    fallback: BlobSource,
    fallbackWhat: string,
    op: ImageOperation,
  ): Promise<IngestPlan> {
    const { peers, log } = this.options;
    if (peers === undefined) return { ...plan, source: fallback };
    const here = new Set(
      await this.hasBlobs(
        plan.layers.map((l) => l.digest),
        op.signal,
      ),
    );
    const missing = plan.layers.filter((l) => !here.has(l.digest));
    if (missing.length === 0) return plan;
    const holders = await peers.holders(
      missing.map((l) => l.digest),
      op.signal,
    );
    const spread = spreadLayers(missing, holders, fallback, log);
    // Quiet when no member holds anything (always so outside a cluster): nothing changed.
    if (spread.fromMembers.size > 0) {
      op.onEvent({ type: 'phase', text: `${plan.name}: ${describeSpread(spread, fallbackWhat)}` });
    }
    return { ...plan, source: spread.source };
  }

  private ingest(op: ImageOperation, plan: IngestPlan): Promise<void> {
    const { client, snapshotter, log } = this.options;
    const onEvent = (event: ImageEvent): void => {
      op.onEvent(event);
    };
    return ingestImage({ client, snapshotter, log, signal: op.signal, onEvent }, plan);
  }

  private async summary(name: string, signal: AbortSignal): Promise<ImageSummary> {
    return toSummary(await this.stored(name, signal));
  }
}

/** Names as `docker`/`ctr` store them: busybox:1 → docker.io/library/busybox:1, tag latest by default. */
function canonicalName(reference: string): string {
  const ref = parseReference(reference);
  return ref.tag === undefined && ref.digest === undefined
    ? `${ref.toString()}:latest`
    : ref.toString();
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

function registryPlan(resolved: ResolvedImage, source: BlobSource): IngestPlan {
  const doc = (d: { digest: string; mediaType: string; size: number; bytes: Buffer }) => ({
    descriptor: { mediaType: d.mediaType, digest: d.digest, size: d.size },
    bytes: d.bytes,
  });
  let index: IngestPlan['index'];
  if (resolved.index !== undefined) {
    const decoded = decodeJson(Index, resolved.index.bytes, `index ${resolved.index.digest}`);
    const position = decoded.manifests.findIndex((m) => m.digest === resolved.manifest.digest);
    index = { document: doc(resolved.index), manifestPosition: Math.max(position, 0) };
  }
  return {
    name: resolved.name,
    ...(index === undefined ? {} : { index }),
    manifest: doc(resolved.manifest),
    config: doc(resolved.config),
    imageConfig: resolved.imageConfig,
    layers: resolved.layers,
    source,
  };
}

function archivePlan(archive: ImageArchive, name: string, target: Descriptor): Promise<IngestPlan> {
  return planFromOrigin(
    {
      what: 'the archive',
      read: (d) => archive.read(d.digest),
      has: (digest) => archive.has(digest),
      source: (descriptor, offset) =>
        Promise.resolve(skip(archive.stream(descriptor.digest), offset)),
    },
    name,
    target,
  );
}

/** The stream without its first `offset` bytes (an archive has no random access by blob). */
async function* skip(stream: Readable, offset: number): AsyncGenerator<Uint8Array> {
  let toSkip = offset;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (toSkip >= chunk.length) {
      toSkip -= chunk.length;
      continue;
    }
    yield toSkip > 0 ? chunk.subarray(toSkip) : chunk;
    toSkip = 0;
  }
}
