import { Readable } from 'node:stream';
import { openImageArchive, type ImageArchive } from '../archive/image-archive';
import { NotFoundError, UnavailableError } from '../errors';
import type { Logger } from '../log';
import { decodeJson, Index, type Descriptor } from '../oci/image-codecs';
import {
  canonicalName,
  formatPlatform,
  imageRecordName,
  parseReference,
  type RegistryClient,
  type ResolvedImage,
} from '../registry';
import type {
  BlobPeers,
  BlobProvider,
  BlobSource,
  ImageContent,
  ImageOperation,
  ImageStore,
  ImageSummary,
  ImageTarget,
  IngestPlan,
} from '../runtime/images';
import { planFromOrigin } from './image-plan';
import { describeSpread, spreadLayers } from './layer-spread';
import { providerOrigin } from './provider-origin';

export interface ClusterImageStoreOptions {
  /** Where images are stored: the runtime's content store (containerd's, in the agent). */
  content: ImageContent;
  registry: RegistryClient;
  log: Logger;
  /** Cluster members asked for blobs before the registry; none when absent. */
  peers?: BlobPeers;
}

/**
 * The image policy of a node: an image crosses the internet once per LAN. A pull resolves with
 * the registry (or, when it cannot be reached, with a member's record of the same name) and reads
 * every layer a member holds from members, spread over them, and only the rest from the registry;
 * an archive import and a join's fetch store the same way. The runtime's content store does the
 * storing; everything else it is asked is passed on.
 */
export class ClusterImageStore implements ImageStore {
  constructor(private readonly options: ClusterImageStoreOptions) {}

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
    await this.options.content.ingest(
      await this.shareLayers(plan, fromRegistry, 'the registry', op),
      op,
    );
    return this.options.content.summary(plan.name, op.signal);
  }

  async importArchive(archivePath: string, op: ImageOperation): Promise<ImageSummary[]> {
    const { content } = this.options;
    const archive = await openImageArchive(archivePath);
    if (archive.images.length === 0) throw new NotFoundError(`${archivePath} holds no images`);
    const summaries: ImageSummary[] = [];
    for (const image of archive.images) {
      const name = canonicalName(image.name);
      op.onEvent({ type: 'phase', text: `importing ${name}` });
      await content.ingest(await archivePlan(archive, name, image.target), op);
      summaries.push(await content.summary(name, op.signal));
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
    await this.options.content.ingest(
      await this.shareLayers(plan, plan.source, 'the peer', op),
      op,
    );
    return this.options.content.summary(image.name, op.signal);
  }

  list(): Promise<ImageSummary[]> {
    return this.options.content.list();
  }

  find(reference: string, signal?: AbortSignal): Promise<string | undefined> {
    return this.options.content.find(reference, signal);
  }

  remove(reference: string): Promise<void> {
    return this.options.content.remove(reference);
  }

  target(name: string, signal?: AbortSignal): Promise<ImageTarget> {
    return this.options.content.target(name, signal);
  }

  readBlob(digest: string, offset: number, signal: AbortSignal): AsyncIterable<Uint8Array> {
    return this.options.content.readBlob(digest, offset, signal);
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
    const { peers, log, content } = this.options;
    if (peers === undefined) return { ...plan, source: fallback };
    const here = new Set(
      await content.hasBlobs(
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
